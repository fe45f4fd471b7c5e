"""Topic present, detail absent (issue #19): the best sentence is about what the question
asks about, but does not give the detail asked for. Two checks after the answer head's
gate, each read by a model rather than a word list:

- The passage answers too (the SQuAD 2.0 way): the sentence's answer logit plus
  ``calibration.has_weight`` times its passage's no-answer reading (the null-option span
  head's has_answer, in logits) must reach ``calibration.joint``. A sentence that scores
  just over the gate inside a passage the span head finds no answer in is about the
  topic, not an answer ("Where was X born?" read against where X was treated).
- A count counts what is asked: "How many people were evacuated ...?" is not answered by
  "about five miles south of ...". The words after "how" up to the first function word
  ("many people") name what is counted; the short answer's last word or the word right
  after it ("five miles", "63 days") must be close in meaning to one of them (the
  embedder's cosine similarity at least ``calibration.unit``).

Calibrated on dev (reader set dev, seed_qa, SQuAD 2.0 items 0-199), see evals/README.md
"Topic present, detail absent".
"""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN_PLUS

from rag.answering.grounding import logit
from rag.answering.question_types import auxiliary
from rag.components.embedding import Embedder
from rag.components.verifier import Calibration, Span

_FUNCTION = frozenset(STOPWORDS_EN_PLUS)
_WORD = re.compile(r"[\w’'$%.,-]*\w")
HOW = "how"  # the one question word a count or an amount is asked with


def counted(question: str) -> list[str]:
    """What a "how ..." question counts or measures: the words after its modifier up to
    the first function word or auxiliary ("How many Mega Millions tickets were sold?" ->
    ["Mega", "Millions", "tickets"]); [] when it names nothing ("How big is it?", "How
    did they ...?")."""
    words = _WORD.findall(question)
    if not words or words[0].lower() != HOW:
        return []
    run = []
    for w in words[1:]:
        if w.lower() in _FUNCTION or auxiliary(w):
            break
        run.append(w)
    return run[1:]


def unit_words(text: str, span: Span) -> list[str]:
    """What the short answer counts: its own last word ("fifty percent") and the word the
    text puts right after it ("five | miles")."""
    inside = _WORD.findall(span.text)
    after = _WORD.findall(text[span.end:])
    return inside[-1:] + after[:1]


def counts_other(question: str, text: str, span: Span | None, embedder: Embedder, least: float) -> bool:
    """The short answer read in `text` counts something other than what the question
    counts: none of its unit words is within `least` cosine similarity of a counted word."""
    asked = counted(question)
    units = unit_words(text, span) if span is not None else []
    if not asked or not units or least <= 0:
        return False
    vectors = embedder.embed([w.lower() for w in asked + units])
    sims = vectors[:len(asked)] @ vectors[len(asked):].T
    return float(sims.max()) < least


def passage_agrees(best, cal: Calibration) -> bool:
    """The best Ranked sentence's answer probability, read together with its passage's
    has_answer, reaches the calibrated joint score (always, without a null-option reading
    or a weight)."""
    if best.passage_has is None or cal.has_weight <= 0:
        return True
    return float(logit(best.answers) + cal.has_weight * logit(best.passage_has)) >= cal.joint


def lacks_detail(question: str, ranked: list, verifier, embedder: Embedder, cal: Calibration) -> bool:
    """The best Ranked sentence (the one an answer would come from) is about the question's
    topic but does not give the detail asked: its passage finds no answer, or its count
    counts something else. (Measured on dev: abstaining here beats passing on to the next
    sentence, which on dev only answered unanswerable questions: "How many tickets were
    sold for the drawing?" with the count of the tickets that won a secondary prize.)"""
    if not ranked:
        return False
    best = ranked[0]
    if not passage_agrees(best, cal):
        return True
    if cal.unit <= 0 or not counted(question):
        return False
    span = verifier.spans(question, [best.source.window])[0]
    return counts_other(question, best.source.window, span, embedder, cal.unit)
