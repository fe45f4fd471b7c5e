"""The C heap (glibc malloc): handing freed pages back, fewer per-thread heaps.

No torch here: the server calls ``limit_malloc_arenas`` on its main thread before
any model (or thread) is started.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
from typing import Any


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def release_freed_memory() -> None:
    """Return freed heap pages to the OS (glibc only; elsewhere a no-op)."""
    gc.collect()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def trim_heap() -> bool:
    """``malloc_trim(0)`` alone: free pages inside the heaps (not only at their top) go
    back to the OS. No garbage collection: a few milliseconds."""
    libc = _libc()
    return bool(libc is not None and hasattr(libc, "malloc_trim") and libc.malloc_trim(0))


# glibc's mallopt parameters
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# Blocks this large or larger get their own mapping, unmapped when freed.
MMAP_THRESHOLD = 1 << 20


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Let threads started from now on share ``arenas`` glibc heaps (as MALLOC_ARENA_MAX does).

    glibc gives each new thread its own heap, up to 8 per core, and memory freed in
    one is kept there for that heap's next use. The server runs each request (and each
    streamed generation) in a pool thread, so the prefill buffers of the first few
    answers ended up parked in several heaps: `rag serve` (int8 generator cache in
    use) measured 1,467-1,481 MB resident after three answers, 1,330-1,400 MB with
    two arenas, startup time unchanged. Requests wait on one generator lock, so two
    heaps cost no contention. An explicit
    MALLOC_ARENA_MAX in the environment is left alone. Returns whether it applied.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, int(arenas)))


def map_large_blocks(threshold: int = MMAP_THRESHOLD) -> bool:
    """Give every block of ``threshold`` bytes or more its own mapping (as
    MALLOC_MMAP_THRESHOLD_ does), returned to the OS the moment it is freed.

    glibc starts at 128 KB but raises the threshold to the size of each mapped block
    freed, up to 32 MB: after the first answers, a prompt's activations (MB-sized
    tensors: 700 tokens x 4,864 MLP features is 13.6 MB) come from the heaps instead,
    and each answer of another length leaves its own pattern of holes there, so the
    process grew with every question (bench/bench_memory.py). A fixed threshold keeps
    them out of the heaps; 1 MB leaves the decoding loop's smaller tensors (one
    token's logits, the growing key/value cache) to the heaps, which trim_heap then
    empties. An explicit MALLOC_MMAP_THRESHOLD_ in the environment is left alone.
    Returns whether it applied.
    """
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, int(threshold)))


class Trimmer:
    """A background thread that trims the heaps shortly after work that allocates a lot
    (an answer, an ingest) has finished: ``poke()`` from the request, never blocking it.
    Pokes within ``delay_s`` of each other give one trim."""

    def __init__(self, delay_s: float = 0.5):
        self.delay_s = delay_s
        self.trims = 0
        self._poked = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rag-heap-trim", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        self._poked.set()

    def stop(self) -> None:
        self._stopped.set()
        self._poked.set()
        self._thread.join(5)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._poked.wait()
            if self._stopped.wait(self.delay_s):  # let the burst finish; stop at once if asked
                return
            self._poked.clear()
            trim_heap()
            self.trims += 1


# oneDNN primitives kept for reuse (its default is 1,024).
ONEDNN_CACHE = 8


def limit_onednn_cache(capacity: int = ONEDNN_CACHE) -> bool:
    """Keep at most ``capacity`` oneDNN primitives (ONEDNN_PRIMITIVE_CACHE_CAPACITY).

    On a CPU with native bf16 the verifier (and the embedder) multiply in bf16 through
    oneDNN, which builds a primitive for every new input shape and keeps up to 1,024
    of them with their buffers: questions of different lengths make new shapes, and
    the heap's live bytes (mallinfo2's in-use, not its free bytes) grew by ~10 MB a
    question. A capacity of 16 (or 0) halved that growth over 15 questions (+75
    instead of +155 MB); the rest comes from the bf16 path too (with both models in
    float32 the in-use bytes stayed flat: 207 -> 208 MB), and levels off after ~100
    questions (bench/bench_memory.py). Must run before torch first uses oneDNN (the
    server calls it before loading the models). An explicit setting in the
    environment is left alone. Returns whether it applied.
    """
    applied = False
    if "LRU_CACHE_CAPACITY" not in os.environ:
        # torch's own cache of oneDNN computations (ideep's, one per thread, 1,024 input
        # shapes by default): the other half of the per-shape buffers. A bulk ingest embeds
        # chunks of every length, so each embedding thread filled it with ~1,000 shapes:
        # an ingest of 6,498 RealTimeQA chunks peaked at 1,146 MB, 873 with 8, 1% slower,
        # same vectors (evals/README.md, issue #21).
        os.environ["LRU_CACHE_CAPACITY"] = str(int(capacity))
        applied = True
    if "ONEDNN_PRIMITIVE_CACHE_CAPACITY" in os.environ or "DNNL_PRIMITIVE_CACHE_CAPACITY" in os.environ:
        return applied
    os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] = str(int(capacity))
    return True
