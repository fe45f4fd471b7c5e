from rag.answering.retrieval import Retriever


def test_hybrid_finds_the_right_article(fake_pipeline):
    r = Retriever(fake_pipeline.embedder)
    hits = r.search(fake_pipeline.store, "Where was the summit held?", 2)
    assert hits[0].chunk.article_id == "summit"
    assert hits[0].score > hits[1].score
    assert hits[0].lexical > 0 and 0 < hits[0].dense <= 1.0


def test_lexical_rescues_rare_names(fake_pipeline):
    hits = Retriever(fake_pipeline.embedder).search(fake_pipeline.store, "Lisbon", 1)
    assert hits[0].chunk.article_id == "weather"


def test_top_k_bounds(fake_pipeline):
    r = Retriever(fake_pipeline.embedder)
    n = len(fake_pipeline.store.chunks)
    assert len(r.search(fake_pipeline.store, "summit", 100)) == n
    assert r.search(fake_pipeline.store, "summit", 0) == []
