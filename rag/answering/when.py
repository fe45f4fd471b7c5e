"""When a question is about: a window of publication dates read from its time words,
relative to ``as_of`` (the day the question is asked).

dateparser finds and resolves the expressions ("this week", "last month", "on Monday",
"in August", "in 2022", "yesterday"), with the period each names (day, week, month,
year); the window is that period:

- a day: that day and the next (a story about Monday is published Monday or Tuesday);
- a week: the seven days up to that day ("this week" asked on 2 Sep 2022: 26 Aug-2 Sep);
- a month, a year: the calendar month or year;

every window ends at ``as_of`` at the latest. dateparser also reads durations and bare
numbers as dates ("two years", "a $4", "the 2024 Olympics"), so a match counts only when it
names the calendar: a weekday or month name (capitalised: "may" is a verb), a unit of time
with this/last/past/ago, today or yesterday, or a year after in/of/during/since.
A window wholly after ``as_of`` ("next year") is no window.

A question about the present without a window ("latest", "recently", "now", "currently", or
in the present perfect, progressive or future: "has announced", "is facing", "will travel")
gets no filter but a recency prior (rag/answering/recency.py).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from rag.dates import DateWindow

_NAMES = "|".join(list(calendar.month_name)[1:] + list(calendar.month_abbr)[1:] + ["Sept"]
                   + list(calendar.day_name))
_CALENDAR = re.compile(
    rf"\b(?:{_NAMES})\b"
    r"|(?i:\b(?:this|last|past|previous)\s+(?:day|week|weekend|month|year)\b|\bago\b|\btoday\b|\byesterday\b)"
    r"|(?i:\b(?:in|of|during|since)\s+(?:\d{4})\b)")
_PRESENT = re.compile(r"(?i)\b(?:latest|recent|recently|currently|current|now|nowadays|these days|"
                      r"so far|as of)\b")
# What is going on: the present perfect, progressive or future ("has announced", "is facing",
# "will travel"), not the simple past ("was held": history may be answered from any date).
_ONGOING = re.compile(
    r"\b(?:has|have)\s+(?:[a-z]+ly\s+|not\s+|just\s+|now\s+)?"
    r"(?!the\b|a\b|an\b|no\b|any\b|some\b|to\b|many\b|more\b|most\b)[a-z]+(?:ed|en|wn|ne|de|t|ng|ck)\b"
    r"|\b(?:is|are)\s+(?:[a-z]+ly\s+|now\s+|still\s+)?(?:being\s+)?[a-z]+ing\b"
    r"|\bwill\s+(?:[a-z]+ly\s+|soon\s+|now\s+)?(?!be\b)[a-z]+\b|\bwill\s+be\s+[a-z]+(?:ed|en|ing)\b")


@dataclass(frozen=True)
class TimeScope:
    """What a question says about time: a window of publication dates, if it names one,
    and whether it asks about the present (then a recency prior applies)."""
    window: DateWindow | None = None
    present: bool = False
    said: str | None = None  # the words that named the window

    @property
    def bound(self) -> bool:
        """Whether the question is time-bound (a window, or the present)."""
        return self.window is not None or self.present


def time_scope(question: str, as_of: dt.date) -> TimeScope:
    """The window of publication dates a question names, relative to ``as_of``."""
    window, said = _window(question, as_of)
    present = (bool(_PRESENT.search(question) or _ONGOING.search(question))
               or (window is not None and window.end == as_of))
    return TimeScope(window, present, said)


def _window(question: str, as_of: dt.date) -> tuple[DateWindow | None, str | None]:
    from dateparser.date import DateDataParser  # imported on first use
    from dateparser.search import search_dates

    base = dt.datetime.combine(as_of, dt.time(12))
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": False}
    question = re.sub(r"[’']s\b", "", question)  # "this week's launch"
    found = [text for text, _ in search_dates(question, languages=["en"], settings=settings) or []]
    # Calendar words search_dates ran together with others ("this week, Super Bowl 57").
    found += [m.group() for m in _CALENDAR.finditer(question)]
    parser = DateDataParser(languages=["en"], settings=settings)
    for text in found:
        m = _CALENDAR.search(text)
        if not m:
            continue
        data = parser.get_date_data(_trim(text))
        if data.date_obj is None:
            continue
        window = _period(data.date_obj.date(), data.period or "day", as_of)
        if window is not None:
            return window, _trim(text)
    return None, None


def _trim(text: str) -> str:
    """The date words of a match without the words search_dates swept along ("this week in")."""
    words = text.split()
    while words and words[-1].lower() in ("in", "at", "on", "by", "after", "from", "the", "a", "an"):
        words.pop()
    while words and words[0].lower() in ("the", "a", "an", "at", "by", "after", "from"):
        words.pop(0)
    return " ".join(words)


def _period(day: dt.date, period: str, as_of: dt.date) -> DateWindow | None:
    if period == "year":
        start, end = dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    elif period == "month":
        start = day.replace(day=1)
        end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
    elif period == "week":
        start, end = day - dt.timedelta(days=7), day
    else:
        start, end = day, day + dt.timedelta(days=1)
    if start > as_of:
        return None  # "next year": nothing published yet
    return DateWindow(start, min(end, as_of))


def say_window(window: DateWindow) -> str:
    """ "published 26 Aug–2 Sep 2022" (the query shown to the user)."""
    a, b = window.start, window.end
    if a == b:
        return f"published {day_text(a)}"
    if a.year == b.year:
        left = f"{a.day} {a:%b}" if a.month != b.month else f"{a.day}"
        return f"published {left}–{day_text(b)}"
    return f"published {day_text(a)}–{day_text(b)}"


def day_text(day: dt.date | str) -> str:
    """ "2 Sep 2022"."""
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    return f"{day.day} {day:%b %Y}"
