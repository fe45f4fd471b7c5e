"""HTTP routes that change the index: add and delete articles, rebuild, rebuild status.

`install(app, state, settings)` wires them into the app made by api.create_app, with
the admin token check, the body size limit and the watcher that picks up an index
published by another process.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from rag.server.auth import admin_guard, install_read_guard
from rag.config import Settings
from rag.documents import MAX_INT_ID, MIN_TEXT_CHARS, SUPPORTED_EXTENSIONS, LoadResult, parse_bytes
from rag.errors import BadInput, IndexUnavailable, TooLarge
from rag.index.handle import Index
from rag.index.jobs import Jobs
from rag.server.limits import ChunkedBodyLimit

# How long a request waits for another writer before answering 409.
WRITE_WAIT_S = 30.0

# Raw bodies by media type, parsed as if uploaded with this file name.
BODY_TYPES = {"application/json": "body.json", "application/x-ndjson": "body.jsonl",
              "application/jsonl": "body.jsonl", "application/x-jsonlines": "body.jsonl",
              "text/plain": "body.txt", "text/markdown": "body.md", "text/html": "body.html"}

# What a record needs to be an article (documents.article_from_record): a text with
# at least MIN_TEXT_CHARS letters or digits once cleaned, an id that is URL-path-safe.
_NULLABLE = {"type": ["string", "null"]}
_TEXT = {"type": "string", "pattern": rf"(?:\w\W*){{{MIN_TEXT_CHARS}}}",
         "description": f"The article body (plain text): at least {MIN_TEXT_CHARS} letters or digits."}
# A raw body or file with a NUL byte is taken for binary (documents._decode).
_NO_NUL = {"allOf": [{"pattern": "^[^\\x00]*$"}]}
_ARTICLE = {
    "type": "object", "required": ["text"],
    "description": "Other fields are ignored (a feed's `authors`, say). Also read: `body` or `content` "
                   "for `text`, `doc_id` for `id`, `publish_date` or `date` for `published`.",
    "properties": {
        "text": _TEXT,
        "title": _NULLABLE, "url": {**_NULLABLE, "description": "Kept only when an http(s) link."},
        "published": {**_NULLABLE, "description": "Date, ideally YYYY-MM-DD."},
        "source": _NULLABLE,
        "id": {"anyOf": [{"type": "string", "maxLength": 200, 
                          "pattern": r"^\s*(?:[A-Za-z0-9._:-]*[A-Za-z0-9_:-][A-Za-z0-9._:-]*)?\s*$"},
                         {"type": "integer", "minimum": -MAX_INT_ID, "maximum": MAX_INT_ID}, {"type": "null"}],
               "description": "Your id: letters, digits, '.', '_', ':' or '-', not only dots; "
                              "derived from the text when absent."}}}


def _add_body(settings: Settings) -> dict:
    files = {"type": "array", "minItems": 1, "maxItems": settings.max_batch_articles,
             "items": {**_TEXT, **_NO_NUL, "description": "a file: .txt .md .html .json .jsonl by its name, "
                                               "else by its content type (text/plain by default)"}}
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"oneOf": [
            _ARTICLE, {"type": "array", "minItems": 1, "maxItems": settings.max_batch_articles,
                       "items": _ARTICLE}]}},
        "text/plain": {"schema": {**_TEXT, **_NO_NUL, "description": "One article; a short first line is the title."}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {"file": files}},
                                "encoding": {"file": {"contentType": "text/plain"}}}}}}


def _errors(*codes: int) -> dict:
    model = {"content": {"application/json": {"schema": {
        "type": "object", "properties": {"detail": {"type": "string"}}}}}}
    return {c: {"description": "error with a `detail` message", **model} for c in codes}


def install(app: FastAPI, state, settings: Settings) -> None:
    jobs = Jobs()
    app.state.jobs = jobs
    app.add_middleware(ChunkedBodyLimit, max_bytes=settings.max_body_bytes)
    install_read_guard(app, settings)

    @app.middleware("http")
    async def notice_other_writers(request: Request, call_next):
        if state.pipeline is not None:
            state.pipeline.index.refresh()  # another process may have changed the index
        return await call_next(request)

    app.include_router(router(state, settings, jobs))


def router(state, settings: Settings, jobs: Jobs) -> APIRouter:
    r = APIRouter(dependencies=[Depends(admin_guard(settings))], tags=["index"])

    def writable() -> Index:
        p = state.pipeline
        if p is None:
            raise IndexUnavailable(state.error or "still loading models; try again shortly")
        return p.index

    @r.post("/articles", openapi_extra=_add_body(settings),
            description="JSON Lines (one article object per line) are also read, as "
                        "`application/x-ndjson`: a form JSON Schema cannot describe.", responses=_errors(400, 401, 409, 413, 415, 422, 503),
            summary="Add articles: one JSON object, a JSON list, JSONL, plain text or uploaded files")
    async def add_articles(request: Request):
        index = writable()
        loaded = await _read_articles(request, settings)
        n = len(loaded.articles) + len(loaded.rejected)
        if n > settings.max_batch_articles:
            raise TooLarge(f"batch has {n} articles; the limit is {settings.max_batch_articles}")
        rejected = [(x.source, x.reason) for x in loaded.rejected]
        if not loaded.articles:
            reasons = "; ".join(f"{s}: {why}" for s, why in rejected[:5]) or "no articles in the request"
            items = [{"id": None, "status": "rejected", "reason": f"{s}: {why}"} for s, why in rejected]
            return JSONResponse({"detail": f"nothing added: {reasons}", "items": items}, status_code=422)
        report = await run_in_threadpool(index.ingest, loaded.articles, rejected, timeout=WRITE_WAIT_S)
        return report.to_dict()

    @r.delete("/articles/{article_id}", responses=_errors(401, 404, 409, 503),
              summary="Remove an article and its passages from every index")
    async def delete_article(article_id: str):
        report = await run_in_threadpool(writable().delete, article_id, timeout=WRITE_WAIT_S)
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
        snap = p.index.snapshot() if p is not None and p.index.loaded else None
        return {**jobs.status(),
                "index_version": snap.version if snap is not None else None,
                "index_articles": snap.article_count if snap is not None else None,
                "index_error": state.problem() if snap is None else None}

    both = APIRouter()
    both.include_router(r)
    both.include_router(status)  # outside `r`: reading the status needs no token
    return both


async def _read_articles(request: Request, settings: Settings) -> LoadResult:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        out = LoadResult()
        async with request.form(max_files=settings.max_batch_articles, max_fields=100) as form:
            # A `file` part without a file name arrives as a plain field: it is the text.
            files = [v for k, v in form.multi_items() if isinstance(v, UploadFile) or k == "file"]
            if not files:
                raise BadInput("no file in the upload: send the file in a form field named `file`")
            for f in files:
                if isinstance(f, str):
                    data, name = f.encode("utf-8", "surrogatepass"), "file.txt"
                else:
                    data, name = await f.read(settings.max_upload_bytes + 1), _upload_name(f)
                one = parse_bytes(data, name, max_bytes=settings.max_upload_bytes)
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


def _upload_name(f: UploadFile) -> str:
    """The file's name; without a supported extension, its part's content type decides
    (text/plain when the part has none, as multipart/form-data says)."""
    name = f.filename or "upload"
    if PurePosixPath(name.replace("\\", "/")).suffix.lower() in SUPPORTED_EXTENSIONS:
        return name
    ctype = (f.content_type or "text/plain").split(";")[0].strip().lower()
    return name + PurePosixPath(BODY_TYPES[ctype]).suffix if ctype in BODY_TYPES else name


def _unsupported(ctype: str) -> HTTPException:
    return HTTPException(415, detail=f"unsupported content type {ctype or '(none)'!r}: send JSON, "
                                     "JSONL (application/x-ndjson), text/plain or multipart/form-data")
