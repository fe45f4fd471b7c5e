"""/ask latency, time to first token, server start and memory: current pipeline against a baseline, in one run.

    .venv/bin/python bench/bench_ask.py [--questions N] [--no-server] [--no-baseline] [--remote]

Baseline (measured in the same run, questions interleaved so both see the same
load): the plain tutorial RAG the issue compares with: fp32 generator and fp32
embedder, the 4 best chunks by dense search pasted whole and numbered into the
prompt, no query cache; the same grounding afterwards, so both do the same work.
Current: the pipeline as configured (Settings / RAG_* variables).

Both run in this process behind the real FastAPI app (no socket): /ask for the
latency, /ask/stream for the time to the first text a client can show: the first token
event, or the answer itself where no model wrote (a quote, an abstention); "of model
answers" is the median over the answers the generator wrote. Each question's query
vector is dropped from the cache before every call, so no figure is a repeat's.
Server start is timed from process start to the first 200 from /health (models
already converted and cached) and its resident memory read after three answers.
On a shared machine all figures move with the load average, printed with them.

--remote adds a third pipeline, interleaved with the others: the current one whose
generator is another process (`rag serve` started here, reached over HTTP through its
/v1/generator: RAG_GENERATOR=openai:...), and prints the overhead of that hop.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.answering.pipeline import Pipeline  # noqa: E402
from rag.answering.tuning import Tuning  # noqa: E402
from rag.assemble import EMBEDDER_DTYPE, Parts  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.components.generation import Prompt  # noqa: E402
from rag.answering.grounding import source_sentences  # noqa: E402
from rag.answering.prompts import INSTRUCTION, SYSTEM  # noqa: E402
from rag.types import Answer, Hit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# Varied questions about the seed article: who / what / where / when / why / lists /
# quotes / yes-no, short and long, plain and paraphrased.
QUESTIONS = [
    "Where was the SCO summit held?",
    "Who did Shehbaz Sharif meet at the summit?",
    "What did Sharif say about Russia's relations with India?",
    "When will Sharif visit Russia?",
    "Which news agency reported on the talks?",
    "What anniversary did the parade in China commemorate?",
    "In which areas does Pakistan want to expand ties with Russia?",
    "Which regional conflicts did the two leaders discuss?",
    "How has the Pakistan-Russia relationship changed since the Cold War?",
    "What did Putin say about cooperation within multilateral frameworks?",
    "Why is the meeting described as a balancing act?",
    "What did Sharif thank Putin for?",
    "Which long-standing disputes did Sharif and Putin exchange views on?",
    "What does Pakistan hope to gain from stronger ties with Russia?",
    "Is Pakistan trying to undermine its other relationships?",
    "What invitation did Sharif accept?",
    "How did Sharif describe a stronger Pakistan-Russia relationship?",
    "What is the purpose of Sharif's upcoming trip to Russia?",
]


class BaselinePipeline(Pipeline):
    """Dense top-4 whole chunks, numbered, one prompt; then the same grounding."""

    def ask_stream(self, question, top_k=None, history=None, stop=None, as_of=None):
        t0 = time.perf_counter()
        question, _ = self.check(question, top_k, history)
        snap = self.snapshots()
        q = self.embedder.embed([question])[0]
        found = snap.vectors.search(q.astype(np.float32), 4)
        hits = [Hit(chunk=c, score=s, dense=s) for c, (_, s) in zip(snap.chunks([i for i, _ in found]), found)]
        articles = snap.articles({h.chunk.article_id for h in hits})
        timings = {"retrieve": (time.perf_counter() - t0) * 1000}
        sources = "\n\n".join(f"[{n}] {h.chunk.text}" for n, h in enumerate(hits, 1))
        prompt = Prompt(SYSTEM, f"Sources:\n{sources}\n\nQuestion: {question}\n\n{INSTRUCTION}")
        t1 = time.perf_counter()
        pieces = []
        run = self.generator.stream(prompt, self.settings.max_new_tokens, stop=stop)
        for piece in run:
            pieces.append(piece)
            yield "token", piece
        timings["generate"] = (time.perf_counter() - t1) * 1000
        timings["prefill"] = run.stats.prefill_ms
        timings["decode"] = run.stats.decode_ms
        t2 = time.perf_counter()
        g = self.grounder.ground("".join(pieces), question, hits, articles, source_sentences(hits))
        timings["ground"] = (time.perf_counter() - t2) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        yield "citations", g.citations
        yield "done", Answer(answer=g.answer, abstained=not g.grounded, query=question, citations=g.citations,
                             passages=hits, claims=g.claims, grounded=g.grounded, timings_ms=timings)


class Recorder:
    """Keeps the stats of the last answer's generation (the bench asks one question at a time)."""

    def __init__(self, inner):
        self.inner, self.name, self.last = inner, inner.name, None

    def check(self):
        return self.inner.check()

    def generate(self, prompt, max_new_tokens):
        return self.inner.generate(prompt, max_new_tokens)

    def stream(self, prompt, max_new_tokens, stop=None):
        run = self.inner.stream(prompt, max_new_tokens, stop)
        self.last = run.stats
        return run


def build(settings: Settings, baseline: bool) -> Parts:
    from rag.components.embedding import SentenceTransformerEmbedder
    from rag.components.generation import TransformersGenerator
    from rag.assemble import build as build_parts, ensure_index

    if baseline:
        settings = settings.model_copy(update={"quantize": False, "data_dir": settings.data_dir.parent / "baseline"})
        embedder = SentenceTransformerEmbedder(settings.embedder.removesuffix("+int8"), threads=settings.threads,
                                               cache_size=0, dtype="float32")
    else:
        from rag.components.embedding import load_embedder
        embedder = load_embedder(settings.embedder, threads=settings.threads, dtype=EMBEDDER_DTYPE)
    generator = TransformersGenerator(settings.generator, cache_dir=settings.model_cache_dir,
                                      quantize=settings.quantize, threads=settings.threads, progress=False,
                                      prompt_lookup=0 if baseline else Tuning().prompt_lookup_tokens)
    index, p, _ = build_parts(settings, embedder=embedder, generator=Recorder(generator))
    ensure_index(index)
    if baseline:
        p = BaselinePipeline(p.settings, p.retriever, p.verifier, p.generator, p.grounder)
    p.warm_up()
    return Parts(index, p, settings)


def build_remote(settings: Settings, parts: Parts, tmp: Path):
    """The current pipeline with its generator in another process (`rag serve`)."""
    current = parts.pipeline
    from rag.components.remote_generator import OpenAIGenerator

    port = free_port()
    env = {**os.environ, "RAG_DATA_DIR": str(tmp / "remote"), "RAG_SEEDS_DIR": str(ROOT / "seeds")}
    env.pop("RAG_GENERATOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli.main", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    while True:
        if proc.poll() is not None or time.perf_counter() - t0 > 300:
            proc.kill()
            raise RuntimeError("the remote generator's server did not start")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    remote = OpenAIGenerator(f"{url}/v1/generator", current.generator.name, timeout_s=120)
    p = current.with_generator(Recorder(remote))
    p.warm_up()
    return Parts(parts.index, p, parts.settings), proc


def forget(p: Pipeline, question: str) -> None:
    cache = getattr(p.embedder, "_cache", None)
    if cache is not None:
        cache.pop(question, None)
    if hasattr(p.verifier, "forget"):
        p.verifier.forget()  # nor the verifier's readings of its sentences


def ask_once(client, parts: Parts, question: str) -> dict:
    p = parts.pipeline
    forget(p, question)
    t = time.perf_counter()
    p.generator.last = None
    r = client.post("/ask", json={"question": question})
    wall = (time.perf_counter() - t) * 1000
    body = r.json()
    last = getattr(p.generator, "last", None)
    stats = {k: v for k, v in vars(last).items() if v is not None} if last is not None else {}
    forget(p, question)
    t = time.perf_counter()
    ttft = None
    with client.stream("POST", "/ask/stream", json={"question": question}) as s:
        for line in s.iter_lines():
            if line.startswith(("event: token", "event: done")) and ttft is None:
                ttft = (time.perf_counter() - t) * 1000
    return {"ms": wall, "ttft": ttft, "timings": body.get("timings_ms", {}), "answer": body.get("answer"),
            "grounded": body.get("grounded"), "stats": stats}


def summarise(runs: list[dict]) -> dict:
    def med(xs):
        xs = [x for x in xs if x is not None]
        return statistics.median(xs) if xs else float("nan")

    def p95(xs):
        xs = [x for x in xs if x is not None]
        return float(np.percentile(xs, 95)) if xs else float("nan")

    gen = [r for r in runs if r["stats"].get("new_tokens")]
    rates = [(r["stats"]["new_tokens"] - 1) / (r["stats"]["decode_ms"] / 1000) for r in gen
             if r["stats"]["new_tokens"] > 1 and r["stats"]["decode_ms"] > 0]
    return {"p50": med([r["ms"] for r in runs]), "p95": p95([r["ms"] for r in runs]),
            "ttft50": med([r["ttft"] for r in runs]), "ttft95": p95([r["ttft"] for r in runs]),
            "ttft_model": med([r["ttft"] for r in gen]), "model_calls": len(gen),
            "retrieve": med([r["timings"].get("retrieve") for r in runs]),
            "prefill": med([r["timings"].get("prefill") for r in runs]),
            "ground": med([r["timings"].get("ground") for r in runs]),
            "verify": med([r["timings"].get("verify") for r in runs]),
            "verifier": med([(r["timings"].get("verify") or 0) + (r["timings"].get("ground") or 0)
                             for r in runs if "verify" in r["timings"]]),
            "prompt_tokens": med([r["stats"].get("prompt_tokens") for r in gen]),
            "new_tokens": med([r["stats"].get("new_tokens") for r in gen]),
            "tok_s": med(rates), "grounded": sum(bool(r["grounded"]) for r in runs), "n": len(runs)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server(data_dir: Path, env_extra: dict) -> dict:
    """Start `rag serve`, time it to /health 200, ask three questions, read its RSS."""
    import psutil

    port = free_port()
    env = {**os.environ, "RAG_DATA_DIR": str(data_dir), "RAG_SEEDS_DIR": str(data_dir / "no-seeds"), **env_extra}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli.main", "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        ready = None
        while ready is None and time.perf_counter() - t0 < 180:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as r:
                    if r.status == 200:
                        ready = time.perf_counter() - t0
            except OSError:
                time.sleep(0.05)
        if ready is None:
            raise RuntimeError("server not ready after 180 s")
        for q in QUESTIONS[:3]:
            req = urllib.request.Request(url + "/ask", data=json.dumps({"question": q}).encode(),
                                         headers={"content-type": "application/json"})
            urllib.request.urlopen(req, timeout=300).read()
        proc_info = psutil.Process(proc.pid)
        rss = proc_info.memory_info().rss + sum(c.memory_info().rss for c in proc_info.children(recursive=True))
        return {"ready_s": ready, "rss_mb": rss / 2**20}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=int, default=len(QUESTIONS))
    ap.add_argument("--no-server", action="store_true", help="skip the server start / memory rows")
    ap.add_argument("--no-baseline", action="store_true", help="current pipeline only")
    ap.add_argument("--show", action="store_true", help="print every answer")
    ap.add_argument("--remote", action="store_true", help="also the current pipeline with its generator "
                    "in another process over HTTP (RAG_GENERATOR=openai:...)")
    args = ap.parse_args()
    from fastapi.testclient import TestClient

    from rag.server.app import create_app
    from rag.assemble import offline

    offline()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ask-"))
    try:
        settings = Settings(data_dir=tmp / "current", seeds_dir=ROOT / "seeds")
        loads = [os.getloadavg()[0]]
        current = build(settings, baseline=False)
        baseline = None if args.no_baseline else build(settings, baseline=True)
        pipelines = {"current": current} | ({"baseline": baseline} if baseline else {})
        remote_proc = None
        if args.remote:
            pipelines["remote"], remote_proc = build_remote(settings, current, tmp)
        clients = {k: TestClient(create_app(p)) for k, p in pipelines.items()}
        runs: dict[str, list[dict]] = {k: [] for k in pipelines}
        for i, q in enumerate(QUESTIONS[:args.questions]):
            for k in pipelines:  # interleaved: both see the same load
                runs[k].append(ask_once(clients[k], pipelines[k], q))
                if args.show:
                    print(f"[{k}] {q}\n    -> {runs[k][-1]['answer']}", file=sys.stderr)
            loads.append(os.getloadavg()[0])
            print(f"{i + 1}/{args.questions} {q}  " + "  ".join(f"{k} {runs[k][-1]['ms']:.0f} ms" for k in runs),
                  file=sys.stderr)
        stats = {k: summarise(v) for k, v in runs.items()}
        if remote_proc is not None:
            same = sum(a["answer"] == b["answer"] for a, b in zip(runs["current"], runs["remote"]))
            stats["remote"]["same_answers"] = same
            remote_proc.terminate()
            remote_proc.wait(timeout=30)
        srv = {}
        if not args.no_server:
            del clients, pipelines, current, baseline  # free the models before the servers load theirs
            srv["current"] = server(tmp / "current", {})
            if not args.no_baseline:
                srv["baseline"] = server(tmp / "baseline", {"RAG_QUANTIZE": "false",
                                                            "RAG_EMBEDDER": settings.embedder.removesuffix("+int8")})
        loads.append(os.getloadavg()[0])
        report(stats, srv, settings, loads)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(stats: dict, srv: dict, settings: Settings, loads: list[float]) -> None:
    cur, base = stats["current"], stats.get("baseline")
    print(f"\n{cur['n']} questions about the seed article; cores {os.cpu_count()}; load average during the run "
          f"{min(loads):.1f}-{max(loads):.1f} (1-min)")
    print(f"current: embedder {settings.embedder}, quantize={settings.quantize}, "
          f"evidence_sentences={Tuning().evidence_sentences}; baseline: fp32, dense top-4 whole chunks, no cache")
    rows = [("/ask p50 (ms)", "p50", False, "<= 1200"), ("/ask p95 (ms)", "p95", False, "<= 3000"),
            ("first token p50 (ms)", "ttft50", False, "<= 600"), ("first token p95 (ms)", "ttft95", False, ""),
            ("  of model answers", "ttft_model", False, ""), ("generator calls", "model_calls", False, ""),
            ("retrieve p50 (ms)", "retrieve", False, ""), ("prefill p50 (ms)", "prefill", False, ""),
            ("verify p50 (ms)", "verify", False, ""), ("ground p50 (ms)", "ground", False, ""),
            ("verify+ground p50 (ms)", "verifier", False, "<= 250"), ("prompt tokens p50", "prompt_tokens", False, ""),
            ("new tokens p50", "new_tokens", False, ""), ("decode tokens/s p50", "tok_s", True, ">= 30"),
            ("grounded answers", "grounded", True, "")]
    table = [(name, base[key] if base else None, cur[key], hb, target) for name, key, hb, target in rows]
    for label, key, hb, target in (("server ready (s)", "ready_s", False, "<= 6"),
                                   ("server RSS (MB)", "rss_mb", False, "<= 1536")):
        if "current" in srv:
            table.append((label, srv.get("baseline", {}).get(key), srv["current"][key], hb, target))
    print(f"{'metric':<24}{'baseline':>12}{'current':>12}{'ratio':>9}  target")
    for name, b, c, higher_better, target in table:
        ratio = "" if b is None or not c or not b else f"{(c / b if higher_better else b / c):.2f}x"
        bs = "-" if b is None else f"{b:,.1f}"
        print(f"{name:<24}{bs:>12}{c:>12,.1f}{ratio:>9}  {target}")
    print("(ratio: how many times better current is; p95 of few questions is close to their max)")
    remote = stats.get("remote")
    if remote:
        print(f"\nremote generator (another process, over HTTP) vs local, same questions interleaved; "
              f"identical answers: {remote['same_answers']}/{remote['n']}")
        print(f"{'metric':<24}{'local':>12}{'remote':>12}{'overhead':>10}")
        for name, key in (("/ask p50 (ms)", "p50"), ("/ask p95 (ms)", "p95"), ("first token p50 (ms)", "ttft50"),
                          ("prefill p50 (ms)", "prefill"), ("grounded answers", "grounded")):
            c, r = cur[key], remote[key]
            print(f"{name:<24}{c:>12,.1f}{r:>12,.1f}{(r / c if c else float('nan')):>9.2f}x")


if __name__ == "__main__":
    main()
