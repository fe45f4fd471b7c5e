import pytest

from rag.answer import Turn
from rag.errors import BadInput, IndexUnavailable, TooLarge

from .conftest import make_pipeline


def test_answer_is_cited_with_exact_quote(fake_pipeline):
    a = fake_pipeline.ask("Where was the summit held?")
    assert not a.abstained and a.grounded
    assert a.answer == "The summit was held in Tianjin [1]."
    (c,) = a.citations
    assert fake_pipeline.store.articles[c.article_id].text[c.start:c.end] == c.quote
    assert c.title == "Summit in Tianjin" and c.published == "2025-09-01"
    assert {"retrieve", "generate", "ground", "total"} <= set(a.timings_ms)
    prompt = fake_pipeline.generator.prompts[-1]
    assert "[1] The summit of the Shanghai Cooperation Organisation was held in Tianjin." in prompt.user
    assert "Question: Where was the summit held?" in prompt.user


def test_irrelevant_question_abstains_without_calling_the_model(fake_pipeline):
    a = fake_pipeline.ask("zyxxy qwop blorf?")
    assert a.abstained and a.reason == "no_relevant_passages"
    assert fake_pipeline.generator.prompts == []
    assert a.citations == []


def test_model_refusal_abstains(settings):
    from rag.documents import make_article
    from rag.indexing import ingest

    from .conftest import SUMMIT
    p = make_pipeline(settings, replies=("NOT IN SOURCES",))
    ingest(p, [make_article(SUMMIT, id="s")])
    a = p.ask("How many people attended the summit?")
    assert a.abstained and a.reason == "unsupported_answer" and a.citations == []
    assert "don't say" in a.answer and a.passages


def test_markers_pointing_nowhere_are_dropped(settings):
    from rag.documents import make_article
    from rag.indexing import ingest

    from .conftest import SUMMIT
    p = make_pipeline(settings, replies=("The summit was held in Tianjin [7].",))
    ingest(p, [make_article(SUMMIT, id="s")])
    a = p.ask("Where was the summit held?", top_k=1)
    assert [c.n for c in a.citations] == [1] and "[7]" not in a.answer


def test_input_checks(fake_pipeline):
    with pytest.raises(BadInput, match="empty"):
        fake_pipeline.ask("   ")
    with pytest.raises(TooLarge):
        fake_pipeline.ask("x" * 5000)
    with pytest.raises(BadInput, match="top_k"):
        fake_pipeline.ask("summit?", top_k=0)
    with pytest.raises(TooLarge, match="history"):
        fake_pipeline.ask("summit?", history=[Turn("user", "q")] * 500)


def test_no_index_is_unavailable(settings):
    with pytest.raises(IndexUnavailable):
        make_pipeline(settings).ask("anything?")


def test_follow_up_query_uses_history(fake_pipeline):
    a = fake_pipeline.ask("Where was it held?", history=[Turn("user", "Tell me about the summit"),
                                                         Turn("assistant", "It was an SCO summit.")])
    assert "summit" in a.query.lower()


def test_stream_yields_tokens_then_done(fake_pipeline):
    events = list(fake_pipeline.ask_stream("Where was the summit held?"))
    kinds = [k for k, _ in events]
    assert kinds[0] == "token" and kinds[-1] == "done" and "citations" in kinds
    text = "".join(v for k, v in events if k == "token")
    assert text == "The summit was held in Tianjin [1]."
