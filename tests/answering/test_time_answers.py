"""as_of, windows, the recency prior and stale answers through the pipeline (fakes)."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from rag.answering.dated import as_of_lead, fresh_order, no_recent_text
from rag.answering.recency import in_time, prior
from rag.answering.when import TimeScope, time_scope
from rag.dates import DateWindow
from rag.documents import make_article
from rag.errors import BadInput
from rag.server.app import create_app
from rag.types import Article, Chunk, Citation, Hit

from ..conftest import make_pipeline

OLD = ("The mayor of Porto opened the new Douro bridge in a ceremony on the river. "
       "The bridge cost 40 million euros and took three years to build.")
NEW = ("The mayor of Porto closed the new Douro bridge after cracks were found on the river side. "
       "The bridge will stay closed for repairs until the spring.")
D = dt.date


def _hit(aid: str, score: float, dense: float = 0.5) -> Hit:
    return Hit(Chunk(f"{aid}#0", aid, "text", 0, 4), score, dense)


def _art(aid: str, published: str | None) -> Article:
    return Article(aid, aid.upper(), "text", published=published, source=None,
                   url=f"https://www.{aid}.com/x")


def test_nothing_after_as_of_and_the_window_filters():
    arts = {"a": _art("a", "2022-08-20"), "b": _art("b", "2022-09-01"), "c": _art("c", "2022-09-10"),
            "u": _art("u", None)}
    hits = [_hit("c", 0.9), _hit("a", 0.8), _hit("b", 0.7), _hit("u", 0.6)]
    got = in_time(hits, arts, D(2022, 9, 2), TimeScope(), 30.0, 0.25)
    assert [h.chunk.article_id for h in got.hits] == ["a", "b", "u"] and got.newest == "2022-09-01"
    week = TimeScope(DateWindow(D(2022, 8, 26), D(2022, 9, 2)), True)
    assert [h.chunk.article_id for h in in_time(hits, arts, D(2022, 9, 2), week, 30.0, 0.25).hits] == ["b"]


def test_recency_prior_halves_per_half_life():
    days = {"a": D(2022, 8, 3), "b": D(2022, 9, 2), "u": None}
    got = prior([_hit("a", 1.0), _hit("b", 0.6), _hit("u", 0.9)], days, D(2022, 9, 2), 30.0)
    assert [(h.chunk.article_id, round(h.score, 3)) for h in got] == [("b", 0.6), ("a", 0.5), ("u", 0.45)]


def test_fresh_order_and_the_as_of_lead():
    from rag.answering.grounding import SourceSentence
    arts = {"a": _art("a", "2022-08-20"), "b": _art("b", "2022-09-01"), "u": _art("u", None)}
    hits = [_hit("b", 0.9), _hit("a", 0.8), _hit("u", 0.7)]
    ev = [SourceSentence(i, 0, 4, t) for i, t in enumerate(["newest", "older", "undated"])]
    ordered, dates = fresh_order(ev, hits, arts)
    assert [s.text for s in ordered] == ["undated", "older", "newest"]
    assert dates == [None, "20 Aug 2022", "1 Sep 2022"]
    cites = [Citation(1, "a", "a#0", "A", arts["a"].url, "2022-08-20", "q", 0, 1, 1.0),
             Citation(2, "b", "b#0", "B", arts["b"].url, "2022-09-01", "q", 0, 1, 1.0)]
    assert as_of_lead(cites, arts) == "As of 1 Sep 2022 (b.com)"
    arts["b"] = Article("b", "B", "text", published="2022-09-01", source="CNN")
    assert as_of_lead(cites, arts) == "As of 1 Sep 2022 (CNN)"
    week = TimeScope(DateWindow(D(2022, 8, 26), D(2022, 9, 2)), True)
    assert no_recent_text(week, "2022-06-14") == ("The articles don't say: no article published "
                                                  "26 Aug–2 Sep 2022 answers this. The newest article "
                                                  "on this is from 14 Jun 2022.")


@pytest.fixture
def bridge(settings):
    p = make_pipeline(settings, replies=("The bridge was closed after cracks were found [1].",))
    p.index.ingest([make_article(OLD, title="Douro bridge opens", id="old", published="2022-08-24"),
                    make_article(NEW, title="Douro bridge closed", id="new", published="2022-08-31")])
    return p


def test_as_of_hides_later_articles_and_is_echoed(bridge):
    a = bridge.ask("What did the mayor of Porto do with the Douro bridge?", as_of="2022-08-26")
    assert a.as_of == "2022-08-26"
    assert {h.chunk.article_id for h in a.passages} == {"old"}
    assert a.to_dict()["as_of"] == "2022-08-26"
    assert bridge.ask("What did the mayor of Porto do with the Douro bridge?").as_of == dt.date.today().isoformat()
    with pytest.raises(BadInput, match="as_of must be a date written YYYY-MM-DD"):
        bridge.ask("What happened to the bridge?", as_of="last week")


def test_a_window_question_reads_that_window_and_says_when(bridge):
    a = bridge.ask("What did the mayor of Porto do with the Douro bridge this week?", as_of="2022-09-02")
    assert not a.abstained and {h.chunk.article_id for h in a.passages} == {"new"}
    assert a.query.endswith("(published 26 Aug–2 Sep 2022)")
    assert a.answer.startswith("As of 31 Aug 2022: ")  # a lead, not a claim
    assert a.claims and not any(c.text.startswith("As of") for c in a.claims)
    prompt = bridge.generator.prompts[-1].user
    assert prompt.startswith("Today is 2 Sep 2022.") and "[1] (31 Aug 2022) " in prompt


def test_stale_is_not_an_answer(bridge):
    a = bridge.ask("What did the mayor of Porto do with the Douro bridge this week?", as_of="2022-10-20")
    assert a.abstained and a.reason == "no_recent_articles" and a.newest == "2022-08-31"
    assert "The newest article on this is from 31 Aug 2022" in a.answer
    assert bridge.generator.prompts == []
    b = bridge.ask("What is the latest on the mayor of Porto and the Douro bridge?", as_of="2023-06-01")
    assert b.abstained and b.reason == "no_recent_articles"


def test_timeless_questions_keep_their_prompt(bridge):
    bridge.ask("What did the mayor of Porto do with the Douro bridge?", as_of="2022-09-02")
    assert bridge.generator.prompts[-1].user.startswith("Sources:\n[1] The")


def test_as_of_on_the_api_and_v1(bridge):
    with TestClient(create_app(bridge)) as c:
        body = c.post("/ask", json={"question": "What did the mayor do with the Douro bridge?",
                                    "as_of": "2022-08-26"}).json()
        assert body["as_of"] == "2022-08-26"
        for path in ("/ask", "/ask/stream"):
            r = c.post(path, json={"question": "Bridge?", "as_of": "26/08/2022"})
            assert r.status_code == 422 and "as_of must be a date written YYYY-MM-DD" in r.json()["detail"]
        r = c.post("/v1/chat/completions", json={"model": "rag-news", "as_of": "2022-08-26", "messages": [
            {"role": "user", "content": "What did the mayor do with the Douro bridge?"}]})
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["as_of"] == "2022-08-26"
        r = c.post("/v1/chat/completions", json={"as_of": "soon", "messages": [
            {"role": "user", "content": "Bridge?"}]})
        assert r.status_code == 400 and "as_of" in r.json()["error"]["message"]


def test_cli_as_of_is_checked(capsys):
    from rag.cli.main import main
    assert main(["ask", "Bridge?", "--as-of", "2022-02-30"]) == 2
    assert "--as-of must be a date written YYYY-MM-DD" in capsys.readouterr().err
    assert main(["eval", "x.jsonl", "--as-of", "tomorrow"]) == 2
    assert "or question_date" in capsys.readouterr().err


def test_time_scope_of_a_followup_is_the_standalone_query():
    assert time_scope("And this week?", D(2022, 9, 2)).window == DateWindow(D(2022, 8, 26), D(2022, 9, 2))


def test_as_of_and_windows_on_each_backend(any_settings):
    """Over-fetch then filter by the articles' dates: the same on FAISS and PostgreSQL."""
    p = make_pipeline(any_settings, replies=("The bridge was closed after cracks were found [1].",))
    p.index.ingest([make_article(OLD, title="Douro bridge opens", id="old", published="2022-08-24"),
                    make_article(NEW, title="Douro bridge closed", id="new", published="2022-08-31")])
    q = "What did the mayor of Porto do with the Douro bridge"
    assert {h.chunk.article_id for h in p.ask(q + "?", as_of="2022-08-26").passages} == {"old"}
    assert {h.chunk.article_id for h in p.ask(q + " this week?", as_of="2022-09-02").passages} == {"new"}
    assert {h.chunk.article_id for h in p.ask(q + " last week?", as_of="2022-09-02").passages} == {"old"}


def test_a_window_is_stale_only_when_its_newest_relevant_article_is_older():
    from rag.answering.recency import stale_window
    week = TimeScope(DateWindow(D(2022, 8, 26), D(2022, 9, 2)), True)
    assert stale_window(week, "2022-08-20")  # the story's newest article is before the window
    # An article of the window is about it but does not answer: not for want of recent news.
    assert not stale_window(week, "2022-08-31")
    assert not stale_window(week, None) and not stale_window(TimeScope(present=True), "2022-01-01")



def _story(settings, dated):
    p = make_pipeline(settings, replies=("The bridge cost 40 million euros [1].",))
    p.index.ingest([make_article(text, title=title, id=aid, published=day) for aid, title, text, day in dated])
    return p


def test_a_question_without_time_words_is_stale_once_the_story_has_moved_on(settings):
    q = "How much did the Douro bridge of the mayor of Porto cost?"  # simple past, no time words
    p = _story(settings, [("old", "Douro bridge opens", OLD, "2022-01-10"),
                          ("new", "Douro bridge closed", NEW, "2022-06-01")])
    a = p.ask(q, as_of="2022-06-05")  # the answer's article is 146 days old, the story's newest 4
    assert a.abstained and a.reason == "no_recent_articles" and a.newest == "2022-06-01"
    b = p.ask(q, as_of="2022-03-01")  # the closing not yet published: 50 days old is news
    assert not b.abstained and b.citations[0].article_id == "old"


def test_a_question_without_time_words_is_answered_from_an_old_article_nothing_newer_is_about(settings):
    p = _story(settings, [("old", "Douro bridge opens", OLD, "2022-01-10")])
    a = p.ask("How much did the Douro bridge of the mayor of Porto cost?", as_of="2023-06-05")
    assert not a.abstained and a.citations[0].article_id == "old"
    assert not a.answer.startswith("As of")  # no time words: no lead


def test_stale_answer_rules():
    from rag.answering.recency import stale_answer
    art = _art("a", "2022-01-10")
    now = D(2022, 6, 5)
    # About the present: older than recent_days is stale, whatever else there is.
    assert stale_answer(TimeScope(present=True), art, None, now, 31, 93)
    assert not stale_answer(TimeScope(present=True), art, None, D(2022, 2, 1), 31, 93)
    # No time words: old and a newer relevant article stale_days newer still.
    assert stale_answer(TimeScope(), art, "2022-06-01", now, 31, 93)
    assert not stale_answer(TimeScope(), art, "2022-03-01", now, 31, 93)  # only 50 days newer
    assert not stale_answer(TimeScope(), art, "2022-01-10", now, 31, 93)  # nothing newer
    assert not stale_answer(TimeScope(), _art("u", None), "2022-06-01", now, 31, 93)  # undated
    week = TimeScope(DateWindow(D(2022, 5, 29), now), True)
    assert not stale_answer(week, art, "2022-06-01", now, 31, 93)  # the window decides


def test_a_window_without_any_article_says_so_and_names_the_newest():
    from rag.answering.dated import empty_window
    now = D(2026, 12, 6)
    arts = [_art("a", "2025-08-20"), _art("b", "2025-09-01"), _art("later", "2027-01-01"), _art("u", None)]
    week = time_scope("What happened this week?", now)
    assert empty_window(week, arts, now) == (
        "No article is from this week (29 Nov–6 Dec 2026). The newest article is from 1 Sep 2025: “B”.", "2025-09-01")
    assert empty_window(time_scope("What happened today?", now), arts, now)[0].startswith(
        "No article is from today (6 Dec 2026). The newest article is from 1 Sep 2025")
    assert empty_window(time_scope("What happened this month?", now), arts, now)[0].startswith(
        "No article is from this month (1–6 Dec 2026).")
    on_topic = _art("a", "2025-08-20")
    assert empty_window(week, arts, now, on_topic) == (
        "No article is from this week (29 Nov–6 Dec 2026). The newest article on this is from 20 Aug 2025: “A”.",
        "2025-08-20")
    assert empty_window(week, [_art("u", None)], now) == (
        "No article is from this week (29 Nov–6 Dec 2026). The only article has no publication date.", None)
    # A window that holds an article, or no window at all: not this case.
    assert empty_window(week, arts + [_art("c", "2026-12-01")], now) is None
    assert empty_window(time_scope("What happened?", now), arts, now) is None


@pytest.mark.parametrize("question, said", [("What happened this week?", "this week (13–20 Oct 2022)"),
                                            ("What happened today?", "today (20 Oct 2022)"),
                                            ("What happened yesterday?", "yesterday (19–20 Oct 2022)"),
                                            ("What did the mayor of Porto do this month?", "this month (1–20 Oct 2022)")])
def test_a_question_about_an_empty_window_names_the_window_and_the_newest_article(bridge, question, said):
    a = bridge.ask(question, as_of="2022-10-20")
    assert a.abstained and a.reason == "no_recent_articles" and a.newest == "2022-08-31"
    on = " on this" if "mayor" in question else ""  # a topic: the newest article on it
    assert a.answer == f"No article is from {said}. The newest article{on} is from 31 Aug 2022: “Douro bridge closed”."
    assert bridge.generator.prompts == []


def test_a_question_about_a_window_with_articles_is_answered_as_before(bridge):
    a = bridge.ask("What happened this week?", as_of="2022-09-02")
    assert not a.abstained and {c.article_id for c in a.citations} == {"new"}, a.answer


def test_an_undated_article_may_tell_of_a_dated_event():
    # SQuAD's undated paragraphs: "How did trying to establish a devolved Scottish Assembly
    # go in 1979?" was refused with "No article is from 1979", no paragraph being dated.
    # Among dated articles, and for a period of the news ("this week"), the window holds.
    now = D(2026, 12, 6)
    arts = {"u": _art("u", None), "v": _art("v", None), "old": _art("old", "1970-01-01"),
            "new": _art("new", "1985-01-01")}
    since = time_scope("How did the referendum go in 1979?", now)
    week = time_scope("What happened this week?", now)
    assert since.event_dated and not week.event_dated
    undated = [_hit("u", 0.9), _hit("v", 0.8)]
    assert [h.chunk.article_id for h in in_time(undated, arts, now, since, 7.0, 0.25).hits] == ["u", "v"]
    assert in_time(undated, arts, now, week, 7.0, 0.25).hits == []
    mixed = [_hit("u", 0.9), _hit("old", 0.8), _hit("new", 0.7)]
    assert [h.chunk.article_id for h in in_time(mixed, arts, now, since, 7.0, 0.25).hits] == ["new"]
