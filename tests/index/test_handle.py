"""The index lifecycle through the Index handle, on every backend (the `settings`
fixture below runs each test on FAISS and on a real PostgreSQL server)."""

import threading

import pytest

from rag.documents import content_hash, make_article
from rag.components.embedding import FakeEmbedder
from rag.errors import ArticleNotFound, BadInput, Busy, IndexMismatch
from rag.index.handle import layout_of
from rag.index.planning import plan
from rag.index.protocols import Chunking
from rag.index.locks import writer_lock

from ..conftest import SUMMIT, WEATHER, make_pipeline

PORTO = "A new bridge opened in Porto on Monday. Traffic was heavy all day. The mayor cut the ribbon."


@pytest.fixture
def settings(any_settings):
    return any_settings


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, remembering every text it was asked to embed."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts.extend(texts)
        return super().embed(texts)


def _pipeline(settings, embedder=None, chunking=Chunking()):
    return make_pipeline(settings, embedder=embedder, chunking=chunking)


def published(settings, embedder=None, chunking=Chunking()):
    """The index as another process opening it now sees it."""
    return make_pipeline(settings, embedder=embedder, chunking=chunking).index.snapshot()


def version(p) -> str | None:
    return p.index.backend.version()


def ids(snap) -> set[str]:
    return set(snap.hashes())


def test_plan_decides_per_article(fake_pipeline):
    snap = fake_pipeline.index.snapshot()
    arts = [make_article(SUMMIT, id="summit"),  # same id, same text
            make_article(WEATHER + " Schools reopen Friday.", id="weather"),  # same id, new text
            make_article(SUMMIT, id="copy"),  # other id, same text
            make_article(PORTO, id="porto"),
            make_article(PORTO + " ", id="porto2"),  # same text (normalised) as the line above
            make_article(PORTO, id="porto")]  # id repeated in the batch
    todo, results = plan(snap, arts)
    assert [r.status for r in results] == ["unchanged", "updated", "duplicate", "added", "duplicate", "duplicate"]
    assert results[2].duplicate_of == "summit" and results[4].duplicate_of == "porto"
    assert [a.id for a, _ in todo] == ["weather", "porto"]


def test_ingest_twice_adds_nothing_and_embeds_only_new(settings):
    e = CountingEmbedder()
    p = _pipeline(settings, e)
    arts = [make_article(SUMMIT, id="s"), make_article(WEATHER, id="w"), make_article(WEATHER, id="w-copy")]
    r1 = p.index.ingest(arts)
    assert (r1.count("added"), r1.count("duplicate"), r1.articles) == (2, 1, 2)
    first = list(e.texts)
    v = version(p)
    r2 = p.index.ingest(arts)
    assert r2.count("added") == 0 and r2.count("unchanged") == 2 and r2.count("duplicate") == 1
    assert e.texts == first  # nothing embedded again
    assert version(p) == v  # and nothing written
    r3 = p.index.ingest([make_article(PORTO, id="p")])
    assert r3.count("added") == 1 and e.texts[len(first):] == [c.text for c in p.index.snapshot().article_chunks("p")]


def test_rejected_items_are_reported_and_nothing_else_changes(fake_pipeline):
    v = fake_pipeline.index.snapshot().version
    r = fake_pipeline.index.ingest([], [("bad.bin", "binary file")])
    assert [i.to_dict() for i in r.items] == [{"id": None, "status": "rejected", "reason": "bad.bin: binary file"}]
    assert fake_pipeline.index.snapshot().version == v == version(fake_pipeline)


def test_near_duplicate_is_reported_but_added(fake_pipeline):
    wire = make_article(SUMMIT.replace("Tianjin", "Tianjin, China"), id="wire")
    r = fake_pipeline.index.ingest([wire])
    assert r.items[0].status == "added" and r.items[0].near_duplicate_of == "summit"
    other = fake_pipeline.index.ingest([make_article(PORTO, id="porto")])
    assert other.items[0].near_duplicate_of is None
    assert "near-duplicate" in r.summary()


def test_no_article_lost_between_two_writers(settings):
    """Two pipelines on one data dir stand for the server and `rag ingest`."""
    a, b = _pipeline(settings), _pipeline(settings)
    a.index.ingest([make_article(SUMMIT, id="s")])
    b.index.ingest([make_article(WEATHER, id="w")])  # b loads a's version before writing
    a.index.ingest([make_article(PORTO, id="p")])  # a's snapshot is stale: it reloads first
    assert ids(published(settings)) == {"s", "w", "p"}
    assert ids(a.index.snapshot()) == {"s", "w", "p"}


def test_concurrent_ingests_in_threads_lose_nothing(settings):
    p = _pipeline(settings)
    p.index.ingest([make_article(SUMMIT, id="s")])
    errors = []
    seen_counts = []

    def writer(n):
        try:
            p.index.ingest([make_article(f"Story {n} about the harbour of town {n}. It has {n} boats.", id=f"t{n}")])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def reader():
        for _ in range(20):
            snap = p.index.snapshot()  # readers take one reference
            articles = snap.all_articles()
            if settings.store == "faiss":  # an immutable snapshot (PostgreSQL: each query sees the latest commit)
                assert len(snap.vectors) == sum(n for _, n in articles) == len(snap.lexical)
            assert p.retriever.search(snap, "harbour boats", 3)
            seen_counts.append(len(articles))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert published(settings).article_count == 9
    assert min(seen_counts) >= 1


def test_delete(fake_pipeline):
    r = fake_pipeline.index.delete("weather")
    assert r.articles == 1 and ids(published(fake_pipeline.settings)) == {"summit"}
    snap = fake_pipeline.index.snapshot()
    assert snap.article_chunks("weather") == [] and snap.chunk_count == len(snap.article_chunks("summit"))
    assert all(cid.startswith("summit#") for cid, _ in snap.vectors.search(snap.vectors.vectors(["summit#0"])[0], 10))
    v = version(fake_pipeline)
    with pytest.raises(ArticleNotFound, match="nope"):
        fake_pipeline.index.delete("nope")
    report, missing = fake_pipeline.index.delete_many(["nope", "nada"])
    assert missing == ["nope", "nada"] and report.items == []
    assert version(fake_pipeline) == v  # unknown ids change nothing


def test_writer_lock_times_out_with_busy(tmp_path):
    with writer_lock(tmp_path):
        with pytest.raises(Busy, match="try again"):
            with writer_lock(tmp_path, timeout=0.1):
                pass


def test_rebuild_with_new_chunking_and_embedder(fake_pipeline, settings):
    old_chunks = fake_pipeline.index.snapshot().chunk_count
    new_chunking = Chunking(sentences=1, overlap=0)
    e = FakeEmbedder(dim=32, name="other-embedder")
    p = _pipeline(settings, e, new_chunking)
    assert not p.index.loaded and "rag rebuild" in p.index.error
    with pytest.raises(IndexMismatch, match="rag rebuild"):
        p.index.open()
    ticks = []
    snap = p.index.rebuild(progress=lambda d, t: ticks.append((d, t)))
    assert ids(snap) == {"summit", "weather"} and snap.chunk_count > old_chunks
    assert ticks[-1] == (snap.chunk_count, snap.chunk_count)
    loaded = published(settings, e, new_chunking)
    assert loaded.layout.dim == 32 and loaded.layout.chunking.sentences == 1
    assert p.index.snapshot().version == loaded.version
    assert loaded.hashes() == {"summit": content_hash(SUMMIT), "weather": content_hash(WEATHER)}
    assert len(loaded.vectors.vectors(["summit#0"])[0]) == 32


def test_rebuild_carries_over_changes_made_meanwhile(fake_pipeline, settings):
    new_chunking = Chunking(sentences=2)
    rebuilder = _pipeline(settings, chunking=new_chunking)
    writer = fake_pipeline  # still on the old settings, like a running server

    def change_once(done, total):
        if not getattr(change_once, "done", False):
            change_once.done = True
            writer.index.ingest([make_article(PORTO, id="porto")])
            writer.index.delete("weather")

    snap = rebuilder.index.rebuild(progress=change_once)
    assert ids(snap) == {"summit", "porto"}
    assert {a.id for a, n in snap.all_articles() if n} == {"summit", "porto"}
    assert snap.chunk_count == sum(len(snap.article_chunks(i)) for i in ("summit", "porto"))
    assert published(settings, chunking=new_chunking).layout.chunking.sentences == 2


def test_only_one_rebuild_at_a_time(fake_pipeline, settings):
    with writer_lock(settings.data_dir, name=".rebuild.lock"):
        with pytest.raises(Busy, match="already running"):
            fake_pipeline.index.rebuild()


def test_rebuild_without_index_is_bad_input(settings):
    with pytest.raises(BadInput, match="rag ingest"):
        _pipeline(settings).index.rebuild()


def test_open_index_builds_from_seeds_when_there_is_none(settings):
    p = _pipeline(settings)
    p.index.open()
    assert p.index.snapshot().article_count == 1 and version(p) == p.index.snapshot().version
    stored, _ = p.index.backend.stored_articles()
    assert {a.id for a, _ in stored} == ids(p.index.snapshot())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # bm25s divides by zero before it fails
def test_article_without_word_tokens_is_indexed_by_vectors(settings):
    """bm25s cannot index a corpus with no word token; that must not be a 500."""
    p = _pipeline(settings)
    r = p.index.ingest([make_article("The the the and and of of to to in in.", id="stop"),
                   make_article("a b c d e f g h i j k l m n o p q r s t u", id="letters")])
    assert r.count("added") == 2 and p.index.snapshot().lexical.search("the", 3) == []
    assert p.retriever.search(p.index.snapshot(), "the and of", 2)


def test_the_default_layout_is_the_one_existing_indexes_record():
    """The chunk sizes moved from Settings to rag/chunking.py's constants with the same
    values: a manifest written before (chunking {3, 1, 1000}) still matches, no rebuild."""
    manifest = {"sentences": 3, "overlap": 1, "max_chars": 1000}
    assert layout_of(FakeEmbedder()).chunking == Chunking(**manifest)
    assert Chunking().to_dict() == manifest
