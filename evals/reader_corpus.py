"""Write the 8 articles of the reader set (evals/reader_set.jsonl) as one JSONL corpus.

    python evals/reader_corpus.py OUT.jsonl
    rag eval evals/reader_set.jsonl --corpus OUT.jsonl

The articles are third-party text (BBC News; RealTimeQA's CNN / USA Today corpus), so
they are not kept in the repository: this copies them from ../shared/data, the
evaluation data beside the checkout. Each line holds id, title, text, url, published and
source, the fields rag.documents reads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "evals" / "reader_set.jsonl"
DATA = ROOT / ".." / "shared" / "data"
SOURCES = (  # file, its text field
    (DATA / "bbc_news" / "articles.jsonl", "body"),
    (DATA / "realtimeqa" / "corpus_2022.jsonl", "text"),
)


def gold_ids(path: Path = SET) -> list[str]:
    ids: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            ids.update(dict.fromkeys(json.loads(line).get("gold_ids", [])))
    return list(ids)


def article(rec: dict, text_field: str) -> dict:
    published = rec.get("publish_date")  # RealTimeQA: "2022/07/30"; BBC: none
    return {"id": rec["doc_id"], "title": rec.get("title") or None, "text": rec[text_field],
            "url": rec.get("url") or None,
            "published": published.replace("/", "-") if published else None,
            "source": rec.get("source") or None}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python evals/reader_corpus.py OUT.jsonl", file=sys.stderr)
        return 2
    wanted = gold_ids()
    found: dict[str, dict] = {}
    for path, text_field in SOURCES:
        if not path.is_file():
            print(f"error: no such file: {path} (the shared evaluation data)", file=sys.stderr)
            return 1
        with path.open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("doc_id") in wanted:
                    found[rec["doc_id"]] = article(rec, text_field)
    missing = [i for i in wanted if i not in found]
    if missing:
        print(f"error: articles not found in {DATA}: {', '.join(missing)}", file=sys.stderr)
        return 1
    out = Path(argv[0])
    with out.open("w", encoding="utf-8") as f:
        for i in wanted:
            f.write(json.dumps(found[i], ensure_ascii=False) + "\n")
    print(f"wrote {len(wanted)} articles to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
