"""PostgreSQL keyword search: the BM25 query as shipped (each matching chunk's tsvector
cut down to the query's lexemes before it is unnested) against the first version
(the whole tsvector unnested), on one database, queries alternating.

    .venv/bin/python bench/bench_pg_lexical.py [--chunks 100000] [--queries 100]

Prints p50/p95 ms of each and the ratio, and checks both rank the same chunks."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_stores import DIM, Corpus, Pg, settings_for, write_direct  # noqa: E402
from rag.assemble import open_index  # noqa: E402
from rag.components.embedding import FakeEmbedder  # noqa: E402
from rag.index.postgres_read import K1  # noqa: E402

WHOLE = """
    WITH q AS (
        SELECT t.lexeme, ln(1 + (n.df - t.df + 0.5) / (t.df + 0.5)) AS idf
        FROM {t} t, {t} n
        WHERE n.lexeme = '' AND t.lexeme = ANY(tsvector_to_array(to_tsvector('english', %(q)s))) AND t.df > 0),
    m AS (
        SELECT c.id, c.seq, c.tsv FROM {c} c WHERE c.tsv @@ (
            SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery FROM q))
    SELECT m.id, sum(q.idf * (1 + {k1}) * cardinality(u.positions) / (cardinality(u.positions) + {k1})) AS score
    FROM m, unnest(m.tsv) u JOIN q ON q.lexeme = u.lexeme
    GROUP BY m.id, m.seq ORDER BY score DESC, m.seq LIMIT %(k)s"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pg = Pg(Path(tmp), "1GB")
        try:
            corpus = Corpus(args.chunks, seed=args.chunks, vectors="random")
            index = open_index(settings_for(pg.database("lex"), Path(tmp) / "d"), FakeEmbedder(DIM))
            index.open(seed=False)
            write_direct(index, corpus)
            snap = index.snapshot()
            lexical = snap.lexical
            whole = WHOLE.format(t=lexical._t, c=lexical._c, k1=K1)
            _, texts = corpus.queries(args.queries, seed=1)
            times = {"shipped": [], "whole tsvector": []}
            same = 0
            for q in texts[:10]:  # warm-up
                lexical.search(q, 50)
            for q in texts:
                t = time.perf_counter()
                a = lexical.search(q, 50)
                times["shipped"].append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                b = lexical._db.rows(whole, {"q": q, "k": 50})
                times["whole tsvector"].append((time.perf_counter() - t) * 1000)
                same += [i for i, _ in a] == [i for i, _ in b]
            index.close()
        finally:
            pg.stop()
    p = {name: (statistics.median(v), sorted(v)[int(0.95 * (len(v) - 1))]) for name, v in times.items()}
    print(f"{len(corpus.chunks):,} chunks, {args.queries} queries of 4 words, k=50, alternating")
    for name, (p50, p95) in p.items():
        print(f"{name:16s} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms")
    print(f"whole/shipped: p50 {p['whole tsvector'][0] / p['shipped'][0]:.2f}x, "
          f"p95 {p['whole tsvector'][1] / p['shipped'][1]:.2f}x; same ranking {same}/{args.queries}")


if __name__ == "__main__":
    main()
