"""Share of articles that get a publication date at ingest, read three ways from the same
records: as JSON lines (the record's date field), as HTML pages whose only date is a meta
tag, and as HTML pages whose only date is in the URL (og:url). Prints the three shares.

    python evals/date_coverage.py ../shared/data/realtimeqa/corpus_2022.jsonl [--limit N]
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import tempfile
import time
from pathlib import Path

from rag.documents import load_paths, parse_bytes

PAGE = """<!doctype html><html><head><title>{title}</title>{head}</head>
<body><article><h1>{title}</h1>{body}</article></body></html>"""


def page(rec: dict, how: str) -> bytes:
    head = ""
    if how == "meta" and rec.get("publish_date"):
        head = f'<meta property="article:published_time" content="{html.escape(rec["publish_date"])}">'
    elif how == "url" and rec.get("url"):
        head = f'<meta property="og:url" content="{html.escape(rec["url"])}">'
    body = "".join(f"<p>{html.escape(p)}</p>" for p in rec["text"].split("\n") if p.strip())
    return PAGE.format(title=html.escape(rec.get("title") or ""), head=head, body=body).encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--limit", type=int, default=None)
    args = ap.parse_args()
    lines = Path(args.corpus).read_text(encoding="utf-8").splitlines()[:args.limit]
    recs = [json.loads(x) for x in lines if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "corpus.jsonl")
        path.write_text("\n".join(json.dumps(r) for r in recs), encoding="utf-8")
        t0 = time.perf_counter()
        arts = load_paths([path]).articles
        print(f"JSON lines:      {sum(a.published is not None for a in arts)}/{len(arts)} dated "
              f"({sum(a.published is not None for a in arts) / max(1, len(arts)):.1%}), "
              f"{time.perf_counter() - t0:.1f} s")
    for how in ("meta", "url"):
        t0, dated, n = time.perf_counter(), 0, 0
        for i, rec in enumerate(recs):
            got = parse_bytes(page(rec, how), f"{i}.html").articles
            n += bool(got)
            dated += bool(got and got[0].published)
        print(f"HTML, {how + ' only:':<10} {dated}/{n} dated ({dated / max(1, n):.1%}), "
              f"{time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
