"""HTTP API. The only module that knows about status codes."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from sse_starlette.sse import EventSourceResponse

from rag.server import openai_api
from rag.answering.pipeline import Pipeline, Turn
from rag.config import Settings
from rag.errors import GeneratorUnavailable, IndexUnavailable, RagError
from rag.assemble import Parts, build
from rag.components.runtime.heap import Trimmer, limit_malloc_arenas, limit_onednn_cache, map_large_blocks
from rag.server.ask_schema import SSE_EVENT, HistoryTurn, ask_request, invalid_response
from rag.server.auth import check_admin_token, install_read_guard
from rag.server.limits import ChunkedBodyLimit
from rag.server.http_errors import ERRORS, Error, status_of
from rag.server.metrics import install as install_metrics
from rag.server.routes_articles import install as install_article_routes
from rag.server.streaming import answer_of, run_in_thread
from rag.index.handle import Index

log = logging.getLogger("rag.server.app")
WEB_DIR = Path(__file__).resolve().parents[2] / "web"


class AppState:
    """The Index and the Pipeline once the loader has built them, and why start-up
    failed if it did. The Index is set first (before it loads), then the Pipeline."""

    def __init__(self, parts: Parts | None):
        self.index: Index | None = parts.index if parts else None
        self.pipeline: Pipeline | None = parts.pipeline if parts else None
        self.error: str | None = None

    def problem(self) -> str | None:
        """Why no answers can be given now (None: ready)."""
        if self.index is not None and self.index.loaded:
            return None
        return self.error or (self.index.error if self.index is not None else None)

    def ready(self) -> Pipeline:
        if self.pipeline is None or self.index is None or not self.index.loaded:
            raise IndexUnavailable(self.problem() or "still loading models and index; try again shortly")
        return self.pipeline

    def loaded_index(self) -> Index:
        """The Index, loaded (else 503, as ``ready``)."""
        self.ready()
        return self.index


def create_app(parts: Parts | None = None, settings: Settings | None = None) -> FastAPI:
    """The app over ``parts`` (the Index and the Pipeline, built and closed by the
    caller), or over those it builds from ``settings`` in the background at start-up."""
    settings = settings or (parts.settings if parts else Settings())
    check_admin_token(settings)  # a weak token is a start-up error, not a silent lock-out
    state = AppState(parts)

    def load() -> None:
        try:
            index, p, _ = build(settings, with_index=False)
            try:
                p.warm_up()
            except GeneratorUnavailable as exc:
                # A remote generator that is down now may be up later: serve anyway
                # (/health says it is unreachable, answers that need it get a 503).
                log.warning("generator not reachable at start-up: %s", exc)
            # Set before the index loads: an index built with other settings is
            # reported (503 naming `rag rebuild`) and POST /index/rebuild can fix it.
            state.index, state.pipeline = index, p
            index.open()
        except RagError as exc:
            state.error = str(exc)
            log.error("start-up failed: %s", exc)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owned = state.pipeline is None  # built here (else the caller's, closed by it)
        if owned:
            limit_malloc_arenas()  # before the loader and request threads start: see heap.py
            map_large_blocks()
            limit_onednn_cache()  # before the models first run
            # Load in the background: /health answers 503 until the models are ready.
            threading.Thread(target=load, name="rag-loader", daemon=True).start()
        # Hands freed heap pages back after each answer or change (see heap.py).
        app.state.trimmer = Trimmer()
        yield
        app.state.trimmer.stop()
        if owned and state.index is not None:
            state.index.close()  # a database's connections

    AskRequest = ask_request(settings)
    app = FastAPI(title="News RAG", version="0.1.0", lifespan=lifespan,
                  description="Questions answered from local news articles, with cited quotes.")
    app.state.rag = state

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError):
        if openai_api.is_v1(request):
            return openai_api.rag_error_response(exc)
        return JSONResponse({"detail": str(exc)}, status_code=status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        if openai_api.is_v1(request):
            return openai_api.invalid_response(exc)
        return invalid_response(exc, settings)

    @app.middleware("http")
    async def allow(request: Request, call_next):
        """A 405 names every method of the path (Starlette names only its first route's)."""
        response = await call_next(request)
        if response.status_code == 405:
            methods = {m.upper() for path, ops in app.openapi()["paths"].items()
                       if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)), request.url.path)
                       for m in ops}
            if "GET" in methods:
                methods.add("HEAD")  # Starlette answers HEAD for every GET route
            if methods:
                response.headers["Allow"] = ", ".join(sorted(methods))
        return response

    @app.middleware("http")
    async def trim_after_work(request: Request, call_next):
        """After a request that may have allocated a lot (an answer, an ingest), the
        trimmer hands the freed heap pages back (a streamed answer pokes it when done)."""
        response = await call_next(request)
        trimmer = getattr(request.app.state, "trimmer", None)
        if request.method in ("POST", "DELETE") and trimmer is not None:
            trimmer.poke()
        return response

    @app.middleware("http")
    async def limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_body_bytes:
            return JSONResponse({"detail": f"request body over {settings.max_body_bytes} bytes"},
                                status_code=413)
        return await call_next(request)

    @app.post("/ask", responses=ERRORS, summary="Answer a question with cited quotes")
    @_takes(AskRequest)
    def ask(req: AskRequest) -> dict:
        p = state.ready()
        events = p.ask_stream(req.question, req.top_k, _turns(req.history), as_of=req.as_of)
        return answer_of(events, metrics).to_dict()

    @app.post("/ask/stream", summary="Answer as server-sent events", response_class=EventSourceResponse,
              responses={**ERRORS, 200: {
                  "description": "events `token`, `citations`, `claims`, `done` (the answer as from /ask) "
                                 "and `error`, each with JSON data",
                  "content": {"text/event-stream": {"schema": SSE_EVENT}}}})
    @_takes(AskRequest)
    async def ask_stream(req: AskRequest, request: Request):
        p = state.ready()  # (the body's schema has checked the question: a 4xx before streaming starts)
        history = _turns(req.history)
        return EventSourceResponse(_events(p, req, history, request))

    @app.get("/health", responses={503: {"model": Error}})
    def health():
        p, index = state.pipeline, state.index
        if p is None or index is None or not index.loaded:
            problem = state.problem()
            return JSONResponse({"status": "error" if problem else "loading",
                                 "detail": problem or "loading models and index"}, status_code=503)
        snap = index.snapshot()
        body = {"status": "ok", "embedder": p.embedder.name,
                "generator": p.generator.name,
                "articles": snap.article_count, "chunks": snap.chunk_count,
                "index_version": snap.version}
        problem = p.generator.check()  # a remote generator: is it reachable?
        if problem:
            return JSONResponse({**body, "status": "generator_unreachable", "detail": problem},
                                status_code=503)
        return body

    app.add_middleware(ChunkedBodyLimit, max_bytes=settings.max_body_bytes)  # (bodies without a length)
    install_read_guard(app, settings)  # with RAG_PROTECT_READS: reading and asking need the token

    @app.middleware("http")
    async def notice_other_writers(request: Request, call_next):
        if state.index is not None:
            state.index.refresh()  # another process may have changed the index
        return await call_next(request)

    install_article_routes(app, state, settings)  # /articles (GET, POST, DELETE), /index/rebuild, /index/status
    metrics = install_metrics(app, state)  # GET /metrics (Prometheus), request counts
    openai_api.install(app, state, settings)  # /v1: OpenAI-compatible chat completions

    if (WEB_DIR / "index.html").exists():
        app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

        @app.get("/", include_in_schema=False)
        def index():
            return FileResponse(WEB_DIR / "index.html")

    return app


def _takes(model: type[BaseModel]):
    """Give a route's `req` the body model made for this app (annotations are strings
    here, which FastAPI would look up among the module's names)."""
    def mark(fn):
        fn.__annotations__["req"] = model
        return fn
    return mark


def _turns(history: list[HistoryTurn] | None) -> list[Turn]:
    return [Turn(t.role, t.content) for t in history or []]


async def _events(p: Pipeline, req, history: list[Turn], request: Request):
    """The pipeline's events as /ask/stream's server-sent events."""
    metrics, t0, first, generated = request.app.state.metrics, time.perf_counter(), True, None

    def produce(stop: threading.Event):
        return p.ask_stream(req.question, req.top_k, history, stop=stop, as_of=req.as_of)

    async for kind, payload in run_in_thread(produce, request, status_of):
        if kind == "token":
            if first:
                metrics.observe_first_token(time.perf_counter() - t0)
                first = False
            yield {"event": "token", "data": json.dumps(payload)}
        elif kind == "generated":
            generated = payload
        elif kind == "citations":
            yield {"event": "citations", "data": json.dumps([c.to_dict() for c in payload])}
        elif kind == "done":
            body = payload.to_dict()
            metrics.observe_answer(payload, generated)
            yield {"event": "claims", "data": json.dumps(body["claims"])}
            yield {"event": "done", "data": json.dumps(body)}
        elif kind == "error":
            yield {"event": "error", "data": json.dumps(payload)}
