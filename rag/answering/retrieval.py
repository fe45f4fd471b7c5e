"""Hybrid retrieval: dense (vector) and lexical (keyword) rankings fused by reciprocal
rank, over whatever index backend serves the snapshot."""

from __future__ import annotations

from typing import Callable

import numpy as np

from rag.components.embedding import Embedder
from rag.index.protocols import Snapshot
from rag.types import Hit


class Retriever:
    """Reads the index, never writes it: ``snapshots`` returns the published snapshot
    (the Index handle's ``snapshot``), taken once per request by the Pipeline."""

    def __init__(self, snapshots: Callable[[], Snapshot], embedder: Embedder, rrf_k: int = 60,
                 candidates: int = 50):
        self.snapshots = snapshots
        self.embedder = embedder
        self.rrf_k = rrf_k
        self.candidates = candidates

    def search(self, snap: Snapshot, query: str, top_k: int) -> list[Hit]:
        n = snap.chunk_count
        if n == 0 or top_k <= 0:
            return []
        depth = min(n, max(self.candidates, top_k * 4))
        q = self.embedder.embed([query])[0].astype(np.float32)
        fused: dict[str, float] = {}
        for rank, (cid, _) in enumerate(snap.vectors.search(q, depth)):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        bm25 = {}
        for rank, (cid, s) in enumerate(snap.lexical.search(query, depth)):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (self.rrf_k + rank + 1)
            bm25[cid] = s
        # Ties go to the chunk added first, whatever order the backends listed them in.
        order = dict(zip(fused, snap.order(list(fused))))
        best = sorted(fused, key=lambda cid: (-fused[cid], order[cid]))[:top_k]
        chunks = snap.chunks(best)  # (a live database view leaves out chunks deleted meanwhile)
        # Cosine similarity for every returned chunk, also those found only by keywords:
        # it is the signal used to judge whether anything relevant was found.
        cos = snap.vectors.vectors([c.id for c in chunks]) @ q if chunks else np.zeros(0)
        return [Hit(chunk=c, score=fused[c.id], dense=float(s), lexical=bm25.get(c.id, 0.0))
                for c, s in zip(chunks, cos)]
