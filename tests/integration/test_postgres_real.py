"""The PostgreSQL backend end to end, on the real models and a real PostgreSQL server:
two `rag serve` processes share one database (a change through either is answered by
the other), and a writer killed with SIGKILL mid-ingest loses no acknowledged article."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from rag.index.handle import layout_of
from rag.index.postgres.backend import PostgresBackend

from ..conftest import SEEDS, fresh_database
from ..servers import free_port, wait_healthy
from .test_lifecycle_real import FACTS, filler, mid_way, run_until, write_jsonl

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 300  # a first start converts the packaged generator (~45 s) if no test did yet
QUESTION = "How many visitors watched the lantern parade in Port Avery?"


class Server:
    """`rag serve` in its own process, on RAG_STORE=<database url>."""

    def __init__(self, name: str, url: str, tmp: Path):
        self.port, self.db, self.data = free_port(), url, tmp / f"{name}-data"
        self.base, self.log = f"http://127.0.0.1:{self.port}", tmp / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Server":
        env = {**os.environ, "RAG_HOST": "127.0.0.1", "RAG_PORT": str(self.port), "RAG_STORE": self.db,
               "RAG_DATA_DIR": str(self.data), "RAG_SEEDS_DIR": str(SEEDS), "HF_HUB_OFFLINE": "1",
               "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        env.pop("RAG_GENERATOR", None)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "rag.cli.main", "serve"], cwd=ROOT, env=env,
                                         stdout=log, stderr=subprocess.STDOUT)
        return self

    def ready(self) -> "Server":
        wait_healthy(self.proc, self.base, self.log, START_TIMEOUT_S)
        return self

    def ask(self, question: str) -> dict:
        r = httpx.post(f"{self.base}/ask", json={"question": question}, timeout=120)
        assert r.status_code == 200, r.text
        return r.json()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_two_servers_share_one_database(pg_server, tmp_path):
    db = fresh_database(pg_server)
    a = Server("a", db, tmp_path).start()
    try:
        a.ready()  # A finds an empty database and builds the index from the seeds into it
        b = Server("b", db, tmp_path).start().ready()
        try:
            assert httpx.get(f"{b.base}/health").json()["articles"] == 1  # the seed, written by A
            # Added through A, answered and cited by B.
            r = httpx.post(f"{a.base}/articles", json=FACTS[0], timeout=120)
            assert r.status_code == 200 and r.json()["counts"]["added"] == 1, r.text
            answer = b.ask(QUESTION)
            assert not answer["abstained"] and "4,000" in answer["answer"], answer
            cited = [c for c in answer["citations"] if c["article_id"] == "lighthouse"]
            assert cited
            text = httpx.get(f"{b.base}/articles/lighthouse").json()["text"]
            assert all(text[c["start"]:c["end"]] == c["quote"] for c in cited)
            # Deleted through B: A abstains, and no passage of it is left on either.
            assert httpx.delete(f"{b.base}/articles/lighthouse", timeout=60).status_code == 200
            after = a.ask(QUESTION)
            assert after["abstained"], after
            assert all(p["article_id"] != "lighthouse" for p in after["passages"])
            assert httpx.get(f"{a.base}/articles/lighthouse").status_code == 404
        finally:
            b.stop()
    finally:
        a.stop()


def test_sigkill_mid_ingest_keeps_every_acknowledged_article(pg_server, tmp_path, real_settings, real_embedder):
    db = fresh_database(pg_server)
    a = write_jsonl(tmp_path / "a.jsonl", FACTS)
    b = write_jsonl(tmp_path / "b.jsonl", filler(20))  # several of the worker's batches
    acked: list[str] = []

    def after_ack_then_progress(line: str) -> bool:
        if line.startswith("acked "):
            acked.extend(line.split()[1:])
        return bool(acked) and line.startswith("progress ") and not line.startswith("progress 0/")

    env = {"RAG_STORE": db}
    lines = run_until(["ingest", str(tmp_path / "data"), str(a), str(b)], after_ack_then_progress, env)
    assert mid_way(lines[-1]) and sorted(acked) == sorted(f["id"] for f in FACTS)
    backend = PostgresBackend(db, layout_of(real_embedder))
    try:
        stored, _ = backend.stored_articles()
        assert sorted(a.id for a, _ in stored) == sorted(acked)  # all acked, nothing half-written
        snap = backend.current()
        assert snap.chunk_count == sum(n for _, n in snap.all_articles()) == len(snap.vectors)
        # Restarted, the writer takes the rest.
        run = subprocess.run([sys.executable, str(Path(__file__).with_name("lifecycle_worker.py")), "ingest",
                              str(tmp_path / "data"), str(b)], env={**os.environ, **env, "HF_HUB_OFFLINE": "1"},
                             capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert run.returncode == 0 and run.stdout.strip().endswith("done"), run.stderr[-2000:]
        assert backend.current().article_count == len(FACTS) + 20
    finally:
        backend.close()
