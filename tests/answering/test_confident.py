"""A confident extractive answer (rag/answering/confident.py) on fakes: the model is not
asked when the best sentence answers surely and its short answer is short and sure."""

from dataclasses import replace

import pytest

from ..conftest import TUNING, make_pipeline

QUESTION = "When will Sharif visit Russia?"
QUOTE = "Sharif accepted an invitation to visit Russia in November."


def _pipeline(settings, **knobs):
    from rag.documents import make_article

    from ..conftest import SUMMIT
    p = make_pipeline(settings, ("Sharif will visit Russia in November [1].",), tuning=replace(TUNING, **knobs))
    p.index.ingest([make_article(SUMMIT, id="s")])
    return p


# (The fake verifier: "November" read with 0.9; its sentence answers with 0.6, three of the
# question's five longer words.)
SURE = dict(extract_answers=0.6, extract_span=0.5, extract_words=4)


def test_a_sure_short_answer_is_quoted_without_the_model(settings):
    p = _pipeline(settings, **SURE)
    a = p.ask(QUESTION)
    assert not a.abstained and a.grounded and p.generator.prompts == []
    assert a.answer == f"November: “{QUOTE}” [1]"
    assert a.short_answer.text == "November" and a.short_answer.citation == 1
    (c,) = a.citations
    assert c.quote == QUOTE and p.index.snapshot().store.articles[c.article_id].text[c.start:c.end] == QUOTE
    assert "generate" not in a.timings_ms and "ground" in a.timings_ms


@pytest.mark.parametrize("knob", [dict(extract_answers=0.65), dict(extract_span=0.95), dict(extract_words=0)])
def test_the_model_writes_when_anything_is_less_sure(settings, knob):
    """The sentence below extract_answers, the span below extract_span, or a short answer
    longer than extract_words: the model's answer, grounded as before."""
    p = _pipeline(settings, **{**SURE, **knob})
    a = p.ask(QUESTION)
    assert len(p.generator.prompts) == 1 and "generate" in a.timings_ms
    assert a.answer == "Sharif will visit Russia in November [1]."


def test_no_sentence_answers_still_abstains(settings):
    from rag.components.fake_verifier import FakeVerifier
    from rag.components.verifier import Calibration
    from rag.documents import make_article

    from ..conftest import SUMMIT
    p = make_pipeline(settings, ("never asked",), FakeVerifier(Calibration(answerable=0.99)),
                      tuning=replace(TUNING, **SURE))
    p.index.ingest([make_article(SUMMIT, id="s")])
    a = p.ask("How many people attended the summit?")
    assert a.abstained and a.reason == "not_answered" and p.generator.prompts == []


def test_the_quoted_answer_streams_no_draft(settings):
    """No model tokens to stream: the checked answer comes whole with its citations (a
    draft event too would show it twice in the OpenAI-style stream)."""
    p = _pipeline(settings, **SURE)
    events = list(p.ask_stream(QUESTION))
    kinds = [k for k, _ in events]
    assert kinds == ["citations", "done"]