"""Questions that ask for several things ("Which regions did the leaders discuss?", "In which
states were the tickets sold?"): the sentences that answer, several of them, quoted.

The model, shown the best sentences, tends to write one item and drop the rest, and the
sentence that lists the items is often not the one ranked first (a sentence naming one
item reads as well to the verifier). So when the question's noun is plural and more than
one sentence passes the answerability gate, those sentences (up to `SENTENCES`, best first)
are the answer, each quoted and cited: every word the article's, nothing to check.

A question asks for several when the first word after its question word(s) is a plural
noun: the function words that open it ("In which", "What"), then a word ending in "s" that
is not an auxiliary ("has"), a possessive ("Sharif's") or a word in "ss".
"""

from __future__ import annotations

import re

from rag.answering.grounding import Grounded, Grounder, Ranked, quotation
from rag.answering.parts import is_function, tokens
from rag.answering.question_types import auxiliary
from rag.types import Article, Claim, Hit

SENTENCES = 3  # at most this many sentences quoted


def several(question: str) -> bool:
    """The question asks for several things: its wh-phrase's noun is plural ("Which regions")."""
    ws = tokens(question)
    i = next((i for i, w in enumerate(ws) if not is_function(w)), len(ws))
    if i == 0 or i == len(ws) or auxiliary(ws[i]) or re.search(r"['’]s$", ws[i]):
        return False
    w = ws[i].lower().rstrip("'’")
    return len(w) >= 4 and w.endswith("s") and not w.endswith("ss")


def listed(ranked: list[Ranked], hits: list[Hit], articles: dict[str, Article],
           grounder: Grounder) -> Grounded | None:
    """The sentences that pass the gate, best first, quoted and cited; None unless two do."""
    gate = grounder.calibration.answerable
    picked, spans = [], []
    for r in ranked:
        if r.answers < gate or len(picked) == SENTENCES:
            break
        src = r.source.quoted()
        aid = hits[src.hit].chunk.article_id
        if any(a == aid and src.start < e and s < src.end for a, s, e in spans):
            continue  # the same words, or a sentence already quoted with its context
        spans.append((aid, src.start, src.end))
        picked.append((r, src))
    if len(picked) < 2:
        return None
    cites = [grounder.citation(n, hits[src.hit], src, r.answers, articles) for n, (r, src) in enumerate(picked, 1)]
    text = " ".join(f"{quotation(c.quote)} [{c.n}]" for c in cites)
    return Grounded(text, [Claim(c.quote, (c.n,), True, c.score, "quoted") for c in cites], cites, grounded=True)
