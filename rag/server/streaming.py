"""Blocking event producers (the pipeline, a generator) run in a thread and read from
async routes: shared by /ask/stream and /v1/chat/completions. And the answer at the end
of a pipeline's events, for /ask and /v1 unstreamed, reported to an observer (the
metrics) that stays out of the call path.

A client that goes away sets the producer's stop event (the model stops within one
step); a domain error becomes an ("error", {...}) event; any other failure is logged and
reported without its internals.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Protocol

from fastapi import Request

from rag.components.generation import GenerationStats
from rag.errors import RagError
from rag.types import Answer

log = logging.getLogger("rag.server.app")

Produce = Callable[[threading.Event], Iterator[tuple[str, object]]]


class AnswerObserver(Protocol):
    """Told about each answer once it is given (rag/server/metrics.py's Metrics)."""

    def observe_answer(self, answer: Answer, generated: GenerationStats | None = None) -> None: ...

    def observe_first_token(self, seconds: float) -> None: ...


def answer_of(events: Iterable[tuple[str, object]], observer: AnswerObserver) -> Answer:
    """The answer that ends a pipeline's ``ask_stream`` events, reported to ``observer``
    with the tokens its model call wrote (the ``generated`` event; none without a call)."""
    generated = None
    for kind, payload in events:
        if kind == "generated":
            generated = payload
        elif kind == "done":
            observer.observe_answer(payload, generated)
            return payload
    raise RuntimeError("pipeline ended without an answer")  # pragma: no cover


async def run_in_thread(produce: Produce, request: Request,
                        status_of: Callable[[RagError], int]) -> AsyncIterator[tuple[str, object]]:
    """Yield the producer's (kind, payload) events as they come; a failure ends the
    events with ("error", {"detail", "status"})."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()
    trimmer = getattr(request.app.state, "trimmer", None)  # heap.Trimmer, set by the app

    def put(item) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is gone (server shut down): no one is listening
            stop.set()

    def work() -> None:
        try:
            for event in produce(stop):
                put(event)
                if stop.is_set():
                    break
        except RagError as exc:
            put(("error", {"detail": str(exc), "status": status_of(exc)}))
        except Exception as exc:  # noqa: BLE001 - reported to the client, logged here
            log.exception("stream failed")
            put(("error", {"detail": f"internal error: {type(exc).__name__}", "status": 500}))
        finally:
            put(None)
            if trimmer is not None:
                trimmer.poke()  # the answer's buffers are free now: hand their pages back

    threading.Thread(target=work, name="rag-stream", daemon=True).start()
    try:
        while True:
            item = await queue.get()
            if item is None:
                break
            yield item
            if await request.is_disconnected():
                break
    finally:
        stop.set()  # the producer checks this between tokens
