"""A confident extractive answer (rag/answering/confident.py) on the real models: a
plain factoid the verifier is sure of is answered by its short answer and quote, without
the generator; a question whose answer is not a short span still goes to the model."""


def test_a_sure_factoid_is_quoted_without_the_model(real_pipeline):
    a = real_pipeline.ask("Who did Shehbaz Sharif meet at the summit?")
    assert not a.abstained and a.grounded, a.answer
    assert "generate" not in a.timings_ms, a.answer
    assert a.short_answer is not None and "Putin" in a.short_answer.text
    (c,) = a.citations
    article = real_pipeline.index.snapshot().store.articles[c.article_id]
    assert article.text[c.start:c.end] == c.quote and f"“{c.quote}” [1]" in a.answer
    assert c.start <= a.short_answer.start < a.short_answer.end <= c.end


def test_an_explanation_is_still_written_by_the_model(real_pipeline):
    a = real_pipeline.ask("Why is the meeting described as a balancing act?")
    assert "generate" in a.timings_ms, a.answer
