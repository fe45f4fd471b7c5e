"""The body of /ask and /ask/stream, validated once, here: what the schema allows is
answered, anything else is refused (422; 413 over a limit), with one message per field."""

from __future__ import annotations

from typing import Literal

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from rag.config import Settings
from rag.dates import check_iso
from rag.server.http_errors import field_errors, over_limit
from rag.text_checks import NOT_BLANK, valid_text


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)

    @field_validator("content")
    @classmethod
    def _unicode(cls, v: str) -> str:
        return valid_text(v, "content")


def ask_request(settings: Settings) -> type[BaseModel]:
    """The body of /ask and /ask/stream, with this server's limits in its schema: what
    the schema allows is answered, anything else is refused (422; 413 over a limit).
    Unknown fields are refused, and values are never converted (no "5" for 5)."""

    class AskRequest(BaseModel):
        model_config = ConfigDict(extra="forbid", strict=True)
        question: str = Field(description="The question, in plain words.", min_length=1,
                              max_length=settings.max_question_chars, pattern=NOT_BLANK)
        top_k: int | None = Field(None, ge=1, le=settings.max_top_k,
                                  description="How many passages to retrieve.")

        @field_validator("top_k", mode="before")
        @classmethod
        def _whole(cls, v):
            # JSON has one number type: 2.0 is the integer 2 (JSON Schema agrees); 2.5,
            # "2" and true are refused.
            return int(v) if isinstance(v, float) and v.is_integer() else v
        history: list[HistoryTurn] | None = Field(None, max_length=settings.max_history_turns,
                                                  description="Earlier turns, oldest first.")
        as_of: str | None = Field(None, json_schema_extra={"format": "date"},
                                  description="The day the question is asked on, YYYY-MM-DD "
                                  "(default today): \"this week\" is relative to it, and articles "
                                  "published after it are not used.", examples=["2022-09-02"])

        @field_validator("as_of")
        @classmethod
        def _date(cls, v: str | None) -> str | None:
            check_iso(v, "as_of")
            return v

        @field_validator("question")
        @classmethod
        def _unicode(cls, v: str) -> str:
            return valid_text(v, "question")

    return AskRequest


# One server-sent event of /ask/stream; its data is JSON.
SSE_EVENT = {"type": "object", "required": ["event", "data"], "properties": {
    "event": {"enum": ["token", "citations", "claims", "done", "error"]},
    "data": {"type": "string", "contentMediaType": "application/json"}}}




def invalid_response(exc: RequestValidationError, settings: Settings) -> JSONResponse:
    """A body that does not fit: 422 (413 over a limit), one message per field."""
    errors = field_errors(exc)
    parts = []
    for e in errors:
        msg = e.msg
        if e.loc == "question" and e.type in ("string_too_short", "string_pattern_mismatch"):
            msg = "question is empty"
        elif e.loc == "question" and e.type == "string_too_long":
            msg = f"question is {len(e.input or '')} characters; the limit is {settings.max_question_chars}"
        elif e.loc == "history" and e.type == "too_long":
            msg = f"history has over {settings.max_history_turns} turns: the limit"
        parts.append(f"{e.loc}: {msg}" if e.loc else msg)
    return JSONResponse({"detail": "; ".join(parts) or "invalid request"},
                        status_code=413 if over_limit(errors) else 422)
