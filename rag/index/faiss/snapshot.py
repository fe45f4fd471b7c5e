"""The FAISS backend's read view: one immutable ArticleStore (article_store.py) seen
through the index read protocols (rag/index/protocols.py): its FAISS vectors
(vector_index.py) and its bm25s keyword segments (rag/index/bm25.py)."""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import faiss
import numpy as np

from rag.index.bm25 import Bm25Index
from rag.index.faiss.article_store import ArticleStore
from rag.index.faiss.vector_index import search as search_rows
from rag.index.protocols import Layout
from rag.types import Article, Chunk


class FaissVectors:
    """VectorIndex over a FAISS index whose row i is chunk ``ids[i]`` (vector
    ``matrix[i]``; ``positions`` maps ids to rows)."""

    def __init__(self, index: faiss.Index, ids: Sequence[str], matrix: np.ndarray,
                 positions: Mapping[str, int], trained: int | None = None):
        self._index, self._ids, self._matrix, self._pos = index, ids, matrix, positions
        self._trained = index.ntotal if trained is None else trained

    def __len__(self) -> int:
        return self._index.ntotal

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        k = min(k, self._index.ntotal)
        if k <= 0:
            return []
        scores, rows = search_rows(self._index, self._matrix, self._trained, query, k)
        return [(self._ids[i], float(s)) for i, s in zip(rows, scores)]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        pos = self._pos
        return self._matrix[[pos[i] for i in ids]] if len(ids) else np.zeros((0, self._index.d), np.float32)


class Bm25Lexical:
    """LexicalIndex over bm25s segments (bm25.py), for the live chunks ``ids``."""

    def __init__(self, bm25: Bm25Index, ids: Sequence[str], positions: Mapping[str, int]):
        self._bm25, self._ids, self._pos = bm25, ids, positions

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        return [(self._ids[i], s) for i, s in self._bm25.search(query, k, self._pos)]


class _ChunkIds(Sequence):
    """The chunk ids of a snapshot, by row, without a second list of a million strings."""

    def __init__(self, chunks: list[Chunk]):
        self._chunks = chunks

    def __getitem__(self, i):
        return self._chunks[i].id

    def __len__(self) -> int:
        return len(self._chunks)


class FaissSnapshot:
    """Snapshot over one immutable ArticleStore."""

    def __init__(self, store: ArticleStore):
        self.store = store
        self.layout = Layout(store.embedder_name, store.dim, store.chunking)
        ids = _ChunkIds(store.chunks)
        self.vectors = FaissVectors(store.faiss, ids, store.vectors, store.positions, store.trained)
        self.lexical = Bm25Lexical(store.lexical, ids, store.positions)

    @property
    def version(self) -> str:
        return self.store.version  # set when the store is saved

    @property
    def article_count(self) -> int:
        return len(self.store.articles)

    @property
    def chunk_count(self) -> int:
        return len(self.store.chunks)

    def hashes(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        h = self.store.hashes
        return dict(h) if ids is None else {i: h[i] for i in ids if i in h}

    def ids_by_hash(self, hashes: Iterable[str]) -> dict[str, str]:
        wanted = set(hashes)
        return {h: aid for aid, h in self.store.hashes.items() if h in wanted}

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        a = self.store.articles
        return {i: a[i] for i in ids if i in a}

    def all_articles(self) -> list[tuple[Article, int]]:
        return [(a, self.store.chunk_count(a.id)) for a in self.store.articles.values()]

    def article_chunks(self, article_id: str) -> list[Chunk]:
        return self.store.article_chunks(article_id)

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        pos, chunks = self.store.positions, self.store.chunks
        return [chunks[pos[i]] for i in ids if i in pos]  # as the protocol says: unknown ids left out

    def order(self, ids: Sequence[str]) -> list[int]:
        pos = self.store.positions
        return [pos[i] for i in ids]
