"""The embedded index backend: FAISS vectors and bm25s keywords in versioned folders
on local disk (versions.py), one writer at a time by a file lock (rag/index/locks.py),
read through FaissSnapshot (snapshot.py). Needs no server: the default (`RAG_STORE=faiss`)."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from rag.errors import Busy
from rag.index.faiss.article_store import ArticleStore
from rag.index.faiss.snapshot import FaissSnapshot
from rag.index.faiss.versions import (current_version, index_exists, load_articles, load_store,
                                      remove_leftovers, save_version)
from rag.index.locks import writer_lock
from rag.index.protocols import Layout
from rag.types import Article, Chunk

log = logging.getLogger("rag")


class FaissWriter:
    """Changes build new ArticleStores; FaissBackend.writing saves the last one. The
    published store is read on first use (a rebuild's swap never reads it)."""

    def __init__(self, load: Callable[[], ArticleStore]):
        self._load, self._store = load, None
        self.changed = False
        self._snapshot: FaissSnapshot | None = None
        # Adds not yet in a store: a large ingest adds in steps (Index._add), which
        # become one new store when it is next read, not one store per step.
        self._pending: list[tuple[list, list, np.ndarray]] = []

    @property
    def store(self) -> ArticleStore:
        if self._store is None:
            self._store = self._load()
        if self._pending:
            pending, self._pending = self._pending, []
            self._store = self._store.with_batches(pending)  # empties ``pending`` as it goes
        return self._store

    @store.setter
    def store(self, value: ArticleStore) -> None:
        self._store = value

    @property
    def snapshot(self) -> FaissSnapshot:
        if self._snapshot is None or self._snapshot.store is not self.store:
            self._snapshot = FaissSnapshot(self.store)
        return self._snapshot

    def add(self, articles: Sequence[tuple[Article, str]], chunks: Sequence[Chunk],
            vectors: np.ndarray) -> None:
        self._pending.append((list(articles), list(chunks), np.asarray(vectors, dtype=np.float32)))
        self.changed = True

    def delete(self, article_ids: Iterable[str]) -> None:
        found = {i for i in article_ids if i in self.store.articles}
        if found:
            self.store = self.store.without(found)
            self.changed = True

    def swap_in(self, staged: "FaissWriter") -> None:
        self.store, self.changed = staged.store, True


class FaissBackend:
    def __init__(self, data_dir: Path, layout: Layout):
        self.data_dir, self.layout = Path(data_dir), layout
        # The store this process last loaded or wrote: a writer extends it instead of
        # reading the index back from disk, unless another process published since.
        self._latest: ArticleStore | None = None
        self._lock = threading.Lock()

    def exists(self) -> bool:
        return index_exists(self.data_dir)

    def version(self) -> str | None:
        """The published version: one readlink, cheap enough to call per request."""
        return current_version(self.data_dir)

    def current(self) -> FaissSnapshot:
        return FaissSnapshot(self._load())

    def _load(self) -> ArticleStore:
        on_disk = current_version(self.data_dir)
        with self._lock:
            latest = self._latest
        if on_disk is None:
            return latest if latest is not None else self._empty()
        if latest is None or latest.version != on_disk:
            latest = load_store(self.data_dir, self.layout.embedder, self.layout.chunking)
            with self._lock:
                self._latest = latest
        return latest

    def _empty(self) -> ArticleStore:
        return ArticleStore(self.layout.embedder, self.layout.dim, self.layout.chunking)

    @contextmanager
    def writing(self, timeout: float | None = None) -> Iterator[FaissWriter]:
        with writer_lock(self.data_dir, timeout):
            w = FaissWriter(self._load)
            yield w
            if w.changed or not w.store.version:
                save_version(w.store, self.data_dir)
                with self._lock:
                    self._latest = w.store

    def stored_articles(self) -> tuple[list[tuple[Article, str]], str]:
        articles, hashes, _ = load_articles(self.data_dir)
        version = current_version(self.data_dir) or ""
        return [(a, hashes[i]) for i, a in articles.items()], version

    @contextmanager
    def staging(self, layout: Layout) -> Iterator[FaissWriter]:
        empty = ArticleStore(layout.embedder, layout.dim, layout.chunking)
        yield FaissWriter(lambda: empty)

    def clean_up(self) -> list[str]:
        if not (self.data_dir / "versions").is_dir():
            return []
        try:
            with writer_lock(self.data_dir, timeout=0):
                removed = remove_leftovers(self.data_dir)
        except Busy:  # another writer: nothing lost, the next save prunes
            return []
        if removed:
            log.info("removed leftovers of an interrupted save: %s", ", ".join(removed))
        return removed

    def close(self) -> None:
        pass

