"""HTTP routes that change the index: add and delete articles, rebuild, rebuild status.

`install(app, state, settings)` wires them into the app made by api.create_app, with
the admin token check, the body size limit and the watcher that picks up an index
published by another process.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from .auth import admin_guard, install_read_guard
from .config import Settings
from .documents import LoadResult, parse_bytes
from .errors import BadInput, IndexUnavailable, TooLarge
from .indexing import delete, ingest
from .jobs import IndexWatcher, Jobs
from .limits import ChunkedBodyLimit

# How long a request waits for another writer before answering 409.
WRITE_WAIT_S = 30.0

# Raw bodies by media type, parsed as if uploaded with this file name.
BODY_TYPES = {"application/json": "body.json", "application/x-ndjson": "body.jsonl",
              "application/jsonl": "body.jsonl", "application/x-jsonlines": "body.jsonl",
              "text/plain": "body.txt", "text/markdown": "body.md", "text/html": "body.html"}

_ARTICLE = {"type": "object", "required": ["text"], "properties": {
    "text": {"type": "string", "description": "The article body (plain text)."},
    "title": {"type": "string"}, "url": {"type": "string"},
    "published": {"type": "string", "description": "Date, ideally YYYY-MM-DD."},
    "id": {"type": "string", "description": "Your id; derived from the text when absent."}}}
_ADD_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"oneOf": [_ARTICLE, {"type": "array", "items": _ARTICLE}]}},
    "application/x-ndjson": {"schema": {"type": "string", "description": "One article object per line."}},
    "text/plain": {"schema": {"type": "string", "description": "One article; a short first line is the title."}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {
        "type": "array", "items": {"type": "string", "format": "binary"},
        "description": ".txt .md .html .json .jsonl files"}}}}}}}


def _errors(*codes: int) -> dict:
    model = {"content": {"application/json": {"schema": {
        "type": "object", "properties": {"detail": {"type": "string"}}}}}}
    return {c: {"description": "error with a `detail` message", **model} for c in codes}


def install(app: FastAPI, state, settings: Settings) -> None:
    jobs = Jobs(on_done=lambda: setattr(state, "error", None))
    watcher = IndexWatcher(state)
    app.state.jobs = jobs
    app.state.watcher = watcher
    app.add_middleware(ChunkedBodyLimit, max_bytes=settings.max_body_bytes)
    install_read_guard(app, settings)

    @app.middleware("http")
    async def notice_other_writers(request: Request, call_next):
        watcher.check()
        return await call_next(request)

    app.include_router(router(state, settings, jobs))


def router(state, settings: Settings, jobs: Jobs) -> APIRouter:
    r = APIRouter(dependencies=[Depends(admin_guard(settings))], tags=["index"])

    def writable():
        p = state.pipeline
        if p is None:
            raise IndexUnavailable(state.error or "still loading models; try again shortly")
        return p

    @r.post("/articles", openapi_extra=_ADD_BODY, responses=_errors(401, 409, 413, 415, 422, 503),
            summary="Add articles: one JSON object, a JSON list, JSONL, plain text or uploaded files")
    async def add_articles(request: Request):
        p = writable()
        loaded = await _read_articles(request, settings)
        n = len(loaded.articles) + len(loaded.rejected)
        if n > settings.max_batch_articles:
            raise TooLarge(f"batch has {n} articles; the limit is {settings.max_batch_articles}")
        rejected = [(x.source, x.reason) for x in loaded.rejected]
        if not loaded.articles:
            reasons = "; ".join(f"{s}: {why}" for s, why in rejected[:5]) or "no articles in the request"
            items = [{"id": None, "status": "rejected", "reason": f"{s}: {why}"} for s, why in rejected]
            return JSONResponse({"detail": f"nothing added: {reasons}", "items": items}, status_code=422)
        report = await run_in_threadpool(ingest, p, loaded.articles, rejected, timeout=WRITE_WAIT_S)
        return report.to_dict()

    @r.delete("/articles/{article_id}", responses=_errors(401, 404, 409, 503),
              summary="Remove an article and its passages from every index")
    async def delete_article(article_id: str):
        report = await run_in_threadpool(delete, writable(), article_id, timeout=WRITE_WAIT_S)
        return {"id": article_id, "status": "deleted", "articles": report.articles,
                "chunks": report.chunks, "index_version": report.version}

    @r.post("/index/rebuild", status_code=202, responses=_errors(401, 409, 422, 503),
            summary="Re-embed every stored article with the configured embedder and chunking")
    def start_rebuild():
        job = jobs.start_rebuild(writable())
        return job.to_dict()

    status = APIRouter(tags=["index"])

    @status.get("/index/status", summary="Progress of the rebuild job and the loaded index")
    def index_status():
        p = state.pipeline
        store = p.store if p is not None else None
        return {**jobs.status(),
                "index_version": store.version if store is not None else None,
                "index_articles": len(store.articles) if store is not None else None,
                "index_error": state.error if store is None else None}

    both = APIRouter()
    both.include_router(r)
    both.include_router(status)  # outside `r`: reading the status needs no token
    return both


async def _read_articles(request: Request, settings: Settings) -> LoadResult:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        out = LoadResult()
        async with request.form(max_files=settings.max_batch_articles, max_fields=100) as form:
            files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
            if not files:
                raise BadInput("no file in the upload: send the file in a form field named `file`")
            for f in files:
                data = await f.read(settings.max_upload_bytes + 1)
                one = parse_bytes(data, f.filename or "upload", max_bytes=settings.max_upload_bytes)
                out.articles += one.articles
                out.rejected += one.rejected
        return out
    name = BODY_TYPES.get(ctype)
    if name is None:
        raise _unsupported(ctype)
    body = await request.body()
    if len(body) > settings.max_upload_bytes:
        raise TooLarge(f"body is {len(body)} bytes; the limit is {settings.max_upload_bytes}")
    return parse_bytes(body, name)


def _unsupported(ctype: str) -> HTTPException:
    return HTTPException(415, detail=f"unsupported content type {ctype or '(none)'!r}: send JSON, "
                                     "JSONL (application/x-ndjson), text/plain or multipart/form-data")
