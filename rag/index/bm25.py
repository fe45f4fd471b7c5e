"""BM25 over chunk texts: catches names and numbers embeddings blur.

The index is a list of immutable segments, each holding the term frequencies of some
chunks (postings, keyed by chunk id). A new snapshot reuses the old segments and
indexes only the chunks it adds, so adding one article to a 200k-chunk index does not
re-tokenise the corpus.

Scores are computed at query time from statistics over *every live chunk of every
segment*: the document frequency of a term, the number of chunks and their mean
length are global. A chunk therefore scores exactly as it would after a full rebuild,
however the index was split into segments and whatever was deleted since (a chunk
that is no longer live counts nowhere). Per-segment statistics made a freshly added
one-chunk segment weigh every word alike, and rank fusion pushed new articles out of
the top passages until a rebuild (issue #12).

Scoring is BM25 as Lucene does it (bm25s' default): idf = ln(1 + (N - df + 0.5) /
(df + 0.5)), term weight = tf / (tf + k1 (1 - b + b dl / avgdl)). Tokenising is
bm25s' (lower case, English stop words, no stemming).
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
import numpy as np

from rag.types import Article, Chunk

# bm25s sets its own logger to DEBUG on import; its index-building chatter is not for users.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_STOPWORDS = "en"
MAX_SEGMENTS = 8
K1, B = 1.5, 0.75
POSTINGS = "postings.npz"


def tokenize(texts: Sequence[str]):
    return bm25s.tokenize(list(texts), stopwords=_STOPWORDS, show_progress=False)


def query_tokens(query: str) -> list[str]:
    return bm25s.tokenize([query], stopwords=_STOPWORDS, return_ids=False, show_progress=False)[0]


def text_tokens(texts: Sequence[str]) -> list[list[str]]:
    """The tokens BM25 counts in each text (the PostgreSQL backend's postings too)."""
    if not texts:
        return []
    return bm25s.tokenize(list(texts), stopwords=_STOPWORDS, return_ids=False, show_progress=False)


def lexical_texts(chunks: list[Chunk], articles: dict[str, Article]) -> list[str]:
    """What BM25 indexes for each chunk: its article's title, then its text. A chunk deep
    in an article rarely repeats what the article is about; the title does (RealTimeQA
    dev, gold article in the top 4 passages: 62% -> 67%)."""
    out = []
    for c in chunks:
        title = articles[c.article_id].title if c.article_id in articles else ""
        out.append(f"{title}\n{c.text}" if title else c.text)
    return out


@dataclass(frozen=True, eq=False)
class _Segment:
    """Postings of some chunks, by term: ``rows[indptr[t]:indptr[t+1]]`` are the chunks
    (rows) holding term ``t`` and ``tfs[...]`` how often; ``lengths`` the tokens per chunk."""

    ids: tuple[str, ...]
    terms: dict[str, int]
    indptr: np.ndarray
    rows: np.ndarray
    tfs: np.ndarray
    lengths: np.ndarray
    name: str = field(default_factory=lambda: uuid.uuid4().hex)  # its folder on disk

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> "_Segment":
        tok = tokenize(texts)
        n, v = len(texts), len(tok.vocab)
        lengths = np.fromiter((len(d) for d in tok.ids), dtype=np.int64, count=n)
        doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
        term = np.fromiter((t for d in tok.ids for t in d), dtype=np.int64, count=int(lengths.sum()))
        # One posting per (term, chunk) with its count: sort by term, then chunk.
        key = np.unique(term * max(n, 1) + doc, return_counts=True)
        pairs, tfs = key
        t_of, rows = pairs // max(n, 1), pairs % max(n, 1)
        indptr = np.zeros(v + 1, dtype=np.int64)
        np.cumsum(np.bincount(t_of, minlength=v), out=indptr[1:])
        return cls(tuple(ids), dict(tok.vocab), indptr, rows.astype(np.int32), tfs.astype(np.int32),
                   lengths.astype(np.int32))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        terms = sorted(self.terms, key=self.terms.__getitem__)
        (folder / "terms.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        with open(folder / POSTINGS, "wb") as f:
            np.savez(f, indptr=self.indptr, rows=self.rows, tfs=self.tfs, lengths=self.lengths)
        # Written last: a folder with ids.json is complete (Bm25Index.save links it).
        (folder / "ids.json").write_text(json.dumps(list(self.ids), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "_Segment":
        ids = tuple(json.loads((folder / "ids.json").read_text(encoding="utf-8")))
        if not (folder / POSTINGS).exists():
            raise ValueError(f"BM25 segment {folder.name} is in an older format")
        terms = json.loads((folder / "terms.json").read_text(encoding="utf-8"))
        with np.load(folder / POSTINGS) as z:
            indptr, rows, tfs, lengths = z["indptr"], z["rows"], z["tfs"], z["lengths"]
        if len(lengths) != len(ids) or len(indptr) != len(terms) + 1 or len(rows) != indptr[-1] \
                or len(tfs) != len(rows) or (len(rows) and int(rows.max()) >= len(ids)):
            raise ValueError(f"BM25 segment {folder.name} is inconsistent")
        return cls(ids, {t: i for i, t in enumerate(terms)}, indptr, rows, tfs, lengths, folder.name)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        t = self.terms.get(term)
        if t is None:
            return _EMPTY, _EMPTY
        lo, hi = self.indptr[t], self.indptr[t + 1]
        return self.rows[lo:hi], self.tfs[lo:hi]


_EMPTY = np.zeros(0, dtype=np.int32)


class Bm25Index:
    """Segments plus, once ``for_live`` has been called with the snapshot's chunk
    positions, where each live chunk sits and the corpus statistics over live chunks."""

    def __init__(self, segments: Sequence[_Segment] = ()):
        self.segments = tuple(segments)
        self.size = sum(len(s.ids) for s in self.segments)
        self._pos: list[np.ndarray] | None = None  # per segment: chunk position, -1 when dead
        self._live_of: Mapping[str, int] | None = None
        self.live_chunks, self.avgdl = 0, 1.0

    @classmethod
    def build(cls, ids: Sequence[str], texts: Sequence[str]) -> "Bm25Index":
        return cls([_Segment.build(ids, texts)] if ids else [])

    def for_live(self, positions: Mapping[str, int]) -> "Bm25Index":
        """This index's segments seen from a snapshot whose live chunks are ``positions``
        (chunk id -> row). A chunk id held by several segments is live in the last one."""
        out = Bm25Index(self.segments)
        claimed: set[str] = set()
        pos, live, total = [], 0, 0
        for seg in reversed(self.segments):
            p = np.fromiter((positions.get(c, -1) if c not in claimed else -1 for c in seg.ids),
                            dtype=np.int64, count=len(seg.ids))
            if len(self.segments) > 1:
                claimed.update(seg.ids)
            mask = p >= 0
            live += int(mask.sum())
            total += int(seg.lengths[mask].sum())
            pos.append(p)
        out._pos, out._live_of = pos[::-1], positions
        out.live_chunks, out.avgdl = live, (total / live if live and total else 1.0)
        return out

    def extended(self, ids: Sequence[str], texts: Sequence[str],
                 all_chunks: Mapping[str, str] | None = None) -> "Bm25Index":
        """This index plus a segment for new chunks; the small segments merged with the
        new chunks into one (from `all_chunks`, id -> text of every live chunk) when
        segments pile up. Scores do not depend on how chunks are split into segments."""
        if not ids:
            return Bm25Index(self.segments)
        if len(self.segments) + 1 > MAX_SEGMENTS and all_chunks is not None:
            # Merge the small segments with the new chunks and keep the largest as it is:
            # the cost is that of the recent additions, not of re-tokenising the corpus.
            big = max(self.segments, key=lambda seg: len(seg.ids))
            new = set(ids)
            kept = [cid for seg in self.segments if seg is not big for cid in seg.ids
                    if cid in all_chunks and cid not in new]
            return Bm25Index((big, _Segment.build(kept + list(ids), [all_chunks[c] for c in kept] + list(texts))))
        return Bm25Index(self.segments + (_Segment.build(ids, texts),))

    def save(self, folder: Path, previous: Path | None = None) -> list[str]:
        """Write each segment under ``folder``; a segment the ``previous`` version already
        wrote (segments never change) is hard-linked, not written again. Returns the
        segment names, in order, for the manifest."""
        folder.mkdir(parents=True, exist_ok=True)
        for seg in self.segments:
            old = previous / seg.name if previous is not None else None
            if old is not None and (old / "ids.json").exists() and (old / POSTINGS).exists():
                _link_tree(old, folder / seg.name)
            else:
                seg.save(folder / seg.name)
        return [seg.name for seg in self.segments]

    @classmethod
    def load(cls, folder: Path, names: Iterable[str], live_ids: Iterable[str]) -> "Bm25Index":
        """The saved segments; ValueError (the caller rebuilds) when they do not cover
        ``live_ids`` or are in an older format."""
        index = cls([_Segment.load(folder / name) for name in names])
        covered = {cid for seg in index.segments for cid in seg.ids}
        if any(cid not in covered for cid in live_ids):
            raise ValueError("saved BM25 segments do not cover every chunk")
        return index

    def scores(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """(positions, BM25 scores) of every live chunk matching a query word."""
        if self._pos is None:
            raise RuntimeError("Bm25Index.for_live was not called")
        tokens = query_tokens(query)
        if not tokens or not self.live_chunks:
            return _EMPTY.astype(np.int64), np.zeros(0)
        counts: dict[str, int] = {}
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
        out_pos, out_score = [], []
        for term, q in counts.items():
            per_seg = []
            df = 0
            for seg, pos in zip(self.segments, self._pos):
                rows, tfs = seg.postings(term)
                if len(rows):
                    p = pos[rows]
                    live = p >= 0
                    rows, tfs, p = rows[live], tfs[live], p[live]
                    df += len(rows)
                    per_seg.append((seg, rows, tfs, p))
            if not df:
                continue
            idf = np.log(1.0 + (self.live_chunks - df + 0.5) / (df + 0.5))
            for seg, rows, tfs, p in per_seg:
                tf = tfs.astype(np.float64)
                norm = K1 * ((1 - B) + B * seg.lengths[rows] / self.avgdl)
                out_pos.append(p)
                out_score.append(q * idf * tf / (tf + norm))
        if not out_pos:
            return _EMPTY.astype(np.int64), np.zeros(0)
        pos = np.concatenate(out_pos)
        uniq, inv = np.unique(pos, return_inverse=True)
        total = np.zeros(len(uniq))
        np.add.at(total, inv, np.concatenate(out_score))
        return uniq, total

    def search(self, query: str, k: int, positions: Mapping[str, int] | None = None) -> list[tuple[int, float]]:
        """(chunk position, BM25 score), best first, positive scores, live chunks only."""
        if k <= 0 or not self.segments:
            return []
        index = self
        if self._pos is None or (positions is not None and positions is not self._live_of):
            index = self.for_live(positions or {})
        pos, score = index.scores(query)
        keep = score > 0
        pos, score = pos[keep], score[keep]
        if len(pos) > k:
            top = np.argpartition(-score, k - 1)[:k]
            pos, score = pos[top], score[top]
        order = np.lexsort((pos, -score))
        return [(int(pos[i]), float(score[i])) for i in order]


def _link_tree(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        try:
            os.link(f, dst / f.name)
        except OSError:  # a file system without hard links
            shutil.copy2(f, dst / f.name)
