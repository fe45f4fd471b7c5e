"""Shared fixtures: settings in a temporary data dir and a pipeline made of fakes."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg

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
from rag.answering.tuning import AnswerSettings, Tuning  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.errors import IndexUnavailable  # noqa: E402
from rag.components.embedding import FakeEmbedder  # noqa: E402
from rag.components.generation import FakeGenerator  # noqa: E402
from rag.components.fake_verifier import FakeVerifier  # noqa: E402
from rag.documents import make_article  # noqa: E402
from rag.assemble import Parts, open_index  # noqa: E402
from rag.index.protocols import Chunking  # noqa: E402

from .pg_server import pg_server  # noqa: E402,F401 - the session's PostgreSQL server fixture

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

SUMMIT = ("The summit of the Shanghai Cooperation Organisation was held in Tianjin. "
          "Pakistan's prime minister Shehbaz Sharif met Russian president Vladimir Putin there. "
          "Sharif accepted an invitation to visit Russia in November.")
WEATHER = ("Heavy rain flooded the streets of Lisbon on Tuesday. "
           "The city council closed 12 schools. Forecasters expect more storms this week.")


@pytest.fixture(params=["faiss", "postgresql"])
def any_settings(request, tmp_path) -> Settings:
    """Settings on each index backend: FAISS in tmp_path, or a fresh database of a real
    PostgreSQL server (started once per session by tests/pg_server.py)."""
    s = Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS, model_cache_dir=tmp_path / "cache")
    if request.param == "faiss":
        return s
    return s.model_copy(update={"store": fresh_database(request.getfixturevalue("pg_server"))})


def fresh_database(server) -> str:
    """The URL of a new, empty database on ``server``."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS, model_cache_dir=tmp_path / "cache")


_OPENED = []  # indexes made by make_pipeline: closed after each test (database connections)


@pytest.fixture(autouse=True)
def _close_indexes():
    yield
    while _OPENED:
        _OPENED.pop().close()


# The fake embedder's vectors are less alike than the real one's: a lower relevance floor.
# The fake verifier is sure of many sentences: the model's path stays the one tested, and
# tests of the confident extractive answer (test_confident.py) turn it on.
TUNING = Tuning(min_relevance=0.2, extract_answers=1.01)


class Rig(Parts):
    """The Index and a Pipeline of fakes, as rag.assemble.build gives them; for the
    tests' brevity it also answers for its Pipeline (``rig.ask``, ``rig.retriever``).
    ``rig.settings`` are the Settings it was made from (the Index's)."""

    def __getattr__(self, name):
        return getattr(self.pipeline, name)

    def with_generator(self, generator) -> "Rig":
        return Rig(self.index, self.pipeline.with_generator(generator), self.settings)


def make_pipeline(settings: Settings, replies=("...",), verifier=None, embedder=None,
                  chunking: Chunking = Chunking(), tuning: Tuning = TUNING) -> Rig:
    """A pipeline of fakes over the index the settings name (FAISS unless RAG_STORE says)."""
    embedder = embedder or FakeEmbedder()
    index = open_index(settings, embedder, chunking)
    _OPENED.append(index)
    try:
        index.open(seed=False)  # the published index, if there is one
    except IndexUnavailable:
        pass  # built with other settings: index.error says so, rebuild fixes it
    return Rig(index, Pipeline.build(AnswerSettings.of(settings, tuning), index.snapshot, embedder,
                                     FakeGenerator(replies), verifier or FakeVerifier()), settings)


@pytest.fixture
def fake_pipeline(settings) -> Rig:
    """Two small articles indexed with the fake embedder; the fake model cites [1]."""
    p = make_pipeline(settings, replies=("The summit was held in Tianjin [1].",))
    p.index.ingest([make_article(SUMMIT, title="Summit in Tianjin", id="summit", published="2025-09-01"),
               make_article(WEATHER, title="Lisbon floods", id="weather")])
    return p
