"""Where time stops a question before the model (issue #20), for tuning the stale rules on
dev without generating: for each question, what it says about time (W: a window, P: the
present, N: neither), whether it reaches the model (empty: nothing relevant, gate: no
sentence answers, pass), the age of the article its best sentence comes from and of the
newest relevant article. Then, for the stale rules, the share of questions that would not
be answered (the 2023 questions: an upper bound on "abstained or right").

    python evals/stale_probe.py SET.jsonl OUT.jsonl --index-dir IDX [--every 3]
    python evals/stale_probe.py --table OUT.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def probe(src: str, out: str, index_dir: str, every: int) -> None:
    from rag.answering.grounding import best_answers
    from rag.answering.recency import in_time, published_on
    from rag.answering.subject import keep_matching
    from rag.answering.when import time_scope
    from rag.answering.tuning import Tuning
    from rag.assemble import build
    from rag.config import Settings
    from rag.dates import parse_date

    t = Tuning()  # the knobs the probe reads (rerank_candidates, half-life, min_relevance)
    parts = build(Settings(data_dir=index_dir), tuning=t)
    p, snap = parts.pipeline, parts.index.snapshot()
    lines = [json.loads(x) for x in open(src, encoding="utf-8") if x.strip()][::every]
    with open(out, "w", encoding="utf-8") as f:
        for q in lines:
            day = dt.date.fromisoformat(parse_date(q["question_date"]))
            scope = time_scope(q["question"], day)
            hits = p.retriever.search(snap, q["question"], t.rerank_candidates * (8 if scope.window else 4 if scope.bound else 2))
            arts = snap.articles({h.chunk.article_id for h in hits})
            timed = in_time(hits, arts, day, scope, t.recency_half_life_days, t.min_relevance)
            cands = timed.hits[:t.rerank_candidates]
            rec = {"question": q["question"], "cat": "W" if scope.window else "P" if scope.present else "N",
                   "newest_age": (day - dt.date.fromisoformat(timed.newest)).days if timed.newest else None,
                   "stage": "empty", "top_age": None}
            if cands and max(h.dense for h in cands) >= t.min_relevance:
                cands = keep_matching(q["question"], cands, arts) or cands
                kept, ranked = p._rerank(q["question"], cands, 4)
                top = published_on(arts[kept[ranked[0].source.hit].chunk.article_id]) if ranked else None
                rec.update(stage="pass" if p.grounder.answerable(q["question"], ranked) else "gate",
                           top_age=(day - top).days if top else None,
                           best=round(best_answers(ranked), 4) if ranked else 0.0)
            f.write(json.dumps(rec) + "\n")


def stale(x: dict, recent: int, horizon: int | None) -> bool:
    """The rule of rag/answering/recency.stale_answer on a probed question."""
    age, newest = x["top_age"], x["newest_age"]
    if x["cat"] == "W" or age is None:
        return False
    if x["cat"] == "P":
        return age > recent
    return horizon is not None and newest is not None and age > horizon and age - newest > horizon


def table(path: str, recent: int = 31) -> None:
    rows = [json.loads(x) for x in open(path, encoding="utf-8")]
    counts: dict[str, int] = {}
    for x in rows:
        counts[f"{x['cat']} {x['stage']}"] = counts.get(f"{x['cat']} {x['stage']}", 0) + 1
    print(len(rows), "questions:", dict(sorted(counts.items())))
    print("stale_days  answered  not answered")
    for horizon in (None, 31, 62, 93, 183, 365):
        n = sum(x["stage"] == "pass" and not stale(x, recent, horizon) for x in rows)
        print(f"{horizon or 'off':>10}  {n:8d}  {1 - n / len(rows):12.1%}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--index-dir")
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--table", action="store_true")
    a = ap.parse_args()
    if a.table:
        table(a.paths[0])
    else:
        probe(a.paths[0], a.paths[1], a.index_dir, a.every)
    sys.exit(0)
