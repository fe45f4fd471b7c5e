"""Retrieved passages in time: none from after ``as_of``, only those in the question's
window when it names one, and, for a question about the present without a window, a
recency prior:

    score' = score x 2 ** (-age / half_life)

where ``score`` is the fused retrieval score, ``age`` the days from the article's
publication to ``as_of`` (an undated article counts as one half-life old) and
``half_life`` the one parameter (Tuning.recency_half_life_days, 7 days: tuned on
RealTimeQA dev items 0-52 over 3, 7, 14, 30, 90 days; evals/README.md, issue #20).
Retrieval order decides which passages the verifier re-ranks and breaks its ties.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from rag.answering.when import TimeScope
from rag.types import Article, Hit


@dataclass(frozen=True)
class InTime:
    hits: list[Hit]  # the passages to read, best first
    newest: str | None  # the newest relevant article's date, published by as_of (any window)
    newest_id: str | None = None  # and that article


def published_on(article: Article | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(article.published[:10]) if article and article.published else None
    except ValueError:
        return None


def in_time(hits: list[Hit], articles: dict[str, Article], as_of: dt.date, scope: TimeScope,
            half_life: float, min_relevance: float) -> InTime:
    """The hits usable at ``as_of`` for this question, and the newest relevant date."""
    days = {a: published_on(articles.get(a)) for a in {h.chunk.article_id for h in hits}}
    usable = [h for h in hits if (d := days[h.chunk.article_id]) is None or d <= as_of]
    relevant = [(d, h.chunk.article_id) for h in usable
                if h.dense >= min_relevance and (d := days[h.chunk.article_id]) is not None]
    newest = max(relevant, key=lambda r: r[0]) if relevant else None
    if scope.window is not None:
        # An event's date ("in 1979") cannot choose among passages none of which is dated
        # (a history, an encyclopedia's pages): they are all kept. A period of the news
        # ("this week"), or a date among dated articles, keeps only those of its time.
        undated = all(days[h.chunk.article_id] is None for h in usable)
        usable = [h for h in usable if scope.window.holds(articles[h.chunk.article_id].published)
                  or (scope.event_dated and undated)]
    elif scope.present:
        usable = prior(usable, days, as_of, half_life)
    return InTime(usable, newest[0].isoformat() if newest else None, newest[1] if newest else None)


def prior(hits: list[Hit], days: dict[str, dt.date | None], as_of: dt.date, half_life: float) -> list[Hit]:
    """The hits re-scored by the recency prior, best first (ties keep their order)."""
    def factor(d: dt.date | None) -> float:
        age = half_life if d is None else max(0, (as_of - d).days)
        return 2.0 ** (-age / half_life)

    scored = [replace(h, score=h.score * factor(days.get(h.chunk.article_id))) for h in hits]
    return sorted(scored, key=lambda h: -h.score)


def stale_answer(scope: TimeScope, article: Article | None, newest: str | None, as_of: dt.date,
                 recent_days: int, stale_days: int) -> bool:
    """Whether the article an answer would come from is stale for this question (an
    undated article never is; a window has already kept out other times):

    - a question about the present: the article is more than ``recent_days`` old;
    - a question without time words: the article is more than ``stale_days`` old and the
      story has moved on, its newest relevant article being ``stale_days`` newer still.
    """
    d = published_on(article)
    if scope.window is not None or d is None:
        return False
    if scope.present:
        return (as_of - d).days > recent_days
    return ((as_of - d).days > stale_days and newest is not None
            and (dt.date.fromisoformat(newest) - d).days > stale_days)


def stale_window(scope: TimeScope, newest: str | None) -> bool:
    """Whether a question naming a window goes unanswered for want of articles of that
    time: the newest relevant article is older than the window (none at all: not stale,
    nothing is about it)."""
    return scope.window is not None and newest is not None and newest < scope.window.start.isoformat()

