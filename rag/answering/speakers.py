"""Whose words a sentence gives. "What did Sharif say about India?" and "How did Paul
Finebaum describe Mike Leach?" ask for one person's words or view: a sentence that
answers the topic in someone else's words ("The Leach family said ...") is not an answer.

The person is the question's subject, the name right before its verb (``speaker``). A
sentence is theirs (``attributed``) when it names them, or when it carries on from the
sentence before it in its ARTICLE, and that one is theirs: it opens with a word that
refers back ("He stated, “...", "That is perfectly fine.") or goes on with a quotation
the sentence before opened. The chain is read in the article's text, not in the
retrieved chunk, whose first sentence may be the "He said" of a name a chunk earlier, and
it stops at the first sentence that neither names the person nor carries on: a pronoun
there is someone else's. The sentences are set aside only when the best one is someone
else's (``keep_theirs``); when none is theirs, the articles don't say what they said.
"""

from __future__ import annotations

import bisect
import functools
import re
from typing import Callable

from rag.answering import parts
from rag.answering.followup import REFERS
from rag.answering.question_types import QuestionType, auxiliary
from rag.answering.subject import _CALENDAR, _WORD, _bare, _held, _plain, _vocabulary
from rag.chunking import split_sentences
from rag.types import Article, Hit

# How many sentences back a "he" / "that" may reach for the name it stands for.
REACH = 4
_OPENER = re.compile(r"^\s*(?:\w+,\s*)?")  # "However, this was ...": the clause opens after it


def speaker(question: str) -> str | None:
    """Whose words, view or act an open question asks about: the run of capitalised words
    that is the subject of its clause, the one right before its verb ("How did | Paul
    Finebaum | describe Mike Leach?", "What did Scottish Conservative leader | David
    McLetchie | say about ...?"); a name "of" another is the first ("Jose Barrionuevo of
    Barclays Capital"). None when no name follows the auxiliary ("What is the SCO?",
    "What did the leaders discuss?"; a yes/no question opens with it)."""

    words = [w.strip("’'-") for w in _WORD.findall(question)]
    at = next((i for i, w in enumerate(words) if i > 0 and auxiliary(w)), None)
    if at is None or at + 1 >= len(words) or not words[at + 1][:1].isupper():
        return None  # ("What is the SCO?": a thing, not someone who acts)
    runs: list[list[str]] = []
    joined = False  # the run after "of" belongs to the one before it
    for i in range(at + 1, len(words)):
        w = words[i]
        if w[:1].isupper() and w.lower() not in _CALENDAR:
            if joined:
                continue
            if i > at + 1 and words[i - 1][:1].isupper() and runs:
                runs[-1].append(w)
            else:
                runs.append([w])
            continue
        ahead = i + 1 < len(words) and words[i + 1][:1].isupper()
        if runs and words[i - 1][:1].isupper() and not ahead:
            if re.search(r"[’']s$", runs[-1][-1]):
                return None  # "did Porto's tram network carry": the subject is what is theirs
            return " ".join(_bare(x) for x in runs[-1])  # the verb after the subject ("say about")
        joined = ahead and w == "of" and bool(runs)
    return " ".join(_bare(x) for x in runs[0]) if runs else None


def names(name: str, text: str) -> bool:
    """The text names the person: their last name, give or take an ending ("Finebaum's")."""
    return _held(_plain(name.split()[-1]).lower(), _vocabulary("", text))


def attributed(name: str, article: Article, start: int) -> bool:
    """The article's sentence at offset ``start`` is the named person's: it names them, or
    carries on (a word that refers back, a quotation still open) from one that is."""
    text, spans = article.text, _sentences(article.text)
    i = bisect.bisect_right([s.start for s in spans], start) - 1
    for j in range(i, max(i - REACH, -1), -1):
        sentence = text[spans[j].start:spans[j].end]
        if names(name, sentence):
            return True
        if j == 0 or not carries_on(sentence, text[spans[j - 1].start:spans[j - 1].end]):
            return False
    return False


def carries_on(sentence: str, before: str) -> bool:
    """The sentence speaks on from the one before it: it opens with a word that refers back
    ("He said", "That is", "However, this was"), or the one before opened a quotation it
    did not close."""
    return bool(REFERS.match(_OPENER.sub("", sentence, count=1))) or open_quote(before)


def open_quote(sentence: str) -> bool:
    """A quotation opens in the sentence and does not close there."""
    return sentence.count("“") > sentence.count("”") or sentence.count('"') % 2 == 1


@functools.lru_cache(maxsize=64)
def _sentences(text: str) -> tuple:
    """The article's sentences (cached: the same articles come back question after question)."""
    return tuple(split_sentences(text))


def theirs(name: str, ranked: list, hits: list[Hit], articles: dict[str, Article]) -> list:
    """The ranked sentences (grounding.Ranked, numbered by ``hits``) that are the person's."""
    return [r for r in ranked
            if attributed(name, articles[hits[r.source.hit].chunk.article_id], r.source.start)]


def keep_theirs(question: str, kind: QuestionType, ranked: list, hits: list[Hit], articles: dict[str, Article],
                answerable: Callable[[str, list], bool]) -> tuple[list, str | None]:
    """For an open question about one person's words or acts whose best sentence is someone
    else's, the ranked sentences that are theirs, and the person when the ones set aside
    would have answered (the reply then says the answering ones are not theirs); else the
    ranked ones, untouched, and None."""
    who = speaker(question) if kind is QuestionType.OPEN and len(parts.split(question)) == 1 else None
    if who is None:
        return ranked, None
    mine = theirs(who, ranked, hits, articles)
    if not ranked or (mine and mine[0] is ranked[0]):
        return ranked, None  # the best sentence is theirs: nothing of another's comes first
    return mine, (who if answerable(question, ranked) else None)
