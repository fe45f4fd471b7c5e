"""Adding and removing articles: de-duplicate, embed only what is new, save atomically."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .documents import content_hash
from .errors import ArticleNotFound, Busy
from .store import ArticleStore, Chunking, empty_store
from .types import Article


@dataclass(frozen=True)
class ItemResult:
    id: str | None
    status: str  # added | updated | unchanged | duplicate | rejected
    title: str | None = None
    reason: str | None = None
    duplicate_of: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class IngestReport:
    items: list[ItemResult] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("added", "updated", "unchanged", "duplicate", "rejected")
                 if self.count(s)]
        return (", ".join(parts) or "nothing to do") + f"; index has {self.articles} articles, {self.chunks} chunks"

    def to_dict(self) -> dict:
        return {"items": [i.to_dict() for i in self.items],
                "counts": {s: self.count(s) for s in ("added", "updated", "unchanged", "duplicate", "rejected")},
                "articles": self.articles, "chunks": self.chunks}


@contextmanager
def writer_lock(data_dir: Path, wait: bool = True) -> Iterator[None]:
    """One writer at a time, across processes (the server and the CLI)."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(data_dir) / ".write.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError as exc:
            raise Busy("another process is changing the index; try again shortly") from exc
        yield
    finally:
        os.close(fd)


def plan(store: ArticleStore, articles: Iterable[Article]) -> tuple[list[tuple[Article, str]], list[ItemResult]]:
    """Decide per article: add, update (same id, new text), skip as unchanged or duplicate."""
    by_hash = {h: aid for aid, h in store.hashes.items()}
    todo: list[tuple[Article, str]] = []
    results: list[ItemResult] = []
    batch_ids: set[str] = set()
    for a in articles:
        h = content_hash(a.text)
        if a.id in batch_ids:
            results.append(ItemResult(a.id, "duplicate", a.title, "id repeated in this batch", a.id))
            continue
        if store.hashes.get(a.id) == h:
            results.append(ItemResult(a.id, "unchanged", a.title))
        elif h in by_hash and by_hash[h] != a.id:
            results.append(ItemResult(a.id, "duplicate", a.title, "same text as another article", by_hash[h]))
        else:
            results.append(ItemResult(a.id, "updated" if a.id in store.articles else "added", a.title))
            todo.append((a, h))
            by_hash[h] = a.id
            batch_ids.add(a.id)
            continue
        batch_ids.add(a.id)
    return todo, results


def ingest(pipeline, articles: Iterable[Article], rejected: Iterable[tuple[str, str]] = (),
           show_progress: bool = False) -> IngestReport:
    """Add articles to the pipeline's index, save it, and swap it in."""
    s = pipeline.settings
    with pipeline.write_lock, writer_lock(s.data_dir):
        store = pipeline.store or empty_store(pipeline.embedder, chunking_of(s))
        todo, results = plan(store, articles)
        results += [ItemResult(None, "rejected", reason=f"{src}: {why}") for src, why in rejected]
        if todo or pipeline.store is None:
            store = store.with_articles(todo, pipeline.embedder, show_progress=show_progress)
            store.save(s.data_dir)
            pipeline.store = store
        return IngestReport(results, len(store.articles), len(store.chunks))


def delete(pipeline, article_id: str) -> IngestReport:
    s = pipeline.settings
    with pipeline.write_lock, writer_lock(s.data_dir):
        store = pipeline.store
        if store is None or article_id not in store.articles:
            raise ArticleNotFound(f"no article with id {article_id!r}")
        store = store.without({article_id})
        store.save(s.data_dir)
        pipeline.store = store
        return IngestReport([ItemResult(article_id, "deleted")], len(store.articles), len(store.chunks))


def chunking_of(settings) -> Chunking:
    return Chunking(settings.chunk_sentences, settings.chunk_overlap, settings.chunk_max_chars)
