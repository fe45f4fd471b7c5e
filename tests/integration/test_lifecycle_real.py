"""Nothing lost, on the real models: a writer process killed with SIGKILL mid-ingest
or mid-rebuild leaves the last good index, with every acknowledged article; several
writers and readers at once lose nothing; the article routes work end to end."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag.server.app import create_app
from rag.documents import make_article
from rag.errors import IndexMismatch
from rag.index.protocols import Chunking
from rag import assemble
from rag.assemble import build
from rag.index.faiss.versions import current_version, load_store

from ..conftest import Rig

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("lifecycle_worker.py")

# Hand-written articles with one distinctive fact each (asked about below).
FACTS = [
    {"id": "lighthouse", "title": "Lighthouse festival returns to Port Avery",
     "text": "The annual lighthouse festival returned to the fishing town of Port Avery on Saturday. "
             "About 4,000 visitors watched the lantern parade in Port Avery, the organisers said. "
             "The festival was cancelled last year after a storm damaged the old pier."},
    {"id": "orchard", "title": "Cider orchard wins national prize",
     "text": "A family orchard near Hollowmere won the national cider prize on Tuesday. "
             "The judges praised its dry cider made from russet apples. "
             "The orchard's owner, Mara Quill, said the prize money would pay for a new press."},
    {"id": "tram", "title": "Tram line to Eastgate opens",
     "text": "The new tram line between the central station and Eastgate opened to passengers on Monday. "
             "The line has nine stops and trams run every six minutes at peak times. "
             "City officials said the project cost 210 million euros."},
    {"id": "chess", "title": "Teenager wins regional chess title",
     "text": "Sixteen-year-old Ilya Varga won the regional chess championship in Bremford on Sunday. "
             "He beat the defending champion in the final round after a five-hour game. "
             "Varga will represent the region at the national finals in June."},
]
TOWNS = ["Aldmoor", "Brackwater", "Cindervale", "Dunmere", "Elmstead", "Fallowby", "Greyhaven",
         "Hartfield", "Ivybridge", "Juniper Bay", "Kestrel Point", "Lowmarsh"]


def filler(n: int, start: int = 0) -> list[dict]:
    """Plain local-news stories, long enough to give the embedder real work."""
    out = []
    for i in range(start, start + n):
        town = TOWNS[i % len(TOWNS)]
        sentences = [f"The council of {town} met on day {i} to discuss the budget for item {i}.",
                     f"Residents asked for {i % 7 + 2} new benches in the market square.",
                     f"The library in {town} will extend its opening hours by {i % 5 + 1} hours.",
                     f"Local firms reported that sales rose by {i % 9 + 1} percent this quarter.",
                     f"A footbridge over the river in {town} will be repaired in spring.",
                     f"The school choir of {town} performed for {i * 3 + 40} guests.",
                     f"Police said traffic on the ring road was lighter than usual on day {i}.",
                     f"The weather service expects {i % 4 + 1} days of rain next week.",
                     f"Volunteers planted {i * 2 + 10} trees along the {town} canal path."]
        out.append({"id": f"filler-{i}", "title": f"Council news from {town} ({i})",
                    "text": " ".join(sentences)})
    return out


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def run_until(args: list[str], stop, env_extra: dict | None = None, timeout: float = 180) -> list[str]:
    """Start the worker; SIGKILL it right after a line for which stop(line) is true."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env_extra or {})}
    proc = subprocess.Popen([sys.executable, str(WORKER), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.strip())
            if stop(lines[-1]):
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        watchdog.cancel()
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, f"worker was not killed mid-way: {lines[-5:]}"
    return lines


def mid_way(line: str) -> bool:
    """Whether a `progress DONE/TOTAL` line was printed with embedding unfinished."""
    done, total = map(int, line.split()[1].split("/"))
    return 0 < done < total


def pipeline_on(data: Path, real_settings, real_embedder, real_generator, with_index=True,
                chunking=Chunking(), **update):
    settings = real_settings.model_copy(update={"data_dir": data, **update})
    return Rig(*build(settings, embedder=real_embedder, generator=real_generator, with_index=with_index,
                      chunking=chunking))


def cited(answer, article_id: str) -> bool:
    return any(c.article_id == article_id for c in answer.citations)


def test_sigkill_mid_ingest_keeps_every_acknowledged_article(tmp_path, real_settings, real_embedder,
                                                             real_generator):
    data = tmp_path / "data"
    a = write_jsonl(tmp_path / "a.jsonl", FACTS)
    b = write_jsonl(tmp_path / "b.jsonl", filler(20))  # ~80 chunks: several of the worker's batches
    # 1. Killed while embedding batch b, after batch a was acknowledged.
    acked: list[str] = []

    def after_ack_then_progress(line: str) -> bool:
        if line.startswith("acked "):
            acked.extend(line.split()[1:])
        return bool(acked) and line.startswith("progress ") and not line.startswith("progress 0/")

    lines = run_until(["ingest", str(data), str(a), str(b)], after_ack_then_progress)
    assert mid_way(lines[-1])
    assert sorted(acked) == sorted(f["id"] for f in FACTS)
    chunking = Chunking()  # the default layout, as the worker builds it
    assert set(load_store(data, real_embedder.name, chunking).articles) == set(acked)

    # 2. Killed inside the save: the new version's files are written, not yet published.
    before = current_version(data)
    run_until(["ingest", str(data), str(b)], lambda line: line.startswith("fsync .tmp-"))
    assert current_version(data) == before
    assert any(p.name.startswith(".tmp-") for p in (data / "versions").iterdir())
    assert set(load_store(data, real_embedder.name, chunking).articles) == set(acked)

    # 3. Restart: the index loads, answers from the acknowledged articles, and takes batch b.
    p = pipeline_on(data, real_settings, real_embedder, real_generator)
    answer = p.ask("How many visitors watched the lantern parade in Port Avery?")
    assert not answer.abstained and "4,000" in answer.answer and cited(answer, "lighthouse")
    report = p.index.ingest([make_article(**r) for r in filler(20)])
    assert report.count("added") == 20 and report.articles == 24
    assert not any(p.name.startswith(".tmp-") for p in (data / "versions").iterdir())


def test_sigkill_mid_rebuild_keeps_last_good_index(tmp_path, real_settings, real_embedder, real_generator):
    data = tmp_path / "data"
    p = pipeline_on(data, real_settings, real_embedder, real_generator)
    p.index.ingest([make_article(**r) for r in FACTS + filler(20)])
    old = load_store(data, real_embedder.name, Chunking())
    new_chunking = Chunking(sentences=2, overlap=0)
    worker_chunking = {"LIFECYCLE_CHUNKING": "2,0,1000"}

    # Killed while re-embedding, then killed after the new version was renamed into
    # place but before the `index` link was swapped to it.
    mid_embedding = lambda line: line.startswith("progress ") and not line.startswith("progress 0/")  # noqa: E731
    assert mid_way(run_until(["rebuild", str(data)], mid_embedding, worker_chunking)[-1])
    run_until(["rebuild", str(data)], lambda line: line == "fsync versions", worker_chunking)
    for_old = load_store(data, real_embedder.name, Chunking())
    assert for_old.version == old.version and len(for_old.articles) == 24
    assert len(for_old.chunks) == len(old.chunks)

    # Restart with the new settings: reported as a mismatch, fixed by a rebuild.
    q = pipeline_on(data, real_settings, real_embedder, real_generator, with_index=False,
                    chunking=new_chunking)
    with pytest.raises(IndexMismatch, match="rag rebuild"):
        q.index.open()
    snap = q.index.rebuild()
    assert snap.article_count == 24 and snap.chunk_count != len(old.chunks)
    assert load_store(data, real_embedder.name, new_chunking).version == snap.version
    answer = q.ask("Who won the regional chess championship in Bremford?")
    assert not answer.abstained and "Varga" in answer.answer and cited(answer, "chess")


def test_concurrent_ingests_and_asks_lose_nothing(tmp_path, real_settings, real_embedder, real_generator):
    data = tmp_path / "data"
    p = pipeline_on(data, real_settings, real_embedder, real_generator)
    p.index.ingest([make_article(**r) for r in FACTS])
    cli_batch = write_jsonl(tmp_path / "cli.jsonl", filler(12, start=100))
    errors: list[BaseException] = []
    answers = []
    snapshots = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
                errors.append(exc)
        return threading.Thread(target=run)

    def writer(start):
        return lambda: p.index.ingest([make_article(**r) for r in filler(6, start=start)])

    def asker():
        answers.append(p.ask("How many visitors watched the lantern parade in Port Avery?"))

    def reader():
        for _ in range(30):
            snap = p.index.snapshot()
            store = snap.store
            snapshots.append((len(store.articles), store.faiss.ntotal, len(store.chunks),
                              all(c.article_id in store.articles for c in store.chunks)))
            p.retriever.search(snap, "library opening hours", 4)
            time.sleep(0.05)

    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    cli = subprocess.Popen([sys.executable, "-m", "rag.cli.main", "--data-dir", str(data), "ingest", str(cli_batch)],
                           cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    threads = [guard(writer(s)) for s in (200, 300, 400)] + [guard(asker), guard(reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    out, err = cli.communicate(timeout=300)
    assert not errors, errors
    assert cli.returncode == 0, err
    assert "12 added" in out
    # Every article from every writer is there, whatever order they ran in.
    final = load_store(data, real_embedder.name, Chunking())
    assert len(final.articles) == 4 + 3 * 6 + 12
    # Readers only ever saw whole snapshots, never shrinking.
    assert all(n == m and ok for _, n, m, ok in snapshots)
    counts = [s[0] for s in snapshots]
    assert counts == sorted(counts)
    assert not answers[0].abstained and cited(answers[0], "lighthouse"), answers[0].answer


def test_article_routes_on_real_models(fresh_real_pipeline):
    p = fresh_real_pipeline
    with TestClient(create_app(p)) as c:
        upload = ("# Cider orchard wins national prize\n\n" + FACTS[1]["text"]).encode()
        r = c.post("/articles", files={"file": ("orchard.md", upload)})
        assert r.status_code == 200 and r.json()["items"][0]["status"] == "added"
        orchard_id = r.json()["items"][0]["id"]
        r = c.post("/articles", json=[FACTS[2], FACTS[2] | {"id": "tram-copy"}])
        assert [i["status"] for i in r.json()["items"]] == ["added", "duplicate"]
        a = c.post("/ask", json={"question": "Where is the orchard that won the national cider prize?"}).json()
        assert not a["abstained"] and "Hollowmere" in a["answer"]
        assert any(x["article_id"] == orchard_id for x in a["citations"])
        assert c.post("/index/rebuild").status_code == 202
        deadline = time.monotonic() + 120
        while c.get("/index/status").json()["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert c.get("/index/status").json()["state"] == "done"
        assert c.delete(f"/articles/{orchard_id}").status_code == 200
        a = c.post("/ask", json={"question": "Where is the orchard that won the national cider prize?"}).json()
        assert all(x["article_id"] != orchard_id for x in a["passages"])


def test_cli_ingest_mismatch_rebuild(tmp_path, real_embedder, monkeypatch, capsys):
    from rag.cli.main import main

    monkeypatch.setattr("rag.assemble.load_embedder", lambda name, **kw: real_embedder)
    data, a = str(tmp_path / "data"), str(write_jsonl(tmp_path / "a.jsonl", FACTS))
    assert main(["--data-dir", data, "ingest", a]) == 0
    assert "4 added" in capsys.readouterr().out
    # Another chunking than the one the index was built with (the CLI's commands all
    # build their Index through assemble.build_index).
    monkeypatch.setattr("rag.assemble.build_index",
                        functools.partial(assemble.build_index, chunking=Chunking(sentences=1, overlap=0)))
    assert main(["--data-dir", data, "ingest", a]) == 1
    assert "run `rag rebuild`" in capsys.readouterr().err
    assert main(["--data-dir", data, "rebuild"]) == 0
    assert capsys.readouterr().out.startswith("rebuilt 4 articles, 12 chunks with packaged:all-MiniLM-L6-v2")
    assert main(["--data-dir", data, "ingest", a]) == 0
    assert capsys.readouterr().out.startswith("4 unchanged")
