"""The FAISS backend's ArticleStore (rag/index/faiss/article_store.py): built, changed
without re-embedding what it holds, and saved and loaded as versions on disk
(rag/index/faiss/versions.py): atomic saves, leftovers of a killed writer, damaged versions."""

import json
import os
import shutil

import numpy as np
import pytest

from rag.documents import content_hash, make_article
from rag.components.embedding import FakeEmbedder
from rag.errors import IndexMismatch, IndexUnavailable
from rag.index.faiss.article_store import empty_store
from rag.index.faiss.versions import (current_version, index_exists, is_newer, load_articles, load_store,
                                      save_version)
from rag.index.faiss.backend import FaissBackend
from rag.index.protocols import Chunking, Layout

from ...conftest import SUMMIT, WEATHER


def build(tmp_path, chunking=Chunking(2, 0, 500)):
    e = FakeEmbedder()
    arts = [make_article(SUMMIT, id="s"), make_article(WEATHER, id="w")]
    store = empty_store(e, chunking).with_articles([(a, content_hash(a.text)) for a in arts], e)
    save_version(store, tmp_path)
    return store, e


def test_save_load_roundtrip(tmp_path):
    store, e = build(tmp_path)
    assert index_exists(tmp_path)
    loaded = load_store(tmp_path, e.name, Chunking(2, 0, 500))
    assert set(loaded.articles) == {"s", "w"}
    assert [c.id for c in loaded.chunks] == [c.id for c in store.chunks] == ["s#0", "s#1", "w#0", "w#1"]
    assert np.allclose(loaded.vectors, store.vectors)
    assert loaded.chunks[1].text == store.chunks[1].text
    assert loaded.hashes == store.hashes


def test_refuses_other_embedder_or_chunking(tmp_path):
    build(tmp_path)
    with pytest.raises(IndexMismatch, match="rag rebuild"):
        load_store(tmp_path, "another-model", Chunking(2, 0, 500))
    with pytest.raises(IndexMismatch, match="chunking"):
        load_store(tmp_path, "fake-embedder", Chunking(3, 1, 500))


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexUnavailable, match="rag ingest"):
        load_store(tmp_path)


def test_save_swaps_link_and_keeps_previous_version(tmp_path):
    store, e = build(tmp_path)
    first = os.readlink(tmp_path / "index")
    smaller = store.without({"w"})
    save_version(smaller, tmp_path)
    assert os.readlink(tmp_path / "index") != first
    assert set(load_store(tmp_path).articles) == {"s"}
    assert len(list((tmp_path / "versions").iterdir())) == 2
    # An abandoned temporary from a killed writer is cleaned up by the next save.
    (tmp_path / "versions" / ".tmp-v1").mkdir()
    save_version(smaller, tmp_path)
    assert not (tmp_path / "versions" / ".tmp-v1").exists()


def test_without_drops_vectors_and_chunks(tmp_path):
    store, _ = build(tmp_path)
    s2 = store.without({"s"})
    assert [c.article_id for c in s2.chunks] == ["w", "w"]
    assert s2.vectors.shape == (2, 64) and s2.faiss.ntotal == 2


def test_load_reads_one_version_even_if_link_moves(tmp_path):
    """The link is resolved once: files come from that version directory only."""
    store, e = build(tmp_path)
    v1 = store.version
    save_version(store.without({"w"}), tmp_path)
    # Point the link back at v1: a reader now gets the complete old version.
    os.replace(tmp_path / "index", tmp_path / "old")
    os.symlink(f"versions/{v1}", tmp_path / "index")
    assert set(load_store(tmp_path).articles) == {"s", "w"}


def test_version_names_grow(tmp_path):
    store, _ = build(tmp_path)
    v1 = current_version(tmp_path)
    assert v1 == store.version
    save_version(store, tmp_path)
    v2 = current_version(tmp_path)
    assert v2 == store.version != v1
    assert is_newer(v2, v1) and not is_newer(v1, v2)
    assert current_version(tmp_path / "nowhere") is None


def test_killed_writer_leftovers_are_ignored_then_pruned(tmp_path):
    store, e = build(tmp_path)
    versions = tmp_path / "versions"
    # What a writer killed mid-save leaves: a half-written temporary directory and
    # a temporary link; neither is what `index` points to.
    half = versions / ".tmp-v9999999999999999999"
    half.mkdir()
    (half / "articles.jsonl").write_text('{"id": "half"')
    os.symlink("versions/.tmp-v9999999999999999999", tmp_path / ".index-v9999999999999999999")
    # Killed after the rename, before the link swap: complete but never published.
    orphan = versions / "v9999999999999999998"
    shutil.copytree(versions / store.version, orphan)
    assert set(load_store(tmp_path, e.name, Chunking(2, 0, 500)).articles) == {"s", "w"}
    previous = store.version
    save_version(store, tmp_path)
    assert not half.exists() and not orphan.exists()
    assert not os.path.lexists(tmp_path / ".index-v9999999999999999999")
    assert sorted(p.name for p in versions.iterdir()) == sorted([previous, store.version])


def test_damaged_version_is_a_clear_error(tmp_path):
    build(tmp_path)
    (tmp_path / "index" / "vectors.faiss").write_bytes(b"not faiss")
    with pytest.raises(IndexUnavailable, match="unreadable.*rag rebuild"):
        load_store(tmp_path)


def test_load_articles_ignores_embedder_and_chunking(tmp_path):
    build(tmp_path)
    articles, hashes, manifest = load_articles(tmp_path)
    assert set(articles) == {"s", "w"} and hashes["s"] == content_hash(SUMMIT)
    assert manifest["embedder"] == "fake-embedder" and manifest["chunking"]["sentences"] == 2
    # An older manifest without hashes: they are recomputed from the texts.
    path = tmp_path / "index" / "manifest.json"
    m = json.loads(path.read_text())
    del m["hashes"]
    path.write_text(json.dumps(m))
    assert load_articles(tmp_path)[1] == hashes


def test_with_articles_embeds_only_new_and_reports_progress(tmp_path):
    store, _ = build(tmp_path)
    seen = []

    class Counting(FakeEmbedder):
        def embed(self, texts):
            seen.extend(texts)
            return super().embed(texts)

    article = make_article("A new bridge opened in Porto on Monday. Traffic was heavy all day.", id="p")
    ticks = []
    s2 = store.with_articles([(article, content_hash(article.text))], Counting(),
                             progress=lambda d, t: ticks.append((d, t)))
    assert seen == [c.text for c in s2.article_chunks("p")]
    assert ticks[0] == (0, len(seen)) and ticks[-1] == (len(seen), len(seen))
    assert s2.faiss.ntotal == len(s2.chunks) == len(store.chunks) + len(seen)
    # Replacing an article drops its old chunks.
    again = make_article("The bridge in Porto closed for repairs. Drivers took the ferry.", id="p")
    s3 = s2.with_articles([(again, content_hash(again.text))], FakeEmbedder())
    assert s3.articles["p"].text.startswith("The bridge") and s3.faiss.ntotal == len(s3.chunks)
    assert all("opened" not in c.text for c in s3.article_chunks("p"))


def test_embedder_with_wrong_dimension_is_refused(tmp_path):
    store, _ = build(tmp_path)
    article = make_article("A new bridge opened in Porto on Monday. Traffic was heavy.", id="p")
    with pytest.raises(IndexMismatch, match="dims"):
        store.with_articles([(article, "h")], FakeEmbedder(dim=32))


def test_adding_articles_extends_the_vector_index_instead_of_rebuilding(monkeypatch):
    """Above the exact-search size an added article's vectors go into a copy of the
    existing IVF index (same clusters); its chunks are found; the old snapshot is untouched."""
    import rag.index.faiss.article_store as store_mod
    from rag.index.faiss import vector_index

    monkeypatch.setattr(vector_index, "EXACT_MAX", 50)
    e = FakeEmbedder()
    words = ["flood", "summit", "budget", "match", "vaccine", "court", "rocket", "harvest"]
    arts = [make_article(". ".join(f"The {words[i % 8]} story {i} sentence {j} about {words[(i + j) % 8]}"
                                   for j in range(6)) + ".", id=f"a{i}") for i in range(40)]
    base = empty_store(e, Chunking(2, 0, 500)).with_articles([(a, str(i)) for i, a in enumerate(arts)], e)
    assert not vector_index.is_exact(base.faiss)
    calls = []
    real = store_mod.extend_index
    monkeypatch.setattr(store_mod, "extend_index", lambda *a: calls.append(a) or real(*a))
    new = make_article("Volcano ash grounded every flight in Iceland. Airlines cancelled routes.", id="new")
    grown = base.with_articles([(new, "n")], e)
    assert len(calls) == 1 and grown.faiss.ntotal == base.faiss.ntotal + 1
    assert grown.faiss.nlist == base.faiss.nlist  # the clusters were kept, not trained again
    q = e.embed(["volcano ash flight Iceland"])
    grown.faiss.nprobe = grown.faiss.nlist  # scan every cluster: the nearest vector is the new chunk
    assert grown.chunks[int(grown.faiss.search(q, 1)[1][0][0])].article_id == "new"
    assert base.faiss.ntotal == len(base.chunks)  # the old snapshot is unchanged


def test_chunks_saved_as_columns_and_older_row_files_still_load(tmp_path):
    store, e = build(tmp_path)
    root = tmp_path / "versions" / current_version(tmp_path)
    cols = json.loads((root / "chunks.json").read_text())
    assert cols["id"] == [c.id for c in store.chunks] and len(cols["start"]) == len(store.chunks)
    # An index written by an earlier release (one JSON row per chunk) loads the same.
    with open(root / "chunks.jsonl", "w") as f:
        for i, cid in enumerate(cols["id"]):
            f.write(json.dumps({"id": cid, "article_id": cols["article_id"][i], "start": cols["start"][i],
                                "end": cols["end"][i]}) + "\n")
    (root / "chunks.json").unlink()
    loaded = load_store(tmp_path, e.name, Chunking(2, 0, 500))
    assert [(c.id, c.text) for c in loaded.chunks] == [(c.id, c.text) for c in store.chunks]
    # Columns of different lengths are a damaged index, reported as such.
    (root / "chunks.json").write_text(json.dumps({**cols, "end": cols["end"][:-1]}))
    with pytest.raises(IndexUnavailable, match="rebuild"):
        load_store(tmp_path, e.name, Chunking(2, 0, 500))


def test_loading_uses_the_saved_vector_index_as_it_is(tmp_path, monkeypatch):
    """No k-means again at start-up: the IVF index read from disk is the one searched."""
    from rag.index.faiss import vector_index
    import rag.index.faiss.article_store as store_mod

    monkeypatch.setattr(vector_index, "EXACT_MAX", 50)
    e = FakeEmbedder()
    arts = [make_article(f"Story {i} about the harbour. The ferry {i} sailed late. Crowds {i} waited.", id=f"a{i}")
            for i in range(40)]
    store = empty_store(e, Chunking(2, 0, 500)).with_articles([(a, str(i)) for i, a in enumerate(arts)], e)
    save_version(store, tmp_path)
    monkeypatch.setattr(store_mod, "build_index", lambda *a, **k: pytest.fail("index rebuilt on load"))
    loaded = load_store(tmp_path, e.name, Chunking(2, 0, 500))
    assert not vector_index.is_exact(loaded.faiss) and loaded.faiss.nprobe == store.faiss.nprobe
    q = e.embed(["ferry 7 sailed late"])
    assert (loaded.faiss.search(q, 3)[1] == store.faiss.search(q, 3)[1]).all()
    assert np.allclose(loaded.vectors, store.vectors)


def test_bm25_segments_are_saved_reused_by_hard_link_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    import rag.index.faiss.versions as store_mod
    from rag.index.bm25 import Bm25Index

    store, e = build(tmp_path)
    v1 = tmp_path / "versions" / current_version(tmp_path)
    grown = store.with_articles([(make_article("Volcano ash grounded flights in Iceland.", id="v"), "hv")], e)
    save_version(grown, tmp_path)
    v2 = tmp_path / "versions" / current_version(tmp_path)
    names = json.loads((v2 / "manifest.json").read_text())["lexical"]
    assert len(names) == 2 and (v2 / "bm25" / names[1]).is_dir()
    old_file = next((v1 / "bm25" / names[0]).iterdir())
    assert os.path.samefile(old_file, v2 / "bm25" / names[0] / old_file.name)  # linked, not rewritten

    built = []
    real_build = Bm25Index.build
    monkeypatch.setattr(store_mod.Bm25Index, "build", lambda *a: built.append(1) or real_build(*a))
    loaded = load_store(tmp_path, e.name, Chunking(2, 0, 500))
    assert not built  # read from disk, not re-tokenised
    pos = loaded.positions
    assert loaded.lexical.search("volcano Iceland", 1, pos)[0][0] == pos["v#0"]
    assert loaded.lexical.search("Tianjin", 1, pos)  # a chunk of the first version's segment

    # A damaged segment is derived data: rebuilt from the chunks, the index still loads.
    shutil.rmtree(v2 / "bm25" / names[1])
    again = load_store(tmp_path, e.name, Chunking(2, 0, 500))
    assert built and again.lexical.search("volcano Iceland", 1, again.positions)[0][0] == again.positions["v#0"]


def test_bm25_also_matches_the_article_title():
    """A chunk deep in an article rarely names its subject; BM25 reads the title with it,
    also for chunks added later."""
    e = FakeEmbedder()
    store = empty_store(e, Chunking(1, 0, 500)).with_articles(
        [(make_article(WEATHER, id="w"), "hw")], e)
    quake = make_article("The ground shook at dawn. Thousands slept outside.", id="q", title="Earthquake in Peru")
    grown = store.with_articles([(quake, "hq")], e)
    hits = grown.lexical.search("earthquake Peru", 5, grown.positions)
    assert {grown.chunks[i].article_id for i, _ in hits} == {"q"} and len(hits) == 2


def test_start_up_removes_a_killed_writers_leftovers_under_the_lock(tmp_path):
    # Issue #12: they stayed until the next successful save.
    from rag.index.locks import writer_lock

    store, e = build(tmp_path)
    clean_up = lambda d: FaissBackend(d, Layout(e.name, e.dim, Chunking(2, 0, 500))).clean_up()  # noqa: E731
    versions = tmp_path / "versions"
    half = versions / ".tmp-v9999999999999999999"
    half.mkdir()
    orphan = versions / "v9999999999999999998"  # renamed into place, never published
    shutil.copytree(versions / store.version, orphan)
    os.symlink("versions/.tmp-v9999999999999999999", tmp_path / ".index-v9999999999999999999")
    with writer_lock(tmp_path):  # another writer at work: its temporaries are left alone
        assert clean_up(tmp_path) == [] and half.exists() and orphan.exists()
    assert sorted(clean_up(tmp_path)) == sorted([half.name, orphan.name, ".index-v9999999999999999999"])
    assert [p.name for p in versions.iterdir()] == [store.version]
    assert set(load_store(tmp_path, e.name, Chunking(2, 0, 500)).articles) == {"s", "w"}


def test_the_server_and_cli_clean_up_when_they_start(tmp_path, monkeypatch):
    """Index.open (the server's start-up and assemble.build, the CLI's) first removes
    what a killed writer left."""
    from rag.index.handle import Index

    store, e = build(tmp_path)
    calls = []
    monkeypatch.setattr(FaissBackend, "clean_up", lambda self: calls.append(self.data_dir) or [])
    chunking = Chunking(2, 0, 500)
    index = Index(tmp_path, tmp_path / "seeds", e, FaissBackend(tmp_path, Layout(e.name, e.dim, chunking)), chunking)
    index.open()
    assert calls == [tmp_path] and index.snapshot().version == store.version
