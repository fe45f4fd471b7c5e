"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

import numpy as np

from rag.components.embedding import Embedder
from rag.index.faiss_snapshot import ArticleStore
from rag.types import Hit


class Retriever:
    def __init__(self, embedder: Embedder, rrf_k: int = 60, candidates: int = 50):
        self.embedder = embedder
        self.rrf_k = rrf_k
        self.candidates = candidates

    def search(self, store: ArticleStore, query: str, top_k: int) -> list[Hit]:
        n = len(store.chunks)
        if n == 0 or top_k <= 0:
            return []
        depth = min(n, max(self.candidates, top_k * 4))
        q = self.embedder.embed([query])[0].astype(np.float32)
        _, dense_ids = store.faiss.search(q[None, :], depth)
        dense = [int(i) for i in dense_ids[0] if i >= 0]
        lexical = store.lexical.search(query, depth, store.positions)
        fused: dict[int, float] = {}
        for rank, i in enumerate(dense):
            fused[i] = fused.get(i, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        bm25 = {}
        for rank, (i, s) in enumerate(lexical):
            fused[i] = fused.get(i, 0.0) + 1.0 / (self.rrf_k + rank + 1)
            bm25[i] = s
        best = sorted(fused, key=lambda i: (-fused[i], i))[:top_k]
        # Cosine similarity for every returned chunk, also those found only by BM25:
        # it is the signal used to judge whether anything relevant was found.
        cos = store.vectors[best] @ q if best else np.zeros(0)
        return [Hit(chunk=store.chunks[i], score=fused[i], dense=float(c), lexical=bm25.get(i, 0.0))
                for i, c in zip(best, cos)]
