"""OpenAI-compatible routes: GET /v1/models and POST /v1/chat/completions.

Model `rag-news` answers from the articles as /ask does: the last user message is the
question, earlier user and assistant messages the conversation. The content keeps its
[n] markers and the message carries `references` (/ask's citations), `abstained` and
`reason`. Streamed, the model's draft arrives live as `reasoning_content` deltas (it
is not checked yet); the checked answer follows as `content`, and the last chunk's delta
carries the references. The draft cannot be the content: grounding may drop sentences,
renumber markers or quote the source instead.

Under /v1/generator the generator alone answers: plain chat completions (no articles,
greedy), so that another rag server can use this one as its remote generator
(RAG_GENERATOR=openai:http://host:8000/v1/generator#<id from /v1/generator/models>).

Errors use OpenAI's shape, `{"error": {message, type, param, code}}`, plus `detail`.
"""

import json
import time
import uuid

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sse_starlette.sse import EventSourceResponse

from rag.config import Settings
from rag.server.auth import admin_guard
from rag.errors import GeneratorUnavailable, IndexUnavailable, RagError
from rag.answering.followup import Turn
from rag.components.generation import Prompt
from rag.server.openai_schema import (RAG_MODEL, TURN_CHARS, ChatCompletion, ModelList, OpenAIError,
                            chat_request, error_body)
from rag.server import http_errors
from rag.server.http_errors import field_errors, over_limit
from rag.server.streaming import answer_of, run_in_thread
from rag.components.remote_generator import PREFIX, parse

V1 = "/v1/"
ERRORS = {code: {"model": OpenAIError} for code in (400, 404, 413, 503)}
_SSE_CHUNK = {"type": "object", "required": ["data"], "properties": {
    "event": {"enum": ["message", "error"]}, "data": {"type": "string", "description": "a chat.completion.chunk "
                                           "as JSON, or [DONE] at the end"}}}


def is_v1(request: Request) -> bool:
    return request.url.path.startswith(V1)


def status_of(exc: RagError) -> int:
    """The shared table's status, but 400 where /ask says 422: OpenAI's invalid request."""
    status = http_errors.status_of(exc)
    return 400 if status == 422 else status


def rag_error_response(exc: RagError) -> JSONResponse:
    code = "generator_unavailable" if isinstance(exc, GeneratorUnavailable) else None
    status = status_of(exc)
    return JSONResponse(error_body(status, str(exc), code=code), status_code=status)


def invalid_response(exc: RequestValidationError) -> JSONResponse:
    """A body that does not fit the schema: 400 (413 over a limit), naming the field."""
    errors = field_errors(exc)
    parts, param = [], None
    for e in errors:
        loc, msg = e.loc, e.msg
        if e.type == "json_invalid":
            loc, msg = "", "the body is not valid JSON"
        elif e.type in ("string_too_short", "string_pattern_mismatch"):
            msg = "is empty"
        elif not loc and msg.startswith("messages"):
            loc = "messages"
        parts.append(f"{loc}: {msg}" if loc and not msg.startswith(loc) else msg)
        param = param or loc or None
    too_long = over_limit(errors)
    status = 413 if too_long else 400
    message = "; ".join(parts) or "invalid request"
    return JSONResponse(error_body(status, message, param, "too_large" if too_long else "invalid_request"),
                        status_code=status)


def conversation(messages) -> tuple[str, list[Turn], str]:
    """The question (the last user message), the turns before it, and any system text."""
    last = max(i for i, m in enumerate(messages) if m.role == "user")
    turns = [Turn(m.role, m.content) for m in messages[:last] if m.role in ("user", "assistant")]
    system = "\n\n".join(m.content for m in messages[:last] if m.role in ("system", "developer"))
    return messages[last].content, turns, system


class _Reply:
    """What every response and chunk of one completion shares."""

    def __init__(self, model: str):
        self.id, self.created, self.model = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), model

    def completion(self, message: dict, finish: str = "stop", usage: dict | None = None) -> dict:
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", **message},
                             "finish_reason": finish}], "usage": usage}

    def chunk(self, delta: dict, finish: str | None = None) -> dict:
        return {"data": json.dumps({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                                    "model": self.model,
                                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})}

    def usage_chunk(self, usage: dict) -> dict:
        return {"data": json.dumps({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                                    "model": self.model, "choices": [], "usage": usage})}


def _answer_fields(answer) -> dict:
    return {"content": answer.answer, "references": [c.to_dict() for c in answer.citations],
            "abstained": answer.abstained, "reason": answer.reason, "as_of": answer.as_of}


def _usage(stats) -> dict | None:
    if stats is None or stats.new_tokens is None:
        return None
    prompt = stats.prompt_tokens or 0
    return {"prompt_tokens": prompt, "completion_tokens": stats.new_tokens,
            "total_tokens": prompt + stats.new_tokens}


def _error_event(payload: dict) -> dict:
    status = payload.get("status") or 500
    code = "generator_unavailable" if status == 503 else None
    return {"event": "error", "data": json.dumps(error_body(status, payload["detail"], code=code))}


def _card(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": int(time.time()), "owned_by": "rag-news"}


def install(app: FastAPI, state, settings: Settings) -> None:
    ChatRequest = chat_request(settings)
    # A plain completion's user message carries the sources too: up to an earlier turn's length.
    PlainRequest = chat_request(settings, user_chars=TURN_CHARS)
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])
    ok = {"model": ChatCompletion, "description": "A chat.completion; with `stream: true`, server-sent "
          "chat.completion.chunk events ending with `data: [DONE]` (an `error` event instead when it "
          "fails mid-way)", "content": {"text/event-stream": {"schema": _SSE_CHUNK}}}

    def generator_id() -> str:
        if state.pipeline is not None:
            return state.pipeline.generator.name
        return parse(settings.generator)[1] if settings.generator.startswith(PREFIX) else settings.generator

    @router.get("/models", response_model=ModelList, summary="The model that answers from the articles")
    def models() -> dict:
        return {"object": "list", "data": [_card(RAG_MODEL)]}

    @router.post("/chat/completions", summary="Answers from the articles, OpenAI-compatible, with references",
                 responses={**ERRORS, 200: ok})
    async def chat(req: ChatRequest, request: Request):
        question, history, _ = conversation(req.messages)
        if req.model not in (None, RAG_MODEL):
            return _no_model(req.model, RAG_MODEL)
        p = state.ready()  # (the body's schema has checked the question: a 4xx before any streaming)
        reply = _Reply(RAG_MODEL)
        if req.stream:
            return EventSourceResponse(_rag_chunks(p, question, history, reply, request, req.as_of))
        events = p.ask_stream(question, None, history, as_of=req.as_of)  # (a generator: runs in the pool)
        answer = await run_in_threadpool(answer_of, events, request.app.state.metrics)
        return JSONResponse(reply.completion(_answer_fields(answer)))

    @router.get("/generator/models", response_model=ModelList, summary="The generator, for plain completions")
    def generator_models() -> dict:
        return {"object": "list", "data": [_card(generator_id())]}

    # The raw model answers anything: guarded like the routes that change data (open
    # only when no token is set, which `rag serve` allows on loopback alone).
    @router.post("/generator/chat/completions", responses={**ERRORS, 401: {"model": OpenAIError}, 200: ok},
                 dependencies=[Depends(admin_guard(settings))],
                 summary="Plain chat completions by the generator: no articles, no checks; "
                         "needs the admin token when one is set")
    async def plain(req: PlainRequest, request: Request):
        """For another rag server's RAG_GENERATOR=openai:<this server>/v1/generator#<id>."""
        question, history, system = conversation(req.messages)
        p = state.pipeline
        if p is None:
            raise IndexUnavailable(state.error or "still loading the models; try again shortly")
        if req.model not in (None, p.generator.name):
            return _no_model(req.model, p.generator.name)
        cap = p.settings.max_new_tokens
        limit = min(req.max_completion_tokens or req.max_tokens or cap, cap)
        prompt = Prompt(system, question, tuple((t.role, t.content) for t in history))
        return await _complete(p.generator, prompt, limit, req, request)

    app.include_router(router)
    app.add_middleware(OpenAIErrors)  # added last: outermost, so it sees every /v1 error


def _no_model(asked: str, served: str) -> JSONResponse:
    return JSONResponse(error_body(404, f"no model {asked!r} here: this endpoint serves {served!r}",
                                   "model", "model_not_found"), status_code=404)


async def _rag_chunks(p, question: str, history: list[Turn], reply: _Reply, request: Request,
                      as_of: str | None = None):
    metrics, t0, first, generated = request.app.state.metrics, time.perf_counter(), True, None

    def produce(stop):
        return p.ask_stream(question, None, history, stop=stop, as_of=as_of)

    yield reply.chunk({"role": "assistant", "content": ""})
    async for kind, payload in run_in_thread(produce, request, status_of):
        if kind == "token":
            if first:
                metrics.observe_first_token(time.perf_counter() - t0)
                first = False
            yield reply.chunk({"reasoning_content": payload})  # the unchecked draft
        elif kind == "generated":
            generated = payload
        elif kind == "done":
            metrics.observe_answer(payload, generated)
            fields = _answer_fields(payload)
            yield reply.chunk({"content": fields.pop("content")})
            yield reply.chunk(fields, finish="stop")
            yield {"data": "[DONE]"}
        elif kind == "error":
            yield _error_event(payload)


async def _complete(generator, prompt: Prompt, limit: int, req, request: Request):
    """A plain chat completion by the generator: no retrieval, no grounding."""
    reply = _Reply(req.model or generator.name)
    include_usage = bool(req.stream_options and req.stream_options.include_usage)
    if not req.stream:
        out = await run_in_threadpool(generator.generate, prompt, limit)
        finish = "length" if (out.stats.new_tokens or 0) >= limit else "stop"
        return JSONResponse(reply.completion({"content": out.text}, finish, _usage(out.stats)))

    def produce(stop):
        run = generator.stream(prompt, limit, stop)
        for piece in run:
            yield "token", piece
        yield "generated", run.stats

    async def chunks():
        yield reply.chunk({"role": "assistant", "content": ""})
        async for kind, payload in run_in_thread(produce, request, status_of):
            if kind == "token":
                yield reply.chunk({"content": payload})
            elif kind == "generated":
                yield reply.chunk({}, "length" if (payload.new_tokens or 0) >= limit else "stop")
                if include_usage and _usage(payload):
                    yield reply.usage_chunk(_usage(payload))
                yield {"data": "[DONE]"}
            elif kind == "error":
                yield _error_event(payload)

    return EventSourceResponse(chunks())


class OpenAIErrors:
    """Pure ASGI middleware: every JSON error under /v1 (validation, auth, body limits,
    unknown routes, 405s) in OpenAI's shape, `detail` kept. Streams pass untouched."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(V1):
            return await self.app(scope, receive, send)
        held: dict = {}
        parts: list[bytes] = []

        async def reshape(message):
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if message["status"] >= 400 and headers.get(b"content-type", b"").startswith(b"application/json"):
                    held["start"] = message
                    return
                return await send(message)
            if "start" not in held or message["type"] != "http.response.body":
                return await send(message)
            parts.append(message.get("body", b""))
            if message.get("more_body"):
                return
            start = held["start"]
            body = _openai_shape(start["status"], b"".join(parts))
            headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
            await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, reshape)


def _openai_shape(status: int, body: bytes) -> bytes:
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return body
    detail = data.get("detail") if isinstance(data, dict) else None
    message = detail if isinstance(detail, str) else json.dumps(detail) if detail is not None else "error"
    return json.dumps({**(data if isinstance(data, dict) else {}), **error_body(status, message)}).encode()
