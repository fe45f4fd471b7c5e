"""Model calls run on a few long-lived threads, not on whichever thread asks.

Every thread that runs a torch operation gets its own OpenMP team (libgomp keeps one
per calling thread) and, with it, per-thread scratch buffers of oneDNN and MKL that
stay as long as the thread does. The server answers each request on one of up to 40
pool threads and streamed answers ran on a fresh thread each, so the resident memory
grew with the number of threads that had ever run a model: 200 small embedder calls
from 40 threads left +290 MB, from one thread +60 MB (bf16 and fp32 alike; see
bench/bench_memory.py for the whole server). Running the calls on one thread per
model family bounds that to two teams.

A call made from the model's own thread runs inline (no deadlock on nesting).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, TypeVar

T = TypeVar("T")


class ModelThread:
    """One daemon thread, started on first use, that runs the calls given to ``run``
    (or ``submit``) one after the other."""

    def __init__(self, name: str):
        self.name = name
        self._pool: ThreadPoolExecutor | None = None
        self._ident: int | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix=self.name,
                                                initializer=self._mark)
            return self._pool

    def _mark(self) -> None:
        self._ident = threading.get_ident()

    def on_it(self) -> bool:
        """Whether the caller is this model thread."""
        return self._ident is not None and threading.get_ident() == self._ident

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future:
        if self.on_it():
            f: Future = Future()
            try:
                f.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller as the pool would
                f.set_exception(exc)
            return f
        return self._executor().submit(fn, *args, **kwargs)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the model thread; its result or its exception here."""
        if self.on_it():
            return fn(*args, **kwargs)
        return self._executor().submit(fn, *args, **kwargs).result()


# The embedder and the verifier (small encoders, called in turn by each answer) share
# one thread; the generator, whose streamed answers run while their reader waits for
# tokens and may call the small models, has its own.
ENCODERS = ModelThread("rag-encoders")
GENERATOR = ModelThread("rag-generator")
