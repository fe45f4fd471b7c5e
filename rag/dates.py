"""An article's publication date, read at ingest: ISO ``YYYY-MM-DD`` or None.

Sources, first that says wins: the record's own field (``published``, ``publish_date``,
``pubDate``, ...), the HTML page's metadata (trafilatura, which asks htmldate: meta tags,
JSON-LD, <time>), a date in the URL (``/2022/09/02/``, read by htmldate), and a dateline
at the top of the text ("Updated 10:00 AM EDT, Fri September 2, 2022"). None only when
nothing says.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable

# Field names feeds and scrapers use for the publication date, in the order they are trusted.
RECORD_FIELDS = ("published", "publish_date", "published_at", "publishedAt", "pubDate",
                 "pub_date", "datePublished", "date_published", "date", "created_at")

# Written dates a dateline holds: month names with a year (the year is required: "Sept 2"
# alone could be any year), or an ISO date.
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WRITTEN = re.compile(rf"(?i)\b(?:\d{{1,2}}(?:st|nd|rd|th)? {_MON},? \d{{4}}|{_MON} \d{{1,2}}"
                      rf"(?:st|nd|rd|th)?,? \d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\b")
DATELINE_CHARS = 300  # how far into the text a dateline may sit

_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"


def normalize_date(value: Any) -> str | None:
    """ISO ``YYYY-MM-DD`` when the date is unambiguous, else the given string."""
    s = "" if value is None else str(value).strip()
    ymd = None
    if m := re.match(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[T\s])", s):
        ymd = m.groups()
    elif m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", s):
        a, b, y = (int(g) for g in m.groups())
        # 06/07/2022 could be June or July: convert only when one part must be the day.
        ymd = (y, b, a) if a > 12 else (y, a, b) if b > 12 else None
    elif m := re.search(rf"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)? {_MON},? (\d{{4}})\b", s):
        ymd = (m[3], _MONTHS[m[2].lower()], m[1])
    elif m := re.search(rf"(?i)\b{_MON} (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b", s):
        ymd = (m[3], _MONTHS[m[1].lower()], m[2])
    try:
        return dt.date(*(int(x) for x in ymd)).isoformat() if ymd else s or None
    except ValueError:
        return s


def iso(value: dt.date | dt.datetime) -> str:
    return (value.date() if isinstance(value, dt.datetime) else value).isoformat()


def parse_date(value: Any) -> str | None:
    """An absolute date written in any common way, as ISO; None if it is not one
    (relative words such as "last Tuesday" mean nothing without a reference date, and a
    day/month order that cannot be told apart, 06/07/2022, is not guessed)."""
    s = "" if value is None else str(value).strip()
    if not s or len(s) > 100:
        return None
    first = normalize_date(s)
    if first and re.fullmatch(r"\d{4}-\d{2}-\d{2}", first):
        return first
    if re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}", s):
        return None  # ambiguous day and month (normalize_date took any unambiguous one)
    import dateparser  # imported on first use: a third of a second

    got = dateparser.parse(s, languages=["en"], settings={
        "PARSERS": ["absolute-time", "custom-formats"], "REQUIRE_PARTS": ["day", "month", "year"]})
    return iso(got) if got else None


def url_date(url: str | None) -> str | None:
    """The date in a URL's path (``/2022/09/02/``, ``/2022-09-02/``), by htmldate."""
    if not url:
        return None
    from htmldate.extractors import Extractor, extract_url_date

    options = Extractor(False, dt.datetime(2100, 1, 1), dt.datetime(1990, 1, 1), False, "%Y-%m-%d")
    return extract_url_date(url, options)


def dateline_date(text: str | None) -> str | None:
    """A full date written near the top of the article as a dateline ("Updated 10:12 AM
    EDT, Fri September 2, 2022", "LONDON, 2 Sept 2022 (Reuters) - ", "Published May 5,
    2020."), not a date the story tells of ("On 9 July 1755, Braddock ...")."""
    head = (text or "")[:DATELINE_CHARS]
    for m in _WRITTEN.finditer(head):
        if _is_dateline(head, m) and (found := parse_date(m.group())):
            return found
    return None


# What may follow a dateline's date: the line's or the sentence's end, or a separator
# leading into the story, after an optional short parenthesis ("(Reuters)").
_DATELINE_END = re.compile(r"\s*(?:\([^()\n]{0,40}\)\s*)?(?:$|[\n.|:\-\u2013\u2014])")


def _is_dateline(head: str, m: re.Match) -> bool:
    """A dateline's date closes a short line ("Story by A | Photos by B | Dec. 10, 2015"),
    or closes a lead-in or sentence whose words before it are not prose ("Published",
    "LONDON,", a time: at most one lower-case word)."""
    lead = head[head.rfind("\n", 0, m.start()) + 1:m.start()]
    if len(lead) <= 120 and re.match(r"[ \t]*(?:\n|$)", head[m.end():]) and m.end() < len(head):
        return True
    prose = sum(word[0].islower() for word in lead.split())
    return len(lead) <= 80 and prose <= 1 and bool(_DATELINE_END.match(head, m.end()))


def article_date(published: Any = None, url: str | None = None,
                 text: str | None = None) -> str | None:
    """The first source that gives a date: the record's field (for an HTML page, its
    metadata as trafilatura read it), the URL, a dateline."""
    sources: tuple[Callable[[], str | None], ...] = (
        lambda: parse_date(published), lambda: url_date(url), lambda: dateline_date(text))
    for source in sources:
        if found := source():
            return found
    return None


def check_iso(value: str | None, name: str) -> dt.date | None:
    """A date given by a user (``as_of``, ``since``, ``until``): ISO ``YYYY-MM-DD`` or a
    ValueError naming the field."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip()) if len(value.strip()) == 10 else _bad(name, value)
    except ValueError:
        return _bad(name, value)


def _bad(name: str, value: str):
    raise ValueError(f"{name} must be a date written YYYY-MM-DD, not {value[:40]!r}")


@dataclass(frozen=True)
class DateWindow:
    """Publication dates from ``start`` to ``end``, both included; None leaves a side open."""
    start: dt.date | None = None
    end: dt.date | None = None

    def holds(self, published: str | None) -> bool:
        """Whether an article published then is in the window (an undated one is not)."""
        if not published:
            return False
        try:
            day = dt.date.fromisoformat(published[:10])
        except ValueError:
            return False
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)
