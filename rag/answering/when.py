"""When a question is about: a window of publication dates read from its time words,
relative to ``as_of`` (the day the question is asked).

The time words are those of dateparser's English vocabulary: the relative phrases it
knows ("today", "yesterday", "this week", "last month", "last Thursday", ...), "<n> <unit>s
ago", a month or weekday name (capitalised: "may" is a verb; full names only: "Mar-a-Lago"
is no month) with its day and year if given ("January 6, 2021"), and a year ("in 2021",
"the 2022 season"). dateparser resolves each against ``as_of`` (a weekday or month is the
latest one up to ``as_of``: "Thursday" asked on a Thursday is that day) and names its
period: a day, a week (the seven days up to it), a month or a year.

The window is the period and the day after (a story about Monday is published Monday or
Tuesday), up to ``as_of``: "this week" asked on 2 Sep 2022 is 26 Aug-2 Sep, "last week"
19-27 Aug. A date with its year names an event, reported on the day or any time after: "on
January 6, 2021" runs from 6 Jan 2021 to ``as_of``, "the 2022 World Cup" from 1 Jan 2022.
Of several time words the latest start wins ("the Fourth of July fireworks this year":
July). A period that starts after ``as_of`` ("next year", "the 2024 Olympics" asked in 2022)
is no window.

A question about the present without a window ("latest", "recently", "now", "currently", or
in the present perfect, progressive or future: "has announced", "is facing", "will travel")
gets no filter but a recency prior, and is answered only from a recent article; one with no
time words, not from an old article on a story that has moved on (rag/answering/recency.py).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from rag.dates import DateWindow

_PERIODS = ("day", "week", "month", "year")  # dateparser's periods a window can be

_PRESENT = re.compile(r"(?i)\b(?:latest|recent|recently|currently|current|now|nowadays|these days|"
                      r"so far|as of)\b")
# What is going on: the present perfect, progressive or future ("has announced", "is facing",
# "will travel"), not the simple past ("was held": history may be answered from any date).
_ONGOING = re.compile(
    r"\b(?:has|have)\s+(?:[a-z]+ly\s+|not\s+|just\s+|now\s+)?"
    r"(?!most\b)[a-z]+(?:ed|en|wn|ne|de|t|ng|ck)\b"  # ("has most": no participle)
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
    def event_dated(self) -> bool:
        """The window runs from a date written with its year ("in 1979", "since 2007"): the
        time of an event, reported from then on, which an undated article (a history, an
        encyclopedia's page) may well tell of. Not a period of the news ("this week")."""
        return self.window is not None and _dated(self.said or "")

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


@lru_cache(maxsize=1)
def _time_words() -> re.Pattern:
    """The time words of dateparser's English vocabulary, as one pattern (built on first use)."""
    from dateparser.languages.loader import default_loader

    info = default_loader.get_locale("en").info
    # Relative phrases about the past or present ("0 week ago": "this week"), longest first.
    phrases = sorted({p for key, said in info["relative-type"].items() if not key.startswith("in ")
                      for p in said}, key=len, reverse=True)
    names = "|".join(list(calendar.month_name)[1:] + list(calendar.day_name))
    units = "|".join(sorted({w for k in _PERIODS for w in info[k] if len(w) > 2}))
    ago = "|".join(info["ago"][:1])
    number = r"\d{1,2}(?:[a-z]{2})?"
    return re.compile(
        rf"(?i:\b(?:{'|'.join(map(re.escape, phrases))})\b|\b\S+\s+(?:{units})\s+(?:{ago})\b)"
        rf"|(?<![\w-])(?:{number}\s+)?(?:{names})(?:\s+{number}\b)?(?:,?\s+\d{{4}})?(?![\w-])"
        r"|\b(?:19|20)\d\d\b")


def _window(question: str, as_of: dt.date) -> tuple[DateWindow | None, str | None]:
    from dateparser.date import DateDataParser  # imported on first use

    base = dt.datetime.combine(as_of, dt.time(12))
    parsers = [DateDataParser(languages=["en"], settings={
        "RELATIVE_BASE": base, "PREFER_DATES_FROM": prefer, "RETURN_TIME_AS_PERIOD": True})
        for prefer in ("current_period", "past")]
    best: tuple[DateWindow, str] | None = None
    for m in _time_words().finditer(re.sub(r"[’']s\b", "", question)):  # "this week's launch"
        window = _period(m.group(), parsers, as_of)
        if window is not None and (best is None or window.start > best[0].start):
            best = window, m.group()
    return best if best else (None, None)


def _period(text: str, parsers, as_of: dt.date) -> DateWindow | None:
    """The window of the period ``text`` names, the latest one that starts by ``as_of``."""
    for parser in parsers:
        data = parser.get_date_data(text)
        if data.date_obj is None or data.period not in _PERIODS:
            return None
        day = data.date_obj.date()
        if data.period == "year":
            start, end = dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
        elif data.period == "month":
            start = day.replace(day=1)
            end = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        else:
            start, end = day - dt.timedelta(days=7 if data.period == "week" else 0), day
        if start <= as_of:
            # A dated event is reported from then on; a period of the news, within it or
            # the day after.
            return DateWindow(start, as_of if _dated(text) else min(end + dt.timedelta(days=1), as_of))
    return None


def _dated(said: str) -> bool:
    """The time words give a year: the date of an event ("in 1979", "on January 6, 2021"),
    not a period of the news ("this week")."""
    return re.search(r"\d{4}", said) is not None


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
