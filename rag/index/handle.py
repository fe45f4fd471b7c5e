"""The Index handle: the one owner of the index a process serves.

It holds the current snapshot (what readers search), the write lock and the backend
(where the index lives: FAISS folders on disk, or PostgreSQL), and offers ingest,
delete, rebuild and reload. Every change starts from the latest published index
(another process may have written since), chunks and embeds only what is new, and is
published whole by the backend; readers keep the snapshot they took meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterable, Iterator

from tqdm import tqdm

from rag.chunking import chunk_article
from rag.components.embedding import Embedder
from rag.documents import load_paths
from rag.errors import ArticleNotFound, BadInput, Busy, IndexUnavailable
from rag.index.embed import embed_chunks
from rag.index.locks import writer_lock
from rag.index.planning import IngestReport, ItemResult, mark_near_duplicates, plan
from rag.index.protocols import Backend, Chunking, Layout, Progress, Snapshot, Writer, version_order
from rag.types import Article

log = logging.getLogger("rag")
REFRESH_QUIET_S = 5.0  # after the backend could not say its version


def layout_of(embedder: Embedder, chunking: Chunking = Chunking()) -> Layout:
    """The layout an index built now would have: the embedder's, and the project's
    chunking (rag/chunking.py's constants) unless told otherwise."""
    return Layout(embedder.name, embedder.dim, chunking)


class Index:
    def __init__(self, data_dir: Path, seeds_dir: Path, embedder: Embedder, backend: Backend,
                 chunking: Chunking = Chunking()):
        self.data_dir, self.seeds_dir = Path(data_dir), Path(seeds_dir)
        self.embedder, self.backend = embedder, backend
        self.layout = layout_of(embedder, chunking)
        self._snapshot: Snapshot | None = None
        # Why no snapshot is served (an index built with other settings, unreadable).
        self.error: str | None = None
        self._write_lock = threading.RLock()  # threads of this process; the backend: processes
        self._reload_lock = threading.Lock()
        self._reloading = False
        self._failed: str | None = None  # a version that did not load: not retried per request
        self._quiet_until = 0.0

    # -- reading ------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self._snapshot is not None

    def snapshot(self) -> Snapshot:
        """The snapshot to read for one request (take it once, use it throughout)."""
        snap = self._snapshot
        if snap is None:
            raise IndexUnavailable(self.error or "no index is loaded: run `rag ingest seeds/` first")
        return snap

    def open(self, seed: bool = True, show_progress: bool = False) -> None:
        """Load the published index, or build one from the seeds folder if there is none
        (``seed``). Raises IndexMismatch for an index built with other settings; the
        handle stays usable for `rebuild`."""
        self.backend.clean_up()  # what a writer killed mid-write left
        if self.backend.exists():
            try:
                self._publish(self.backend.current())
            except IndexUnavailable as exc:
                self.error = str(exc)
                raise
        elif seed:
            self._build_from_seeds(show_progress)

    def _build_from_seeds(self, show_progress: bool) -> None:
        seeds = self.seeds_dir
        if not seeds.exists():
            raise IndexUnavailable(f"no index in {self.data_dir} and no seeds folder {seeds}")
        result = load_paths([seeds])
        report = self.ingest(result.articles, [(r.source, r.reason) for r in result.rejected],
                             show_progress=show_progress)
        log.info("built index from %s: %s", seeds, report.summary())

    def refresh(self) -> None:
        """Pick up an index another process published (`rag ingest`, another server):
        cheap to call per request; the reload runs in a thread meanwhile."""
        if self._snapshot is None and self.error is None:
            return  # still starting up: open() owns the first load
        if time.monotonic() < self._quiet_until:
            return
        try:
            published = self.backend.version()
        except IndexUnavailable:
            # The database is away: the request itself will say so; no second wait per
            # request until it is back.
            self._quiet_until = time.monotonic() + REFRESH_QUIET_S
            return
        current = self._snapshot.version if self._snapshot is not None else None
        if published is None or published == self._failed or published == current:
            return
        with self._reload_lock:
            if self._reloading:
                return
            self._reloading = True
        threading.Thread(target=self._reload, args=(published,), name="rag-reload", daemon=True).start()

    def reload(self) -> None:
        """Load the published index now (what refresh does in a thread)."""
        self._reload(self.backend.version())

    def _reload(self, version: str | None) -> None:
        try:
            self._publish(self.backend.current())
            log.info("reloaded index version %s", version)
        except IndexUnavailable as exc:
            self._failed = version
            if self._snapshot is None:
                self.error = str(exc)
            log.error("index version %s not loaded: %s", version, exc)
        finally:
            with self._reload_lock:
                self._reloading = False

    def _publish(self, snap: Snapshot) -> None:
        with self._write_lock:  # never replace a newer snapshot this process just wrote
            cur = self._snapshot
            if cur is None or version_order(snap.version) >= version_order(cur.version):
                self._snapshot = snap
                self.error = None

    # -- writing ------------------------------------------------------------------
    @contextmanager
    def _writing(self, timeout: float | None) -> Iterator[Writer]:
        """Both locks (threads of this process, then the backend's), then publish."""
        if not self._write_lock.acquire(timeout=-1 if timeout is None else timeout):
            raise Busy("another request is changing the index; try again shortly")
        try:
            with self.backend.writing(timeout) as w:
                yield w
            # What was just published (a writer's own view ends with its transaction).
            self._snapshot, self.error = self.backend.current(), None
        finally:
            self._write_lock.release()

    def ingest(self, articles: Iterable[Article], rejected: Iterable[tuple[str, str]] = (),
               show_progress: bool = False, progress: Progress | None = None,
               timeout: float | None = None) -> IngestReport:
        """Add articles, publish the index, and swap it in. Returns once it is stored."""
        articles = list(articles)
        bar = None
        if show_progress and progress is None:
            bar, progress = _bar("embedding")
        try:
            with self._writing(timeout) as w:
                todo, results = plan(w.snapshot, articles)
                results += [ItemResult(None, "rejected", reason=f"{src}: {why}") for src, why in rejected]
                if todo:
                    self._add(w, todo, progress)
                    results = mark_near_duplicates(w.snapshot, {a.id for a, _ in todo}, results)
            snap = self._snapshot
            return IngestReport(results, snap.article_count, snap.chunk_count, snap.version)
        finally:
            if bar is not None:
                bar.close()

    def _add(self, w: Writer, todo: list[tuple[Article, str]], progress: Progress | None) -> None:
        """Chunk, embed and add ``todo`` in steps of about STEP_CHUNKS chunks, so a large
        ingest or rebuild holds one step's vectors and keyword postings in the making,
        not the whole corpus's (peak RSS: bench/bench_index.py)."""
        c = self.layout.chunking
        per_article = [chunk_article(a, c.sentences, c.overlap, c.max_chars) for a, _ in todo]
        total, done = sum(map(len, per_article)), 0
        with self.embedder.large_job() if total >= LARGE_JOB else nullcontext():
            for lo, hi in steps(per_article, STEP_CHUNKS):
                chunks = [ch for cs in per_article[lo:hi] for ch in cs]
                part = None if progress is None else (lambda d, _t, base=done: progress(base + d, total))
                vectors = embed_chunks(self.embedder, [ch.text for ch in chunks], self.layout.dim, part)
                w.add(todo[lo:hi], chunks, vectors)
                done += len(chunks)

    def delete(self, article_id: str, timeout: float | None = None) -> IngestReport:
        report, missing = self.delete_many([article_id], timeout)
        if missing:
            raise ArticleNotFound(f"no article with id {article_id!r}")
        return report

    def delete_many(self, article_ids: Iterable[str],
                    timeout: float | None = None) -> tuple[IngestReport, list[str]]:
        """Remove articles in one change; returns the report and the unknown ids."""
        ids = list(dict.fromkeys(article_ids))
        with self._writing(timeout) as w:
            found = set(w.snapshot.hashes(ids))
            if found:
                w.delete(found)
        snap = self._snapshot
        items = [ItemResult(i, "deleted") for i in ids if i in found]
        return (IngestReport(items, snap.article_count, snap.chunk_count, snap.version),
                [i for i in ids if i not in found])

    def rebuild(self, progress: Progress | None = None) -> Snapshot:
        """Re-chunk and re-embed every stored article with the configured embedder and
        chunking. Readers keep the old index meanwhile; writers are held only at the end,
        when changes they made during the rebuild are carried over before the swap."""
        # One rebuild at a time per data folder (the server's job and the CLI).
        with writer_lock(self.data_dir, timeout=0, name=".rebuild.lock", busy="a rebuild is already running"):
            if not self.backend.exists():
                raise BadInput(f"no index in {self.data_dir} to rebuild: add articles with `rag ingest` first")
            stored, _ = self.backend.stored_articles()
            built = {a.id: h for a, h in stored}
            with self.backend.staging(self.layout) as new:
                if stored:
                    self._add(new, stored, progress)
                with self._writing(None) as w:
                    # Carry over what other writers changed while this one embedded (the
                    # published index may have another layout: read its articles).
                    now = {a.id: (a, h) for a, h in self.backend.stored_articles()[0]}
                    stale = {i for i, h in built.items() if i not in now or now[i][1] != h}
                    fresh = [ah for i, ah in now.items() if built.get(i) != ah[1]]
                    if stale:
                        new.delete(stale)
                    if fresh:
                        self._add(new, fresh, None)
                    w.swap_in(new)
            return self.snapshot()

    def close(self) -> None:
        self.backend.close()



# Chunks embedded and added per step of a large ingest (Index._add); 196k chunks make
# 6 steps, under bm25.MAX_SEGMENTS (no segment merge on the way). The whole corpus
# at once (196k chunks) peaked at 3.2 GB: every vector twice over (the batches and
# their stack) plus the BM25 tokens of every chunk as Python lists.
STEP_CHUNKS = 32_768
# From this many chunks an ingest is a large job for the embedder (its faster bulk
# precision: SentenceTransformerEmbedder.large_job); a server's add of 20 articles
# (~400 chunks) is not, and stays in float32 (less memory kept).
LARGE_JOB = 4_096


def steps(per_article: list[list], size: int) -> Iterator[tuple[int, int]]:
    """(lo, hi) article ranges of about ``size`` chunks each (an article is never split)."""
    lo, n = 0, 0
    for i, cs in enumerate(per_article):
        if n and n + len(cs) > size:
            yield lo, i
            lo, n = i, 0
        n += len(cs)
    if lo < len(per_article):
        yield lo, len(per_article)


def _bar(desc: str):
    bar = tqdm(total=0, unit="chunk", desc=desc, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return bar, update
