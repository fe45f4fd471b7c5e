"""Questions that ask two things (rag/answering/parts.py), with fakes."""

import pytest

from rag.answering.grounding import Grounded
from rag.answering.parts import combine, split
from rag.documents import make_article
from rag.types import Article, Citation, Claim, ShortAnswer

from ..conftest import SUMMIT, WEATHER, make_pipeline


@pytest.mark.parametrize("question, parts", [
    ("Who did Sharif meet and where?", ["Who did Sharif meet?", "Where did Sharif meet?"]),
    ("Who did Sharif meet, and where?", ["Who did Sharif meet?", "Where did Sharif meet?"]),
    ("When and where was the summit held?", ["When was the summit held?", "Where was the summit held?"]),
    ("What did the minister announce and why?", ["What did the minister announce?", "Why did the minister announce?"]),
    ("How many people did the quake kill and where?", ["How many people did the quake kill?", "Where did the quake kill?"]),
    ("Who won, and what did they get?", ["Who won?", "What did they get?"]),
    ("Who met Putin and how many people were there?", ["Who met Putin?", "How many people were there?"]),
    ("In which city was the summit held and when?", ["In which city was the summit held?", "When was the summit held?"]),
])
def test_a_question_of_two_parts_is_split_and_an_elliptical_part_borrows_the_clause(question, parts):
    assert split(question) == parts


@pytest.mark.parametrize("question", [
    "Who did Sharif meet?", "What did Sharif and Putin discuss?",
    "What did Sharif discuss with Putin and the Russian minister?",
    "How many people were injured and killed?", "Who did Bob meet and greet?",
    "Who met the man and the woman who was there?", "Did Sharif meet Putin and where?",
    "Which regions and sectors did the leaders discuss?", "Give me the gist",
])
def test_a_question_of_one_part_is_left_alone(question):
    assert split(question) == [question]


_ART = Article("a", "Summit", "At the summit in Tianjin, Sharif met Vladimir Putin. Sharif will visit Russia in November.")


def _g(quote: str, short: str) -> Grounded:
    start = _ART.text.index(quote)
    c = Citation(1, "a", "a#0", "Summit", None, None, quote, start, start + len(quote), 0.9)
    s = _ART.text.index(short, start)
    return Grounded(f"{short}: “{quote}” [1]", [Claim(quote, (1,), True, 0.9, "quoted")], [c], True,
                    ShortAnswer(short, "a", s, s + len(short), 1, 0.9))


def test_two_parts_answered_by_one_sentence_share_its_quote():
    first = "At the summit in Tianjin, Sharif met Vladimir Putin."
    g = combine(["Who did Sharif meet?", "Where did Sharif meet?"],
                [_g(first, "Vladimir Putin"), _g(first, "Tianjin")], {"a": _ART})
    assert g.answer == f"Vladimir Putin, in Tianjin: “{first}” [1]"
    assert [c.n for c in g.citations] == [1] and g.short.text == "Vladimir Putin"


def test_two_parts_answered_by_two_sentences_lead_with_both_short_answers_then_cite_apart():
    g = combine(["Who did Sharif meet?", "When will Sharif visit Russia?"],
                [_g("At the summit in Tianjin, Sharif met Vladimir Putin.", "Vladimir Putin"),
                 _g("Sharif will visit Russia in November.", "November")], {"a": _ART})
    assert g.answer == ("Vladimir Putin [1], in November [2]. “At the summit in Tianjin, Sharif met Vladimir Putin.” [1] "
                        "“Sharif will visit Russia in November.” [2]")
    assert [c.n for c in g.citations] == [1, 2] and [c.citations for c in g.claims] == [(1,), (2,)]


def test_a_part_the_articles_do_not_answer_is_said_so_and_none_answered_is_none():
    g = combine(["Who did Sharif meet?", "Why did Sharif meet?"],
                [_g("At the summit in Tianjin, Sharif met Vladimir Putin.", "Vladimir Putin"), None], {"a": _ART})
    assert g.answer.endswith("[1] Why did Sharif meet? The articles don't say.")
    assert combine(["Who?", "Why?"], [None, None], {"a": _ART}) is None


def test_the_pipeline_reads_each_part_without_the_model(settings):
    p = make_pipeline(settings, ("The model should not be asked [1].",))
    p.index.ingest([make_article(SUMMIT, title="Summit in Tianjin", id="summit"),
                    make_article(WEATHER, title="Lisbon floods", id="weather")])
    a = p.ask("Who did Sharif meet and what invitation did Sharif accept?")
    assert not a.abstained, a.answer
    assert a.answer.startswith("Vladimir Putin [1], in November [2]. “Pakistan's prime minister Shehbaz Sharif met")
    assert "[2]" in a.answer and "accepted an invitation" in a.citations[1].quote
    assert p.generator.prompts == []
    assert {c.chunk_id for c in a.citations} <= {h.chunk.id for h in a.passages}
    some = p.ask("Who did Sharif meet and what did the storms cost?")  # one part answered
    assert not some.abstained and some.answer.endswith("What did the storms cost? The articles don't say.")
    none = p.ask("What did the hurricane cost Sharif, and why did the mayor resign?")  # neither
    assert none.abstained and none.reason == "not_answered" and p.generator.prompts == []


def test_a_short_answer_does_not_name_whom_the_part_asks_about():
    text = "As the summit ends, the meeting between Shehbaz Sharif and Vladimir Putin stands out."
    art = Article("a", "Summit", text)
    start = text.index("Shehbaz")
    c = Citation(1, "a", "a#0", "Summit", None, None, text, 0, len(text), 0.9)
    g = Grounded("", [Claim(text, (1,), True, 0.9, "quoted")], [c], True,
                 ShortAnswer("Shehbaz Sharif and Vladimir Putin", "a", start, start + 33, 1, 0.9))
    out = combine(["Who did Sharif meet?", "Where did Sharif meet?"], [g, None], {"a": art})
    assert out.answer.startswith(f"Vladimir Putin: “{text}” [1]")
    assert text[out.short.start:out.short.end] == out.short.text == "Vladimir Putin"
