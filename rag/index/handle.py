"""Changing the index: add, delete or rebuild, one writer at a time, nothing lost.

Every change starts from the latest published version (another process may have
written since this one loaded), embeds only what is new, saves a new version and
swaps it in. The writer lock is a flock, so the server and the CLI take turns.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from rag.documents import content_hash
from rag.errors import ArticleNotFound, BadInput, Busy
from rag.index.faiss_snapshot import ArticleStore, Chunking, Progress, build_store, empty_store
from rag.index.faiss_versions import current_version, load_articles, load_store, remove_leftovers
from rag.types import Article

log = logging.getLogger("rag")

STATUSES = ("added", "updated", "unchanged", "duplicate", "rejected")
# A new article whose sampled chunks all have a near-identical chunk (cosine) in one
# other article is reported as a near-duplicate (a wire copy with small edits).
NEAR_DUPLICATE_COS = 0.97


@dataclass(frozen=True)
class ItemResult:
    id: str | None
    status: str  # added | updated | unchanged | duplicate | rejected | deleted
    title: str | None = None
    reason: str | None = None
    duplicate_of: str | None = None
    near_duplicate_of: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None or k == "id"}


@dataclass
class IngestReport:
    items: list[ItemResult] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    version: str = ""

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in STATUSES + ("deleted",) if self.count(s)]
        near = sum(1 for i in self.items if i.near_duplicate_of)
        if near:
            parts.append(f"{near} near-duplicate{'s' * (near > 1)} reported")
        return (", ".join(parts) or "nothing to do") + f"; index has {self.articles} articles, {self.chunks} chunks"

    def to_dict(self) -> dict:
        return {"items": [i.to_dict() for i in self.items],
                "counts": {s: self.count(s) for s in STATUSES},
                "articles": self.articles, "chunks": self.chunks, "index_version": self.version}


@contextmanager
def writer_lock(data_dir: Path, timeout: float | None = None, name: str = ".write.lock",
                busy: str = "another process is changing the index; try again shortly") -> Iterator[None]:
    """One writer at a time, across processes (the server and the CLI). With a
    timeout, give up with Busy instead of waiting behind a long ingest."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(data_dir) / name, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if deadline is None else fcntl.LOCK_NB))
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Busy(busy) from None
                time.sleep(0.05)
        yield  # the lock goes with the descriptor, also when the process is killed
    finally:
        os.close(fd)


@contextmanager
def _writing(pipeline, timeout: float | None) -> Iterator[ArticleStore]:
    """Both locks (threads of this process, then other processes), and the latest store."""
    if not pipeline.write_lock.acquire(timeout=-1 if timeout is None else timeout):
        raise Busy("another request is changing the index; try again shortly")
    try:
        with writer_lock(pipeline.settings.data_dir, timeout):
            yield latest(pipeline)
    finally:
        pipeline.write_lock.release()


def latest(pipeline) -> ArticleStore:
    """The published store; reloaded when another process saved a newer version."""
    s = pipeline.settings
    on_disk, store = current_version(s.data_dir), pipeline.store
    if on_disk is None:
        return store if store is not None else empty_store(pipeline.embedder, chunking_of(s))
    if store is None or store.version != on_disk:
        store = load_store(s.data_dir, pipeline.embedder.name, chunking_of(s))
        pipeline.store = store
    return store


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
        batch_ids.add(a.id)
        if store.hashes.get(a.id) == h:
            results.append(ItemResult(a.id, "unchanged", a.title))
        elif h in by_hash and by_hash[h] != a.id:
            results.append(ItemResult(a.id, "duplicate", a.title, "same text as another article", by_hash[h]))
        else:
            results.append(ItemResult(a.id, "updated" if a.id in store.articles else "added", a.title))
            todo.append((a, h))
            if by_hash.get(store.hashes.get(a.id)) == a.id:  # its old text is gone
                del by_hash[store.hashes[a.id]]
            by_hash[h] = a.id
    return todo, results


def ingest(pipeline, articles: Iterable[Article], rejected: Iterable[tuple[str, str]] = (),
           show_progress: bool = False, progress: Progress | None = None,
           timeout: float | None = None) -> IngestReport:
    """Add articles to the index, save it, and swap it in. Returns once it is on disk."""
    articles = list(articles)
    bar = None
    if show_progress and progress is None:
        bar, progress = _bar("embedding")
    try:
        with _writing(pipeline, timeout) as store:
            todo, results = plan(store, articles)
            results += [ItemResult(None, "rejected", reason=f"{src}: {why}") for src, why in rejected]
            if todo or not store.version:
                new = store.with_articles(todo, pipeline.embedder, progress=progress)
                results = _mark_near_duplicates(new, {a.id for a, _ in todo}, results)
                new.save(pipeline.settings.data_dir)
                pipeline.store = store = new
            return IngestReport(results, len(store.articles), len(store.chunks), store.version)
    finally:
        if bar is not None:
            bar.close()


def delete(pipeline, article_id: str, timeout: float | None = None) -> IngestReport:
    report, missing = delete_many(pipeline, [article_id], timeout)
    if missing:
        raise ArticleNotFound(f"no article with id {article_id!r}")
    return report


def delete_many(pipeline, article_ids: Iterable[str],
                timeout: float | None = None) -> tuple[IngestReport, list[str]]:
    """Remove articles in one new version; returns the report and the unknown ids."""
    with _writing(pipeline, timeout) as store:
        ids = list(dict.fromkeys(article_ids))
        found = {i for i in ids if i in store.articles}
        if found:
            store = store.without(found)
            store.save(pipeline.settings.data_dir)
            pipeline.store = store
        items = [ItemResult(i, "deleted") for i in ids if i in found]
        return (IngestReport(items, len(store.articles), len(store.chunks), store.version),
                [i for i in ids if i not in found])


def rebuild(pipeline, progress: Progress | None = None) -> ArticleStore:
    """Re-chunk and re-embed every stored article with the configured embedder and
    chunking. Readers keep the old index meanwhile; writers are held only at the end,
    when changes they made during the rebuild are carried over before the swap."""
    s = pipeline.settings
    with writer_lock(s.data_dir, timeout=0, name=".rebuild.lock", busy="a rebuild is already running"):
        start = current_version(s.data_dir)
        if start is None:
            raise BadInput(f"no index in {s.data_dir} to rebuild: add articles with `rag ingest` first")
        articles, hashes, _ = load_articles(s.data_dir)
        new = build_store(((a, hashes[i]) for i, a in articles.items()), pipeline.embedder,
                          chunking_of(s), progress)
        with _writing_raw(pipeline):
            if current_version(s.data_dir) != start:
                now, now_hashes, _ = load_articles(s.data_dir)
                stale = {i for i in new.articles if now_hashes.get(i) != new.hashes[i]}
                fresh = [(now[i], h) for i, h in now_hashes.items() if new.hashes.get(i) != h]
                if stale or fresh:
                    new = new.without(stale).with_articles(fresh, pipeline.embedder)
            new.save(s.data_dir)
            pipeline.store = new
        return new


@contextmanager
def _writing_raw(pipeline) -> Iterator[None]:
    # No `latest()` here: the published index may have been built with other settings.
    with pipeline.write_lock, writer_lock(pipeline.settings.data_dir):
        yield


def clean_up(data_dir: Path) -> list[str]:
    """At start-up: remove what a writer killed mid-save left behind, under the write
    lock. Skipped (nothing lost: the next save prunes) while another writer holds it."""
    if not (Path(data_dir) / "versions").is_dir():
        return []
    try:
        with writer_lock(data_dir, timeout=0):
            removed = remove_leftovers(Path(data_dir))
    except Busy:
        return []
    if removed:
        log.info("removed leftovers of an interrupted save: %s", ", ".join(removed))
    return removed


def open_index(pipeline, show_progress: bool = False) -> None:
    """Load the published index, or build one from the seeds folder if there is none.
    Raises IndexMismatch for an index built with other settings; the pipeline stays
    usable for `rebuild`."""
    s = pipeline.settings
    clean_up(s.data_dir)
    if current_version(s.data_dir) is None:
        from rag.assemble import ensure_index

        ensure_index(pipeline, show_progress=show_progress)
    else:
        pipeline.store = load_store(s.data_dir, pipeline.embedder.name, chunking_of(s))


def chunking_of(settings) -> Chunking:
    return Chunking(settings.chunk_sentences, settings.chunk_overlap, settings.chunk_max_chars)


def _mark_near_duplicates(store: ArticleStore, new_ids: set[str], results: list[ItemResult]) -> list[ItemResult]:
    """Flag new articles whose first and last chunks each have a near-identical
    chunk in one same other article. Reported, not skipped: the text does differ."""
    if not new_ids or len(store.articles) < 2:
        return results
    sample: dict[str, list[int]] = {}
    for aid in new_ids:
        if idx := store.chunk_positions(aid):
            sample[aid] = sorted({idx[0], idx[-1]})
    rows = [i for ids in sample.values() for i in ids]
    if not rows:
        return results
    k = min(4, store.faiss.ntotal)
    sims, hits = store.faiss.search(np.ascontiguousarray(store.vectors[rows]), k)
    found: dict[str, str] = {}
    pos = 0
    for aid, ids in sample.items():
        common: set[str] | None = None
        for r in range(pos, pos + len(ids)):
            near = {store.chunks[j].article_id for j, cos in zip(hits[r], sims[r])
                    if j >= 0 and cos >= NEAR_DUPLICATE_COS and store.chunks[j].article_id != aid}
            common = near if common is None else common & near
        pos += len(ids)
        if common:
            found[aid] = sorted(common)[0]
    return [ItemResult(**{**asdict(r), "near_duplicate_of": found[r.id]})
            if r.id in found and r.status in ("added", "updated") else r for r in results]


def _bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=0, unit="chunk", desc=desc, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update
