"""Yes/no questions: the support head reads the question against the sentences most
likely to answer it; entailed is "Yes", contradicted is "No", anything else is neither.

No sentence "answers" a yes/no question the way SQuAD taught the answer head, so such
questions are not gated on it: the support head decides, and the two plain checks of
any claim apply to a "Yes", strictly: its figures and every name it gives must be in the
sentence itself or its article's title ("Is Putin the president of China?" is no "Yes" from a sentence that names
Putin as Russia's president, whatever else its passage says about China).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rag.answering.grounding import Ranked, added_names, figures_match
from rag.components.verifier import CONTRADICTED, ENTAILED, Calibration, Verifier

# How many of the best-ranked sentences are read against the question.
EVIDENCE = 4


@dataclass(frozen=True)
class Verdict:
    answer: str | None  # "Yes", "No", or None when the articles settle neither
    evidence: Ranked  # the sentence that settles it (or the closest one)
    score: float  # its entailment (Yes) or contradiction (No) probability


def decide(question: str, ranked: list[Ranked], verifier: Verifier, calibration: Calibration,
           title_of: Callable[[Ranked], str] = lambda r: "") -> Verdict | None:
    """Yes, No or neither, and the sentence that says so; None without sentences."""
    top = ranked[:EVIDENCE]
    if not top:
        return None
    claim = question.strip()
    as_said = claim[:1].lower() + claim[1:]  # "Did" is capitalised by position, not a name
    probs = verifier.support([(claim, r.source.window) for r in top])
    yes = [j for j in range(len(top))
           if probs[j, ENTAILED] >= calibration.supported
           and figures_match(claim, top[j].source.window)
           and not added_names(as_said, f"{title_of(top[j])}. {top[j].source.window}")]
    no = [j for j in range(len(top)) if probs[j, CONTRADICTED] >= calibration.contradicted]
    if yes and (not no or max(probs[j, ENTAILED] for j in yes) >= max(probs[j, CONTRADICTED] for j in no)):
        j = max(yes, key=lambda j: probs[j, ENTAILED])
        return Verdict("Yes", top[j], float(probs[j, ENTAILED]))
    if no:
        j = max(no, key=lambda j: probs[j, CONTRADICTED])
        return Verdict("No", top[j], float(probs[j, CONTRADICTED]))
    return Verdict(None, top[0], float(probs[0, ENTAILED]))
