import threading

import pytest

from rag.documents import content_hash, make_article
from rag.components.embedding import FakeEmbedder
from rag.errors import ArticleNotFound, BadInput, Busy, IndexMismatch
from rag.index.handle import delete, delete_many, ingest, open_index, plan, rebuild, writer_lock
from rag.index.faiss_snapshot import current_version, load_articles, load_store

from .conftest import SUMMIT, WEATHER, make_pipeline

PORTO = "A new bridge opened in Porto on Monday. Traffic was heavy all day. The mayor cut the ribbon."


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, remembering every text it was asked to embed."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.texts: list[str] = []

    def embed(self, texts):
        self.texts.extend(texts)
        return super().embed(texts)


def _pipeline(settings, embedder=None):
    p = make_pipeline(settings)
    if embedder is not None:
        p.embedder = embedder
    return p


def test_plan_decides_per_article(fake_pipeline):
    store = fake_pipeline.store
    arts = [make_article(SUMMIT, id="summit"),  # same id, same text
            make_article(WEATHER + " Schools reopen Friday.", id="weather"),  # same id, new text
            make_article(SUMMIT, id="copy"),  # other id, same text
            make_article(PORTO, id="porto"),
            make_article(PORTO + " ", id="porto2"),  # same text (normalised) as the line above
            make_article(PORTO, id="porto")]  # id repeated in the batch
    todo, results = plan(store, arts)
    assert [r.status for r in results] == ["unchanged", "updated", "duplicate", "added", "duplicate", "duplicate"]
    assert results[2].duplicate_of == "summit" and results[4].duplicate_of == "porto"
    assert [a.id for a, _ in todo] == ["weather", "porto"]


def test_ingest_twice_adds_nothing_and_embeds_only_new(settings):
    e = CountingEmbedder()
    p = _pipeline(settings, e)
    arts = [make_article(SUMMIT, id="s"), make_article(WEATHER, id="w"), make_article(WEATHER, id="w-copy")]
    r1 = ingest(p, arts)
    assert (r1.count("added"), r1.count("duplicate"), r1.articles) == (2, 1, 2)
    first = list(e.texts)
    version = current_version(settings.data_dir)
    r2 = ingest(p, arts)
    assert r2.count("added") == 0 and r2.count("unchanged") == 2 and r2.count("duplicate") == 1
    assert e.texts == first  # nothing embedded again
    assert current_version(settings.data_dir) == version  # and nothing written
    r3 = ingest(p, [make_article(PORTO, id="p")])
    assert r3.count("added") == 1 and e.texts[len(first):] == [c.text for c in p.store.article_chunks("p")]


def test_rejected_items_are_reported_and_nothing_else_changes(fake_pipeline):
    v = fake_pipeline.store.version
    r = ingest(fake_pipeline, [], [("bad.bin", "binary file")])
    assert [i.to_dict() for i in r.items] == [{"id": None, "status": "rejected", "reason": "bad.bin: binary file"}]
    assert fake_pipeline.store.version == v == current_version(fake_pipeline.settings.data_dir)


def test_near_duplicate_is_reported_but_added(fake_pipeline):
    wire = make_article(SUMMIT.replace("Tianjin", "Tianjin, China"), id="wire")
    r = ingest(fake_pipeline, [wire])
    assert r.items[0].status == "added" and r.items[0].near_duplicate_of == "summit"
    other = ingest(fake_pipeline, [make_article(PORTO, id="porto")])
    assert other.items[0].near_duplicate_of is None
    assert "near-duplicate" in r.summary()


def test_no_article_lost_between_two_writers(settings):
    """Two pipelines on one data dir stand for the server and `rag ingest`."""
    a, b = _pipeline(settings), _pipeline(settings)
    ingest(a, [make_article(SUMMIT, id="s")])
    ingest(b, [make_article(WEATHER, id="w")])  # b loads a's version before writing
    ingest(a, [make_article(PORTO, id="p")])  # a's snapshot is stale: it reloads first
    assert set(load_store(settings.data_dir).articles) == {"s", "w", "p"}
    assert set(a.store.articles) == {"s", "w", "p"}


def test_concurrent_ingests_in_threads_lose_nothing(settings):
    p = _pipeline(settings)
    ingest(p, [make_article(SUMMIT, id="s")])
    errors = []
    seen_counts = []

    def writer(n):
        try:
            ingest(p, [make_article(f"Story {n} about the harbour of town {n}. It has {n} boats.", id=f"t{n}")])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    def reader():
        for _ in range(20):
            store = p.store  # readers take one reference: a whole snapshot
            assert store.faiss.ntotal == len(store.chunks) == len(store.vectors)
            assert all(c.article_id in store.articles for c in store.chunks)
            seen_counts.append(len(store.articles))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(load_store(settings.data_dir).articles) == 9
    assert min(seen_counts) >= 1


def test_delete(fake_pipeline):
    r = delete(fake_pipeline, "weather")
    assert r.articles == 1 and "weather" not in load_store(fake_pipeline.settings.data_dir).articles
    assert all(c.article_id != "weather" for c in fake_pipeline.store.chunks)
    v = current_version(fake_pipeline.settings.data_dir)
    with pytest.raises(ArticleNotFound, match="nope"):
        delete(fake_pipeline, "nope")
    report, missing = delete_many(fake_pipeline, ["nope", "nada"])
    assert missing == ["nope", "nada"] and report.items == []
    assert current_version(fake_pipeline.settings.data_dir) == v  # unknown ids change nothing


def test_writer_lock_times_out_with_busy(tmp_path):
    with writer_lock(tmp_path):
        with pytest.raises(Busy, match="try again"):
            with writer_lock(tmp_path, timeout=0.1):
                pass


def test_rebuild_with_new_chunking_and_embedder(fake_pipeline, settings):
    old_chunks = len(fake_pipeline.store.chunks)
    new_settings = settings.model_copy(update={"chunk_sentences": 1, "chunk_overlap": 0})
    e = FakeEmbedder(dim=32, name="other-embedder")
    p = _pipeline(new_settings, e)
    with pytest.raises(IndexMismatch, match="rag rebuild"):
        open_index(p)
    assert p.store is None
    ticks = []
    store = rebuild(p, progress=lambda d, t: ticks.append((d, t)))
    assert set(store.articles) == {"summit", "weather"} and len(store.chunks) > old_chunks
    assert ticks[-1] == (len(store.chunks), len(store.chunks))
    loaded = load_store(settings.data_dir, "other-embedder")
    assert loaded.dim == 32 and loaded.chunking.sentences == 1 and p.store is store
    assert loaded.hashes == {"summit": content_hash(SUMMIT), "weather": content_hash(WEATHER)}


def test_rebuild_carries_over_changes_made_meanwhile(fake_pipeline, settings):
    new_settings = settings.model_copy(update={"chunk_sentences": 2})
    rebuilder = _pipeline(new_settings)
    writer = fake_pipeline  # still on the old settings, like a running server

    def change_once(done, total):
        if not getattr(change_once, "done", False):
            change_once.done = True
            ingest(writer, [make_article(PORTO, id="porto")])
            delete(writer, "weather")

    store = rebuild(rebuilder, progress=change_once)
    assert set(store.articles) == {"summit", "porto"}
    assert {c.article_id for c in store.chunks} == {"summit", "porto"}
    assert load_store(settings.data_dir, chunking=store.chunking).chunking.sentences == 2


def test_only_one_rebuild_at_a_time(fake_pipeline, settings):
    with writer_lock(settings.data_dir, name=".rebuild.lock"):
        with pytest.raises(Busy, match="already running"):
            rebuild(fake_pipeline)


def test_rebuild_without_index_is_bad_input(settings):
    with pytest.raises(BadInput, match="rag ingest"):
        rebuild(_pipeline(settings))


def test_open_index_builds_from_seeds_when_there_is_none(settings):
    p = _pipeline(settings)
    open_index(p)
    assert len(p.store.articles) == 1 and current_version(settings.data_dir) == p.store.version
    articles, _, _ = load_articles(settings.data_dir)
    assert set(articles) == set(p.store.articles)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # bm25s divides by zero before it fails
def test_article_without_word_tokens_is_indexed_by_vectors(settings):
    """bm25s cannot index a corpus with no word token; that must not be a 500."""
    p = _pipeline(settings)
    r = ingest(p, [make_article("The the the and and of of to to in in.", id="stop"),
                   make_article("a b c d e f g h i j k l m n o p q r s t u", id="letters")])
    assert r.count("added") == 2 and p.store.lexical.search("the", 3, p.store.positions) == []
    assert p.retriever.search(p.store, "the and of", 2)
