"""The verifier's precision: speed, memory growth and agreement with float32, per candidate.

    .venv/bin/python bench/bench_verifier.py capture [--calls F]   # record the calls (fp32)
    .venv/bin/python bench/bench_verifier.py compare [--calls F] [--candidates ...]
    .venv/bin/python bench/bench_verifier.py memory [--questions 300] [--candidates ...]

capture: the pipeline (real embedder, generator and float32 verifier) answers the seed
article's questions (bench_ask.py's, evals/seed_qa*.jsonl) and the reader set's dev
questions over its 8 articles (evals/reader_corpus.py); every verifier call (rank,
spans, support, answers) is written to --calls, grouped by question.

compare: each candidate replays those calls, question by question, the candidates
interleaved (rotating order) so that all see the same load: p50 of the first call (the
pipeline's "verify" step: rank, one read of all sentences and passages) and of all the
calls of a question; then agreement with float32: max |score difference| and how many
decisions flip (a text's answer probability >= the calibrated `answerable`, the
question's best >= it, has_answer >= 0.5, the support argmax, entailed >= `supported`,
the top sentence, the short answer read).

memory: each candidate in a fresh process set up as the server is (malloc arenas,
mapping threshold, oneDNN cache, a heap trim after each question): --questions distinct
RealTimeQA questions, each scored against 20-41 texts of random lengths (as rank does
with the sentences and passages), 1-4 span reads and 2-12 support pairs; VmRSS after
load and as it goes.

Candidates: float32, bfloat16, int8 (quantization.py's recipe on the encoder), and
"+pad" for inputs padded to fixed shapes (PAD_SHAPES in verifier.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "realtimeqa"
CALLS = Path(tempfile.gettempdir()) / "rag-verifier-calls.json"
CANDIDATES = ["float32", "bfloat16", "int8", "float32+pad", "bfloat16+pad"]


def verifier(candidate: str):
    from rag.components.verifier import CrossEncoderVerifier

    dtype, _, pad = candidate.partition("+")
    v = CrossEncoderVerifier(dtype=dtype, pad_shapes=pad == "pad")
    v.load()
    return v


class Recorder:
    """A verifier that writes down every call (and answers with the real one)."""

    def __init__(self, inner):
        self.inner, self.groups, self.group = inner, [], None
        self.span_null, self.calibration = inner.span_null, inner.calibration

    def start(self, label: str) -> None:
        self.group = {"question": label, "calls": []}
        self.groups.append(self.group)

    def _log(self, method, a, b):
        if self.group is not None:
            self.group["calls"].append({"method": method, "a": a, "b": b})

    def answers(self, question, sentences):
        self._log("answers", question, list(sentences))
        return self.inner.answers(question, sentences)

    def read(self, question, sentences):
        self._log("read", question, list(sentences))
        return self.inner.read(question, sentences)

    def spans(self, question, sentences):
        self._log("read", question, list(sentences))
        return self.inner.spans(question, sentences)

    def support(self, pairs):
        self._log("support", [c for c, _ in pairs], [e for _, e in pairs])
        return self.inner.support(pairs)


def capture(path: Path) -> None:
    from bench.bench_ask import QUESTIONS
    from evals.reader_corpus import SET
    from rag.assemble import build, ensure_index, offline
    from rag.config import Settings
    from rag.eval_data import load_eval_set

    offline()
    rec = Recorder(verifier("float32"))
    seed_qs = list(QUESTIONS) + [json.loads(line)["question"] for name in ("seed_qa", "seed_qa_new")
                                 for line in (ROOT / "evals" / f"{name}.jsonl").open() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-verifier-") as tmp:
        index, p, _ = build(Settings(data_dir=Path(tmp) / "seed", seeds_dir=ROOT / "seeds"), verifier=rec)
        ensure_index(index)
        for q in dict.fromkeys(seed_qs):
            rec.start(q)
            p.ask(q)
        corpus = Path(tmp) / "reader.jsonl"
        subprocess.run([sys.executable, str(ROOT / "evals" / "reader_corpus.py"), str(corpus)], check=True)
        ev = load_eval_set(SET, corpus)
        index2, p2, _ = build(Settings(data_dir=Path(tmp) / "reader", seeds_dir=ROOT / "seeds"),
                           embedder=p.embedder, generator=p.generator, verifier=rec)
        index2.ingest(ev.articles)
        dev = [json.loads(line) for line in SET.open() if line.strip()]
        for r in dev:
            if r["split"] == "dev":
                rec.start(r["question"])
                p2.ask(r["question"])
    groups = [g for g in rec.groups if g["calls"]]
    path.write_text(json.dumps(groups))
    n = sum(len(g["calls"]) for g in groups)
    print(f"{len(groups)} questions, {n} verifier calls, "
          f"{sum(len(c['b']) for g in groups for c in g['calls'])} texts -> {path}")


def replay(v, call) -> dict:
    if call["method"] == "support":
        return {"support": v.support(list(zip(call["a"], call["b"])))}
    if call["method"] == "answers":
        return {"answers": v.answers(call["a"], call["b"])}
    p, spans = v.read(call["a"], call["b"])
    return {"answers": p, "has": np.array([s.has_answer if s and s.has_answer is not None else np.nan for s in spans]),
            "span": [s.text if s else None for s in spans]}


def agreement(ref: list[list[dict]], out: list[list[dict]], cal) -> dict:
    diff = {"answers": 0.0, "has": 0.0, "support": 0.0}
    flips = {k: [0, 0] for k in ("answer >= answerable", "question answerable", "has_answer >= 0.5",
                                 "support argmax", "entailed >= supported", "top sentence", "short answer")}

    def count(key, a, b):
        flips[key][0] += int(np.sum(a != b))
        flips[key][1] += int(np.size(a))

    for rq, oq in zip(ref, out):
        for i, (r, o) in enumerate(zip(rq, oq)):
            for k in diff:
                if k in r and len(r[k]):
                    d = np.abs(np.asarray(r[k], float) - np.asarray(o[k], float))
                    diff[k] = max(diff[k], float(np.nanmax(d)) if np.isfinite(d).any() else 0.0)
            if "answers" in r:
                count("answer >= answerable", r["answers"] >= cal.answerable, o["answers"] >= cal.answerable)
            if "has" in r and np.isfinite(r["has"]).any():
                count("has_answer >= 0.5", r["has"] >= 0.5, o["has"] >= 0.5)
            if "span" in r:
                count("short answer", np.array(r["span"], object), np.array(o["span"], object))
            if "support" in r:
                count("support argmax", r["support"].argmax(1), o["support"].argmax(1))
                count("entailed >= supported", r["support"][:, 0] >= cal.supported, o["support"][:, 0] >= cal.supported)
        if rq and "answers" in rq[0] and len(rq[0]["answers"]):  # the first call: rank
            a, b = rq[0]["answers"], oq[0]["answers"]
            count("question answerable", np.array(a.max() >= cal.answerable), np.array(b.max() >= cal.answerable))
            count("top sentence", np.array(int(a.argmax())), np.array(int(b.argmax())))
    return {"max_diff": diff, "flips": flips}


def compare(path: Path, candidates: list[str], every: int = 1) -> None:
    groups = json.loads(path.read_text())[::every]
    models = {c: verifier(c) for c in candidates}
    cal = models[candidates[0]].calibration
    for v in models.values():  # warm-up
        for g in groups[:3]:
            for call in g["calls"]:
                replay(v, call)
    first = {c: [] for c in candidates}
    total = {c: [] for c in candidates}
    outs = {c: [] for c in candidates}
    for n, g in enumerate(groups):
        order = candidates[n % len(candidates):] + candidates[:n % len(candidates)]
        for c in order:
            res, times = [], []
            for call in g["calls"]:
                t = time.perf_counter()
                res.append(replay(models[c], call))
                times.append((time.perf_counter() - t) * 1000)
            first[c].append(times[0])
            total[c].append(sum(times))
            outs[c].append(res)
    ref = candidates[0]
    print(f"\n{len(groups)} questions, {sum(len(g['calls']) for g in groups)} calls; load average "
          f"{os.getloadavg()[0]:.1f}; reference {ref}; threads {models[ref]._tok and __import__('torch').get_num_threads()}")
    print(f"{'candidate':<14}{'rank p50 ms':>12}{'ratio':>7}{'question p50':>14}{'ratio':>7}"
          f"{'max|d| ans':>11}{'has':>7}{'support':>9}")
    base1, baseq = statistics.median(first[ref]), statistics.median(total[ref])
    agree = {}
    for c in candidates:
        a = agreement(outs[ref], outs[c], cal)
        agree[c] = a
        m1, mq = statistics.median(first[c]), statistics.median(total[c])
        d = a["max_diff"]
        print(f"{c:<14}{m1:>12.1f}{base1 / m1:>6.2f}x{mq:>14.1f}{baseq / mq:>6.2f}x"
              f"{d['answers']:>11.4f}{d['has']:>7.4f}{d['support']:>9.4f}")
    print("\ndecisions that flip against the reference (flipped / compared)")
    keys = list(agree[ref]["flips"])
    print(f"{'candidate':<14}" + "".join(f"{k[:22]:>24}" for k in keys))
    for c in candidates:
        print(f"{c:<14}" + "".join(f"{'%d/%d' % tuple(agree[c]['flips'][k]):>24}" for k in keys))
    print("(ratio: how many times faster than the reference)")


def memory_child(candidate: str, n: int) -> None:
    from rag.components.runtime.heap import limit_malloc_arenas, limit_onednn_cache, map_large_blocks, trim_heap

    limit_malloc_arenas()
    map_large_blocks()
    limit_onednn_cache()

    def rss() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
        return 0

    rng = random.Random(0)
    qs = [json.loads(line)["question"] for f in ("qa_dev.jsonl", "qa_2023_out_of_corpus.jsonl")
          for line in (DATA / f).open()]
    words = []
    with (DATA / "corpus_2022.jsonl").open() as f:
        for i, line in zip(range(400), f):
            words += json.loads(line)["text"].split()
    v = verifier(candidate)
    v.read("warm up?", ["Warm up."])
    trim_heap()
    start = rss()
    marks, t0 = [], time.perf_counter()
    for i, q in enumerate(qs[:n], 1):
        def text(lo, hi):
            k, at = rng.randint(lo, hi), rng.randrange(len(words) - 200)
            return " ".join(words[at:at + k])
        v.answers(q, [text(8, 140) for _ in range(rng.randint(20, 41))])  # rank: sentences + passages
        v.read(q, [text(8, 60) for _ in range(rng.randint(1, 4))])  # short answers
        v.support([(text(5, 30), text(10, 60)) for _ in range(rng.randint(2, 12))])  # claims
        trim_heap()
        if i % 25 == 0 or i == n:
            marks.append(f"{i}: {rss()}")
            print(f"{candidate}: after load {start}, after {marks[-1]} MB", file=sys.stderr, flush=True)
    ms = (time.perf_counter() - t0) * 1000 / n
    print(json.dumps({"candidate": candidate, "after_load": start, "marks": marks, "end": rss(),
                      "ms_per_question": round(ms, 1)}))


def memory(candidates: list[str], n: int, parallel: bool = False) -> None:
    print(f"RSS (MB) over {n} distinct questions; a fresh process per candidate")
    procs = []
    for c in candidates:
        procs.append(subprocess.Popen([sys.executable, __file__, "memory-child", "--candidates", c,
                                       "--questions", str(n)], stdout=subprocess.PIPE, text=True))
        if not parallel:
            procs[-1].wait()
    for c, proc in zip(candidates, procs):
        out, _ = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"{c}: the child failed ({proc.returncode})")
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{c:<14} after load {r['after_load']:>5}  end {r['end']:>5}  growth {r['end'] - r['after_load']:>+5}"
              f"  ({', '.join(r['marks'])})  {r['ms_per_question']} ms/question", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["capture", "compare", "memory", "memory-child"])
    ap.add_argument("--calls", type=Path, default=CALLS)
    ap.add_argument("--candidates", default=",".join(CANDIDATES))
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--every", type=int, default=1, help="compare: every Nth recorded question only")
    ap.add_argument("--parallel", action="store_true", help="memory: the candidates' processes at once "
                    "(RSS is per process; their speeds are then not comparable)")
    args = ap.parse_args()
    for k, v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}.items():
        os.environ.setdefault(k, v)
    candidates = args.candidates.split(",")
    if args.step == "capture":
        capture(args.calls)
    elif args.step == "compare":
        compare(args.calls, candidates, args.every)
    elif args.step == "memory":
        memory(candidates, args.questions, args.parallel)
    else:
        memory_child(candidates[0], args.questions)


if __name__ == "__main__":
    main()
