"""A large ingest is chunked, embedded and added in bounded steps (Index._add): the
index it publishes is the one a single step builds, and no step embeds or tokenizes
more than its own chunks (the full corpus at once peaked at 3.2 GB)."""

from __future__ import annotations

import numpy as np

from rag.documents import make_article
from rag.index import bm25, handle
from rag.index.faiss.snapshot import FaissSnapshot

from ..conftest import make_pipeline

TOPICS = ["flood", "summit", "budget", "match", "vaccine", "court", "rocket", "harvest"]


def corpus(n: int = 24):
    return [make_article(". ".join(f"The {TOPICS[i % 8]} report {i} line {j} on {TOPICS[(i + j) % 8]}"
                                   for j in range(5)) + ".", title=f"Report {i}", id=f"r{i}") for i in range(n)]


def test_steps_cover_every_article_once_in_bounded_ranges():
    sizes = [3, 4, 1, 9, 2, 2, 5]
    ranges = list(handle.steps([[0] * s for s in sizes], 6))
    assert ranges == [(0, 1), (1, 3), (3, 4), (4, 6), (6, 7)]  # 3 | 4+1 | 9 (alone: never split) | 2+2 | 5
    assert list(handle.steps([], 6)) == []


def test_a_stepped_ingest_publishes_what_one_step_builds(settings, tmp_path, monkeypatch):
    arts = corpus()
    one = make_pipeline(settings.model_copy(update={"data_dir": tmp_path / "one"}))
    one.index.ingest(arts)
    tokenized: list[int] = []
    real = bm25.tokenize
    monkeypatch.setattr(bm25, "tokenize", lambda texts: tokenized.append(len(texts)) or real(texts))
    embedded: list[int] = []
    monkeypatch.setattr(handle, "STEP_CHUNKS", 10, raising=False)
    stepped = make_pipeline(settings.model_copy(update={"data_dir": tmp_path / "stepped"}))
    inner = stepped.index.embedder.embed
    monkeypatch.setattr(stepped.index.embedder, "embed", lambda texts: embedded.append(len(texts)) or inner(texts))
    report = stepped.index.ingest(arts)
    assert report.count("added") == len(arts)
    a, b = one.index.snapshot().store, stepped.index.snapshot().store
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks] and b.faiss.ntotal == len(b.chunks)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    total = len(b.chunks)
    assert max(embedded) <= 10 < total and sum(embedded) == total
    assert max(tokenized) <= 10 and len(b.lexical.segments) > 1
    for q in ["flood report 3", "vaccine court", "Report 17 harvest"]:  # BM25 scores do not depend on segments
        sa, sb = FaissSnapshot(a), FaissSnapshot(b)
        assert [(c, round(s, 6)) for c, s in sa.lexical.search(q, 8)] == \
            [(c, round(s, 6)) for c, s in sb.lexical.search(q, 8)]
        qv = stepped.index.embedder.embed([q])[0]
        assert sa.vectors.search(qv, 5) == sb.vectors.search(qv, 5)


class Recording:
    """Stands in for the embedder's large_job: whether each call ran inside one."""

    def __init__(self, inner):
        self.inner, self.name, self.dim, self.inside, self.calls = inner, inner.name, inner.dim, 0, []

    def embed(self, texts):
        self.calls.append(self.inside > 0)
        return self.inner.embed(texts)

    def large_job(self):
        from contextlib import contextmanager

        @contextmanager
        def job():
            self.inside += 1
            try:
                yield
            finally:
                self.inside -= 1
        return job()


def test_only_large_ingests_ask_the_embedder_for_its_bulk_precision(settings, monkeypatch):
    from rag.components.embedding import FakeEmbedder

    monkeypatch.setattr(handle, "LARGE_JOB", 30)
    e = Recording(FakeEmbedder())
    p = make_pipeline(settings, embedder=e)
    p.index.ingest(corpus(2))  # 10 chunks: a small add
    assert e.calls and not any(e.calls)
    e.calls.clear()
    p.index.ingest(corpus(24)[2:])  # 110 chunks
    assert e.calls and all(e.calls) and e.inside == 0
