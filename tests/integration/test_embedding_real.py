"""The int8 embedder on the real packaged model: near-identical vectors, and kept apart from fp32 indexes."""

from __future__ import annotations

import numpy as np
import pytest

from rag.documents import make_article
from rag.embedding import SentenceTransformerEmbedder
from rag.errors import IndexMismatch
from rag.store import Chunking, build_store, load_store

SENTENCES = [
    "Pakistan's Prime Minister Shehbaz Sharif met Russian President Vladimir Putin in Tianjin.",
    "Heavy rain flooded the streets of Lisbon on Tuesday and the council closed 12 schools.",
    "Where was the SCO summit held?",
    "The central bank raised interest rates by half a percentage point to curb inflation.",
    "Sharif accepted an invitation to visit Russia in November for an SCO event.",
    "Tianjin",
]


@pytest.fixture(scope="module")
def pair(real_embedder):
    """fp32 and int8 variants of the same packaged model (one of them is the session's)."""
    other = SentenceTransformerEmbedder(real_embedder.name, quantize=not real_embedder.quantize)
    other.load()
    return (other, real_embedder) if real_embedder.quantize else (real_embedder, other)


def test_int8_vectors_are_near_fp32(pair):
    fp32, int8 = pair
    a = fp32.embed(SENTENCES)
    b = int8.embed(SENTENCES)
    assert a.shape == b.shape == (len(SENTENCES), 384) and b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
    cos = np.sum(a * b, axis=1)
    assert cos.min() > 0.99, cos
    # Not the same model by accident: quantization does move the vectors a little.
    assert cos.max() < 0.99999
    # Filler words alone move most (two or three tokens to average): still close.
    fillers = np.sum(fp32.embed(["ok", "yes", "When?"]) * int8.embed(["ok", "yes", "When?"]), axis=1)
    assert fillers.min() > 0.97, fillers
    # The other sentences rank the same against the question with either variant.
    others = [0, 1, 3, 4, 5]
    assert list(np.argsort(-(a[others] @ a[2]))) == list(np.argsort(-(b[others] @ b[2])))


def test_index_built_by_one_variant_is_refused_by_the_other(pair, tmp_path):
    fp32, int8 = pair
    assert fp32.name != int8.name
    store = build_store([(make_article(SENTENCES[0] + " " + SENTENCES[4], id="a"), "h")], int8, Chunking())
    store.save(tmp_path)
    assert load_store(tmp_path, int8.name).chunks
    with pytest.raises(IndexMismatch, match="rebuild"):
        load_store(tmp_path, fp32.name)
