"""Settings from RAG_* environment variables: what a user or an operator chooses; every
default works offline. The answering path's internal knobs (fusion constant, relevance
floor, prompt sizes, verifier overrides, ...) are rag/answering/tuning.py's, overridable
by `rag eval --tune` only; the chunk sizes are rag/chunking.py's constants."""

from __future__ import annotations

import difflib
import logging
import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The packaged defaults: names that mean "the model shipped as a PyPI package".
PACKAGED_EMBEDDER = "packaged:all-MiniLM-L6-v2"
PACKAGED_GENERATOR = "packaged:qwen2.5-coder-0.5b-instruct"
PACKAGED_GENERATOR_LARGE = "packaged:qwen2.5-coder-1.5b-instruct"

PREFIX = "RAG_"
# RAG_* variables that are not settings: read by the test suite's helpers.
NOT_SETTINGS = {"RAG_PG_BIN", "RAG_TEST_CHROMIUM"}
# Former settings, now constants beside the code that uses them: named in the warning
# instead of a close setting's name (RAG_CHUNK_MAX_CHARS is close to RAG_MAX_ARTICLE_CHARS).
MOVED = {f"RAG_CHUNK_{n}": "the chunk sizes are constants in rag/chunking.py"
         for n in ("SENTENCES", "OVERLAP", "MAX_CHARS")}

log = logging.getLogger("rag.config")
_warned: set[str] = set()  # each unknown variable is named once per process


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-news"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    # Server
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    admin_token: str | None = None
    # With an admin token: also require it to read and ask (only /health and the
    # page itself stay open). Data-changing routes always require it when it is set.
    protect_reads: bool = False

    # Where things live
    data_dir: Path = Path("data")
    seeds_dir: Path = Path("seeds")
    model_cache_dir: Path = Field(default_factory=_default_cache_dir)
    # Where the index lives (rag/index/backends.py): "faiss" (FAISS + bm25s in data_dir,
    # no server) or "postgresql://user:password@host:port/db" (PostgreSQL + pgvector,
    # shared by every process pointed at it; articles live in the database then).
    store: str = "faiss"

    # Models
    # Add "+int8" for the quantized embedder (embedding.py): ~1.5-2x faster indexing, same
    # seed-eval figures; an index built by the other variant needs `rag rebuild`.
    embedder: str = PACKAGED_EMBEDDER
    # Or "openai:<base_url>#<model>": an OpenAI-compatible server (vLLM, Ollama, llama.cpp,
    # another rag server's /v1) writes the answers; prompts and grounding stay here.
    generator: str = PACKAGED_GENERATOR
    generator_api_key: str | None = None  # sent as a bearer token to a remote generator
    # Seconds a remote generator may take to connect, and between two streamed pieces.
    generator_timeout_s: float = Field(60.0, gt=0, le=3600)
    quantize: bool = True  # dynamic int8 on the generator's Linear layers (CPU)
    threads: int = Field(0, ge=0)  # 0: one per core

    # Retrieval
    top_k: int = Field(4, ge=1, le=50)
    max_top_k: int = Field(20, ge=1, le=200)
    # The verifier (models/verifier/, trained by `rag train verifier`) re-ranks the
    # retrieved passages by their sentences and keeps the top_k. Its decision thresholds
    # are calibrated with the weights and live in its config.json.
    verifier_dir: Path | None = None  # default: models/verifier of this checkout
    # "generate": the model writes the answer from the evidence sentences, each sentence
    # of it checked. "extract": no model call; the short answer the verifier reads in the
    # best sentence, and that sentence quoted (fastest; see evals/README.md for both).
    # "read": with a null-option span head, the short answer read in the passage most
    # likely to answer and its sentence, quoted; the model when no passage answers.
    answer_mode: Literal["generate", "extract", "read"] = "generate"

    # Request limits
    max_question_chars: int = Field(1000, ge=1)
    max_history_turns: int = Field(20, ge=0)
    max_body_bytes: int = Field(20_000_000, ge=1024)
    max_upload_bytes: int = Field(20_000_000, ge=1024)
    max_batch_articles: int = Field(10_000, ge=1)
    # One article's text through the API, in characters: its passages are embedded while
    # the request holds the write lock, so this bounds that hold (200,000 characters of
    # short sentences took 24 s on 2 busy cores, so half that; README). The RealTimeQA
    # corpus's longest articles are 100,000. `rag ingest` has no such limit.
    max_article_chars: int = Field(100_000, ge=1000)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def model_post_init(self, context) -> None:
        for name, close in unknown_variables(os.environ).items():
            if name not in _warned:
                _warned.add(name)
                hint = MOVED.get(name.upper()) or (f"did you mean {close}?" if close else None)
                log.warning("ignoring %s: no setting has that name%s", name, f" ({hint})" if hint else "")


def unknown_variables(environ) -> dict[str, str | None]:
    """The RAG_* names in ``environ`` that no setting reads (names are case-insensitive,
    as for the settings themselves), each with the closest setting's name, if one is close."""
    known = sorted(PREFIX + f.upper() for f in Settings.model_fields)
    return {name: next(iter(difflib.get_close_matches(name.upper(), known, n=1)), None)
            for name in sorted(environ)
            if name.upper().startswith(PREFIX) and name.upper() not in known and name.upper() not in NOT_SETTINGS}
