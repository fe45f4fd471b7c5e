"""Time on the real models: a "this week" question is answered from that week's article,
not from an older one on the same story; asked much later, it is stale, not an answer; a
question without time words is stale once the story has moved on."""

from rag.documents import make_article

WEEK_1 = ("Floods in Porto\n\nThe death toll from the floods in Porto rose to 12 on Wednesday, "
          "the city's civil protection agency said. Rescue teams searched the riverside "
          "districts for missing residents. The mayor asked people to stay away from the Douro.")
WEEK_2 = ("Porto counts the cost of the floods\n\nThe death toll from the floods in Porto rose to 31 "
          "on Tuesday, the city's civil protection agency said. Hundreds of volunteers cleaned the "
          "riverside districts. The mayor said rebuilding would take months.")
QUESTION = "What was the death toll from the floods in Porto this week?"


def _ingest(p):
    p.index.ingest([make_article(WEEK_1, title="Floods in Porto", id="week1", published="2022-08-24",
                                 source="Porto News"),
                    make_article(WEEK_2, title="Porto counts the cost", id="week2", published="2022-08-31",
                                 source="Porto News")])


def test_this_week_is_answered_from_that_weeks_article(fresh_real_pipeline):
    p = fresh_real_pipeline
    _ingest(p)
    a = p.ask(QUESTION, as_of="2022-09-02")
    assert not a.abstained, a.answer
    assert "31" in a.answer and "12" not in a.answer.replace("2022", "")
    assert {c.article_id for c in a.citations} == {"week2"}
    assert a.answer.startswith("As of 31 Aug 2022 (Porto News): ")
    assert a.query == QUESTION + " (published 26 Aug–2 Sep 2022)"
    # A week earlier, the same question is the first article's.
    b = p.ask(QUESTION, as_of="2022-08-26")
    assert not b.abstained and "12" in b.answer and {c.article_id for c in b.citations} == {"week1"}


def test_the_same_question_much_later_is_stale(fresh_real_pipeline):
    p = fresh_real_pipeline
    _ingest(p)
    a = p.ask(QUESTION, as_of="2022-11-15")
    assert a.abstained and a.reason == "no_recent_articles" and a.citations == []
    assert a.newest == "2022-08-31"
    assert "The newest article on this is from 31 Aug 2022" in a.answer


OPENED = ("Porto opens its new bridge\n\nThe mayor of Porto opened the new Luis Douro bridge on "
          "Saturday. The bridge cost 40 million euros and took three years to build. Thousands "
          "of residents walked across it on the first day.")
CLOSED = ("Porto closes the Luis Douro bridge\n\nThe mayor of Porto closed the Luis Douro bridge "
          "after engineers found cracks in its deck. Repairs will take until the spring, the city "
          "said. Ferries will carry commuters across the river meanwhile.")
COST = "How much did the Luis Douro bridge in Porto cost?"  # no time words


def test_a_question_without_time_words_is_stale_once_the_story_has_moved_on(fresh_real_pipeline):
    p = fresh_real_pipeline
    p.index.ingest([make_article(OPENED, title="Porto opens its new bridge", id="opened",
                                 published="2022-01-10", source="Porto News")])
    # Only the old article is about it: answered from it, however old.
    a = p.ask(COST, as_of="2022-11-15")
    assert not a.abstained and "40 million" in a.answer, a.answer
    assert {c.article_id for c in a.citations} == {"opened"}
    # A much newer article on the bridge does not give the cost: the answer is stale.
    p.index.ingest([make_article(CLOSED, title="Porto closes the Luis Douro bridge", id="closed",
                                 published="2022-11-01", source="Porto News")])
    b = p.ask(COST, as_of="2022-11-15")
    assert b.abstained and b.reason == "no_recent_articles" and b.newest == "2022-11-01", b.answer


def test_a_window_without_any_article_names_the_window_and_the_newest_article(fresh_real_pipeline):
    p = fresh_real_pipeline
    _ingest(p)
    for question, said in (("What happened this week?", "this week (8–15 Nov 2022)"),
                           ("What happened today?", "today (15 Nov 2022)"),
                           ("What happened yesterday?", "yesterday (14–15 Nov 2022)")):
        a = p.ask(question, as_of="2022-11-15")
        assert a.abstained and a.reason == "no_recent_articles" and a.newest == "2022-08-31", a.answer
        assert a.answer == (f"No article is from {said}. The newest article is from 31 Aug 2022: "
                            "“Porto counts the cost”."), a.answer
        assert "generate" not in a.timings_ms


def test_a_window_question_on_the_undated_seed_article_says_it_has_no_date(real_pipeline):
    a = real_pipeline.ask("What happened this week?", as_of="2026-12-06")
    assert a.abstained and a.reason == "no_recent_articles", a.answer
    assert a.answer == ("No article is from this week (29 Nov–6 Dec 2026). "
                        "The only article has no publication date."), a.answer


HISTORY = ("The Porto tram\n\nPorto's first electric tram line opened in 1895, running from the city "
           "centre to the sea at Foz. By 1930 the network carried 40 million passengers a year. "
           "Most lines closed in the 1970s, when buses replaced them.")


def test_an_undated_history_answers_a_question_that_names_a_year(fresh_real_pipeline):
    # An event's date cannot choose among passages none of which is dated: before, this was
    # refused with "No article is from 1930 (...). The only article has no publication date."
    p = fresh_real_pipeline
    p.index.ingest([make_article(HISTORY, title="The Porto tram", id="tram")])
    a = p.ask("How many passengers did Porto's tram network carry a year in 1930?", as_of="2026-12-06")
    assert not a.abstained, a.answer
    assert "40 million" in a.answer and {c.article_id for c in a.citations} == {"tram"}
    # A period of the news still needs an article of its time.
    b = p.ask("What happened to Porto's trams this week?", as_of="2026-12-06")
    assert b.abstained and b.reason == "no_recent_articles", b.answer
