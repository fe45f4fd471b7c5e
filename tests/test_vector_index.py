"""Choice of FAISS index by size: exact below the threshold, IVF above, both keeping row ids."""

from __future__ import annotations

import faiss
import numpy as np

from rag.index import faiss_vectors as vector_index
from rag.index.faiss_snapshot import ArticleStore
from rag.index.protocols import Chunking
from rag.types import Article, Chunk


def unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_small_collections_get_exact_search():
    x = unit(50)
    index = vector_index.build_index(x, 16, exact_max=50)
    assert vector_index.is_exact(index)
    _, ids = index.search(x[7:8], 1)
    assert ids[0, 0] == 7


def test_empty_collection_is_an_empty_exact_index():
    index = vector_index.build_index(np.zeros((0, 16), dtype=np.float32), 16)
    assert vector_index.is_exact(index) and index.ntotal == 0


def test_large_collections_get_ivf_that_finds_each_vector_by_position():
    x = unit(400)
    index = vector_index.build_index(x, 16, exact_max=100)
    assert isinstance(index, faiss.IndexIVFFlat)
    assert index.nlist == vector_index.n_lists(400) and index.nprobe == min(vector_index.NPROBE, index.nlist)
    _, ids = index.search(x[[3, 250]], 1)
    assert ids[:, 0].tolist() == [3, 250]
    # Exact reconstruction by position: versions.py reads vectors back this way.
    np.testing.assert_array_equal(index.reconstruct_n(0, 400), x)


def test_ivf_is_deterministic():
    x = unit(500, seed=1)
    a, b = vector_index.build_ivf(x, 16), vector_index.build_ivf(x, 16)
    q = unit(20, seed=2)
    np.testing.assert_array_equal(a.search(q, 5)[1], b.search(q, 5)[1])


def test_store_above_the_threshold_keeps_its_own_vectors(monkeypatch):
    monkeypatch.setattr("rag.index.faiss_snapshot.build_index", lambda v, d: vector_index.build_index(v, d, exact_max=100))
    x = unit(300)
    chunks = [Chunk(f"a{i}#0", f"a{i}", f"text {i}", 0, 6) for i in range(300)]
    articles = {c.article_id: Article(c.article_id, c.article_id, c.text) for c in chunks}
    store = ArticleStore("e", 16, Chunking(), articles, {}, chunks, x)
    assert not vector_index.is_exact(store.faiss)
    np.testing.assert_array_equal(store.vectors, x)
    smaller = store.without({f"a{i}" for i in range(250)})
    assert vector_index.is_exact(smaller.faiss) and smaller.faiss.ntotal == 50
    np.testing.assert_array_equal(smaller.vectors, x[250:])


def test_extending_an_ivf_adds_only_the_new_rows_and_leaves_the_original_alone():
    x = unit(600, seed=3)
    base = vector_index.build_ivf(x[:500], 16)
    grown = vector_index.extend_index(base, x, 16)
    assert isinstance(grown, faiss.IndexIVFFlat) and grown.ntotal == 600 and base.ntotal == 500
    assert grown.nlist == base.nlist  # same clusters: nothing re-trained
    _, ids = grown.search(x[[10, 550, 599]], 1)
    assert ids[:, 0].tolist() == [10, 550, 599]
    np.testing.assert_array_equal(grown.reconstruct_n(0, 600), x)


def test_extending_rebuilds_when_the_clusters_no_longer_fit_or_the_index_is_exact():
    x = unit(3000, seed=4)
    small = vector_index.build_ivf(x[:300], 16)
    rebuilt = vector_index.extend_index(small, x, 16)  # 10x the size: chosen anew (exact at 3k)
    assert vector_index.is_exact(rebuilt) and rebuilt.ntotal == 3000
    flat = vector_index.build_index(x[:10], 16)
    assert vector_index.extend_index(flat, x[:20], 16).ntotal == 20
