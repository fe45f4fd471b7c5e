"""A confident extractive answer: when the verifier is sure, the model is not asked.

The generator's prefill is most of an answer's time. When the sentence ranked first
answers the question with a high probability and the span head reads a short answer in
it (a name, a date, a figure: a few words, read with confidence), the model would only
restate that sentence; the short answer and the sentence, quoted and cited
("November: “Sharif accepted an invitation to visit Russia in November.” [1]"), is the
answer. The same answer the pipeline gives when the model's reply is not grounded
(Grounder.extractive), so nothing new is said, only sooner. The thresholds are
Tuning's (extract_answers, extract_span, extract_words), measured on the dev sets
(evals/README.md).
"""

from __future__ import annotations

from rag.answering.grounding import WORD, Grounded, Grounder, Ranked
from rag.answering.tuning import Tuning
from rag.types import Article, Hit


def confident_answer(question: str, ranked: list[Ranked], hits: list[Hit], articles: dict[str, Article],
                     grounder: Grounder, tuning: Tuning) -> Grounded | None:
    """The extractive answer when the best sentence answers with at least
    `extract_answers` and its short answer, read with at least `extract_span`, has at most
    `extract_words` words; else None (the model writes the answer)."""
    if not ranked or ranked[0].answers < tuning.extract_answers:
        return None
    g = grounder.extractive(question, ranked, hits, articles)
    if g is None or g.short is None or g.short.score < tuning.extract_span:
        return None
    if len(WORD.findall(g.short.text)) > tuning.extract_words:
        return None
    return g
