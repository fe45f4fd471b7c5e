"""The bm25s keyword segments (rag/index/bm25.py): extended, merged, deleted from, and
scored exactly as after a full rebuild."""

from rag.documents import content_hash, make_article
from rag.components.embedding import FakeEmbedder
from rag.index.bm25 import MAX_SEGMENTS, Bm25Index
from rag.index.protocols import Chunking
from rag.index.faiss.article_store import empty_store


def ids_of(index, query, positions, k=5):
    inv = {p: cid for cid, p in positions.items()}
    return [inv[p] for p, _ in index.search(query, k, positions)]


def test_extend_adds_a_segment_and_finds_new_chunks():
    base = Bm25Index.build(["a", "b"], ["cats purr loudly", "dogs bark at night"])
    more = base.extended(["c"], ["zebras run across plains"])
    assert len(more.segments) == 2 and len(base.segments) == 1  # the old index is untouched
    pos = {"a": 0, "b": 1, "c": 2}
    assert ids_of(more, "zebras", pos) == ["c"]
    assert ids_of(more, "dogs bark", pos) == ["b"]


def test_deleted_chunks_are_not_returned():
    idx = Bm25Index.build(["a", "b"], ["cats purr", "cats sleep"])
    assert ids_of(idx, "cats", {"b": 0}) == ["b"]


def test_small_segments_are_merged_when_they_pile_up_and_the_largest_is_kept():
    base_ids = [f"b{j}" for j in range(50)]
    texts = {cid: f"base{j} common" for j, cid in enumerate(base_ids)}
    idx = Bm25Index.build(base_ids, list(texts.values()))
    big = idx.segments[0]
    for i in range(1, MAX_SEGMENTS + 1):
        texts[f"s{i}"] = f"word{i} common"
        idx = idx.extended([f"s{i}"], [texts[f"s{i}"]], texts)
    assert len(idx.segments) == 2 and idx.size == 50 + MAX_SEGMENTS
    assert idx.segments[0] is big  # the large segment is not re-tokenised
    pos = {cid: i for i, cid in enumerate(texts)}
    for i in (1, MAX_SEGMENTS):  # chunks of merged and of new segments are all found
        assert ids_of(idx, f"word{i}", pos) == [f"s{i}"]
    assert ids_of(idx, "base7", pos) == ["b7"]


def test_store_reuses_segments_and_rebuilds_on_update():
    e = FakeEmbedder()
    a = make_article("Lisbon flooded after heavy rain on Tuesday.", id="a")
    b = make_article("Tianjin hosted the summit of leaders.", id="b")
    s1 = empty_store(e, Chunking()).with_articles([(a, content_hash(a.text))], e)
    s2 = s1.with_articles([(b, content_hash(b.text))], e)
    assert s2.lexical.segments[0] is s1.lexical.segments[0]
    assert ids_of(s2.lexical, "Tianjin", s2.positions) == ["b#0"]
    # Same id, new text: the old words must no longer find it.
    b2 = make_article("Oslo hosted a chess tournament.", id="b")
    s3 = s2.with_articles([(b2, content_hash(b2.text))], e)
    assert ids_of(s3.lexical, "Tianjin", s3.positions) == []
    assert ids_of(s3.lexical, "chess", s3.positions) == ["b#0"]
    s4 = s3.without({"b"})
    assert ids_of(s4.lexical, "chess", s4.positions) == []


def _scores(index, query, positions, ids):
    inv = {p: cid for cid, p in positions.items()}
    return {inv[p]: s for p, s in index.search(query, len(ids), positions)}


def test_a_one_chunk_segment_scores_exactly_as_after_a_rebuild():
    # Issue #12: with per-segment idf, a chunk added alone weighed every word alike
    # ("visitors" as much as "Quendrith") and lost to long-standing chunks.
    base = {f"b{j}": f"visitors came to the festival number {j} in the town of Place{j}" for j in range(40)}
    base["other"] = "Quendrith is mentioned once here among festival visitors"
    new = {"n": "The Quendrith river festival in Brelmoor drew 4,500 visitors"}
    seg = Bm25Index.build(list(base), list(base.values())).extended(list(new), list(new.values()))
    assert len(seg.segments) == 2
    every = {**base, **new}
    whole = Bm25Index.build(list(every), list(every.values()))
    pos = {cid: i for i, cid in enumerate(every)}
    q = "How many visitors did the Quendrith river festival in Brelmoor draw?"
    a, b = _scores(seg, q, pos, every), _scores(whole, q, pos, every)
    assert a.keys() == b.keys() and all(abs(a[c] - b[c]) < 1e-9 for c in a)
    assert ids_of(seg, q, pos, k=1) == ["n"]


def test_deleted_chunks_count_nowhere_in_the_statistics():
    texts = {"a": "rare word zork here", "b": "zork again", "c": "plain text only", "d": "zork zork"}
    idx = Bm25Index.build(list(texts), list(texts.values()))
    live = {"a": 0, "c": 1}  # b and d deleted: zork is now in one chunk of two
    fresh = Bm25Index.build(["a", "c"], [texts["a"], texts["c"]])
    assert _scores(idx, "zork", live, live) == _scores(fresh, "zork", live, live)


def test_a_chunk_id_in_two_segments_is_live_only_in_the_last():
    idx = Bm25Index.build(["x"], ["apples and pears"]).extended(["x"], ["oranges only"])
    pos = {"x": 0}
    assert ids_of(idx, "apples", pos) == [] and ids_of(idx, "oranges", pos) == ["x"]


def test_one_segment_scores_as_bm25s_does():
    # The scorer is bm25s' Lucene BM25, so an index built whole ranks as it always did.
    import bm25s
    import numpy as np
    texts = ["The cat sat on the mat with another cat", "Dogs bark at night in the city",
             "A cat and a dog met in Paris city", "Quendrith river festival drew visitors",
             "visitors came to the city festival festival"]
    ref = bm25s.BM25()
    ref.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    q = "cat city festival visitors cat"
    expected = ref.get_scores(bm25s.tokenize([q], stopwords="en", return_ids=False, show_progress=False)[0])
    pos = {f"c{i}": i for i in range(len(texts))}
    got = dict(Bm25Index.build(list(pos), texts).search(q, 10, pos))
    assert np.allclose([got.get(i, 0.0) for i in range(len(texts))], expected)
