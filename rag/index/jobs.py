"""The rebuild job of a long-running server, with progress a client can poll."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from rag.errors import BadInput, Busy, RagError
from rag.index.handle import Index

log = logging.getLogger("rag.index.jobs")


@dataclass
class RebuildJob:
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    state: str = "running"  # running | done | failed
    phase: str = "loading"  # loading | embedding | indexing | done
    done: int = 0  # chunks embedded
    total: int = 0  # chunks to embed
    started: float = field(default_factory=time.time)
    finished: float | None = None
    error: str | None = None
    articles: int | None = None
    chunks: int | None = None
    _embed_start: float | None = None
    _final_rate: float | None = None

    def progress(self, done: int, total: int) -> None:
        if self._embed_start is None:
            self._embed_start = time.monotonic()
        self.phase = "embedding" if done < total else "indexing"
        self.done, self.total = done, total

    @property
    def rate(self) -> float | None:
        """Chunks embedded per second so far."""
        if self._final_rate is not None or self._embed_start is None or not self.done:
            return self._final_rate
        return self.done / max(time.monotonic() - self._embed_start, 1e-6)

    def finish(self, state: str, error: str | None = None) -> None:
        self._final_rate = self.rate  # the average over the whole job, kept for the report
        self.state, self.error, self.finished = state, error, time.time()
        if state == "done":
            self.phase = "done"

    def to_dict(self) -> dict:
        rate = self.rate
        eta = (self.total - self.done) / rate if rate and self.state == "running" and self.phase == "embedding" else None
        return {"job_id": self.id, "state": self.state, "phase": self.phase, "done": self.done,
                "total": self.total, "rate": None if rate is None else round(rate, 1),
                "eta_s": None if eta is None else round(eta, 1), "error": self.error,
                "started": self.started, "finished": self.finished,
                "articles": self.articles, "chunks": self.chunks}


IDLE = {"job_id": None, "state": "idle", "phase": None, "done": 0, "total": 0, "rate": None,
        "eta_s": None, "error": None, "started": None, "finished": None, "articles": None,
        "chunks": None}


class Jobs:
    """At most one rebuild per server; the last one's outcome stays visible."""

    def __init__(self, on_done=None):
        self.current: RebuildJob | None = None
        self._lock = threading.Lock()
        self._on_done = on_done

    def start_rebuild(self, index: Index) -> RebuildJob:
        if not index.backend.exists():  # fail now, not in the job
            raise BadInput(f"no index in {index.data_dir} to rebuild: add articles first")
        with self._lock:
            if self.current is not None and self.current.state == "running":
                raise Busy(f"a rebuild is already running (job {self.current.id})")
            job = self.current = RebuildJob()
        threading.Thread(target=self._run, args=(job, index), name="rag-rebuild", daemon=True).start()
        return job

    def _run(self, job: RebuildJob, index: Index) -> None:
        try:
            snap = index.rebuild(progress=job.progress)
            job.articles, job.chunks = snap.article_count, snap.chunk_count
            job.finish("done")
            if self._on_done:
                self._on_done()
        except RagError as exc:
            job.finish("failed", str(exc))
        except Exception as exc:  # noqa: BLE001 - a thread must report, not die silently
            log.exception("rebuild failed")
            job.finish("failed", f"internal error: {type(exc).__name__}: {exc}")

    def status(self) -> dict:
        return self.current.to_dict() if self.current else dict(IDLE)
