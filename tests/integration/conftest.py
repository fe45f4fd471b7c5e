"""Real packaged models, loaded once per test session and shared by every test here."""

from __future__ import annotations

import shutil

import pytest

from rag.config import Settings
from rag.components.embedding import SentenceTransformerEmbedder

from rag.assemble import build, ensure_index, load_generator, offline

from ..conftest import SEEDS, Rig


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory) -> Settings:
    offline()
    data = tmp_path_factory.mktemp("real-data")
    return Settings(data_dir=data, seeds_dir=SEEDS)


@pytest.fixture(scope="session")
def real_embedder(real_settings):
    e = SentenceTransformerEmbedder(real_settings.embedder)
    e.load()
    return e


@pytest.fixture(scope="session")
def real_generator(real_settings):
    g = load_generator(real_settings)
    g.load()
    return g


@pytest.fixture(scope="session")
def real_pipeline(real_settings, real_embedder, real_generator):
    """The seed article indexed with the real embedder, answered by the real model."""
    p = Rig(*build(real_settings, embedder=real_embedder, generator=real_generator))
    ensure_index(p.index)
    return p


@pytest.fixture
def fresh_real_pipeline(tmp_path, real_settings, real_embedder, real_generator):
    """An empty index of its own (for tests that change articles), same loaded models."""
    settings = real_settings.model_copy(update={"data_dir": tmp_path / "data"})
    p = Rig(*build(settings, embedder=real_embedder, generator=real_generator))
    yield p
    shutil.rmtree(tmp_path / "data", ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
