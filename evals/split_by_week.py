"""Split a dated question set (RealTimeQA's `question_date`) into dev and held-out by
week, before anything is tuned on it: ISO weeks 1-26 of each year are dev, 27-53 held-out
(the later weeks). Writes DEV and HELD_OUT as JSON lines and prints the counts.

    python evals/split_by_week.py ../shared/data/realtimeqa/qa_2023_out_of_corpus.jsonl /tmp/q23_dev.jsonl /tmp/q23_held.jsonl
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from rag.dates import parse_date


def main(src: str, dev: str, held: str) -> int:
    out: dict[str, list[str]] = {"dev": [], "held": []}
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            day = parse_date(rec["question_date"])
            week = dt.date.fromisoformat(day).isocalendar()[1]
            out["dev" if week <= 26 else "held"].append(line)
    for name, path in (("dev", dev), ("held", held)):
        Path(path).write_text("\n".join(out[name]) + "\n", encoding="utf-8")
    print(f"dev (weeks 1-26): {len(out['dev'])}  held-out (weeks 27-53): {len(out['held'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
