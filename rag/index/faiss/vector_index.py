"""Which FAISS index holds the chunk vectors: exact search while it is fast enough.

Measured with bench/bench_retrieval.py (2 shared cores, 384 dims, one query, load 4.5):
exact IndexFlatIP takes 0.36 ms at 10k chunks and 6.5 ms at 100k, where it reads
150 MB per query; so above EXACT_MAX chunks an inverted file (IVF) scans only the
NPROBE clusters nearest the query: 0.36 ms at 100k, recall@50 0.99 against exact.
IVF over HNSW because a snapshot is rebuilt on every change (article_store.py): IVF trains
and fills in ~0.4 s at 100k chunks, HNSW took 75 s to build its graph there, and
its recall was lower (0.94).

FAISS runs single-threaded: a query scans too little to pay for waking a second
thread, and when other processes hold the cores the OpenMP hand-off is ruinous
(10k chunks: 64 ms with 2 threads against 0.5 ms with 1, measured at load 10).

Either index reconstructs its vectors exactly (versions.py reads them back on load).
"""

from __future__ import annotations

import math

import faiss
import numpy as np

EXACT_MAX = 20_000  # chunks; above this, IVF
# Clusters scanned per query (of sqrt(n)/2; 221 at 196k chunks). 32 scans ~15% of the rows
# in ~2.3 ms a query, recall@10 against exact search 0.974 (8: 0.6 ms, 0.896), and two IVFs
# trained on different samples (an index grown by single adds, its rebuild) then agree on
# the top 4 of 50/50 new articles' questions (8: 39/50). bench/bench_add_one.py, session 12.
NPROBE = 32
# Rows added to an IVF after its clusters were trained, searched exactly too (search);
# past this many, the next change trains the clusters again (~0.4 s at 100k chunks).
TAIL_MAX = 20_000
TRAIN_PER_LIST = 40  # k-means sample per cluster: enough for stable centroids, ~0.05 s at 100k


faiss.omp_set_num_threads(1)


def n_lists(n: int) -> int:
    # sqrt(n)/2: half the usual count halves the build (every vector is compared
    # with every centroid) for a recall@50 of ~0.99 instead of 1.0 at 100k.
    return max(1, int(math.sqrt(n)) // 2)


def build_index(vectors: np.ndarray, dim: int, exact_max: int | None = None) -> faiss.Index:
    """An inner-product index holding ``vectors`` (n, dim) float32, ids = row positions."""
    exact_max = EXACT_MAX if exact_max is None else exact_max
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    if n <= exact_max:
        index = faiss.IndexFlatIP(dim)
        if n:
            index.add(vectors)
        return index
    return build_ivf(vectors, dim)


def build_ivf(vectors: np.ndarray, dim: int, nprobe: int = NPROBE) -> faiss.IndexIVFFlat:
    n = len(vectors)
    index = _empty_ivf(_trained(vectors, dim), dim, nprobe)
    index.add(vectors)
    index.make_direct_map()  # reconstruct() by position, for versions.py
    assert index.ntotal == n
    return index


def _empty_ivf(centroids: np.ndarray, dim: int, nprobe: int) -> faiss.IndexIVFFlat:
    quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(centroids)
    index = faiss.IndexIVFFlat(quantizer, dim, len(centroids), faiss.METRIC_INNER_PRODUCT)
    index.is_trained = True
    index.own_fields = True
    quantizer.this.disown()  # the index frees it
    index.nprobe = min(nprobe, len(centroids))
    return index


def build_ivf_in_parts(parts: list[np.ndarray], dim: int, nprobe: int = NPROBE) -> faiss.IndexIVFFlat:
    """``build_ivf`` of the parts stacked, without stacking them: the same sample trains the
    clusters, then each part is added in turn, and dropped from ``parts`` once added (a
    large ingest's steps: the whole corpus's vectors are never held twice)."""
    n = sum(len(p) for p in parts)
    rows = _sample_rows(n)
    starts = np.cumsum([0] + [len(p) for p in parts])
    picked = [rows[(rows >= starts[i]) & (rows < starts[i + 1])] for i in range(len(parts))]
    sample = np.concatenate([parts[i][picked[i] - starts[i]] for i in range(len(parts))])
    got = np.concatenate(picked)  # the rows ``sample`` holds, part by part
    by_row = np.argsort(got)
    sample = sample[by_row[np.searchsorted(got[by_row], rows)]]  # in the order build_ivf samples them
    index = _empty_ivf(_centroids(np.ascontiguousarray(sample, dtype=np.float32), dim, n), dim, nprobe)
    for i in range(len(parts)):
        index.add(np.ascontiguousarray(parts[i], dtype=np.float32))
        parts[i] = None
    index.make_direct_map()
    assert index.ntotal == n
    return index


def _sample_rows(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)  # same vectors, same centroids
    return rng.choice(n, min(n, n_lists(n) * TRAIN_PER_LIST), replace=False)


def _trained(vectors: np.ndarray, dim: int) -> np.ndarray:
    n = len(vectors)
    return _centroids(vectors[_sample_rows(n)], dim, n)


def _centroids(sample: np.ndarray, dim: int, n: int) -> np.ndarray:
    k = n_lists(n)
    km = faiss.Kmeans(dim, k, niter=10, spherical=True, seed=1, max_points_per_centroid=TRAIN_PER_LIST,
                      min_points_per_centroid=1, verbose=False)
    km.train(sample)
    return np.ascontiguousarray(km.centroids, dtype=np.float32)


def can_extend(index: faiss.Index, n: int, trained: int | None = None) -> bool:
    """Whether an index for ``n`` rows may be ``index`` plus the rows after its own: an
    IVF whose clusters still fit the size, and whose rows added since its clusters were
    trained (from row ``trained`` on, searched exactly: ``search``) stay few."""
    trained = index.ntotal if trained is None else trained
    return (not is_exact(index) and index.ntotal <= n and n_lists(n) <= 2 * index.nlist
            and n - trained <= TAIL_MAX)


def extend_index(index: faiss.Index, vectors: np.ndarray, dim: int, trained: int | None = None) -> faiss.Index:
    """The index for ``vectors`` when its first ``index.ntotal`` rows are what ``index``
    already holds (articles appended): an IVF copy gets only the new rows, as long as
    ``can_extend``. Otherwise, as ``build_index``. ``index`` is unchanged."""
    n = len(vectors)
    if not can_extend(index, n, trained):
        return build_index(vectors, dim)
    out = faiss.clone_index(index)  # memcpy: ~10x cheaper than assigning every vector again
    out.nprobe = index.nprobe
    out.add(np.ascontiguousarray(vectors[index.ntotal:], dtype=np.float32))
    out.make_direct_map()
    return out


def is_exact(index: faiss.Index) -> bool:
    return isinstance(index, faiss.IndexFlat)


def search(index: faiss.Index, vectors: np.ndarray, trained: int, query: np.ndarray,
           k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the ``k`` best rows for one query, best first.

    An IVF scans only the clusters nearest the query, and the rows added after its
    clusters were trained (``vectors[trained:]``: articles added one by one) were put
    in the cluster nearest each of them, which is not always one the query reaches:
    47/50 articles were in the top 4 right after their add, 49/50 after a rebuild
    (bench/bench_add_one.py). Those rows are also scored exactly here (at most
    TAIL_MAX of them: ~0.5 ms) and merged with the IVF's answer, so what was just
    added is found as a brute-force search would find it."""
    q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
    scores, rows = index.search(q, k)
    scores, rows = scores[0], rows[0]
    n = index.ntotal
    if is_exact(index) or trained >= n:
        keep = rows >= 0
        return scores[keep], rows[keep]
    tail = vectors[trained:n] @ q[0]
    m = min(k, len(tail))
    top = np.argpartition(-tail, m - 1)[:m]
    best = {int(r): float(sc) for sc, r in zip(scores, rows) if r >= 0}
    best.update((int(trained + i), float(tail[i])) for i in top)  # the same score either way (IVFFlat is exact within a list)
    order = sorted(best, key=lambda r: (-best[r], r))[:k]
    return np.array([best[r] for r in order], dtype=np.float32), np.array(order, dtype=np.int64)


class IvfRows:
    """The rows of an IVF index (with its direct map) as a read-only matrix, read back from
    FAISS on demand instead of kept beside it: at 197k chunks the second copy was 300 MB.
    The rows added after the clusters were trained (``trained`` on, searched exactly by
    ``search`` on every query) are kept as an array."""

    def __init__(self, index: faiss.IndexIVF, trained: int):
        self._index, self.trained = index, trained
        n = index.ntotal
        self.shape, self.dtype, self.ndim = (n, index.d), np.dtype(np.float32), 2
        self._tail = index.reconstruct_n(trained, n - trained) if n > trained else np.zeros((0, index.d), np.float32)

    def __len__(self) -> int:
        return self.shape[0]

    def reads(self, index: faiss.Index, trained: int) -> bool:
        """Whether these are the rows of ``index`` with its tail from row ``trained``."""
        return self._index is index and self.trained == trained

    def __getitem__(self, key):
        n = len(self)
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step == 1 and start >= self.trained:
                return self._tail[start - self.trained:max(start, stop) - self.trained]
            return self._index.reconstruct_n(0, n)[key] if step != 1 else \
                self._index.reconstruct_n(start, max(0, stop - start))
        rows = np.asarray(key)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64).reshape(-1)
        if len(rows) == 0:
            return np.zeros((0, self.shape[1]), np.float32)
        rows = np.where(rows < 0, rows + n, rows)
        return self._index.reconstruct_batch(rows)

    def __array__(self, dtype=None, copy=None):
        out = self._index.reconstruct_n(0, len(self)) if len(self) else np.zeros(self.shape, np.float32)
        return out if dtype is None else out.astype(dtype)
