"""One table from domain errors to HTTP status codes, for /ask, the article routes and
/v1 alike, and one reading of a request that does not fit its schema. Each family still
shapes its own error body: `{"detail": ...}` (app.py) or OpenAI's (openai_api.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from rag.errors import ArticleNotFound, BadInput, Busy, IndexUnavailable, ModelUnavailable, RagError, TooLarge

STATUS = {TooLarge: 413, BadInput: 422, ArticleNotFound: 404, Busy: 409,
          IndexUnavailable: 503, ModelUnavailable: 503}
class Error(BaseModel):
    detail: str


# 400: a body that cannot be parsed at all (not UTF-8, broken multipart).
ERRORS = {code: {"model": Error} for code in (400, 404, 409, 413, 422, 503)}

# Over a limit: 413 like the other limits, not 422.
TOO_LONG = {"string_too_long", "too_long"}


def status_of(exc: RagError) -> int:
    """The status of the most specific class of ``exc`` in STATUS (400 for any other)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


@dataclass(frozen=True)
class FieldError:
    """One complaint of the schema: where (dotted, without "body"), what, and its kind."""

    loc: str
    msg: str
    type: str
    input: Any


def field_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        msg = str(e.get("msg")).removeprefix("Value error, ")
        if e.get("type") == "string_unicode":
            msg = "holds a lone UTF-16 surrogate: not valid Unicode text"
        out.append(FieldError(loc, msg, str(e.get("type")), e.get("input")))
    return out


def over_limit(errors: list[FieldError]) -> bool:
    return any(e.type in TOO_LONG for e in errors)
