"""Summary requests ("Give me the gist", "What happened at the summit?", "Tell me about X"):
the lede of the best-matching article, quoted and cited.

A news story puts what happened first, and no sentence "answers" a request for the
whole story. The lede is quoted, not rewritten by the model: every word of it is the
article's, so it needs no checking, and it reads as the article's own summary.
"""

from __future__ import annotations

from dataclasses import replace

from rag.answering.grounding import Grounded, Grounder, SourceSentence, cite, source_sentences
from rag.index.protocols import Snapshot
from rag.types import Article, Claim, Hit

SENTENCES = 2  # sentences of the lede quoted
MIN_CHARS = 40  # shorter opening lines are bylines, datelines or a section name ("USATODAY")


def lead_hits(snap: Snapshot, best: Hit, hits: list[Hit], k: int) -> list[Hit]:
    """The opening passages of `best`'s article first, in reading order, then the other hits."""
    lead = [replace(best, chunk=c) for c in sorted(snap.article_chunks(best.chunk.article_id),
                                                    key=lambda c: c.start)[:2]]
    ids = {h.chunk.id for h in lead}
    rest = [h for h in hits if h.chunk.id not in ids]
    return (lead + rest)[:max(k, len(lead))]


def lede(hits: list[Hit], articles: dict[str, Article], grounder: Grounder) -> Grounded | None:
    """The first sentences of the first hit's article (hits from `lead_hits`), each cited."""
    if not hits:
        return None
    aid = hits[0].chunk.article_id
    mine = [s for s in source_sentences(hits) if hits[s.hit].chunk.article_id == aid]
    picked: list[SourceSentence] = [s for s in sorted(mine, key=lambda s: s.start)
                                    if len(s.text) >= MIN_CHARS and any(c.islower() for c in s.text)][:SENTENCES]
    if not picked:
        return None
    cites = [grounder.citation(n, hits[s.hit], s, 1.0, articles) for n, s in enumerate(picked, 1)]
    text = " ".join(cite(c.quote, c.n) for c in cites)
    claims = [Claim(c.quote, (c.n,), True, 1.0, "quoted") for c in cites]
    return Grounded(text, claims, cites, grounded=True)
