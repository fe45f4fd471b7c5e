"""Time words in a question -> a window of publication dates, relative to as_of."""

import datetime as dt

import pytest

from rag.answering.when import day_text, say_window, time_scope
from rag.dates import DateWindow

FRI = dt.date(2022, 9, 2)  # a Friday
D = dt.date


# The period named and the day after, up to as_of; a date with its year, from then to as_of.
@pytest.mark.parametrize("question, as_of, start, end", [
    ("Which city hosted the summit this week?", FRI, D(2022, 8, 26), FRI),
    ("Who won the vote last week?", FRI, D(2022, 8, 19), D(2022, 8, 27)),
    ("What did the minister say yesterday?", FRI, D(2022, 9, 1), FRI),
    ("What did the minister say yesterday?", D(2023, 1, 1), D(2022, 12, 31), D(2023, 1, 1)),
    ("What did Biden announce on Monday?", FRI, D(2022, 8, 29), D(2022, 8, 30)),
    # A weekday is the latest one up to as_of: asked on a Monday, that Monday.
    ("What did Biden announce on Monday?", D(2022, 9, 5), D(2022, 9, 5), D(2022, 9, 5)),
    ("Dozens of people were unaccounted for early Thursday after flooding in which state?",
     D(2022, 7, 14), D(2022, 7, 14), D(2022, 7, 14)),  # a Thursday (RealTimeQA dev: the gold article's day)
    ("Which storm hit Florida in August?", FRI, D(2022, 8, 1), D(2022, 9, 1)),
    ("Which storm hit Florida in August?", D(2023, 3, 1), D(2022, 8, 1), D(2022, 9, 1)),
    ("Who resigned last month?", FRI, D(2022, 8, 1), D(2022, 9, 1)),
    ("Who resigned last month?", D(2023, 1, 15), D(2022, 12, 1), D(2023, 1, 1)),
    ("Which film won the most awards this year?", FRI, D(2022, 1, 1), FRI),
    ("Who was elected two weeks ago?", FRI, D(2022, 8, 12), D(2022, 8, 20)),
    ("What happened in Paris today?", FRI, FRI, FRI),
    # A year names an event: reported from then on.
    ("Which team won the league in 2021?", FRI, D(2021, 1, 1), FRI),
    ("Which team won the 2022 World Cup?", FRI, D(2022, 1, 1), FRI),
    ("How many minutes did violence play out at the Capitol on January 6, 2021?", D(2022, 7, 21),
     D(2021, 1, 6), D(2022, 7, 21)),  # RealTimeQA dev: the gold article is of 20 Jul 2022
    # Of several time words the latest start wins.
    ("Why did cities cancel their Fourth of July fireworks this year?", D(2022, 7, 8), D(2022, 7, 1),
     D(2022, 7, 8)),
])
def test_windows(question, as_of, start, end):
    scope = time_scope(question, as_of)
    assert scope.window == DateWindow(start, end) and scope.bound


@pytest.mark.parametrize("question", [
    "What is the latest on the SCO summit?", "What did Sharif say recently?",
    "Who is the prime minister now?", "Which company currently leads the market?"])
def test_the_present_without_a_window(question):
    scope = time_scope(question, FRI)
    assert scope.window is None and scope.present and scope.bound


@pytest.mark.parametrize("question", [
    "Where was the SCO summit held?",
    "Which team may win the 2024 Olympics?",  # "may" is a verb, 2024 after as_of
    "The FBI searched Mar-a-Lago. In which state is it?",  # an abbreviation is no month
    "How much is the $4 billion deal worth?",
    "Which player scored two goals in a second half?",
])
def test_no_time_in_the_question(question):
    scope = time_scope(question, FRI)
    assert scope.window is None and not scope.present and not scope.bound


@pytest.mark.parametrize("question", [
    "Which country has announced a ban on TikTok?", "Which city is facing a water shortage?",
    "Which leader will travel to Beijing?", "Which show is being turned into a stage play?",
    "Which firm has quietly cut half its staff?"])
def test_what_is_going_on_is_the_present(question):
    scope = time_scope(question, FRI)
    assert scope.window is None and scope.present


def test_a_window_after_as_of_is_none():
    assert time_scope("Who will host the games next year?", FRI).window is None


def test_calendar_words_dateparser_runs_together_with_others():
    scope = time_scope("According to data released this week, Super Bowl 57 is the most-watched ever. "
                       "It surpassed which game?", FRI)
    assert scope.window == DateWindow(D(2022, 8, 26), FRI)
    assert time_scope("Lightning delayed this week’s launch of which rocket?", FRI).window == scope.window


def test_said_and_shown():
    scope = time_scope("What did Macron say this week in Paris?", FRI)
    assert scope.said == "this week"
    assert say_window(scope.window) == "published 26 Aug–2 Sep 2022"
    assert say_window(DateWindow(D(2022, 12, 28), D(2023, 1, 3))) == "published 28 Dec 2022–3 Jan 2023"
    assert say_window(DateWindow(D(2022, 8, 1), D(2022, 8, 31))) == "published 1–31 Aug 2022"
    assert say_window(DateWindow(FRI, FRI)) == "published 2 Sep 2022"
    assert day_text("2022-06-14") == "14 Jun 2022"
