"""The index read protocols: the retriever's rank fusion stated by hand on exact fakes,
and every backend's vector and keyword search checked against those fakes."""

import numpy as np
import pytest

from rag.answering.retrieval import Retriever
from rag.components.embedding import FakeEmbedder
from rag.documents import make_article
from rag.types import Chunk

from ..conftest import SUMMIT, WEATHER, make_pipeline
from .fakes import ExactKeywords, ExactVectors, FakeSnapshot


class FixedEmbedder(FakeEmbedder):
    """Every query embeds to the same vector."""

    def __init__(self, vector):
        super().__init__(dim=len(vector))
        self.vector = np.asarray(vector, dtype=np.float32)

    def embed(self, texts):
        return np.tile(self.vector, (len(texts), 1))


def test_retriever_fuses_dense_and_keyword_ranks_by_reciprocal_rank():
    art = make_article(SUMMIT, id="a")
    chunks = [Chunk(f"a#{i}", "a", SUMMIT, 0, len(SUMMIT)) for i in range(3)]
    # Dense: a#0 > a#1 > a#2. Keywords: a#2 (2 words) > a#1 (1); a#0 holds none.
    vecs = ExactVectors({"a#0": [1, 0], "a#1": [0.8, 0.6], "a#2": [0.6, 0.8]})
    keys = ExactKeywords({"a#0": "zzz", "a#1": "alpha", "a#2": "alpha beta"})
    snap = FakeSnapshot([art], chunks, vecs, keys)
    hits = Retriever(snapshots=lambda: snap, embedder=FixedEmbedder([1, 0]), rrf_k=60).search(snap, "alpha beta", 3)
    # a#2: 1/63 + 1/61 = 0.032266 just above a#1: 1/62 + 1/62 = 0.032258; a#0: 1/61 only.
    assert [h.chunk.id for h in hits] == ["a#2", "a#1", "a#0"]
    assert hits[0].score == pytest.approx(1 / 63 + 1 / 61) and hits[1].score == pytest.approx(2 / 62)
    assert [round(h.dense, 6) for h in hits] == [0.6, 0.8, 1.0]  # cosine of every hit
    assert [h.lexical for h in hits] == [2.0, 1.0, 0.0]


@pytest.fixture
def settings(any_settings):
    return any_settings


def test_backends_search_as_the_exact_fakes_do(settings):
    p = make_pipeline(settings)
    p.index.ingest([make_article(SUMMIT, id="summit"), make_article(WEATHER, id="weather"),
                    make_article("Fishermen in Porto sold sardines at dawn. Lisbon buyers came too.", id="porto")])
    snap = p.index.snapshot()
    ids = [c.id for a, _ in snap.all_articles() for c in snap.article_chunks(a.id)]
    exact_v = ExactVectors(dict(zip(ids, snap.vectors.vectors(ids))))
    texts = {c.id: f"{a.title}\n{c.text}" for a, _ in snap.all_articles() for c in snap.article_chunks(a.id)}
    exact_k = ExactKeywords(texts)
    assert len(snap.vectors) == len(snap.lexical) == len(ids) == snap.chunk_count
    for q in ("Where was the summit held?", "Lisbon schools", "sardines"):
        v = p.embedder.embed([q])[0]
        got, want = snap.vectors.search(v, 3), exact_v.search(v, 3)
        assert [i for i, _ in got] == [i for i, _ in want]
        assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-5)
    # Keyword search finds exactly the chunks holding a (non-stop) word of the query,
    # the one holding the rarer word first.
    got = snap.lexical.search("Tianjin sardines", 10)
    assert {i for i, _ in got} == {i for i, _ in exact_k.search("Tianjin sardines", 10)}
    got = snap.lexical.search("Lisbon sardines", 10)
    assert got[0][0] == "porto#0" and {i for i, _ in got} == {i for i, _ in exact_k.search("Lisbon sardines", 10)}


def test_chunks_leaves_out_ids_it_does_not_hold(settings):
    # Snapshot.chunks' contract, on every backend: the known ids in order, unknown ones left out.
    p = make_pipeline(settings)
    p.index.ingest([make_article(SUMMIT, id="summit")])
    snap = p.index.snapshot()
    first = snap.article_chunks("summit")[0]
    assert snap.chunks(["summit#99", first.id, "nope"]) == [first]
