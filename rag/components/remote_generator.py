"""A remote generator: any OpenAI-compatible chat completions server (vLLM, Ollama,
llama.cpp's server, TGI, or another rag server's /v1) writes the answers.

Selected with RAG_GENERATOR=openai:<base_url>#<model> (RAG_GENERATOR_API_KEY,
RAG_GENERATOR_TIMEOUT_S). Prompts, retrieval and grounding stay in this process; only
the text is written remotely, streamed piece by piece. Whatever goes wrong on the wire
(refused connection, a stall longer than the timeout, a cut stream, an error status)
becomes GeneratorUnavailable: a 503 for the API, never a hang or a 500.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from rag.config import Settings
from rag.errors import BadInput, GeneratorUnavailable
from rag.components.generation import GenerationStats, Prompt, Reply, TokenStream

PREFIX = "openai:"
# /health asks the remote for its models with this timeout at most: a health check must be quick.
PROBE_TIMEOUT_S = 3.0


def parse(spec: str) -> tuple[str, str]:
    """"openai:http://host:8000/v1#model" -> ("http://host:8000/v1", "model")."""
    base, sep, model = spec.removeprefix(PREFIX).partition("#")
    if not spec.startswith(PREFIX) or not sep or not model.strip() or not base.startswith(("http://", "https://")):
        raise BadInput(f"RAG_GENERATOR={spec!r}: expected openai:<base_url>#<model>, "
                       "e.g. openai:http://127.0.0.1:11434/v1#qwen2.5:0.5b")
    return base.rstrip("/"), model.strip()


class OpenAIGenerator:
    """The Generator protocol over HTTP. Greedy (temperature 0), like the local model."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 60.0):
        self.name = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._api_key = api_key
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIGenerator:
        base, model = parse(settings.generator)
        return cls(base, model, settings.generator_api_key, settings.generator_timeout_s)

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    import httpx
                    import openai
                except ImportError as exc:  # pragma: no cover - a main dependency
                    raise GeneratorUnavailable("the remote generator needs the openai package: "
                                               "pip install openai") from exc
                # No retries: a retried answer doubles the wait, and the caller reports a 503 at once.
                self._client = openai.OpenAI(
                    base_url=self.base_url, api_key=self._api_key or "none", max_retries=0,
                    timeout=httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0)))
            return self._client

    def _request(self, prompt: Prompt, max_new_tokens: int) -> dict:
        return {"model": self.name, "messages": prompt.messages(), "max_tokens": max_new_tokens,
                "temperature": 0}

    def generate(self, prompt: Prompt, max_new_tokens: int) -> Reply:
        t0 = time.perf_counter()
        try:
            out = self.client().chat.completions.create(**self._request(prompt, max_new_tokens))
        except Exception as exc:  # noqa: BLE001 - narrowed in _unavailable
            raise self._unavailable(exc) from exc
        stats = GenerationStats(prefill_ms=(time.perf_counter() - t0) * 1000, decode_ms=0.0)
        if out.usage is not None:
            stats.prompt_tokens, stats.new_tokens = out.usage.prompt_tokens, out.usage.completion_tokens
        text = (out.choices[0].message.content or "") if out.choices else ""
        return Reply(text, stats)

    def stream(self, prompt: Prompt, max_new_tokens: int,
               stop: threading.Event | None = None) -> TokenStream:
        stats = GenerationStats()
        return TokenStream(self._pieces(prompt, max_new_tokens, stop, stats), stats)

    def _pieces(self, prompt: Prompt, max_new_tokens: int, stop: threading.Event | None,
                stats: GenerationStats) -> Iterator[str]:
        t0 = time.perf_counter()
        first: float | None = None
        pieces = 0
        try:
            response = self.client().chat.completions.create(
                **self._request(prompt, max_new_tokens), stream=True,
                stream_options={"include_usage": True})
            # Leaving the with-block (done, stopped, or abandoned by a gone client) closes
            # the connection, which stops a server that watches for disconnects.
            with response:
                for chunk in response:
                    if stop is not None and stop.is_set():
                        stats.stopped = True
                        break
                    if chunk.usage is not None:
                        stats.prompt_tokens = chunk.usage.prompt_tokens
                        stats.new_tokens = chunk.usage.completion_tokens
                    for choice in chunk.choices:
                        text = choice.delta.content if choice.delta else None
                        if text:
                            first = first or time.perf_counter()
                            pieces += 1
                            yield text
        except GeneratorExit:
            stats.stopped = True
            raise
        except Exception as exc:  # noqa: BLE001 - narrowed in _unavailable
            raise self._unavailable(exc) from exc
        finally:
            end = time.perf_counter()
            stats.prefill_ms = ((first or end) - t0) * 1000
            stats.decode_ms = (end - (first or end)) * 1000
            if stats.new_tokens is None:  # no usage reported: a piece is about a token
                stats.new_tokens = pieces

    def _unavailable(self, exc: Exception) -> Exception:
        """Errors of the wire and of the remote server as GeneratorUnavailable; others as they are."""
        import httpx
        import openai

        if not isinstance(exc, (openai.OpenAIError, httpx.HTTPError)):
            return exc
        if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
            why = f"no reply within {self.timeout_s:g} s"
        elif isinstance(exc, openai.APIStatusError):
            why = f"it answered {exc.status_code}: {_message(exc)}"
        elif isinstance(exc, openai.APIConnectionError):
            why = f"cannot connect ({_cause(exc)})"
        else:
            why = f"the reply broke off ({_message(exc)})"
        return GeneratorUnavailable(f"the generator at {self.base_url} is unavailable: {why}")

    def check(self) -> str | None:
        """None when the remote answers and serves the model; else what is wrong (for /health)."""
        try:
            models = self.client().with_options(timeout=min(self.timeout_s, PROBE_TIMEOUT_S)).models.list()
            ids = [m.id for m in models.data]
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none raised
            return str(self._unavailable(exc))
        if ids and self.name not in ids:
            return f"the generator at {self.base_url} does not serve {self.name!r} (it serves {', '.join(ids[:10])})"
        return None


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error")
        msg = err.get("message") if isinstance(err, dict) else body.get("detail") or body.get("message")
        if isinstance(msg, str) and msg:
            return msg
    return str(exc) or type(exc).__name__


def _cause(exc: Exception) -> str:
    cause = exc.__cause__ or exc.__context__
    return f"{type(cause).__name__}: {cause}" if cause is not None else str(exc)
