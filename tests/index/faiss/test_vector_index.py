"""Choice of FAISS index by size: exact below the threshold, IVF above, both keeping row ids."""

from __future__ import annotations

import faiss
import numpy as np

from rag.index.faiss import vector_index
from rag.index.faiss.article_store import ArticleStore
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
    monkeypatch.setattr("rag.index.faiss.article_store.build_index", lambda v, d: vector_index.build_index(v, d, exact_max=100))
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


def _store(x: np.ndarray, start: int = 0, base: ArticleStore | None = None) -> ArticleStore:
    chunks = [Chunk(f"a{i}#0", f"a{i}", f"text {i}", 0, 6) for i in range(start, start + len(x))]
    new = [(Article(c.article_id, c.article_id, c.text), str(i)) for i, c in enumerate(chunks)]
    if base is None:
        return ArticleStore("e", len(x[0]), Chunking(), dict((a.id, a) for a, _ in new), {}, chunks, x)
    return base.with_chunks(new, chunks, x)


def test_rows_added_after_training_are_found_as_exact_search_finds_them(monkeypatch):
    # Articles added one by one go into the IVF's old clusters, which a query near them
    # need not probe: they must still come back whenever brute force ranks them.
    from rag.index.faiss.snapshot import FaissSnapshot

    monkeypatch.setattr(vector_index, "EXACT_MAX", 100)
    x = unit(3300, dim=32, seed=5)
    store = _store(x[:3000])
    assert not vector_index.is_exact(store.faiss) and store.trained == 3000
    for i in range(3000, 3300, 30):  # ten adds
        store = _store(x[i:i + 30], i, store)
    assert store.trained == 3000 and store.faiss.nlist == vector_index.n_lists(3000)  # clusters kept
    snap = FaissSnapshot(store)
    rng = np.random.default_rng(6)
    missed = 0
    for i in range(3000, 3300):
        q = x[i] + 0.8 * unit(1, dim=32, seed=1000 + i)[0] * rng.uniform(0.5, 1.0)
        q /= np.linalg.norm(q)
        exact = set(np.argsort(-(x @ q))[:10].tolist())
        got = {int(cid[1:].split("#")[0]) for cid, _ in snap.vectors.search(q, 10)}
        missed += len({r for r in exact if r >= 3000} - got)
    assert missed == 0


def test_search_merges_without_duplicates_best_first(monkeypatch):
    monkeypatch.setattr(vector_index, "EXACT_MAX", 100)
    x = unit(600, seed=7)
    store = _store(x[100:], 400, _store(unit(400, seed=8)))
    scores, rows = vector_index.search(store.faiss, store.vectors, store.trained, x[150], 5)
    assert rows[0] == 400 + 50 and len(set(rows.tolist())) == len(rows) == 5
    assert np.all(np.diff(scores) <= 0)
    np.testing.assert_allclose(scores, store.vectors[rows] @ x[150], rtol=1e-5)


def test_a_long_tail_trains_the_clusters_again(monkeypatch):
    monkeypatch.setattr(vector_index, "EXACT_MAX", 100)
    monkeypatch.setattr(vector_index, "TAIL_MAX", 50)
    x = unit(700, seed=9)
    store = _store(x[:600])
    store = _store(x[600:640], 600, store)
    assert store.trained == 600
    store = _store(x[640:700], 640, store)  # 100 rows since training: past TAIL_MAX
    assert store.trained == 700 and store.faiss.ntotal == 700


def test_the_trained_row_count_is_saved_and_loaded(tmp_path, monkeypatch):
    from rag.index.faiss.versions import load_store, save_version

    monkeypatch.setattr(vector_index, "EXACT_MAX", 100)
    x = unit(650, seed=10)
    store = _store(x[600:], 600, _store(x[:600]))
    save_version(store, tmp_path)
    loaded = load_store(tmp_path, "e", Chunking())
    assert loaded.trained == 600 and loaded.faiss.ntotal == 650
    assert loaded.faiss.nprobe == min(vector_index.NPROBE, loaded.faiss.nlist)
    grown = _store(unit(5, seed=11), 650, loaded)
    assert grown.trained == 600


def test_ivf_rows_read_back_the_vectors_faiss_holds():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((400, 16)).astype(np.float32)
    index = vector_index.build_ivf(x[:300], 16)
    index.add(x[300:])
    index.make_direct_map()
    rows = vector_index.IvfRows(index, trained=300)
    assert len(rows) == 400 and rows.shape == (400, 16)
    np.testing.assert_array_equal(np.asarray(rows), x)
    np.testing.assert_array_equal(rows[[5, 399, 0]], x[[5, 399, 0]])
    np.testing.assert_array_equal(rows[np.arange(400) % 7 == 0], x[::7])
    np.testing.assert_array_equal(rows[300:400], x[300:])  # the tail, searched exactly
    np.testing.assert_array_equal(rows[10:20], x[10:20])
    np.testing.assert_array_equal(np.vstack([rows, x[:2]]), np.vstack([x, x[:2]]))
    assert rows[[]].shape == (0, 16)


def test_an_ivf_built_in_parts_is_the_ivf_of_the_stack():
    x = unit(900)
    whole = vector_index.build_ivf(x, 16)
    parts = [x[:250].copy(), x[250:251].copy(), x[251:].copy()]
    built = vector_index.build_ivf_in_parts(parts, 16)
    assert parts == [None, None, None]  # each part dropped once added
    assert built.ntotal == 900 and built.nlist == whole.nlist
    np.testing.assert_array_equal(built.quantizer.reconstruct_n(0, built.nlist),
                                  whole.quantizer.reconstruct_n(0, whole.nlist))
    for q in x[:20]:
        assert vector_index.search(built, x, 900, q, 10)[1].tolist() == vector_index.search(whole, x, 900, q, 10)[1].tolist()


def test_an_ivf_saved_with_fewer_probes_is_searched_with_todays(tmp_path, monkeypatch):
    from rag.index.faiss.versions import load_store, save_version

    monkeypatch.setattr(vector_index, "EXACT_MAX", 100)
    store = _store(unit(650, seed=12))
    store.faiss.nprobe = 1  # as an index built before NPROBE rose
    save_version(store, tmp_path)
    loaded = load_store(tmp_path, "e", Chunking())
    assert loaded.faiss.nprobe == min(vector_index.NPROBE, loaded.faiss.nlist) > 1
