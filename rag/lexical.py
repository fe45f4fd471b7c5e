"""BM25 over chunk texts (bm25s): catches names and numbers embeddings blur.

The index is a list of immutable segments, each a bm25s index over some chunks,
keyed by chunk id. A new snapshot reuses the old segments and indexes only the
chunks it adds, so adding one article to a 200k-chunk index does not re-tokenise
the corpus. Deleted chunks are filtered out at search time. Scores of different
segments are only roughly comparable (each has its own idf); retrieval fuses by
rank, and segments are merged back into one when there are too many.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

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
    name: str = field(default_factory=lambda: uuid.uuid4().hex)  # its folder on disk

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

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        if self.bm25 is not None:
            self.bm25.save(str(folder), show_progress=False)
        (folder / "ids.json").write_text(json.dumps(list(self.ids), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "_Segment":
        ids = tuple(json.loads((folder / "ids.json").read_text(encoding="utf-8")))
        if not (folder / "params.index.json").exists():
            return cls(ids, None, frozenset(), folder.name)
        bm25 = bm25s.BM25.load(str(folder), show_progress=False)
        if bm25.scores["num_docs"] != len(ids):
            raise ValueError(f"BM25 segment {folder.name} holds {bm25.scores['num_docs']} chunks, not {len(ids)}")
        return cls(ids, bm25, frozenset(bm25.vocab_dict), folder.name)

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
            # Merge the small segments with the new chunks and keep the largest as it is:
            # the cost is that of the recent additions, not of re-tokenising the corpus.
            big = max(self.segments, key=lambda seg: len(seg.ids))
            new = set(ids)
            kept = [cid for seg in self.segments if seg is not big for cid in seg.ids
                    if cid in all_chunks and cid not in new]
            return LexicalIndex((big, _Segment.build(kept + list(ids), [all_chunks[c] for c in kept] + list(texts))))
        return LexicalIndex(self.segments + (_Segment.build(ids, texts),))

    def save(self, folder: Path, previous: Path | None = None) -> list[str]:
        """Write each segment under ``folder``; a segment the ``previous`` version already
        wrote (segments never change) is hard-linked, not written again. Returns the
        segment names, in order, for the manifest."""
        folder.mkdir(parents=True, exist_ok=True)
        for seg in self.segments:
            old = previous / seg.name if previous is not None else None
            if old is not None and (old / "ids.json").exists():
                _link_tree(old, folder / seg.name)
            else:
                seg.save(folder / seg.name)
        return [seg.name for seg in self.segments]

    @classmethod
    def load(cls, folder: Path, names: Iterable[str], live_ids: Iterable[str]) -> "LexicalIndex":
        """The saved segments; ValueError (the caller rebuilds) when they do not cover ``live_ids``."""
        index = cls([_Segment.load(folder / name) for name in names])
        covered = {cid for seg in index.segments for cid in seg.ids}
        if any(cid not in covered for cid in live_ids):
            raise ValueError("saved BM25 segments do not cover every chunk")
        return index

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


def _link_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        try:
            os.link(f, dst / f.name)
        except OSError:  # a file system without hard links
            shutil.copy2(f, dst / f.name)
