"""Dated evidence (the FreshPrompt recipe): for a time-bound question the model is told
what day it is and each evidence sentence's publication date, oldest first so that the
newest sits nearest the question; the checked answer then says when ("As of 2 Sep 2022
(CNN): ..."), a lead added after grounding and never checked as a claim. And what a
time-bound question that no article of its time answers is told instead.
"""

from __future__ import annotations

import datetime as dt
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
