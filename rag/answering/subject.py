"""Read the sentence in its article: the names and figures that single out what a question
asks about ("project KX82668R", "Dunmore", "2022") must be in the article an answer
comes from, not only somewhere among the retrieved passages.

News is full of lookalikes (weekly figures, recurring events, one template filled in for
forty towns): a sentence such as "The project will plant exactly 575 lychee trees" answers
"How many lychee trees will project KX82668R in Dunmore plant?" word for word, whichever
town's article it comes from. So passages are kept only from the articles that hold the
most of the question's singling-out terms; when every candidate holds the same number,
nothing changes.
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata

from rag.types import Article, Hit

_WORD = re.compile(r"[\w’'-]+")
# Capitalised, but a time, not a name: the time scope reads these (rag/answering/when.py).
_CALENDAR = {n.lower() for n in (*calendar.month_name[1:], *calendar.month_abbr[1:], *calendar.day_name) if n}


def terms(question: str) -> set[str]:
    """The question's singling-out terms, lower-cased: capitalised words after the first
    (names), and words with a digit (codes, figures, years)."""
    words = _WORD.findall(question)
    out = set()
    for i, w in enumerate(words):
        w = w.strip("’'-")
        if any(ch.isdigit() for ch in w) or (i > 0 and w[:1].isupper() and len(w) > 1):
            out.add(_bare(w).lower())
    return out


def _bare(word: str) -> str:
    """Without a possessive: "Sharif's" is "Sharif"."""
    return re.sub(r"['’]s$", "", word)


def _found(term: str, hay: str, words: set[str]) -> bool:
    if any(ch.isdigit() for ch in term):
        return term.replace(",", "") in words
    return term in words or (len(term) >= 5 and term in hay)  # "Pakistan" in "Pakistani"


def coverage(question_terms: set[str], article: Article) -> int:
    """How many of the question's terms the article (title and text) holds."""
    if not question_terms:
        return 0
    hay = f"{article.title}\n{article.text}".replace("’", "'").lower()
    hay = re.sub(r"(?<=\d),(?=\d{3})", "", hay)  # "1,200" is 1200
    words = {w.strip("'-") for w in _WORD.findall(hay)}
    return sum(_found(t, hay, words) for t in question_terms)


def keep_matching(question: str, hits: list[Hit], articles: dict[str, Article]) -> list[Hit]:
    """The hits whose article holds the most of the question's terms (all hits when the
    question has none or the articles all hold as many)."""
    q = terms(question)
    if not q or not hits:
        return hits
    cover = {aid: coverage(q, a) for aid, a in articles.items()}
    best = max(cover.get(h.chunk.article_id, 0) for h in hits)
    return [h for h in hits if cover.get(h.chunk.article_id, 0) == best]


def unnamed(question: str, articles: list[Article]) -> str | None:
    """The names in the question that none of these articles holds, as the question writes
    them ("Narendra Modi"), or None when every name is in some article.

    A name is a capitalised word after the first, or a code of letters and digits
    ("KX82668R"); calendar words are time, not names, and plain figures may be written
    another way ("ten per cent"), so neither counts. A name is held when an article has a
    word beginning with its first five letters or all but its last two ("Russia" holds
    "Russian", "Pakistani" holds "Pakistan"), or, for an acronym, capitalised words with
    its initials ("PM": "Prime Minister"); accents do not count ("Mongke" is "Möngke")."""
    words = [w.strip("’'-") for w in _WORD.findall(_plain(question))]
    if not articles:
        return None
    held = frozenset().union(*(_vocabulary(a.title, a.text) for a in articles))
    missing, run = [], []
    for i, w in enumerate(words):
        key = _bare(w).lower()
        name = (i > 0 and w[:1].isupper() and len(key) > 1 and key not in _CALENDAR) or (
            any(ch.isdigit() for ch in w) and any(ch.isalpha() for ch in w))
        if name and not _held(key, held):
            run.append(_bare(w))
            continue
        if run:
            missing.append(" ".join(run))
            run = []
    if run:
        missing.append(" ".join(run))
    return ", ".join(dict.fromkeys(missing)) or None


def _plain(text: str) -> str:
    """Without accents: "Möngke" is how a reader types "Mongke"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=64)
def _vocabulary(title: str, text: str) -> frozenset[str]:
    """An article's words, without accents and lower-cased, with the initials of its runs
    of capitalised words. Cached: the same articles come back question after question, and
    reading a long one takes milliseconds."""
    plain = _plain(f"{title}\n{text}").replace("’", "'")
    return frozenset({w.strip("'-") for w in _WORD.findall(plain.lower())} | _acronyms(plain))


def _held(key: str, held: frozenset[str]) -> bool:
    if key in held:
        return True
    stem = key[:max(5, len(key) - 2)]
    return len(stem) >= 5 and any(w.startswith(stem) for w in held)


def _acronyms(text: str) -> set[str]:
    """The initials of every run of two or more capitalised words, lower-cased:
    "Pakistan's Prime Minister Shehbaz Sharif" gives "pm", "ppm", "pmss", ..."""
    out: set[str] = set()
    run: list[str] = []
    for w in _WORD.findall(text) + ["."]:
        if w[:1].isupper():
            run.append(w[0].lower())
            continue
        out.update("".join(run[i:j]) for i in range(len(run)) for j in range(i + 2, len(run) + 1))
        run = []
    return out
