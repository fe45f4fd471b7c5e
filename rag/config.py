"""Settings from RAG_* environment variables; every default works offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The packaged defaults: names that mean "the model shipped as a PyPI package".
PACKAGED_EMBEDDER = "packaged:all-MiniLM-L6-v2"
PACKAGED_GENERATOR = "packaged:qwen2.5-coder-0.5b-instruct"
PACKAGED_GENERATOR_LARGE = "packaged:qwen2.5-coder-1.5b-instruct"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag-news"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

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
    # Precision the embedder computes in. "auto": float32, and bfloat16 for ingests of
    # 4,096+ chunks where the CPU has it natively (AMX / AVX512-BF16; 3x the chunks/s,
    # vectors within cosine 0.996, see bench/bench_embed.py); float32 keeps a server
    # smaller (embedding.py). Not part of the index's identity.
    embedder_dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    # Or "openai:<base_url>#<model>": an OpenAI-compatible server (vLLM, Ollama, llama.cpp,
    # another rag server's /v1) writes the answers; prompts and grounding stay here.
    generator: str = PACKAGED_GENERATOR
    generator_api_key: str | None = None  # sent as a bearer token to a remote generator
    # Seconds a remote generator may take to connect, and between two streamed pieces.
    generator_timeout_s: float = Field(60.0, gt=0, le=3600)
    quantize: bool = True  # dynamic int8 on the generator's Linear layers (CPU)
    threads: int = Field(0, ge=0)  # 0: one per core
    max_new_tokens: int = Field(160, ge=1, le=2048)
    # Prompt-lookup decoding of answers (streamed): they quote their sources, so up to this
    # many tokens are drafted from the prompt and checked in one forward pass; a draft token
    # is kept only where it is the model's own greedy choice. 0 turns it off. With dynamic
    # int8 the activation scales depend on how many tokens a pass holds, so outputs can
    # differ from plain decoding: same seed-eval figures, ~2x decode tokens/s (bench_ask.py).
    prompt_lookup_tokens: int = Field(10, ge=0, le=64)

    # Chunking (part of the index manifest: changing it requires a rebuild)
    chunk_sentences: int = Field(3, ge=1, le=50)
    chunk_overlap: int = Field(1, ge=0, le=49)
    chunk_max_chars: int = Field(1000, ge=100, le=20000)

    # Retrieval
    top_k: int = Field(4, ge=1, le=50)
    max_top_k: int = Field(20, ge=1, le=200)
    rrf_k: int = Field(60, ge=1)
    # Below this cosine similarity the best passage is not about the question:
    # answer "the articles don't say" without calling the verifier or the model.
    min_relevance: float = 0.25
    # The verifier (models/verifier/, trained by `rag train verifier`) re-ranks this many
    # retrieved passages by their sentences and keeps the top_k. Its decision thresholds
    # are calibrated with the weights and live in models/verifier/config.json.
    verifier_dir: Path | None = None  # default: models/verifier of this checkout
    rerank_candidates: int = Field(12, ge=1, le=200)
    # Unset: the thresholds calibrated with the weights. Set only to sweep or override them.
    verifier_answerable: float | None = Field(None, ge=0, le=1)
    verifier_supported: float | None = Field(None, ge=0, le=1)
    verifier_span: float | None = Field(None, ge=0, le=1)
    verifier_passage_weight: float | None = Field(None, ge=0, le=4)
    verifier_has_answer: float | None = Field(None, ge=0, le=1)  # (1: passages not read)
    # "generate": the model writes the answer from the evidence sentences, each sentence
    # of it checked. "extract": no model call; the short answer the verifier reads in the
    # best sentence, and that sentence quoted (fastest; see evals/README.md for both).
    # "read": with a null-option span head, the short answer read in the passage most
    # likely to answer and its sentence, quoted; the model when no passage answers.
    answer_mode: Literal["generate", "extract", "read"] = "generate"

    # Time (rag/answering/when.py, recency.py). A question about the present without a
    # window ranks passages by fused score x 2^(-age in days / half-life) (undated: one
    # half-life old); and is answered only from an article at most `recent_days` old.
    recency_half_life_days: float = Field(30.0, gt=0)
    recent_days: int = Field(31, ge=1)

    # Prompt
    evidence_sentences: int = Field(5, ge=1, le=50)  # sentences the model sees
    context_chars: int = Field(2400, ge=200)

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
