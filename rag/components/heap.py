"""The C heap (glibc malloc): handing freed pages back, fewer per-thread heaps.

No torch here: the server calls ``limit_malloc_arenas`` on its main thread before
any model (or thread) is started.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
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


_M_ARENA_MAX = -8  # glibc's mallopt parameter


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
