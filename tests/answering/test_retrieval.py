import pytest

@pytest.fixture
def settings(any_settings):
    """Every test here runs on each index backend (FAISS, PostgreSQL)."""
    return any_settings


def test_hybrid_finds_the_right_article(fake_pipeline):
    hits = fake_pipeline.retriever.search(fake_pipeline.index.snapshot(), "Where was the summit held?", 2)
    assert hits[0].chunk.article_id == "summit"
    assert hits[0].score > hits[1].score
    assert hits[0].lexical > 0 and 0 < hits[0].dense <= 1.0


def test_lexical_rescues_rare_names(fake_pipeline):
    hits = fake_pipeline.retriever.search(fake_pipeline.index.snapshot(), "Lisbon", 1)
    assert hits[0].chunk.article_id == "weather"


def test_top_k_bounds(fake_pipeline):
    r, snap = fake_pipeline.retriever, fake_pipeline.index.snapshot()
    assert len(r.search(snap, "summit", 100)) == snap.chunk_count
    assert r.search(snap, "summit", 0) == []
