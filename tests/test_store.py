import os

import numpy as np
import pytest

from rag.documents import content_hash, make_article
from rag.embedding import FakeEmbedder
from rag.errors import IndexMismatch, IndexUnavailable
from rag.store import Chunking, empty_store, index_exists, load_store

from .conftest import SUMMIT, WEATHER


def build(tmp_path, chunking=Chunking(2, 0, 500)):
    e = FakeEmbedder()
    arts = [make_article(SUMMIT, id="s"), make_article(WEATHER, id="w")]
    store = empty_store(e, chunking).with_articles([(a, content_hash(a.text)) for a in arts], e)
    store.save(tmp_path)
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
    smaller.save(tmp_path)
    assert os.readlink(tmp_path / "index") != first
    assert set(load_store(tmp_path).articles) == {"s"}
    assert len(list((tmp_path / "versions").iterdir())) == 2
    # An abandoned temporary from a killed writer is cleaned up by the next save.
    (tmp_path / "versions" / ".tmp-v1").mkdir()
    smaller.save(tmp_path)
    assert not (tmp_path / "versions" / ".tmp-v1").exists()


def test_without_drops_vectors_and_chunks(tmp_path):
    store, _ = build(tmp_path)
    s2 = store.without({"s"})
    assert [c.article_id for c in s2.chunks] == ["w", "w"]
    assert s2.vectors.shape == (2, 64) and s2.faiss.ntotal == 2
