"""The file lock that lets one process at a time change an index on local disk."""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rag.errors import Busy


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
