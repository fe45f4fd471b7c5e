"""The trained verifier (models/verifier/) on cases it was not trained on: the seed
article (news, not Wikipedia or SNLI), and the reader's questions of issue #11."""

import json
from pathlib import Path

import numpy as np
import pytest

from rag.answering.pipeline import Turn
from rag.chunking import split_sentences
from rag.components.verifier import CONFIG, ENTAILED, WEIGHTS, CrossEncoderVerifier, default_dir, sha256

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = next((ROOT / "seeds").glob("*.txt")).read_text(encoding="utf-8")
SENTENCES = [ARTICLE[s.start:s.end] for s in split_sentences(ARTICLE)]


@pytest.fixture(scope="module")
def verifier():
    v = CrossEncoderVerifier()
    v.load()
    return v


def test_committed_weights_are_the_ones_the_model_card_names():
    d = default_dir()
    digest = sha256(d / WEIGHTS)
    assert json.loads((d / CONFIG).read_text())["sha256"] == digest
    assert digest in (d / "README.md").read_text()
    assert (d / WEIGHTS).stat().st_size < 50_000_000


KNOWN_MISS = pytest.mark.xfail(strict=True, reason="a known miss of the shipped verifier (evals/README.md, "
                                                   "round 6); strict: it fails the suite once fixed")


@pytest.mark.parametrize("question,needle", [
    # v3 ranked these right but scored them under its gate (0.64, 0.54, 0.38): v4 passes them
    ("Which world leader did Shehbaz Sharif hold talks with at the summit?", "Vladimir Putin"),
    ("Where was the summit?", "Tianjin"),
    ("When will Sharif travel to Russia?", "November"),
    ("Which anniversary did the parade mark?", "80th anniversary"),
    ("Which news agencies reported the talks?", "TASS"),
    ("Who did Sharif meet?", "Putin"),
])
def test_the_sentence_that_answers_scores_best(verifier, question, needle):
    p = verifier.answers(question, SENTENCES)
    assert needle in SENTENCES[int(p.argmax())], SENTENCES[int(p.argmax())]
    assert p.max() >= verifier.calibration.answerable


@pytest.mark.parametrize("question", [
    "What was Pakistan's GDP growth in 2024?",
    "How many people attended the military parade?",
    "Who won the last general election in Japan?",
    "What is the annual value of trade between Pakistan and Russia?",
])
def test_questions_the_article_cannot_answer_score_below_the_threshold(verifier, question):
    assert verifier.answers(question, SENTENCES).max() < verifier.calibration.answerable


def _sentence(needle):
    return next(s for s in SENTENCES if needle in s)


@pytest.mark.xfail(strict=True, reason="a regression of v4 (models/verifier/README.md, Limits): the close "
                   "paraphrase is scored 0.35 entailed, under 0.5 (v3 passed); strict: it fails the suite once fixed")
def test_a_close_paraphrase_is_supported_and_a_reversal_is_not(verifier):
    src = _sentence("balancing act")
    ok = ("Sharif expressed his nation's desire to strengthen its relationship with Russia while "
          "acknowledging and respecting Moscow's long-standing ties with India.")
    bad = "Sharif criticised Moscow's long-standing ties with India."
    p = verifier.support([(ok, src), (bad, src)])
    assert p[0, ENTAILED] >= verifier.calibration.supported
    assert p[1, ENTAILED] < verifier.calibration.supported


def test_a_changed_figure_is_contradicted(verifier):
    src = _sentence("80th anniversary")
    p = verifier.support([("The parade commemorated the 80th anniversary of the war.", src),
                          ("The parade commemorated the 70th anniversary of the war.", src)])
    assert p[0, ENTAILED] >= verifier.calibration.supported
    assert p[1, ENTAILED] < verifier.calibration.supported


@KNOWN_MISS  # "rejected" for "accepting" is read as entailed (0.99): antonyms are not in its data
def test_a_changed_fact_is_contradicted(verifier):
    src = _sentence("invitation to visit Russia in November")
    p = verifier.support([("Sharif accepted Putin's invitation to visit Russia in November.", src),
                          ("Sharif rejected Putin's invitation to visit Russia.", src)])
    assert p[0, ENTAILED] >= verifier.calibration.supported
    assert p[1, ENTAILED] < verifier.calibration.supported and p[1].argmax() != ENTAILED


def test_reader_questions_are_answered_with_quotes(real_pipeline):
    for q, needle in [("Who did Sharif meet?", "Putin"), ("Where was the summit?", "Tianjin")]:
        a = real_pipeline.ask(q)
        assert not a.abstained, (q, a.answer)
        assert needle in a.answer and any(needle in c.quote for c in a.citations), (q, a.answer)
        assert a.timings_ms["verify"] > 0


def test_a_summary_is_answered_and_every_sentence_is_cited(real_pipeline):
    a = real_pipeline.ask("Summarize the meeting in two sentences.")
    assert not a.abstained, a.answer
    assert a.citations and all(c.citations for c in a.claims if c.supported)
    article = next(iter(real_pipeline.index.snapshot().store.articles.values()))
    assert all(article.text[c.start:c.end] == c.quote for c in a.citations)


def test_on_topic_question_the_article_does_not_answer_abstains_without_the_model(real_pipeline):
    a = real_pipeline.ask("How much money did Russia promise to invest in Pakistan?")
    assert a.abstained and a.reason == "not_answered" and "generate" not in a.timings_ms
    assert a.passages and a.answerability is not None


@pytest.mark.parametrize("history,question,needle", [
    # rewritten "What did Sharif invite to do?" (v3 scored the right sentence 0.646, under its gate)
    ([Turn("user", "Who did Sharif meet at the summit?"),
      Turn("assistant", "Sharif met Russian President Vladimir Putin [1].")],
     "What did he invite Sharif to do?", "visit Russia"),
    ([Turn("user", "Which news agencies reported Sharif's interest in expanding ties?"),
      Turn("assistant", "Russia's state-run TASS news agency and Radio Pakistan reported it [1].")],
     "Which of those is run by the Russian state?", "TASS"),
])
def test_follow_ups_are_answered(real_pipeline, history, question, needle):
    a = real_pipeline.ask(question, history=history)
    assert not a.abstained, (a.query, a.answer)
    assert needle in a.answer, (a.query, a.answer)


@pytest.mark.parametrize("question,short", [
    ("Which world leader did Shehbaz Sharif hold talks with at the summit?", "Vladimir Putin"),
    ("Where was the summit?", "Tianjin"),
    ("Which anniversary did the parade mark?", "80th anniversary"),
    # A news quiz's way of asking: a preamble, then the question.
    ("Shehbaz Sharif travelled to China for a summit this week. "
     "Which world leader did he hold talks with there?", "Vladimir Putin"),
    ("Pakistan's prime minister attended a summit in China this week. "
     "In which city was the summit held?", "Tianjin"),
])
def test_the_span_head_reads_the_short_answer_at_its_offsets(verifier, question, short):
    p, spans = verifier.read(question, SENTENCES)
    k = int(p.argmax())
    assert spans[k] is not None and short in spans[k].text, (SENTENCES[k], spans[k])
    assert len(spans[k].text) <= 3 * len(short)  # a short answer, not the sentence
    assert SENTENCES[k][spans[k].start:spans[k].end] == spans[k].text


def test_a_sentence_with_its_answer_taken_out_does_not_answer(verifier):
    q = "Which world leader did Shehbaz Sharif hold talks with at the summit?"
    p = verifier.answers(q, ["Shehbaz Sharif held talks with a world leader at the summit.",
                             _sentence("Vladimir Putin")])
    assert p[0] < verifier.calibration.answerable and p[1] - p[0] > 0.5


def test_extract_mode_answers_with_the_short_answer_and_no_model(real_pipeline):
    from dataclasses import replace

    from rag.answering.pipeline import Pipeline

    p = real_pipeline
    fast = Pipeline.build(replace(p.pipeline.settings, answer_mode="extract"), p.index.snapshot,
                          p.index.embedder, p.generator, p.verifier)
    a = fast.ask("Who did Sharif meet?")
    assert not a.abstained and "generate" not in a.timings_ms
    s = a.short_answer
    assert s is not None and "Putin" in s.text and a.answer.startswith(f"{s.text}: “")
    assert p.index.snapshot().store.articles[s.article_id].text[s.start:s.end] == s.text
    (c,) = a.citations
    assert c.start <= s.start < s.end <= c.end


# --- a span head with a null option reads whole passages (v4, issue #19) -------------

def _passages():
    from rag.chunking import chunk_article
    from rag.documents import make_article

    return [c.text for c in chunk_article(make_article(ARTICLE, title="SCO summit"))]


@pytest.fixture(scope="module")
def v4(verifier):
    return verifier  # the default since issue #19; models/verifier-v3/ is its predecessor


def test_the_span_head_has_a_null_option(v4):
    assert v4.span_null and json.loads((v4.model_dir / CONFIG).read_text())["span_null"] is True
    v3 = CrossEncoderVerifier(default_dir().parent / "verifier-v3")
    v3.load()
    assert not v3.span_null  # v3 has none: its spans carry no has_answer
    _, spans = v4.read("Where was the summit?", SENTENCES[:2])
    assert all(s is None or 0.0 <= s.has_answer <= 1.0 for s in spans)
    assert all(s is None or s.has_answer is None for s in v3.read("Where was the summit?", SENTENCES[:2])[1])


def test_the_readme_question_is_answered_from_the_first_passage(v4):
    first = _passages()[0]
    assert first.startswith("In a significant diplomatic move")
    _, (span,) = v4.read("Which multilateral organisation held the summit?", [first])
    assert span is not None and span.has_answer >= 0.5, span
    assert "Shanghai Cooperation Organisation" in span.text or "SCO" in span.text, span
    assert first[span.start:span.end] == span.text


def test_a_question_the_article_does_not_answer_has_no_answer_in_its_passages(v4):
    passages = _passages()
    _, spans = v4.read("How much money did Russia promise to invest in Pakistan?", passages)
    assert spans[0] is None or spans[0].has_answer < 0.5, spans[0]
    assert max((s.has_answer for s in spans if s), default=0.0) < 0.5, spans


# Largest |score difference| from float32 that the default precision may show on these
# texts: bench/bench_verifier.py measured 0.0151 (answers), 0.0158 (has_answer), 0.0131
# (support) over the seed and reader-set
# dev questions' calls; the bound leaves room for the thread count.
MAX_DIFF_MEASURED = 0.016
BOUND = 2 * MAX_DIFF_MEASURED


def test_the_default_precision_scores_as_float32_does(verifier):
    """bfloat16 on padded shapes (verifier_precision.py) against float32, on the seed
    article: every score within BOUND, and the same gate and best sentence wherever
    float32 is not within BOUND of the gate."""
    if verifier.resolved_dtype == "float32":
        pytest.skip("no native bf16 on this CPU: the default is float32 itself")
    assert verifier.pad_shapes
    ref = CrossEncoderVerifier(dtype="float32")
    gate = verifier.calibration.answerable
    questions = ["Which world leader did Shehbaz Sharif hold talks with at the summit?", "Where was the summit?",
                 "When will Sharif travel to Russia?", "Which news agencies reported the talks?",
                 "What was Pakistan's GDP growth in 2024?", "How many people attended the military parade?"]
    for q in questions:
        a, b = verifier.answers(q, SENTENCES), ref.answers(q, SENTENCES)
        assert np.abs(a - b).max() <= BOUND, (q, np.abs(a - b).max())
        clear = np.abs(b - gate) > BOUND
        assert ((a >= gate) == (b >= gate))[clear].all(), q
        if np.sort(b)[-1] - np.sort(b)[-2] > BOUND:
            assert a.argmax() == b.argmax(), q
    pairs = [(SENTENCES[i], SENTENCES[j]) for i in range(6) for j in range(6)]
    s, t = verifier.support(pairs), ref.support(pairs)
    assert np.abs(s - t).max() <= BOUND
    assert (s.argmax(1) == t.argmax(1))[np.sort(t, 1)[:, -1] - np.sort(t, 1)[:, -2] > BOUND].all()


def test_texts_read_together_score_as_each_read_alone(verifier):
    """The rank call's batching by length (runtime/batching.py) and the readings kept
    (verifier_cache.py) change no figure: sentences and passages read in one call score
    as each read alone, and a pair read again gives the same figures and short answer."""
    passages = [" ".join(ARTICLE.split()[i:i + 120]) for i in range(0, 600, 60)]
    texts = SENTENCES[:20] + passages
    q = "Who did Sharif meet at the summit?"
    verifier.forget()
    together, spans = verifier.read(q, texts)
    alone = CrossEncoderVerifier(dtype=verifier.dtype)
    alone._cache = None
    one = [alone.read(q, [t]) for t in texts]
    assert np.abs(together - np.array([a[0] for a, _ in one])).max() <= BOUND
    assert sum(s == o[1][0] for s, o in zip(spans, one)) >= len(texts) - 2  # (bf16: a near-tie may flip)
    again, spans_again = verifier.read(q, texts)
    assert np.array_equal(together, again) and spans == spans_again
