"""The question types answered on purpose (fakes): yes/no, lookalike articles, summaries."""

from rag.answering.subject import coverage, keep_matching, terms, unnamed
from rag.documents import make_article
from rag.types import Article, Chunk, Hit

from ..conftest import SUMMIT, make_pipeline


def test_yes_is_the_sentence_that_entails_the_question(fake_pipeline):
    a = fake_pipeline.ask("Did Sharif accept an invitation to visit Russia?")
    assert not a.abstained and a.answer.startswith("Yes: “Sharif accepted an invitation")
    assert a.citations[0].quote in a.answer and fake_pipeline.generator.prompts == []


def test_no_is_the_sentence_that_contradicts_the_question(fake_pipeline):
    a = fake_pipeline.ask("Did the Lisbon city council close 15 schools?")
    assert not a.abstained and a.answer.startswith("No: “The city council closed 12 schools.”")


def test_neither_yes_nor_no_says_what_the_articles_do_say(fake_pipeline):
    a = fake_pipeline.ask("Did the Lisbon mayor resign over the floods?")
    assert a.abstained and a.reason == "not_answered"
    assert a.answer.startswith("The articles don't say yes or no. The closest they come: “")


def test_question_terms_are_names_and_figures():
    assert terms("How many lychee trees will project KX82668R in Dunmere plant?") == {"kx82668r", "dunmere"}
    assert terms("Which multilateral organisation held the summit?") == set()
    assert terms("What did Sharif's team say in 2022?") == {"sharif", "2022"}


def test_an_article_covers_the_terms_it_holds():
    a = Article("a", "Dunmere orchard", "Project KX82668R, a Pakistani plan, will plant 1,200 trees.")
    assert coverage({"kx82668r", "dunmere", "ashcombe"}, a) == 2
    assert coverage({"pakistan", "1200"}, a) == 2  # "Pakistani", "1,200"


def test_the_names_no_article_holds_are_named_as_the_question_writes_them():
    arts = [Article("a", "Summit in Tianjin", "Pakistan's Prime Minister Shehbaz Sharif met Russian President "
                    "Vladimir Putin at the Shanghai Cooperation Organisation summit in September.")]
    assert unnamed("What did Narendra Modi say about the meeting?", arts) == "Narendra Modi"
    assert unnamed("What did Modi and Xi Jinping say?", arts) == "Modi, Xi Jinping"
    assert unnamed("How many trees will project KX82668R plant?", arts) == "KX82668R"
    # held: the same word, a longer or shorter form, an acronym's words, calendar words
    for q in ("Who did Sharif meet?", "What did the Russian leader say?", "Which Pakistani leader went?",
              "What did Pakistan's PM say?", "What did the SCO decide on Monday in September?",
              "Which multilateral organisation held the summit?", "What did Russia's president say?",
              "Did Sharíf meet Pútin?"):
        assert unnamed(q, arts) is None, q
    assert unnamed("What did Narendra Modi say?", []) is None  # nothing to look in


def test_a_question_about_someone_no_article_mentions_is_not_answered(settings):
    p = make_pipeline(settings, ("Modi said the meeting went well [1].",))
    p.index.ingest([make_article(SUMMIT, id="s")])
    a = p.ask("What did Narendra Modi say about the summit?")
    assert a.abstained and a.reason == "names_not_found"
    assert "none of the articles found mentions Narendra Modi" in a.answer and a.passages
    assert p.generator.prompts == []  # not asked: it could only invent
    held = p.ask("What did Shehbaz Sharif say about the summit?")  # a name it holds: read as before
    assert "mentions" not in held.answer


def _hit(aid: str) -> Hit:
    return Hit(Chunk(f"{aid}#0", aid, "The project will plant 575 trees.", 0, 33), 1.0, 0.9)


def test_only_the_articles_holding_the_most_terms_are_kept():
    arts = {"a": Article("a", "Ashcombe", "Project AB123 in Ashcombe."),
            "b": Article("b", "Dunmere", "Project KX826 in Dunmere.")}
    hits = [_hit("a"), _hit("b")]
    assert [h.chunk.article_id for h in keep_matching("Will project KX826 in Dunmere plant trees?", hits, arts)] == ["b"]
    assert keep_matching("How many trees will be planted?", hits, arts) == hits  # no terms: all kept


def test_a_lookalike_article_does_not_lend_its_figure(settings):
    template = ("The town council of {t} approved project {c}. Councillors voted in favour. "
                "The project will plant exactly {n} pear trees along the river.")
    p = make_pipeline(settings, ("The project will plant exactly 575 pear trees [1].",))
    p.index.ingest([make_article(template.format(t="Ashcombe", c="AB123", n=575), id="a"),
                    make_article(template.format(t="Dunmere", c="KX826", n=283), id="b")])
    a = p.ask("How many pear trees will project KX826 in Dunmere plant?")
    assert {c.article_id for c in a.citations} == {"b"} and "575" not in a.answer


def test_a_topicless_summary_request_summarises_the_best_article(settings):
    p = make_pipeline(settings, ("never asked",))
    p.index.ingest([make_article(SUMMIT, id="s")])
    a = p.ask("Give me the gist")
    assert not a.abstained and a.answer.startswith("The summit of the Shanghai Cooperation Organisation")
    assert p.generator.prompts == []


def test_the_passage_reader_answers_with_its_span_and_sentence(settings):
    from rag.components.verifier import Calibration
    from rag.components.fake_verifier import FakeVerifier
    v = FakeVerifier(Calibration(answerable=0.99, has_answer=0.5), span_null=True)
    p = make_pipeline(settings.model_copy(update={"answer_mode": "read"}), ("never asked",), v)
    p.index.ingest([make_article(SUMMIT, id="s")])
    a = p.ask("When will Sharif visit Russia?")
    assert not a.abstained and p.generator.prompts == []
    assert a.answer == "November: “Sharif accepted an invitation to visit Russia in November.” [1]"
    s, c = a.short_answer, a.citations[0]
    assert s.text == "November" and c.start <= s.start < s.end <= c.end
    assert p.index.snapshot().store.articles["s"].text[s.start:s.end] == "November"
    assert a.passage_answerability is not None and a.passage_answerability >= 0.5


def test_a_yes_needs_every_name_of_the_question_in_its_sentence_or_title(settings):
    # "Lisbon" is in the sentence before and in the title; "Tuesday" only in the sentence before.
    from ..conftest import WEATHER
    p = make_pipeline(settings, ("never asked",))
    p.index.ingest([make_article(WEATHER, title="Lisbon floods", id="w")])
    assert p.ask("Did the Lisbon city council close 12 schools?").answer.startswith("Yes: “The city council")
    assert not p.ask("Did the city council close 12 schools on Tuesday?").answer.startswith("Yes")
