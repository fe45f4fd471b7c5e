"""Dated evidence (the FreshPrompt recipe): for a time-bound question the model is told
what day it is and each evidence sentence's publication date, oldest first so that the
newest sits nearest the question; the checked answer then says when ("As of 2 Sep 2022
(CNN): ..."), a lead added after grounding and never checked as a claim. And what a
time-bound question that no article of its time answers is told instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Iterable
from urllib.parse import urlsplit

from rag.answering.grounding import SourceSentence
from rag.answering.recency import published_on
from rag.answering.when import TimeScope, day_text, say_window
from rag.types import Article, Citation, Hit


def fresh_order(evidence: list[SourceSentence], hits: list[Hit],
                articles: dict[str, Article]) -> tuple[list[SourceSentence], list[str | None]]:
    """The evidence oldest first (undated first of all; the verifier's order breaks ties),
    with each sentence's date written for the prompt ("2 Sep 2022" or None)."""
    def day(s: SourceSentence) -> dt.date | None:
        return published_on(articles.get(hits[s.hit].chunk.article_id))

    order = sorted(range(len(evidence)), key=lambda i: (day(evidence[i]) or dt.date.min, -i))
    ordered = [evidence[i] for i in order]
    return ordered, [day_text(d) if (d := day(s)) else None for s in ordered]


def source_name(article: Article | None, url: str | None) -> str | None:
    """ "CNN" (the article's source), else the host of its URL."""
    if article is not None and article.source:
        return article.source
    host = urlsplit(url or "").hostname or ""
    return host.removeprefix("www.") or None


def as_of_lead(citations: list[Citation], articles: dict[str, Article]) -> str | None:
    """ "As of 2 Sep 2022 (CNN)": the newest cited article's date and source."""
    dated = [c for c in citations if published_on(articles.get(c.article_id))]
    if not dated:
        return None
    c = max(dated, key=lambda c: published_on(articles.get(c.article_id)))
    name = source_name(articles.get(c.article_id), c.url)
    return f"As of {day_text(c.published)}" + (f" ({name})" if name else "")


def no_recent_text(scope: TimeScope, newest: str | None) -> str:
    when = say_window(scope.window) if scope.window is not None else "recently"
    text = f"The articles don't say: no article published {when.removeprefix('published ')} answers this."
    if newest:
        text += f" The newest article on this is from {day_text(newest)}."
    return text


def empty_window(scope: TimeScope, articles: Iterable[Article], as_of: dt.date,
                 on_topic: Article | None = None) -> tuple[str, str | None] | None:
    """When no article at all was published in the question's window: what to say ("No
    article is from this week (29 Nov–6 Dec 2026). The newest article is from 1 Sep 2025: “Title”.")
    and the date of the article named (ISO, None if no article is dated): ``on_topic``, the
    newest article on the question's topic ("The newest article on this is ..."), when there is
    one, else the newest of all. None when the window holds an article, or the question
    names none."""
    if scope.window is None:
        return None
    articles = list(articles)
    dated = [(d, a) for a in articles if (d := published_on(a)) is not None and d <= as_of]
    if any(scope.window.holds(a.published) for _, a in dated):
        return None
    when = say_window(scope.window).removeprefix("published ")
    text = f"No article is from {scope.said or 'that time'} ({when})."
    if not dated:  # (undated articles are of no time; those after as_of are not yet out)
        undated = sum(published_on(a) is None for a in articles)
        if undated:
            text += (" The only article has no publication date." if undated == 1 else
                     f" None of the {undated} articles has a publication date.")
        return text, None
    day, newest = max(dated, key=lambda x: x[0])
    which = "The newest article"
    if on_topic is not None and (d := published_on(on_topic)) is not None and d <= as_of:
        day, newest, which = d, on_topic, "The newest article on this"
    title = f": “{newest.title.rstrip('.')}”" if newest.title else ""
    return f"{text} {which} is from {day_text(day)}{title}.", day.isoformat()
