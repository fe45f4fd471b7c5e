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

import re

from rag.types import Article, Hit

_WORD = re.compile(r"[\w’'-]+")


def terms(question: str) -> set[str]:
    """The question's singling-out terms, lower-cased: capitalised words after the first
    (names), and words with a digit (codes, figures, years)."""
    words = _WORD.findall(question)
    out = set()
    for i, w in enumerate(words):
        w = w.strip("’'-")
        key = re.sub(r"['’]s$", "", w).lower()
        if any(ch.isdigit() for ch in w) or (i > 0 and w[:1].isupper() and len(w) > 1):
            out.add(key)
    return out


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
