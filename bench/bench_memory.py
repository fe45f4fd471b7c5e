"""Resident memory of the serving process as it is used (issue 21).

    nice -n 19 .venv/bin/python bench/bench_memory.py [--articles 636] [--questions 200]
                                                      [--adds 1000] [--batch 20]

1. A child process (`rag ingest`) indexes --articles RealTimeQA articles
   (../shared/data/realtimeqa/corpus_2022.jsonl: the dev questions' gold and retrieved
   articles first, then the corpus in order) into a temporary data folder.
2. This process serves it as `rag serve` does (create_app: its lifespan, the
   background loader, the real embedder, generator and verifier), driven in-process
   through Starlette's TestClient (no sockets; the app runs in its own thread).
   RSS once /health answers: "after start".
3. --questions POST /ask: the 85 RealTimeQA dev questions, then 2023 questions
   (../shared/data/realtimeqa/qa_2023_out_of_corpus.jsonl), whose answers are mostly
   not in the 2022 articles (abstentions, as real users get too). Each is asked as of
   its own question_date (the /ask `as_of` field): asked as of today, most were refused
   as stale before the verifier read them. The answered / abstained counts, by reason,
   are printed.
4. --adds BBC articles (../shared/data/bbc_news/articles.jsonl) through POST /articles,
   --batch per request (each request saves and publishes an index version).

After each step: VmRSS, VmHWM (peak), and /proc/self/smaps grouped: anonymous memory
(glibc heaps and torch's large buffers), model files mapped read-only, shared
libraries, the rest. Figures go to stdout; nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import subprocess
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
CORPUS = DATA / "realtimeqa" / "corpus_2022.jsonl"
DEV = DATA / "realtimeqa" / "qa_dev.jsonl"
LATER = DATA / "realtimeqa" / "qa_2023_out_of_corpus.jsonl"
BBC = DATA / "bbc_news" / "articles.jsonl"


def status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


def smaps_groups() -> Counter:
    """Resident MB by kind of mapping."""
    groups: Counter = Counter()
    name = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        first = line.split(maxsplit=5)
        if len(first) >= 5 and "-" in first[0] and not first[0].endswith(":"):
            name = first[5] if len(first) > 5 else ""
        elif line.startswith("Rss:"):
            kb = int(line.split()[1])
            if not name or name.startswith("[anon") or name == "[heap]":
                kind = "anonymous (heaps, tensors)"
            elif ".so" in name:
                kind = "shared libraries"
            elif name.startswith("["):
                kind = name
            else:
                kind = "mapped files (models, index)"
            groups[kind] += kb
    return Counter({k: v // 1024 for k, v in groups.items()})


def report(step: str, t0: float) -> None:
    s, g = status(), smaps_groups()
    parts = ", ".join(f"{k} {v}" for k, v in g.most_common() if v >= 5)
    print(f"{step:<28} RSS {s['VmRSS']:>5} MB  peak {s['VmHWM']:>5} MB  ({parts})  "
          f"[{time.perf_counter() - t0:.0f} s]", flush=True)


def pick_articles(n: int) -> list[dict]:
    wanted: list[str] = []
    for line in DEV.open():
        q = json.loads(line)
        wanted += q.get("gold_doc_ids", []) + q.get("retrieved_doc_ids", [])
    order = {d: i for i, d in enumerate(dict.fromkeys(wanted))}
    docs = [json.loads(line) for line in CORPUS.open()]
    docs.sort(key=lambda d: order.get(d["doc_id"], len(order)))  # stable: then corpus order
    return docs[:n]


def questions(n: int) -> list[tuple[str, str]]:
    """(question, the day it was asked on as YYYY-MM-DD)."""
    rows = [json.loads(line) for path in (DEV, LATER) for line in path.open()]
    return [(r["question"], r["question_date"].replace("/", "-")) for r in rows][:n]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=636)
    ap.add_argument("--questions", type=int, default=200)
    ap.add_argument("--adds", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--index", type=Path, help="a data folder indexed by an earlier run (copied): skips step 1")
    args = ap.parse_args()
    for k, v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}.items():
        os.environ.setdefault(k, v)

    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-memory-"))
    subset = tmp / "articles.jsonl"
    with subset.open("w") as f:
        for d in pick_articles(args.articles):
            f.write(json.dumps(d) + "\n")
    t0 = time.perf_counter()
    if args.index:
        shutil.copytree(args.index, tmp / "data", symlinks=True)
        print(f"copied the index in {args.index}")
    else:
        subprocess.run([sys.executable, "-m", "rag.cli", "--data-dir", str(tmp / "data"), "ingest", str(subset)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        print(f"indexed {args.articles} articles in a child process [{time.perf_counter() - t0:.0f} s]")

    from fastapi.testclient import TestClient

    from rag.config import Settings
    from rag.server.app import create_app

    os.environ["RAG_DATA_DIR"] = str(tmp / "data")
    t0 = time.perf_counter()
    report("before the app", t0)
    with TestClient(create_app(settings=Settings(data_dir=tmp / "data"))) as c:
        while (h := c.get("/health")).status_code != 200:
            if h.json().get("status") == "error":
                raise SystemExit(f"start-up failed: {h.json()['detail']}")
            time.sleep(0.5)
        print(f"serving {h.json()['articles']} articles, {h.json()['chunks']} chunks")
        report("after start", t0)
        outcomes: Counter = Counter()
        verified = 0  # questions the verifier read passages for
        for i, (q, day) in enumerate(questions(args.questions), 1):
            r = c.post("/ask", json={"question": q, "as_of": day})
            assert r.status_code == 200, r.text
            body = r.json()
            outcomes[f"abstained: {body.get('reason') or 'no reason given'}" if body["abstained"] else "answered"] += 1
            verified += "verify" in (body.get("timings_ms") or {})
            if i % 50 == 0 or i == args.questions:
                report(f"after {i} questions", t0)
        print(f"({sum(outcomes.values())} questions: " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common())
              + f"; {verified} reached the verifier)")
        bbc = [json.loads(line) for line in BBC.open()][:args.adds]
        for i in range(0, len(bbc), args.batch):
            batch = [{"id": d["doc_id"], "title": d["title"], "text": d["body"]} for d in bbc[i:i + args.batch]]
            r = c.post("/articles", json=batch)
            assert r.status_code == 200, r.text
            done = i + len(batch)
            if done % 250 == 0 or done == len(bbc):
                report(f"after {done} adds", t0)
        print(f"serving {c.get('/health').json()['articles']} articles")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
