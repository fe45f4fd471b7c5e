"""Real HTTP servers for tests: an app served by uvicorn in a thread of the test process
(fast: fakes or already-loaded models), and helpers for server-sent events."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(proc: subprocess.Popen, url: str, log_path: Path, timeout_s: float) -> None:
    """Until `rag serve` in `proc` answers /health with 200; fails the test, with the end
    of its log, if it exits or takes longer than `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"server not healthy after {timeout_s}s:\n{log_path.read_text()[-3000:]}")


class ThreadServer:
    """uvicorn on 127.0.0.1 in a daemon thread; `with ThreadServer(app) as s: s.url`."""

    def __init__(self, app, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name="test-server", daemon=True)

    def start(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"test server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def __enter__(self) -> ThreadServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def sse_events(lines) -> list[tuple[str | None, str]]:
    """(event, data) of each server-sent event in an iterable of text lines."""
    events, event, data = [], None, []
    for line in lines:
        line = line.rstrip("\r\n")
        if not line:
            if data:
                events.append((event, "\n".join(data)))
            event, data = None, []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    if data:
        events.append((event, "\n".join(data)))
    return events


def chunks(events) -> list[dict]:
    """The JSON chat.completion.chunk objects of an OpenAI stream (not [DONE])."""
    return [json.loads(d) for e, d in events if e is None and d != "[DONE]"]
