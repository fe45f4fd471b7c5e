from rag.embedding import FakeEmbedder
from rag.grounding import Grounder, GroundingConfig, key_terms, split_claims
from rag.retrieval import Retriever


def hits_for(p, q, k=2):
    return Retriever(p.embedder).search(p.store, q, k)


def test_split_claims_reads_markers():
    assert split_claims("It was in Tianjin [1]. Putin attended [2][1]. Lone [3, 4].") == [
        ("It was in Tianjin.", (1,)), ("Putin attended.", (2, 1)), ("Lone.", (3, 4))]


def test_key_terms_are_numbers_and_names():
    assert key_terms("The council closed 12 schools in Lisbon on Tuesday.") == {"12", "lisbon", "tuesday"}


def test_supported_claim_keeps_citation_with_exact_span(fake_pipeline):
    hits = hits_for(fake_pipeline, "Where was the summit held?")
    g = Grounder(FakeEmbedder()).ground("The summit was held in Tianjin [1].", hits, fake_pipeline.store.articles)
    assert g.grounded and g.answer == "The summit was held in Tianjin [1]."
    (c,) = g.citations
    art = fake_pipeline.store.articles[c.article_id]
    assert c.article_id == "summit"
    assert c.quote == "The summit of the Shanghai Cooperation Organisation was held in Tianjin."
    assert art.text[c.start:c.end] == c.quote
    assert g.claims[0].supported and g.claims[0].citations == (1,)


def test_wrong_citation_is_corrected(fake_pipeline):
    hits = hits_for(fake_pipeline, "summit Lisbon schools", 4)
    weather_n = next(i for i, h in enumerate(hits, 1) if h.chunk.article_id == "weather")
    summit_n = next(i for i, h in enumerate(hits, 1) if h.chunk.article_id == "summit")
    g = Grounder(FakeEmbedder()).ground(f"The city council closed 12 schools [{summit_n}].", hits,
                                        fake_pipeline.store.articles)
    assert weather_n != summit_n
    assert g.citations[0].article_id == "weather"
    assert g.citations[0].quote == "The city council closed 12 schools."


def test_invented_number_is_removed(fake_pipeline):
    hits = hits_for(fake_pipeline, "How many schools closed?", 4)
    g = Grounder(FakeEmbedder()).ground(
        "The city council closed 40 schools [1]. The summit was held in Tianjin [1].", hits,
        fake_pipeline.store.articles)
    assert [c.supported for c in g.claims] == [False, True]
    assert "40" not in g.answer and "Tianjin" in g.answer


def test_nothing_supported_is_not_grounded(fake_pipeline):
    hits = hits_for(fake_pipeline, "summit")
    g = Grounder(FakeEmbedder()).ground("Bananas are purple in Peru [1].", hits, fake_pipeline.store.articles)
    assert not g.grounded and g.answer == "" and g.citations == []


def test_extractive_fallback_quotes_verbatim(fake_pipeline):
    hits = hits_for(fake_pipeline, "Who did Sharif meet?")
    g = Grounder(FakeEmbedder(), GroundingConfig(min_evidence=0.3)).extractive(
        "Who did Sharif meet?", hits, fake_pipeline.store.articles, max_sentences=1)
    assert g is not None
    (c,) = g.citations
    assert "Sharif met Russian president Vladimir Putin" in c.quote
    assert g.answer == f"“{c.quote}” [1]"
