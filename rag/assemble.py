"""Assembling the parts from Settings: the one place that picks adapters (embedder,
generator, verifier, index backend) and builds the Index handle and the Pipeline."""

from __future__ import annotations

import logging
import os
from typing import NamedTuple

from transformers.utils import logging as hf_logging

from rag.answering.pipeline import Pipeline
from rag.answering.tuning import AnswerSettings, Tuning
from rag.components.embedding import Embedder, load_embedder
from rag.components.generation import Generator, TransformersGenerator
from rag.components.remote_generator import OpenAIGenerator
from rag.components.verifier import CrossEncoderVerifier, Verifier
from rag.config import Settings
from rag.index.backends import open_backend
from rag.index.handle import Index, layout_of
from rag.index.protocols import Chunking

log = logging.getLogger("rag")

# Precision the embedder computes in. "auto": float32, and bfloat16 only inside large_job()
# (ingests of 4,096+ chunks) where the CPU has it natively (AMX / AVX512-BF16; 3x the
# chunks/s, vectors within cosine 0.996, bench/bench_embed.py): a server stays small and
# corpus indexing keeps bf16's speed (#21). Not part of the index's identity.
EMBEDDER_DTYPE = "auto"


def offline() -> None:
    """Nothing may download from a model hub at run time."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Library chatter (weight-loading bars, index debug lines) is not for our users.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def open_index(settings: Settings, embedder: Embedder, chunking: Chunking = Chunking()) -> Index:
    """The Index handle over the configured backend (nothing loaded yet). ``chunking``:
    another than the project's (tests of a layout change)."""
    return Index(settings.data_dir, settings.seeds_dir, embedder,
                 open_backend(settings.store, settings.data_dir, layout_of(embedder, chunking)), chunking)


class Parts(NamedTuple):
    """What the server and the CLI hold: the Index (the one writer) and, beside it, the
    read-only Pipeline over its snapshots."""

    index: Index
    pipeline: Pipeline
    settings: Settings  # what both were built from (the server reads its own settings here)


def build_index(settings: Settings, embedder: Embedder | None = None, with_index: bool = True,
                chunking: Chunking = Chunking()) -> Index:
    """The Index the settings describe, without the models that answer (ingest, rebuild,
    delete). With ``with_index``, the published index is loaded if there is one."""
    offline()
    index = open_index(settings, embedder or load_embedder(settings.embedder, threads=settings.threads,
                                                           dtype=EMBEDDER_DTYPE), chunking)
    if with_index:
        index.open(seed=False)
    return index


def build(settings: Settings, embedder: Embedder | None = None, generator: Generator | None = None,
          verifier: Verifier | None = None, with_index: bool = True, tuning: Tuning | None = None,
          chunking: Chunking = Chunking()) -> Parts:
    """The Index and the Pipeline the settings describe, side by side. With
    ``with_index``, the published index is loaded if there is one (the CLI); the server
    opens it itself, in the background. ``tuning``: other internal knobs (`rag eval --tune`)."""
    offline()
    tuning = tuning or Tuning()
    embedder = embedder or load_embedder(settings.embedder, threads=settings.threads, dtype=EMBEDDER_DTYPE)
    generator = generator or load_generator(settings, tuning)
    verifier = verifier or load_verifier(settings)
    index = build_index(settings, embedder, with_index, chunking)
    return Parts(index, Pipeline.build(AnswerSettings.of(settings, tuning), index.snapshot, embedder,
                                       generator, verifier), settings)


def ensure_index(index: Index, show_progress: bool = False) -> None:
    """Build the index from the seeds folder when there is none yet."""
    if not index.loaded:
        index.open(seed=True, show_progress=show_progress)


def load_verifier(settings: Settings) -> Verifier:
    """The trained verifier (loaded lazily, on first use or warm-up)."""
    return CrossEncoderVerifier(settings.verifier_dir, threads=settings.threads)


def load_generator(settings: Settings, tuning: Tuning | None = None) -> Generator:
    """The generator named by ``settings.generator``: "openai:<base_url>#<model>" for an
    OpenAI-compatible server, else a local model. (Tests pass their FakeGenerator to ``build``.)"""
    if settings.generator.startswith("openai:"):
        return OpenAIGenerator.from_settings(settings)
    return TransformersGenerator(settings.generator, cache_dir=settings.model_cache_dir,
                                 quantize=settings.quantize, threads=settings.threads,
                                 prompt_lookup=(tuning or Tuning()).prompt_lookup_tokens)
