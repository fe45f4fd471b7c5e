"""Retrieval latency at 1k / 10k / 100k chunks: exact IndexFlatIP (baseline) against IVF, in one run.

    .venv/bin/python bench/bench_retrieval.py [--sizes 1000 10000 100000] [--queries 200] [--hnsw]

Vectors are synthetic but clustered like sentence embeddings (topics with spread),
384 dims, L2-normalised; queries are perturbed corpus points. For each size:
build time, vector search p50/p95 for one query, recall of the 10 and 50 best
(the retriever takes 50 dense candidates) against exact search, and the full hybrid
``Retriever.search`` (FAISS + BM25 over synthetic texts + fusion; the query vector
comes from a cache, as a repeated question's does) with the index that
rag/vector_index.py picks for that size. ``--hnsw`` adds HNSW (slow to build).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.index.faiss import vector_index  # noqa: E402

DIM = 384


def clustered(n: int, rng: np.random.Generator, topics: int | None = None) -> np.ndarray:
    topics = topics or max(20, n // 200)
    centers = rng.standard_normal((topics, DIM)).astype(np.float32)
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    which = rng.integers(0, topics, n)
    x = centers[which] + 0.9 * rng.standard_normal((n, DIM)).astype(np.float32) / np.sqrt(DIM)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def queries_from(x: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    q = x[rng.integers(0, len(x), m)] + 0.6 * rng.standard_normal((m, DIM)).astype(np.float32) / np.sqrt(DIM)
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def timed_search(index: faiss.Index, qs: np.ndarray, k: int = 50) -> tuple[list[float], np.ndarray]:
    times, ids = [], []
    index.search(qs[:5], k)  # warm caches
    for q in qs:
        t = time.perf_counter()
        _, i = index.search(q[None, :], k)
        times.append((time.perf_counter() - t) * 1000)
        ids.append(i[0])
    return times, np.array(ids)


def recall(ids: np.ndarray, exact: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(a[:k]) & set(b[:k])) / k for a, b in zip(ids, exact)]))


def p(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q))


def hybrid_p50(x: np.ndarray, qs: np.ndarray, rng: np.random.Generator, n_queries: int) -> tuple[float, str]:
    """Retriever.search over a store of synthetic texts, with the index vector_index picks."""
    from rag.answering.retrieval import Retriever
    from rag.index.faiss.article_store import ArticleStore
    from rag.index.protocols import Chunking
    from rag.types import Article, Chunk

    vocab = [f"w{i}" for i in range(5000)]
    zipf = np.minimum(rng.zipf(1.3, (len(x), 50)), len(vocab)) - 1
    texts = [" ".join(vocab[j] for j in row) for row in zipf]
    chunks = [Chunk(f"a{i}#0", f"a{i}", t, 0, len(t)) for i, t in enumerate(texts)]
    articles = {c.article_id: Article(c.article_id, c.article_id, c.text) for c in chunks}
    store = ArticleStore("synthetic", DIM, Chunking(), articles, {}, chunks, x)
    store.faiss = vector_index.build_index(x, DIM)  # what article_store.py builds at this size
    words = [" ".join(texts[i].split()[:6]) for i in rng.integers(0, len(x), n_queries)]

    class Cached:  # the query vector is known, as for a repeated question
        name, dim = "synthetic", DIM
        table = dict(zip(words, qs[:n_queries]))

        def embed(self, batch):
            return np.stack([self.table[t] for t in batch])

    r = Retriever(lambda: store, Cached())
    r.search(store, words[0], 4)
    times = []
    for w in words:
        t = time.perf_counter()
        r.search(store, w, 4)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), type(store.faiss).__name__


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--hnsw", action="store_true", help="also HNSW (M=32, efSearch=64)")
    ap.add_argument("--no-hybrid", action="store_true", help="skip the Retriever.search column")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for n in args.sizes:
        print(f"n={n:,} ...", file=sys.stderr)
        x = clustered(n, rng)
        qs = queries_from(x, args.queries, rng)
        t = time.perf_counter()
        flat = vector_index.build_index(x, DIM, exact_max=n)
        flat_build = time.perf_counter() - t
        ft, exact = timed_search(flat, qs)
        more = np.vstack([x, clustered(20, rng)])  # one article's worth of chunks appended
        t = time.perf_counter()
        vector_index.build_index(more, DIM, exact_max=len(more))
        flat_add = time.perf_counter() - t
        rows.append((n, "flat (exact, baseline)", flat_build, flat_add, ft, 1.0, 1.0))
        t = time.perf_counter()
        ivf = vector_index.build_ivf(x, DIM)
        build = time.perf_counter() - t
        t = time.perf_counter()
        vector_index.extend_index(ivf, more, DIM)
        ivf_add = time.perf_counter() - t
        it, ids = timed_search(ivf, qs)
        rows.append((n, f"ivf{ivf.nlist} nprobe{ivf.nprobe}", build, ivf_add, it, recall(ids, exact, 10),
                     recall(ids, exact, 50)))
        if args.hnsw:
            t = time.perf_counter()
            h = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
            h.hnsw.efSearch = 64
            h.add(x)
            hb = time.perf_counter() - t
            ht, ids = timed_search(h, qs)
            rows.append((n, "hnsw32 ef64", hb, float("nan"), ht, recall(ids, exact, 10), recall(ids, exact, 50)))
        hybrid = None if args.no_hybrid else hybrid_p50(x, qs, rng, min(args.queries, 100))
        rows.append((n, "picked", hybrid))

    print(f"\nload average {os.getloadavg()[0]:.2f} (cores {os.cpu_count()}); {args.queries} single queries, "
          f"k=50, dim {DIM}; vector_index.EXACT_MAX={vector_index.EXACT_MAX:,}")
    print(f"{'chunks':>8}  {'index':<24}{'build s':>9}{'+20 s':>7}{'p50 ms':>8}{'p95 ms':>8}"
          f"{'vs flat':>9}{'recall@10':>10}{'recall@50':>10}")
    flat_p50 = None
    for row in rows:
        n, label = row[0], row[1]
        if label == "picked":
            if row[2] is not None:
                print(f"{n:>8,}  hybrid Retriever.search with {row[2][1]}: p50 {row[2][0]:.2f} ms")
            continue
        _, _, build, add, times, r10, r50 = row
        p50 = p(times, 50)
        flat_p50 = p50 if label.startswith("flat") else flat_p50
        print(f"{n:>8,}  {label:<24}{build:>9.2f}{add:>7.2f}{p50:>8.3f}{p(times, 95):>8.3f}"
              f"{flat_p50 / p50:>8.1f}x{r10:>10.3f}{r50:>10.3f}")
    print("(build: a snapshot built from scratch; +20: 20 chunks appended (flat: rebuilt, ivf: extend_index);"
          " vs flat: how many times faster)")


if __name__ == "__main__":
    main()
