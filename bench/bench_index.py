"""Indexing at scale: ingest a corpus, ingest it again, then add one article.

    .venv/bin/python bench/bench_index.py ../shared/data/realtimeqa/corpus_2022.jsonl \
        ../shared/data/bbc_news/articles.jsonl [--limit N] [--stand-in]

Each corpus runs in its own process (so peak memory is that corpus's), into a
throw-away data dir. Baseline in the same run: adding one article is compared with
re-indexing everything, which is what a store without incremental indexing would
do. `--stand-in` swaps the embedder for an instant hashed one of the same
dimension: embedding figures are then meaningless (shown as "-"), but index size,
load time, peak memory and the cost of adding one article to a full-size index are
real, in seconds instead of hours. On a shared machine the figures move with the
load average (printed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ONE = ("The harbour authority of Port Avery approved a new ferry terminal on Thursday. "
       "Construction will start in the autumn and take about two years. "
       "The terminal will serve three routes to the islands and replace the old wooden pier. "
       "Local businesses welcomed the decision, saying it would bring more visitors.")


class TimedEmbedder:
    """Wraps an embedder to add up the time spent embedding."""

    def __init__(self, inner):
        self.inner, self.name, self.seconds, self.texts = inner, inner.name, 0.0, 0

    @property
    def dim(self):
        return self.inner.dim

    def __getattr__(self, name):  # large_job and the rest: the inner embedder's
        return getattr(self.inner, name)

    def embed(self, texts):
        t = time.perf_counter()
        out = self.inner.embed(texts)
        self.seconds += time.perf_counter() - t
        self.texts += len(texts)
        return out


def one_corpus(path: str, limit: int | None, stand_in: bool, keep: str | None = None) -> dict:
    from rag.config import PACKAGED_EMBEDDER, Settings
    from rag.documents import load_paths, make_article
    from rag.components.embedding import FakeEmbedder, load_embedder
    from rag.assemble import offline, open_index
    from rag.index.faiss.versions import current_version, load_store

    offline()
    data = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench-index-"))
    if keep and data.exists() and any(data.iterdir()):
        raise SystemExit(f"--keep {data}: not empty")
    settings = Settings(data_dir=data)
    inner = FakeEmbedder(dim=384, name="stand-in") if stand_in else load_embedder(PACKAGED_EMBEDDER)
    inner.embed(["warm up"])  # model load is not indexing
    emb = TimedEmbedder(inner)
    index = open_index(settings, emb)  # indexing asks nothing: no pipeline

    t = time.perf_counter()
    loaded = load_paths([path])
    articles = loaded.articles[:limit] if limit else loaded.articles
    parse_s = time.perf_counter() - t

    t = time.perf_counter()
    first = index.ingest(articles, show_progress=sys.stderr.isatty())
    ingest_s = time.perf_counter() - t
    embed_s, embedded = emb.seconds, emb.texts
    ingest_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    version_dir = data / "versions" / current_version(data)
    size = sum(f.stat().st_size for f in version_dir.iterdir())

    t = time.perf_counter()
    second = index.ingest(articles)
    reingest_s = time.perf_counter() - t

    t = time.perf_counter()
    load_store(data, emb.name, index.layout.chunking)
    load_s = time.perf_counter() - t

    adds = []
    for i in range(3):  # three different new articles; the median is reported
        t = time.perf_counter()
        index.ingest([make_article(ONE + f" It is update number {i}.", id=f"bench-new-{i}")])
        adds.append(time.perf_counter() - t)

    if keep:  # the index of the corpus alone, for `rag eval --index-dir`
        index.delete_many([f"bench-new-{i}" for i in range(3)])
    else:
        shutil.rmtree(data, ignore_errors=True)
    return {"corpus": Path(path).parent.name + "/" + Path(path).name, "articles_in": len(articles),
            "rejected_on_load": len(loaded.rejected), "added": first.count("added"),
            "duplicates": first.count("duplicate"), "chunks": first.chunks, "parse_s": parse_s,
            "ingest_s": ingest_s, "embed_s": embed_s, "embedded_chunks": embedded,
            "second_added": second.count("added") + second.count("updated"),
            "second_skipped": second.count("unchanged") + second.count("duplicate"),
            "reingest_s": reingest_s, "load_s": load_s, "add_one_s": sorted(adds)[1],
            "index_mb": size / 1e6, "peak_rss_mb": ingest_rss,
            "final_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "stand_in": stand_in}


def table(rows: list[dict]) -> str:
    def rate(n, s, ok):
        return f"{n / s:,.1f}" if ok and s > 0 else "-"

    cols = [("corpus", lambda r: r["corpus"]),
            ("articles", lambda r: f"{r['added']:,} (+{r['duplicates']} dup)"),
            ("chunks", lambda r: f"{r['chunks']:,}"),
            ("ingest s", lambda r: f"{r['ingest_s']:,.1f}"),
            ("articles/s", lambda r: rate(r["added"], r["ingest_s"], not r["stand_in"])),
            ("chunks/s", lambda r: rate(r["chunks"], r["ingest_s"], not r["stand_in"])),
            ("embed chunks/s", lambda r: rate(r["embedded_chunks"], r["embed_s"], not r["stand_in"])),
            ("peak RSS MB", lambda r: f"{r['peak_rss_mb']:,.0f}"),  # process, through the first ingest
            ("index MB", lambda r: f"{r['index_mb']:,.0f}"),
            ("2nd ingest", lambda r: f"+{r['second_added']} in {r['reingest_s']:.1f}s"),
            ("load s", lambda r: f"{r['load_s']:.1f}"),
            ("add 1 s", lambda r: f"{r['add_one_s']:.2f}"),
            ("vs re-index", lambda r: f"{r['ingest_s'] / r['add_one_s']:,.0f}x faster")]
    cells = [[h for h, _ in cols]] + [[f(r) for _, f in cols] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="+", help="corpus files (.jsonl etc.)")
    ap.add_argument("--limit", type=int, help="only the first N articles of each corpus")
    ap.add_argument("--stand-in", action="store_true", help="instant hashed embedder (sizes and store costs only)")
    ap.add_argument("--keep", metavar="DIR", help="index into DIR (new or empty) and keep it (one corpus)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_corpus(args.paths[0], args.limit, args.stand_in, args.keep)))
        return 0
    rows = []
    for path in args.paths:
        cmd = [sys.executable, __file__, path, "--child"] + (["--limit", str(args.limit)] if args.limit else []) \
            + (["--stand-in"] if args.stand_in else []) + (["--keep", args.keep] if args.keep else [])
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(f"done: {path}", file=sys.stderr)
    print(f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
          + (", STAND-IN embedder: no embedding figures" if args.stand_in else ""))
    print(table(rows))
    for r in rows:
        print(f"{r['corpus']}: parse {r['parse_s']:.1f}s, embedding {r['embed_s']:.1f}s of "
              f"{r['ingest_s']:.1f}s ingest; {r['rejected_on_load']} records rejected on load; "
              f"second ingest skipped {r['second_skipped']:,} (unchanged or duplicate); "
              f"peak RSS {r['final_rss_mb']:,.0f} MB by the end (a second copy loaded to time the load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
