"""Yes/no questions: the support head reads the question against the sentences most
likely to answer it. Whether the articles settle the question at all, and which way.

- Settled: the best of those sentences is entailed or contradicted at SETTLED or more.
  Below that the answer is neither, and the reply says what the articles do say.
- Which way: the best-ranked sentence's entailment against its contradiction.

Measured on BoolQ (dev part to choose, held-out part to report) and SufficientFacts (the
same evidence with and without the deciding detail), see evals/README.md "Yes/no": this
answers about a fifth more BoolQ questions than "entailed at 0.5 is Yes, contradicted
at 0.5 is No" at the same precision, and tells "not enough information" from "no" as
well. The packaged generator scoring "Yes" against "No" was measured too and read
retrieved passages no better than chance; it is not asked.

No sentence "answers" a yes/no question the way SQuAD taught the answer head, so such
questions are not gated on it. The two plain checks of any claim apply to a "Yes",
strictly: its figures and every name it gives must be in the sentence quoted or its
article's title ("Is Putin the president of China?" is no "Yes" from a sentence that
names Putin as Russia's president, whatever else its passage says about China).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rag.answering.grounding import Ranked, added_names, figures_match
from rag.components.verifier import CONTRADICTED, ENTAILED, Calibration, Verifier

# How many of the best-ranked sentences are read against the question.
EVIDENCE = 4
# The entailment or contradiction a settled question needs of its best sentence is the
# calibration's ``settled`` (models/verifier/config.json): on SufficientFacts (dev part)
# 0.40 to 0.50 tell settled from not equally well (balanced accuracy 0.70); on BoolQ dev
# the lowest of them answers most, at the same precision.
SETTLED = Calibration().settled


@dataclass(frozen=True)
class Verdict:
    answer: str | None  # "Yes", "No", or None when the articles settle neither
    evidence: Ranked  # the sentence that settles it (or the closest one)
    score: float  # its entailment (Yes) or contradiction (No) probability


def decide(question: str, ranked: list[Ranked], verifier: Verifier,
           title_of: Callable[[Ranked], str] = lambda r: "", settled: float = SETTLED) -> Verdict | None:
    """Yes, No or neither, and the sentence that says so; None without sentences."""
    top = ranked[:EVIDENCE]
    if not top:
        return None
    claim = question.strip()
    probs = verifier.support([(claim, r.source.window) for r in top])
    neither = Verdict(None, top[0], float(probs[0, ENTAILED]))
    if max(probs[:, ENTAILED].max(), probs[:, CONTRADICTED].max()) < settled:
        return neither
    if probs[0, CONTRADICTED] > probs[0, ENTAILED]:
        j = max(range(len(top)), key=lambda j: probs[j, CONTRADICTED])
        return Verdict("No", top[j], float(probs[j, CONTRADICTED]))
    as_said = claim[:1].lower() + claim[1:]  # "Did" is capitalised by position, not a name
    yes = [j for j in range(len(top)) if probs[j, ENTAILED] >= settled
           and figures_match(claim, top[j].source.window)
           and not added_names(as_said, f"{title_of(top[j])}. {top[j].source.window}")]
    if not yes:  # no entailing sentence gives every name and figure of the question
        return neither
    j = max(yes, key=lambda j: probs[j, ENTAILED])
    return Verdict("Yes", top[j], float(probs[j, ENTAILED]))
