"""Prometheus metrics at /metrics: requests, per-stage latency, tokens/s, index size.

Each app gets its own registry (not prometheus_client's global one), so several
apps in one process, as in the tests, do not collide.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from rag.components.generation import GenerationStats
from rag.types import Answer
from fastapi import Request
from fastapi.responses import Response

# Seconds: from a cached-query retrieval (~1 ms) to a slow answer with a retry (~10 s).
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0,
                 10.0, 30.0)
RATE_BUCKETS = (2, 5, 10, 15, 20, 25, 30, 40, 50, 75, 100)


class Metrics:
    def __init__(self, index: Callable[[], Any] = lambda: None):
        """``index``: returns the current Index (or None while loading), read at scrape time."""
        r = self.registry = CollectorRegistry()
        self.requests = Counter("rag_http_requests", "HTTP requests by route, method and status",
                                ["route", "method", "status"], registry=r)
        self.request_seconds = Histogram("rag_http_request_seconds",
                                         "Time to the start of the response, by route",
                                         ["route"], buckets=STAGE_BUCKETS, registry=r)
        self.answers = Counter("rag_answers", "Answers given, by outcome (answered, abstained)",
                               ["outcome"], registry=r)
        self.stage_seconds = Histogram("rag_stage_seconds",
                                       "Time per pipeline stage (retrieve, prefill, decode, ground, total, ...)",
                                       ["stage"], buckets=STAGE_BUCKETS, registry=r)
        self.first_token_seconds = Histogram("rag_time_to_first_token_seconds",
                                             "Streamed answers: request to first token",
                                             buckets=STAGE_BUCKETS, registry=r)
        self.tokens = Counter("rag_generated_tokens", "Tokens written by the model", registry=r)
        self.tokens_per_second = Histogram("rag_decode_tokens_per_second",
                                           "Decode speed of each answer", buckets=RATE_BUCKETS, registry=r)
        self._index = index
        Gauge("rag_index_articles", "Articles in the loaded index", registry=r).set_function(
            lambda: self._store_size("articles"))
        Gauge("rag_index_chunks", "Chunks in the loaded index", registry=r).set_function(
            lambda: self._store_size("chunks"))

    def _store_size(self, what: str) -> float:
        index = self._index()
        if index is None or not index.loaded:
            return 0.0
        snap = index.snapshot()
        return float(snap.article_count if what == "articles" else snap.chunk_count)

    def observe_answer(self, answer: Answer, generated: GenerationStats | None = None) -> None:
        """Record one answer's stage timings, and the tokens the model wrote for it
        (``generated``: that call's GenerationStats, None when no model was called)."""
        self.answers.labels("abstained" if answer.abstained else "answered").inc()
        for stage, ms in answer.timings_ms.items():
            self.stage_seconds.labels(stage).observe(ms / 1000.0)
        decode_ms = answer.timings_ms.get("decode")
        new = generated.new_tokens if generated is not None else None
        if decode_ms is None or not new:
            return
        self.tokens.inc(new)
        if new > 1 and decode_ms > 0:  # the first token is prefill's
            self.tokens_per_second.observe((new - 1) / (decode_ms / 1000.0))

    def observe_first_token(self, seconds: float) -> None:
        self.first_token_seconds.observe(seconds)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def install(app: Any, state: Any) -> Metrics:
    """Add GET /metrics and a middleware counting every request; returns the Metrics."""

    metrics = Metrics(lambda: state.index)
    app.state.metrics = metrics

    @app.middleware("http")
    async def count(request: Request, call_next):
        t0 = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            # The route template, not the path: /articles/{article_id} is one series.
            route = getattr(request.scope.get("route"), "path", "unmatched")
            metrics.requests.labels(route, request.method, str(status)).inc()
            metrics.request_seconds.labels(route).observe(time.perf_counter() - t0)

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return metrics
