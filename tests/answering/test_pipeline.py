"""The answering Pipeline (rag/answering/pipeline.py) on fakes: cited answers, abstentions
before the model, fall-backs to the quote, follow-up rewriting, streaming, summaries."""

import pytest

from rag.answering import followup
from rag.answering.pipeline import Turn
from rag.components.generation import FakeGenerator
from rag.errors import BadInput, IndexUnavailable, TooLarge

from ..conftest import make_pipeline


def test_answer_is_cited_with_exact_quote(fake_pipeline):
    a = fake_pipeline.ask("Where was the summit held?")
    assert not a.abstained and a.grounded
    assert a.answer == "The summit was held in Tianjin [1]."
    (c,) = a.citations
    assert fake_pipeline.index.snapshot().store.articles[c.article_id].text[c.start:c.end] == c.quote
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


def _ingest_summit(p):
    from rag.documents import make_article

    from ..conftest import SUMMIT
    p.index.ingest([make_article(SUMMIT, id="s")])


def _summit_pipeline(settings, replies):
    p = make_pipeline(settings, replies=replies)
    _ingest_summit(p)
    return p


def test_question_no_sentence_answers_abstains_before_the_model(settings):
    from rag.components.verifier import Calibration
    from rag.components.fake_verifier import FakeVerifier
    p = make_pipeline(settings, ("12000 people [1].",), FakeVerifier(Calibration(answerable=0.99)))
    _ingest_summit(p)
    a = p.ask("How many people attended the summit?")  # on topic, but no sentence answers
    assert a.abstained and a.reason == "not_answered" and a.citations == []
    assert p.generator.prompts == [] and a.passages and "verify" in a.timings_ms
    assert "do not answer" in a.answer


def test_model_refusal_falls_back_to_the_answering_sentence(settings):
    p = _summit_pipeline(settings, ("NOT IN SOURCES",))
    a = p.ask("When will Sharif visit Russia?")
    assert not a.abstained and a.grounded and len(p.generator.prompts) == 1
    (c,) = a.citations
    assert c.quote == "Sharif accepted an invitation to visit Russia in November."
    # The short answer the verifier reads in it leads, at its exact offsets in the quote.
    assert a.answer == f"November: “{c.quote}” [1]"
    assert a.claims[-1].status == "quoted"
    s = a.short_answer
    assert s.text == "November" and s.citation == 1 and s.article_id == c.article_id
    assert c.start <= s.start < s.end <= c.end
    assert p.index.snapshot().store.articles[s.article_id].text[s.start:s.end] == "November"


def test_extract_mode_answers_without_the_model(settings):
    p = _summit_pipeline(settings.model_copy(update={"answer_mode": "extract"}), ("never asked",))
    a = p.ask("When will Sharif visit Russia?")
    assert not a.abstained and a.grounded and p.generator.prompts == []
    assert a.answer.startswith("November: “Sharif accepted") and a.short_answer.text == "November"
    assert "generate" not in a.timings_ms


def test_unsupported_answer_falls_back_to_the_quote_and_reports_the_claim(settings):
    p = _summit_pipeline(settings, ("Sharif will visit Moscow with Xi Jinping in 2031 [1].",))
    a = p.ask("When will Sharif visit Russia?")
    assert not a.abstained and a.answer.startswith("November: “Sharif accepted")
    assert a.claims[0].supported is False and a.claims[0].status in ("unsupported", "contradicted")


def test_supported_answer_to_another_question_is_not_shown(settings):
    p = _summit_pipeline(settings, ("The summit of the Shanghai Cooperation Organisation was held in Tianjin [1].",))
    a = p.ask("When will Sharif visit Russia?")
    assert a.claims[0].status == "not_an_answer"
    assert "Tianjin" not in a.answer and "November" in a.answer  # the answering sentence, quoted


def test_the_verifier_re_ranks_the_passages(settings):
    from rag.documents import make_article
    from ..conftest import SUMMIT, WEATHER
    p = make_pipeline(settings, ("Sharif will visit Russia in November [1].",))
    p.index.ingest([make_article(WEATHER, id="w"), make_article(SUMMIT, id="s")])
    a = p.ask("When will Sharif visit Russia?", top_k=1)
    assert [h.chunk.article_id for h in a.passages] == ["s"]
    assert "[1] Sharif accepted an invitation to visit Russia in November." in p.generator.prompts[0].user


def test_markers_pointing_nowhere_are_dropped(settings):
    from rag.documents import make_article

    from ..conftest import SUMMIT
    p = make_pipeline(settings, replies=("The summit was held in Tianjin [7].",))
    p.index.ingest([make_article(SUMMIT, id="s")])
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


HISTORY = [Turn("user", "Tell me about the summit"), Turn("assistant", "It was an SCO summit in Tianjin.")]


def _rewriting(rewrite):
    def reply(prompt):
        if prompt.system == followup.SYSTEM:
            return rewrite
        return "The summit was held in Tianjin [1]."
    return reply


def test_follow_up_is_rewritten_by_the_model(settings, fake_pipeline):
    fake_pipeline = fake_pipeline.with_generator(FakeGenerator(_rewriting("Where was the SCO summit held?")))
    a = fake_pipeline.ask("Where was it held?", history=HISTORY)
    assert a.query == "Where was the SCO summit held?"
    first = fake_pipeline.generator.prompts[0]
    assert "User: Tell me about the summit" in first.user and "In the question \"Where was it held?\", who is \"it\"?" in first.user
    assert "Question: Where was the SCO summit held?" in fake_pipeline.generator.prompts[1].user
    assert "rewrite" in a.timings_ms


def test_unusable_rewrite_falls_back_to_the_last_user_turn(fake_pipeline):
    fake_pipeline = fake_pipeline.with_generator(FakeGenerator(_rewriting("Sure! Here is the question.")))
    a = fake_pipeline.ask("Where was it held?", history=HISTORY)
    assert a.query == "Tell me about the summit Where was it held?"


def test_standalone_follow_up_is_not_rewritten(fake_pipeline):
    a = fake_pipeline.ask("Where was the summit held?", history=HISTORY)
    assert a.query == "Where was the summit held?" and len(fake_pipeline.generator.prompts) == 1


@pytest.mark.parametrize("raw,ok", [
    ("What did Putin invite Sharif to do?", True), ('"What did Putin invite Sharif to do?"', True),
    ("Rewritten question: What did Putin invite Sharif to do?", True),
    ("Putin invited Sharif to visit Russia.", False), ("What is the weather?", False),
    ("What did Putin invite Sharif to do? Putin invited Sharif to visit Russia.", True),
    ('In the question "What did he invite him to do?", he is Putin.', False)])
def test_rewrite_is_checked(raw, ok):
    got = followup.accept(raw, "What did he invite him to do?")
    assert (got == "What did Putin invite Sharif to do?") if ok else got is None


def test_stream_yields_tokens_then_done(fake_pipeline):
    events = list(fake_pipeline.ask_stream("Where was the summit held?"))
    kinds = [k for k, _ in events]
    assert kinds[0] == "token" and kinds[-1] == "done" and "citations" in kinds
    text = "".join(v for k, v in events if k == "token")
    assert text == "The summit was held in Tianjin [1]."


def test_token_log_probs_keep_the_last_scoring_of_each_position():
    """generation._TokenLogProbs: with prompt lookup a position is scored again when a
    draft is rejected; the value kept is the last one, on the accepted prefix."""
    import math

    import torch

    from rag.components.generation import _TokenLogProbs

    rec = _TokenLogProbs()
    prompt = torch.zeros((1, 3), dtype=torch.long)
    rec(prompt, torch.tensor([[0.0, 0.0, 0.0, 0.0]]))  # a draft pass: uniform, later rescored
    rec(prompt, torch.tensor([[0.0, 5.0, 0.0, 0.0]]))  # position 3 -> token 1
    rec(torch.zeros((1, 4), dtype=torch.long), torch.tensor([[0.0, 0.0, 3.0, 0.0]]))  # position 4 -> token 2

    class Tok:
        def decode(self, ids):
            return f"<{ids[0]}>"

    out = rec.result([1, 2, 3], 3, Tok())
    assert out["tokens"] == ["<1>", "<2>", "<3>"]
    assert out["token_logprobs"][0] == pytest.approx(5 - math.log(math.exp(5) + 3), abs=1e-5)
    assert out["token_logprobs"][1] == pytest.approx(3 - math.log(math.exp(3) + 3), abs=1e-5)
    assert out["token_logprobs"][2] is None  # never scored


def test_an_answer_its_own_source_answers_otherwise_is_replaced_by_the_quote(settings):
    # Every word of "held in Shanghai" is in "... the Shanghai Cooperation Organisation was
    # held in Tianjin", so the claim reads as supported; the span read in the cited
    # sentence ("Tianjin") is not in it, so the sentence is quoted instead.
    p = make_pipeline(settings, ("The summit was held in Shanghai [1].",))
    _ingest_summit(p)
    a = p.ask("Where was the summit held?")
    assert not a.abstained and "Shanghai [1]" not in a.answer
    assert a.answer.startswith("Tianjin: “") and a.citations[0].quote in a.answer
    assert [c.status for c in a.claims] == ["disagrees", "quoted"]
    assert a.short_answer.text == "Tianjin"


def test_a_summary_rests_on_the_opening_of_the_best_matching_article(settings):
    from rag.documents import make_article

    from ..conftest import SUMMIT
    later = ("Later that week the ministers met again. They discussed rail links and energy. "
             "No agreement was signed. Officials said talks would continue. The next round is in Moscow.")
    p = make_pipeline(settings, ("Sharif met Putin at the summit in Tianjin [1].",))
    p.index.ingest([make_article(SUMMIT + " " + later, id="s")])
    a = p.ask("Summarize what the ministers discussed later that week.")
    assert not a.abstained and a.grounded
    # The article's opening, quoted in reading order and cited, whatever chunk matched the
    # words best; the model is not asked.
    assert a.answer == ("The summit of the Shanghai Cooperation Organisation was held in Tianjin [1]. "
                        "Pakistan's prime minister Shehbaz Sharif met Russian president Vladimir Putin there [2].")
    assert [c.status for c in a.claims] == ["quoted", "quoted"] and p.generator.prompts == []
    store = p.index.snapshot().store
    assert all(store.articles["s"].text[c.start:c.end] == c.quote for c in a.citations)
    assert a.passages[0].chunk.id == "s#0"


def test_a_summary_of_a_one_passage_article(settings):
    from rag.documents import make_article

    p = make_pipeline(settings, ("Heavy rain flooded Lisbon [1].",))
    p.index.ingest([make_article("Heavy rain flooded the streets of Lisbon on Tuesday.", id="w")])
    a = p.ask("Give me an overview of the Lisbon rain.")
    assert not a.abstained and [h.chunk.id for h in a.passages] == ["w#0"]
