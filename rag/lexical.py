"""BM25 over chunk texts (bm25s): catches names and numbers embeddings blur.

The index is a list of immutable segments, each a bm25s index over some chunks,
keyed by chunk id. A new snapshot reuses the old segments and indexes only the
chunks it adds, so adding one article to a 200k-chunk index does not re-tokenise
the corpus. Deleted chunks are filtered out at search time. Scores of different
segments are only roughly comparable (each has its own idf); retrieval fuses by
rank, and segments are merged back into one when there are too many.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Mapping, Sequence

import bm25s

# bm25s sets its own logger to DEBUG on import; its index-building chatter is not for users.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_STOPWORDS = "en"
MAX_SEGMENTS = 8


@dataclass(frozen=True)
class _Segment:
    ids: tuple[str, ...]
    bm25: bm25s.BM25 | None
    vocab: frozenset[str]

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> "_Segment":
        tokenized = bm25s.tokenize(list(texts), stopwords=_STOPWORDS, show_progress=False)
        vocab = frozenset(tokenized.vocab)
        if not any(tokenized.ids):
            # bm25s cannot index a corpus without one word token (only stopwords, say).
            return cls(tuple(ids), None, vocab)
        bm25 = bm25s.BM25()
        bm25.index(tokenized, show_progress=False)
        return cls(tuple(ids), bm25, vocab)

    def search(self, tokens: list[str], k: int) -> list[tuple[str, float]]:
        tokens = [t for t in tokens if t in self.vocab]
        if self.bm25 is None or not tokens:
            return []
        found, scores = self.bm25.retrieve([tokens], k=min(k, len(self.ids)), show_progress=False)
        return [(self.ids[int(i)], float(s)) for i, s in zip(found[0], scores[0]) if s > 0]


class LexicalIndex:
    def __init__(self, segments: Sequence[_Segment] = ()):
        self.segments = tuple(segments)
        self.size = sum(len(s.ids) for s in self.segments)

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> "LexicalIndex":
        return cls([_Segment.build(ids, texts)] if ids else [])

    def extended(self, ids: Sequence[str], texts: Sequence[str],
                 all_chunks: Mapping[str, str] | None = None) -> "LexicalIndex":
        """This index plus a segment for new chunks; merged into one segment (from
        `all_chunks`, id -> text of every live chunk) when segments pile up."""
        if not ids:
            return self
        if len(self.segments) + 1 > MAX_SEGMENTS and all_chunks is not None:
            return LexicalIndex.build(list(all_chunks), list(all_chunks.values()))
        return LexicalIndex(self.segments + (_Segment.build(ids, texts),))

    def search(self, query: str, k: int, positions: Mapping[str, int]) -> list[tuple[int, float]]:
        """(chunk position, BM25 score), best first, positive scores, live chunks only."""
        if not self.segments or k <= 0:
            return []
        tokens = bm25s.tokenize([query], stopwords=_STOPWORDS, return_ids=False, show_progress=False)[0]
        if not tokens:
            return []
        # Ask each segment for a few extra results: some may be deleted chunks.
        dead = self.size - len(positions)
        hits = [(positions[cid], s) for seg in self.segments
                for cid, s in seg.search(tokens, k + max(dead, 0)) if cid in positions]
        hits.sort(key=lambda h: (-h[1], h[0]))
        return hits[:k]
