"""The bodies of the OpenAI-compatible /v1 routes: what a request may hold (with this
server's limits in its schema), what comes back, and OpenAI's error shape.

Requests follow OpenAI's chat completions; fields this server does not use (temperature,
stop, tools, ...) are accepted and ignored, as a chat client sends many of them.
Content must be a string: parts lists (images, audio) are refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rag.config import Settings
from rag.dates import check_iso
from rag.text_checks import NOT_BLANK, valid_text
from rag.types import Citation

# The model id that answers from the articles (retrieval, verifier, citations) at /v1.
# Plain completions by the generator alone are served under /v1/generator.
RAG_MODEL = "rag-news"
# An earlier turn of the conversation may be this long (as /ask's history turns).
TURN_CHARS = 20_000
_HAS_USER = {"type": "object", "required": ["role"], "properties": {"role": {"const": "user"}}}


def _text(v: str, name: str = "content") -> str:
    return valid_text(v, name)


def _whole(v: Any) -> Any:
    """JSON has one number type: 2.0 is the integer 2 (as JSON Schema says); 2.5 is not."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


class _Message(BaseModel):
    model_config = ConfigDict(strict=True)  # other fields (name, ...) are ignored

    @field_validator("content", check_fields=False)
    @classmethod
    def _unicode(cls, v: str) -> str:
        return _text(v)


class SystemMessage(_Message):
    role: Literal["system", "developer"]
    content: str = Field(max_length=TURN_CHARS, description="Used by plain completions; the "
                         f"`{RAG_MODEL}` model answers with its own instructions.")


class AssistantMessage(_Message):
    role: Literal["assistant"]
    content: str = Field(max_length=TURN_CHARS)


class StreamOptions(BaseModel):
    model_config = ConfigDict(strict=True)
    include_usage: bool = False


def chat_request(settings: Settings, user_chars: int | None = None) -> type[BaseModel]:
    """The body of POST /v1/chat/completions. A user message may be as long as a /ask
    question (plain completions: ``user_chars``, as they carry the sources); there may be
    as many earlier messages as /ask takes history turns."""

    class UserMessage(_Message):
        role: Literal["user"]
        content: str = Field(min_length=1, max_length=user_chars or settings.max_question_chars,
                             pattern=NOT_BLANK)

    Message = Annotated[Union[SystemMessage, UserMessage, AssistantMessage], Field(discriminator="role")]

    class ChatRequest(BaseModel):
        model_config = ConfigDict(strict=True)
        model: str | None = Field(RAG_MODEL if user_chars is None else None, description=(
            f"`{RAG_MODEL}`: answers from the articles, cited." if user_chars is None else
            "The generator's id (GET /v1/generator/models); the default is it."))
        messages: list[Message] = Field(
            min_length=1, max_length=settings.max_history_turns + 1,
            json_schema_extra={"contains": _HAS_USER},
            description="The last user message is the question; the messages before it are the "
                        "conversation (messages after it are ignored).")
        stream: bool = False
        stream_options: StreamOptions | None = None
        max_tokens: int | None = Field(None, ge=1, description="Plain completions only; capped at "
                                       "the length of the server's answers (tuning.py's max_new_tokens).")
        max_completion_tokens: int | None = Field(None, ge=1, description="As max_tokens.")
        temperature: float | None = Field(None, ge=0, le=2, description="Ignored: decoding is greedy.")
        n: int | None = Field(None, ge=1, le=1, description="One choice only.")
        as_of: str | None = Field(None, json_schema_extra={"format": "date"},
                                  description=f"`{RAG_MODEL}` (an extra body field): the day "
                                  "the question is asked on, YYYY-MM-DD (default today).")

        @field_validator("as_of")
        @classmethod
        def _date(cls, v: str | None) -> str | None:
            check_iso(v, "as_of")
            return v

        @field_validator("max_tokens", "max_completion_tokens", "n", mode="before")
        @classmethod
        def _whole_number(cls, v: Any) -> Any:
            return _whole(v)

        @field_validator("model")
        @classmethod
        def _model_text(cls, v: str | None) -> str | None:
            return v if v is None else _text(v, "model")

        @model_validator(mode="after")
        def _has_question(self):
            if not any(m.role == "user" for m in self.messages):
                raise ValueError("messages holds no user message: the last one is the question")
            return self

    return ChatRequest


# -- responses (documented; the routes build plain dicts) ----------------------------

class ReplyMessage(BaseModel):
    role: Literal["assistant"]
    content: str
    references: list[Citation] | None = Field(None, description=f"`{RAG_MODEL}`: the sources the "
                                               "[n] markers in content point to.")
    abstained: bool | None = Field(None, description=f"`{RAG_MODEL}`: true when the articles don't "
                                   "say (content then says so).")
    reason: str | None = Field(None, description="Why it abstained, as /ask's `reason`.")
    as_of: str | None = Field(None, description=f"`{RAG_MODEL}`: the day the question was asked on.")


class Choice(BaseModel):
    index: int
    message: ReplyMessage
    finish_reason: Literal["stop", "length"]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class OpenAIError(BaseModel):
    """OpenAI's error shape, plus `detail` (the same message) as every error of this API has."""
    error: ErrorInfo
    detail: str


_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error",
          409: "conflict_error", 429: "rate_limit_error"}
_CODES = {401: "invalid_api_key", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
          413: "too_large", 503: "unavailable"}


def error_body(status: int, message: str, param: str | None = None, code: str | None = None) -> dict:
    kind = _TYPES.get(status) or ("server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": param, "code": code or _CODES.get(status)},
            "detail": message}
