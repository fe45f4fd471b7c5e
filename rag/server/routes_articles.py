"""HTTP routes of the articles and the index: list and show articles (open), add and
delete them, rebuild (admin token when one is set), rebuild status (open).

`install(app, state, settings)` adds them to the app made by rag.server.app.create_app,
which also installs the read guard, the body size limit and the per-request refresh.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.server.auth import admin_guard
from rag.config import Settings
from rag.documents import SUPPORTED_EXTENSIONS, LoadResult, parse_bytes
from rag.dates import DateWindow, check_iso
from rag.errors import ArticleNotFound, BadInput, IndexUnavailable, TooLarge
from rag.index.handle import Index
from rag.index.jobs import Jobs
from rag.server.article_schema import add_body, errors
from rag.server.http_errors import ERRORS

# How long a request waits for another writer before answering 409.
WRITE_WAIT_S = 30.0

# Raw bodies by media type, parsed as if uploaded with this file name.
BODY_TYPES = {"application/json": "body.json", "application/x-ndjson": "body.jsonl",
              "application/jsonl": "body.jsonl", "application/x-jsonlines": "body.jsonl",
              "text/plain": "body.txt", "text/markdown": "body.md", "text/html": "body.html"}

# The fields a record's text may come in (documents.article_from_record).
_TEXT_FIELDS = ("text", "body", "content")
# The content types parsed as JSON or JSON Lines.
_JSON_NAMES = (".json", ".jsonl")


def install(app: FastAPI, state, settings: Settings) -> None:
    jobs = Jobs()
    app.state.jobs = jobs
    app.include_router(router(state, settings, jobs))


def router(state, settings: Settings, jobs: Jobs) -> APIRouter:
    r = APIRouter(dependencies=[Depends(admin_guard(settings))], tags=["index"])

    def writable() -> Index:
        if state.index is None:
            raise IndexUnavailable(state.error or "still loading models; try again shortly")
        return state.index

    @r.post("/articles", openapi_extra=add_body(settings),
            description="JSON Lines (one article object per line) are also read, as "
                        "`application/x-ndjson`: a form JSON Schema cannot describe.", responses=errors(400, 401, 409, 413, 415, 422, 503),
            summary="Add articles: one JSON object, a JSON list, JSONL, plain text or uploaded files")
    async def add_articles(request: Request):
        index = writable()
        loaded = await _read_articles(request, settings)
        n = len(loaded.articles) + len(loaded.rejected)
        if n > settings.max_batch_articles:
            raise TooLarge(f"batch has {n} articles; the limit is {settings.max_batch_articles}")
        _check_article_sizes(loaded, settings.max_article_chars)
        rejected = [(x.source, x.reason) for x in loaded.rejected]
        if not loaded.articles:
            reasons = "; ".join(f"{s}: {why}" for s, why in rejected[:5]) or "no articles in the request"
            items = [{"id": None, "status": "rejected", "reason": f"{s}: {why}"} for s, why in rejected]
            return JSONResponse({"detail": f"nothing added: {reasons}", "items": items}, status_code=422)
        report = await run_in_threadpool(index.ingest, loaded.articles, rejected, timeout=WRITE_WAIT_S)
        return report.to_dict()

    @r.delete("/articles/{article_id}", responses=errors(401, 404, 409, 503),
              summary="Remove an article and its passages from every index")
    async def delete_article(article_id: str):
        report = await run_in_threadpool(writable().delete, article_id, timeout=WRITE_WAIT_S)
        return {"id": article_id, "status": "deleted", "articles": report.articles,
                "chunks": report.chunks, "index_version": report.version}

    @r.post("/index/rebuild", status_code=202, responses=errors(401, 409, 415, 422, 503),
            openapi_extra={"requestBody": {"required": False, "content": {"application/json": {
                "schema": {"type": "object", "maxProperties": 0,
                           "description": "No options: send no body, or `{}`."}}}}},
            summary="Re-embed every stored article with the configured embedder and chunking")
    async def start_rebuild(request: Request):
        await _no_options(request)
        job = await run_in_threadpool(jobs.start_rebuild, writable())
        return job.to_dict()

    status = APIRouter(tags=["index"])
    reads = APIRouter()  # open, as /ask: the read guard alone protects them

    @reads.get("/articles", responses=ERRORS)
    def articles(since: str | None = Query(None, json_schema_extra={"format": "date"},
                                           description="only articles published on or after this day (YYYY-MM-DD)"),
                 until: str | None = Query(None, json_schema_extra={"format": "date"},
                                           description="only articles published on or before this day")) -> list[dict]:
        window = _date_window(since, until)
        snap = state.loaded_index().snapshot()
        return [{"id": a.id, "title": a.title, "url": a.url, "published": a.published,
                 "source": a.source, "chunks": n, "chars": len(a.text)}
                for a, n in snap.all_articles() if window is None or window.holds(a.published)]

    @reads.get("/articles/{article_id}", responses=ERRORS)
    def article(article_id: str) -> dict:
        snap = state.loaded_index().snapshot()
        a = snap.articles([article_id]).get(article_id)
        if a is None:
            raise ArticleNotFound(f"no article with id {article_id!r}")
        return {**a.to_dict(), "chunks": [c.to_dict() for c in snap.article_chunks(a.id)]}

    @status.get("/index/status", summary="Progress of the rebuild job and the loaded index")
    def index_status():
        index = state.index
        snap = index.snapshot() if index is not None and index.loaded else None
        return {**jobs.status(),
                "index_version": snap.version if snap is not None else None,
                "index_articles": snap.article_count if snap is not None else None,
                "index_error": state.problem() if snap is None else None}

    both = APIRouter()
    both.include_router(reads)
    both.include_router(r)
    both.include_router(status)  # outside `r`: reading the status needs no token
    return both


def _date_window(since: str | None, until: str | None) -> DateWindow | None:
    """The window GET /articles filters on (None: every article, dated or not)."""
    if since is None and until is None:
        return None
    try:
        start, end = check_iso(since, "since"), check_iso(until, "until")
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    return DateWindow(start, end)  # (since after until: an empty window, no article)


async def _read_articles(request: Request, settings: Settings) -> LoadResult:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        out = LoadResult()
        async with _form(request, settings) as form:
            # A `file` part without a file name arrives as a plain field: it is the text.
            if other := sorted({k for k in form.keys() if k != "file"}):
                raise BadInput(f"unexpected form field {other[0]!r}: send each file in a field named `file`")
            files = form.getlist("file")
            if not files:
                raise BadInput("no file in the upload: send the file in a form field named `file`")
            for f in files:
                if isinstance(f, str):
                    data, name = f.encode("utf-8", "surrogatepass"), "file.txt"
                else:
                    data, name = await f.read(settings.max_upload_bytes + 1), _upload_name(f)
                one = parse_bytes(data, name, max_bytes=settings.max_upload_bytes)
                _check_no_nul(data, name)
                out.articles += one.articles
                out.rejected += one.rejected
        return out
    name = BODY_TYPES.get(ctype)
    if name is None:
        raise _unsupported(ctype)
    body = await request.body()
    if len(body) > settings.max_upload_bytes:
        raise TooLarge(f"body is {len(body)} bytes; the limit is {settings.max_upload_bytes}")
    loaded = parse_bytes(body, name)
    _check_no_nul(body, name)
    return loaded


def _form(request: Request, settings: Settings):
    """The multipart form, with as many parts allowed as the schema says (files with a
    file name or plain `file` fields, each up to the upload limit); past that a 413."""
    n = settings.max_batch_articles
    return _FormOr413(request.form(max_files=n, max_fields=n, max_part_size=settings.max_upload_bytes), n)


class _FormOr413:
    """Starlette answers a form over its limits with a 400; over a limit is 413 here."""

    def __init__(self, form, limit: int):
        self.form, self.limit = form, limit

    async def __aenter__(self):
        try:
            return await self.form.__aenter__()
        except StarletteHTTPException as exc:  # FastAPI's is a subclass
            if exc.status_code == 400 and ("Too many" in exc.detail or "exceeded" in exc.detail):
                raise TooLarge(f"{exc.detail} (at most {self.limit} files per request)") from None
            raise

    async def __aexit__(self, *exc):
        return await self.form.__aexit__(*exc)


def _check_article_sizes(loaded: LoadResult, limit: int) -> None:
    for a in loaded.articles:
        if len(a.text) > limit:
            raise TooLarge(f"article {a.id!r} is {len(a.text)} characters; the limit per article is "
                           f"{limit} (RAG_MAX_ARTICLE_CHARS): split it, or add it with `rag ingest`")


def _check_no_nul(data: bytes, name: str) -> None:
    """BadInput when a JSON record's text holds a NUL character (\\u0000 in JSON): the
    text would change silently (NUL is removed when cleaning), so it is refused, as a
    file with a NUL byte is. Parsed again only when the escape appears at all."""
    if b"\\u0000" not in data or PurePosixPath(name).suffix.lower() not in _JSON_NAMES:
        return
    text = data.decode("utf-8-sig", "replace")
    try:
        records = [json.loads(text)] if name.endswith(".json") else \
            [json.loads(line) for line in text.split("\n") if "\\u0000" in line]
    except (ValueError, RecursionError):
        return  # parse_bytes has reported it
    for rec in (r for x in records for r in (x if isinstance(x, list) else [x])):
        if isinstance(rec, dict) and any(isinstance(rec.get(f), str) and "\x00" in rec[f] for f in _TEXT_FIELDS):
            raise BadInput("an article's text holds a NUL character (\\u0000): not text; remove it")


async def _no_options(request: Request) -> None:
    """The rebuild takes no options: no body, or an empty JSON object. Anything else is
    refused rather than ignored (a client may think it asked for something)."""
    body = await request.body()
    if not body:  # (white space alone is no JSON: refused below, as the schema says)
        return
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise _unsupported(ctype, "send no body, or the JSON object {}")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise BadInput("the body is not valid JSON: send no body, or {}") from None
    if value != {}:
        raise BadInput("a rebuild takes no options: send no body, or {}")


def _upload_name(f: UploadFile) -> str:
    """The file's name; without a supported extension, its part's content type decides
    (text/plain when the part has none, as multipart/form-data says)."""
    name = f.filename or "upload"
    if PurePosixPath(name.replace("\\", "/")).suffix.lower() in SUPPORTED_EXTENSIONS:
        return name
    ctype = (f.content_type or "text/plain").split(";")[0].strip().lower()
    return name + PurePosixPath(BODY_TYPES[ctype]).suffix if ctype in BODY_TYPES else name


def _unsupported(ctype: str, what: str = "send JSON, JSONL (application/x-ndjson), text/plain "
                                           "or multipart/form-data") -> HTTPException:
    return HTTPException(415, detail=f"unsupported content type {ctype or '(none)'!r}: {what}")
