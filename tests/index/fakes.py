"""Exact fakes of the index read protocols (rag/index/protocols.py): brute force, no
approximation, so a test can state the expected ranking by hand, and the real backends
can be checked against them."""

from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

from rag.index.protocols import Chunking, Layout
from rag.types import Article, Chunk

WORD = re.compile(r"\w+")


class ExactVectors:
    """VectorIndex: every stored vector scored against the query; ties by insertion."""

    def __init__(self, vectors: dict[str, np.ndarray]):
        self._ids = list(vectors)
        self._m = np.array([vectors[i] for i in self._ids], dtype=np.float32).reshape(len(self._ids), -1)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        scores = self._m @ np.asarray(query, dtype=np.float32)
        order = sorted(range(len(self._ids)), key=lambda i: (-scores[i], i))[:k]
        return [(self._ids[i], float(scores[i])) for i in order]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        pos = {cid: i for i, cid in enumerate(self._ids)}
        return np.array([self._m[pos[i]] if i in pos else np.zeros(self._m.shape[1]) for i in ids],
                        dtype=np.float32).reshape(len(ids), self._m.shape[1])


class ExactKeywords:
    """LexicalIndex: the number of distinct query words a text holds (lower case)."""

    def __init__(self, texts: dict[str, str]):
        self._words = {cid: set(WORD.findall(t.lower())) for cid, t in texts.items()}

    def __len__(self) -> int:
        return len(self._words)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        q = set(WORD.findall(query.lower()))
        scored = [(cid, float(len(q & w))) for cid, w in self._words.items() if q & w]
        return sorted(scored, key=lambda x: -x[1])[:k]


class FakeSnapshot:
    """Snapshot over in-memory articles, chunks and the two exact fakes."""

    def __init__(self, articles: Iterable[Article], chunks: Iterable[Chunk],
                 vectors: ExactVectors, lexical: ExactKeywords, version: str = "1"):
        self._articles = {a.id: a for a in articles}
        self._chunks = {c.id: c for c in chunks}
        self.vectors, self.lexical, self.version = vectors, lexical, version
        self.layout = Layout("fake", vectors._m.shape[1], Chunking())

    @property
    def article_count(self) -> int:
        return len(self._articles)

    @property
    def chunk_count(self) -> int:
        return len(self._chunks)

    def hashes(self, ids=None) -> dict[str, str]:
        return {i: str(hash(a.text)) for i, a in self._articles.items() if ids is None or i in set(ids)}

    def ids_by_hash(self, hashes) -> dict[str, str]:
        wanted = set(hashes)
        return {h: i for i, h in self.hashes().items() if h in wanted}

    def articles(self, ids) -> dict[str, Article]:
        return {i: self._articles[i] for i in ids if i in self._articles}

    def all_articles(self) -> list[tuple[Article, int]]:
        return [(a, len(self.article_chunks(a.id))) for a in self._articles.values()]

    def article_chunks(self, article_id: str) -> list[Chunk]:
        return [c for c in self._chunks.values() if c.article_id == article_id]

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        return [self._chunks[i] for i in ids if i in self._chunks]

    def order(self, ids: Sequence[str]) -> list[int]:
        pos = {cid: i for i, cid in enumerate(self._chunks)}
        return [pos.get(i, len(pos)) for i in ids]
