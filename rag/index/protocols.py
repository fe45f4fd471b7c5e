"""The swap points of the index: what a backend offers, as small Protocols.

An index backend (FAISS + bm25s on local disk, PostgreSQL + pgvector, ...) gives
read views (`Snapshot`), each holding a `VectorIndex` and a `LexicalIndex`, and one
writer at a time (`Writer`). Everything else — planning an ingest, chunking,
embedding, near-duplicate reports, rebuild jobs, reloads — is the `Index` handle's
(handle.py) and is the same for every backend.

Chunks are named by their id (``"<article id>#<n>"``); scores are higher-is-better.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Callable, Iterable, Protocol, Sequence

import numpy as np

from rag.chunking import CHUNK_MAX_CHARS, CHUNK_OVERLAP, CHUNK_SENTENCES
from rag.types import Article, Chunk

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass(frozen=True)
class Chunking:
    """How articles are cut into chunks (rag/chunking.py); the default is the one
    the project builds every index with."""
    sentences: int = CHUNK_SENTENCES
    overlap: int = CHUNK_OVERLAP
    max_chars: int = CHUNK_MAX_CHARS

    def to_dict(self) -> dict:
        return {"sentences": self.sentences, "overlap": self.overlap, "max_chars": self.max_chars}


@dataclass(frozen=True)
class Layout:
    """What the vectors of an index mean: which embedder made them from which chunks.
    Another layout than the configured one means a rebuild."""
    embedder: str
    dim: int
    chunking: Chunking


def version_order(version: str | None) -> int:
    """A version's place in time: every backend's versions are numbers that only grow
    ("v<ns>" folders for FAISS, a counter for PostgreSQL); -1 for none."""
    digits = (version or "").lstrip("v")
    return int(digits) if digits.isdigit() else -1


class VectorIndex(Protocol):
    """Chunk vectors (L2-normalised float32) of a snapshot, searched by inner product
    (= cosine). Changes go through a Writer: in a database the vectors, keywords and
    articles change together, in one transaction."""

    def __len__(self) -> int: ...

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k nearest chunks to one query vector, best first: (chunk id, cosine)."""

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of these chunks, (len(ids), dim), in that order (zeros for
        a chunk that no longer exists)."""


class LexicalIndex(Protocol):
    """Keyword search over chunk texts (article title + chunk text) of a snapshot."""

    def __len__(self) -> int: ...

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k best-matching chunks, best first: (chunk id, score); only chunks
        that share a term with the query."""


class Snapshot(Protocol):
    """A read view of the index: what one request reads."""

    version: str  # changes whenever the index does; "" before the first write
    layout: Layout
    vectors: VectorIndex
    lexical: LexicalIndex

    @property
    def article_count(self) -> int: ...

    @property
    def chunk_count(self) -> int: ...

    def hashes(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        """Article id -> content hash, of these ids (those that exist), or of all."""

    def ids_by_hash(self, hashes: Iterable[str]) -> dict[str, str]:
        """Content hash -> the id of an article holding that text, for those stored."""

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        """The stored articles among ``ids``."""

    def all_articles(self) -> list[tuple[Article, int]]:
        """Every article with its number of chunks, in the order they were added."""

    def article_chunks(self, article_id: str) -> list[Chunk]: ...

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids, in that order; ids that no longer exist (a live
        database view, deleted since they were found) are left out."""

    def order(self, ids: Sequence[str]) -> list[int]:
        """A sort key per chunk: the order chunks were added (ties in ranking)."""


class Writer(Protocol):
    """The one writer, holding the write lock, seeing the latest published index plus
    its own changes. Its changes are published together when the `with` block of
    `Backend.writing` ends without an error, and are lost otherwise."""

    @property
    def snapshot(self) -> Snapshot: ...

    def add(self, articles: Sequence[tuple[Article, str]], chunks: Sequence[Chunk],
            vectors: np.ndarray) -> None:
        """Store (article, content hash) pairs, replacing articles with the same id,
        with their chunks and the chunks' vectors (row i for chunks[i])."""

    def delete(self, article_ids: Iterable[str]) -> None: ...

    def swap_in(self, staged: "Writer") -> None:
        """Publish the index ``staged`` (from `Backend.staging`) instead of this one when
        the block ends: how a rebuild replaces the index."""


class Backend(Protocol):
    """Where the index lives. One per process; safe to use from many threads."""

    def exists(self) -> bool:
        """Whether an index was ever published here."""

    def version(self) -> str | None:
        """The published version, None if none: cheap enough to ask per request."""

    def current(self) -> Snapshot:
        """The latest published index (IndexUnavailable if none, IndexMismatch if built
        with another layout than the configured one)."""

    def writing(self, timeout: float | None = None) -> AbstractContextManager[Writer]:
        """The write lock (Busy after ``timeout`` s) and a Writer; publishes on success."""

    def stored_articles(self) -> tuple[list[tuple[Article, str]], str]:
        """Every stored (article, hash) and the version they were read at, whatever
        layout the index was built with: the input of a rebuild."""

    def staging(self, layout: Layout) -> AbstractContextManager[Writer]:
        """A Writer onto a new, empty index of ``layout``, built beside the published one
        (readers and writers go on meanwhile) and published only by `Writer.swap_in`;
        dropped when the block ends otherwise. A rebuild:

            with backend.staging(layout) as new:
                new.add(...)                  # every article, re-chunked and re-embedded
                with backend.writing() as w:  # the write lock, for the swap
                    ...                       # carry over what changed meanwhile into new
                    w.swap_in(new)
        """

    def clean_up(self) -> list[str]:
        """At start-up: remove what a writer killed mid-write left behind."""

    def close(self) -> None: ...

