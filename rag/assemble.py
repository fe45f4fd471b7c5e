"""Assembling a Pipeline from Settings: the one place that picks adapters."""

from __future__ import annotations

import logging
import os

from rag.answering.pipeline import Pipeline
from rag.config import Settings
from rag.components.embedding import Embedder, load_embedder
from rag.errors import IndexUnavailable
from rag.components.generation import Generator, load_generator
from rag.index.handle import chunking_of, clean_up, ingest
from rag.index.faiss_snapshot import index_exists, load_store
from rag.components.verifier import CrossEncoderVerifier, Verifier

log = logging.getLogger("rag")


def offline() -> None:
    """Nothing may download from a model hub at run time."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Library chatter (weight-loading bars, index debug lines) is not for our users.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass


def build_pipeline(settings: Settings, embedder: Embedder | None = None,
                   generator: Generator | None = None, with_index: bool = True,
                   verifier: Verifier | None = None) -> Pipeline:
    offline()
    embedder = embedder or load_embedder(settings.embedder, threads=settings.threads,
                                            dtype=settings.embedder_dtype)
    generator = generator or load_generator(settings)
    verifier = verifier or load_verifier(settings)
    pipeline = Pipeline(settings, embedder, generator, verifier)
    if with_index and index_exists(settings.data_dir):
        clean_up(settings.data_dir)  # what a killed writer left (the CLI's start-up)
        pipeline.store = load_store(settings.data_dir, embedder.name, chunking_of(settings))
    return pipeline


def load_verifier(settings: Settings) -> Verifier:
    """The trained verifier (loaded lazily, on first use or warm-up)."""
    return CrossEncoderVerifier(settings.verifier_dir, threads=settings.threads)


def ensure_index(pipeline: Pipeline, show_progress: bool = False) -> None:
    """Build the index from the seeds folder when there is none yet."""
    if pipeline.store is not None:
        return
    from rag.documents import load_paths

    seeds = pipeline.settings.seeds_dir
    if not seeds.exists():
        raise IndexUnavailable(f"no index in {pipeline.settings.data_dir} and no seeds folder {seeds}")
    result = load_paths([seeds])
    report = ingest(pipeline, result.articles, [(r.source, r.reason) for r in result.rejected],
                    show_progress=show_progress)
    log.info("built index from %s: %s", seeds, report.summary())
