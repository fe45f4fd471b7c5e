"""Shared fixtures: settings in a temporary data dir and a pipeline made of fakes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from hypothesis import settings as hypothesis_settings  # noqa: E402

# The suite gates every commit, so its fuzzing is the same on every run (a failure
# reproduces; CI cannot fail on a draw it never made before). `make fuzz` explores
# new inputs with random draws and more examples.
hypothesis_settings.register_profile("gate", max_examples=100, derandomize=True, database=None)
hypothesis_settings.register_profile("explore", max_examples=1000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gate"))

from rag.answering.pipeline import Pipeline  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.components.embedding import FakeEmbedder  # noqa: E402
from rag.components.generation import FakeGenerator  # noqa: E402
from rag.components.verifier import FakeVerifier  # noqa: E402
from rag.index.handle import ingest  # noqa: E402
from rag.documents import make_article  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

SUMMIT = ("The summit of the Shanghai Cooperation Organisation was held in Tianjin. "
          "Pakistan's prime minister Shehbaz Sharif met Russian president Vladimir Putin there. "
          "Sharif accepted an invitation to visit Russia in November.")
WEATHER = ("Heavy rain flooded the streets of Lisbon on Tuesday. "
           "The city council closed 12 schools. Forecasters expect more storms this week.")


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS, model_cache_dir=tmp_path / "cache",
                    min_relevance=0.2)


def make_pipeline(settings: Settings, replies=("...",), verifier=None) -> Pipeline:
    return Pipeline(settings, FakeEmbedder(), FakeGenerator(replies), verifier or FakeVerifier())


@pytest.fixture
def fake_pipeline(settings) -> Pipeline:
    """Two small articles indexed with the fake embedder; the fake model cites [1]."""
    p = make_pipeline(settings, replies=("The summit was held in Tianjin [1].",))
    ingest(p, [make_article(SUMMIT, title="Summit in Tianjin", id="summit", published="2025-09-01"),
               make_article(WEATHER, title="Lisbon floods", id="weather")])
    return p
