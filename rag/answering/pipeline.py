"""Pipeline.ask: retrieve -> verify (re-rank, answerable?) -> prompt -> generate -> ground.

The verifier (rag/components/verifier.py) decides three things the word lists used to guess at:
which retrieved sentences answer the question (they become the passages and the
evidence the model sees, best first), whether any does (if not, abstain without calling
the model), and whether each sentence of the model's answer is backed by its quote. Its
span head reads the short answer in the best sentence; with answer_mode "extract" that
short answer and its sentence, quoted, are the answer and the model is never called.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, replace
from typing import Callable, Iterator, Sequence

from rag.text_checks import check_unicode
from rag.components.embedding import Embedder
from rag.errors import BadInput, TooLarge
from rag.components.generation import Generator, Prompt
from rag.answering.dated import as_of_lead, empty_window, fresh_order, no_recent_text
from rag.answering.followup import Turn, standalone_query
from rag.answering import detail, lists, parts, speakers, yesno
from rag.answering.grounding import Grounded, Grounder, Ranked, best_answers, best_passage, quotation, quoted_answer
from rag.answering.confident import confident_answer
from rag.answering.lede import lead_hits, lede
from rag.answering.question_types import QuestionType, classify, topicless
from rag.answering.subject import keep_matching, unnamed
from rag.answering.prompts import build_prompt
from rag.answering.recency import in_time, stale_answer, stale_window
from rag.answering.retrieval import Retriever
from rag.answering.tuning import AnswerSettings
from rag.answering.when import TimeScope, day_text, say_window, time_scope
from rag.answering.wording import within
from rag.dates import check_iso
from rag.index.protocols import Snapshot
from rag.types import Answer, Hit
from rag.components.verifier import Verifier

NO_PASSAGES = "The articles don't say: nothing in them is relevant to this question."
NOT_ANSWERED = ("The articles don't say: the closest passages, listed below, are about this "
                "but do not answer it.")
NOT_NAMED = ("The articles don't say: none of the articles found mentions {names}. The closest passages "
             "are listed below.")
NOT_THEIRS = ("The articles don't say: the passages found that speak to this are not {name}'s words. "
              "The closest passages are listed below.")
NEITHER = "The articles don't say yes or no. The closest they come: {quote}"
TOKEN = "token"  # the event of the model's unchecked draft as it writes
UNSUPPORTED = ("The articles don't say: the passages found do not support an answer. "
               "The closest passages are listed below.")


@dataclass(frozen=True)
class Pipeline:
    """Answers questions; changes nothing, and nothing in it changes. It reads the
    snapshots the Index handle publishes (rag/index/handle.py, built beside it by
    rag/assemble.py), one per request, and holds no way to write them."""

    settings: AnswerSettings  # what it reads of Settings, and the tuning (tuning.py)
    retriever: Retriever
    verifier: Verifier
    generator: Generator
    grounder: Grounder

    def with_generator(self, generator: Generator) -> "Pipeline":
        """The same pipeline with another generator (a recording one, for `rag eval --replay`)."""
        return replace(self, generator=generator)

    @classmethod
    def build(cls, settings: AnswerSettings, snapshots: Callable[[], Snapshot], embedder: Embedder,
              generator: Generator, verifier: Verifier) -> "Pipeline":
        """The pipeline over ``snapshots`` (an Index's ``snapshot``; ``embedder`` is the
        one it was built with) with the retriever and grounder the settings ask for."""
        return cls(settings, Retriever(snapshots, embedder, rrf_k=settings.rrf_k), verifier,
                   generator, Grounder(verifier, settings.calibration(verifier)))

    @property
    def snapshots(self) -> Callable[[], Snapshot]:
        return self.retriever.snapshots

    @property
    def embedder(self) -> Embedder:
        return self.retriever.embedder

    def warm_up(self) -> None:
        """Pay the first-call costs (lazy loads, kernel set-up) before the first user does."""
        # One after the other: loading both at once measured no faster (6.1-6.2 s to
        # ready against 6.0-6.2 s), the two loads mostly need the same interpreter lock.
        self.embedder.embed(["warm up"])
        self.verifier.answers("warm up?", ["Warm up."])
        self.generator.generate(Prompt(system="Reply OK.", user="OK?"), 2)
        time_scope("What happened this week?", dt.date.today())  # dateparser's first call: 0.15 s

    # -- input checks live here once, for the API and the CLI alike -------------
    def check(self, question: str, top_k: int | None, history: Sequence[Turn] | None) -> tuple[str, int]:
        s = self.settings
        question = (question or "").strip()
        if not question:
            raise BadInput("question is empty")
        # Also the CLI's: a command-line argument that is not valid UTF-8 arrives as lone
        # surrogates (Python's surrogateescape).
        check_unicode(question, "question")
        for i, turn in enumerate(history or ()):
            check_unicode(turn.content, f"history[{i}].content")
        if len(question) > s.max_question_chars:
            raise TooLarge(f"question is {len(question)} characters; the limit is {s.max_question_chars}")
        k = s.top_k if top_k is None else top_k
        if not 1 <= k <= s.max_top_k:
            raise BadInput(f"top_k must be between 1 and {s.max_top_k}")
        if history and len(history) > s.max_history_turns:
            raise TooLarge(f"history has {len(history)} turns; the limit is {s.max_history_turns}")
        return question, k

    @staticmethod
    def as_of_date(as_of: dt.date | str | None) -> dt.date:
        """The day questions are asked on: ``as_of`` (YYYY-MM-DD), or today."""
        if as_of is None or isinstance(as_of, dt.date):
            return as_of or dt.date.today()
        try:
            return check_iso(as_of, "as_of")
        except ValueError as exc:
            raise BadInput(str(exc)) from None

    def standalone_query(self, question: str, history: Sequence[Turn] | None) -> str:
        """What to search for: a follow-up rewritten by the model into a standalone question."""
        return standalone_query(self.generator, question, history)

    def ask(self, question: str, top_k: int | None = None,
            history: Sequence[Turn] | None = None, as_of: dt.date | str | None = None) -> Answer:
        events = self.ask_stream(question, top_k, history, as_of=as_of)
        for kind, payload in events:
            if kind == "done":
                return payload
        raise RuntimeError("pipeline ended without an answer")  # pragma: no cover

    def ask_stream(self, question: str, top_k: int | None = None,
                   history: Sequence[Turn] | None = None,
                   stop: threading.Event | None = None,
                   as_of: dt.date | str | None = None) -> Iterator[tuple[str, object]]:
        """Yields ("token", str)* (the model's unchecked draft as it writes; an answer no
        model wrote, whole, in one piece), ("generated", GenerationStats) when the model
        wrote, then ("citations", list), ("done", Answer)."""
        read: dict[str, float] = {}  # this request's passage-level reading, once known
        for kind, payload in self._ask_stream(question, top_k, history, stop, as_of, read):
            if kind == "done" and "passage" in read:
                payload.passage_answerability = read["passage"]
            yield kind, payload

    def _ask_stream(self, question: str, top_k: int | None, history: Sequence[Turn] | None,
                    stop: threading.Event | None, as_of: dt.date | str | None,
                    read: dict[str, float]) -> Iterator[tuple[str, object]]:
        t0 = time.perf_counter()
        question, k = self.check(question, top_k, history)
        day = self.as_of_date(as_of)
        snap = self.snapshots()
        timings: dict[str, float] = {}
        query = self.standalone_query(question, history)
        if query != question:
            timings["rewrite"] = _ms(t0)
        kind = classify(query)
        tr = time.perf_counter()
        # What the question says about time (rag/answering/when.py); retrieval over-fetches
        # so that enough passages are left once those of other times are set aside.
        scope = time_scope(query, day)
        depth = max(k, self.settings.rerank_candidates)
        candidates = self.retriever.search(snap, query, depth * (8 if scope.window else 4 if scope.bound else 2))
        articles = snap.articles({h.chunk.article_id for h in candidates})
        candidates = [h for h in candidates if h.chunk.article_id in articles]  # deleted meanwhile
        timed = in_time(candidates, articles, day, scope, self.settings.recency_half_life_days,
                        self.settings.min_relevance)
        candidates = timed.hits[:depth]
        timings["retrieve"] = _ms(tr)
        shown = f"{query} ({say_window(scope.window)})" if scope.window is not None else query
        # Nothing relevant (no passage near the question at all): no verifier, no model.
        # (A summary request that names no topic, "Give me the gist", is about the best match.)
        if not candidates or (max(h.dense for h in candidates) < self.settings.min_relevance
                              and not (kind is QuestionType.SUMMARY and topicless(query))):
            # (The window holds no article at all: said so, with the newest there is, on
            # the question's topic if it names one.)
            empty = None
            if not candidates:
                untimed = query.replace(scope.said, " ") if scope.said else query  # "What happened today?"
                on_topic = None if kind is QuestionType.SUMMARY and topicless(untimed) else articles.get(timed.newest_id)
                empty = empty_window(scope, (a for a, _ in snap.all_articles()), day, on_topic)
            stale = scope.bound and timed.newest is not None
            if empty is not None:
                ans = self._abstain(shown, [], "no_recent_articles", empty[0], timings, t0, day, empty[1])
            else:
                ans = self._abstain(shown, candidates[:k], "no_recent_articles" if stale else "no_relevant_passages",
                                    no_recent_text(scope, timed.newest) if stale else NO_PASSAGES,
                                    timings, t0, day, timed.newest)
            yield "done", ans
            return
        # Only the articles that hold the question's names and figures (a lookalike
        # article's sentence answers word for word, but about another town).
        candidates = keep_matching(query, candidates, articles)
        # A name the question asks about that no article holds ("What did Narendra Modi
        # say?" of an article that never mentions him): whatever sentence scores best is
        # about someone else.
        # (A yes/no question's name is read with its sentence: "Was it held in Beijing?" is a No.)
        absent = kind is not QuestionType.YESNO and unnamed(
            query, [articles[a] for a in dict.fromkeys(h.chunk.article_id for h in candidates)])
        if absent:
            ans = self._abstain(shown, candidates[:k], "names_not_found", NOT_NAMED.format(names=absent),
                                timings, t0, day)
            yield "done", ans
            return
        tv = time.perf_counter()
        hits, ranked = self._rerank(query, candidates, k)
        # "How did Paul Finebaum describe ...?": only his words (rag/answering/speakers.py)
        ranked, who = speakers.keep_theirs(query, kind, ranked, hits, articles, self.grounder.answerable)
        timings["verify"] = _ms(tv)
        best = best_answers(ranked)
        if any(r.passage_has is not None for r in ranked):
            read["passage"] = best_passage(ranked)
        # The best source is an old article's (recency.stale_answer): stale, not an answer.
        top = candidates[0] if kind is QuestionType.SUMMARY else (hits[ranked[0].source.hit] if ranked else None)
        if top is not None and stale_answer(scope, articles.get(top.chunk.article_id), timed.newest, day,
                                            self.settings.recent_days, self.settings.stale_days):
            ans = self._abstain(shown, hits, "no_recent_articles", no_recent_text(scope, timed.newest),
                                timings, t0, day, timed.newest, answerability=best)
            yield "done", ans
            return
        if kind is QuestionType.SUMMARY:
            hits = lead_hits(snap, candidates[0], hits, k)
            yield from self._finish(shown, lede(hits, articles, self.grounder), hits, timings, t0, best,
                                    day, scope, articles)
            return
        if kind is QuestionType.YESNO:
            yield from self._yes_or_no(query, shown, ranked, hits, articles, timings, t0, best, day, scope)
            return
        if len(asked := parts.split(query)) > 1:
            # Two things asked at once ("Who did Sharif meet and where?"): each part read on its own.
            tv = time.perf_counter()
            g, hits, best = parts.read(asked, lambda q: self._rerank(q, candidates, k), self.grounder,
                                       articles, self.settings.answer_mode == "read", k, best)
            timings["verify"] += _ms(tv)
            if g is not None:
                yield from self._finish(shown, g, hits, timings, t0, best, day, scope, articles)
                return
            ranked = []  # no part answered: not answered (below)
        if not self.grounder.answerable(query, ranked) or detail.lacks_detail(
                query, ranked, self.verifier, self.embedder, self.grounder.calibration):
            # About the question, but no sentence answers it (or the best one lacks the
            # detail asked, rag/answering/detail.py): the model would only be tempted to
            # invent, so it is not asked.
            stale = stale_window(scope, timed.newest)
            ans = self._abstain(shown, hits, "no_recent_articles" if stale else "not_answered",
                                no_recent_text(scope, timed.newest) if stale
                                else NOT_THEIRS.format(name=who) if who else NOT_ANSWERED,
                                timings, t0, day, timed.newest, answerability=best)
            yield "done", ans
            return
        if lists.several(query) and (g := lists.listed(ranked, hits, articles, self.grounder)):
            # Several things asked for ("Which regions ..."): the sentences that answer, quoted.
            yield from self._finish(shown, g, hits, timings, t0, best, day, scope, articles)
            return
        if self.settings.answer_mode == "read" and (g := self.grounder.read_passage(ranked, hits, articles)):
            # The passage reader found the answer: its span and sentence, no model call.
            yield from self._finish(shown, g, hits, timings, t0, best, day, scope, articles)
            return
        if self.settings.answer_mode == "extract":
            t2 = time.perf_counter()
            g = self.grounder.extractive(query, ranked, hits, articles)
            timings["ground"] = _ms(t2)
            yield from self._finish(shown, g, hits, timings, t0, best, day, scope, articles)
            return
        t2 = time.perf_counter()
        if g := confident_answer(query, ranked, hits, articles, self.grounder, self.settings):
            # The verifier is sure of the sentence and its short answer: quoted, no model call.
            timings["ground"] = _ms(t2)
            yield from self._finish(shown, g, hits, timings, t0, best, day, scope, articles)
            return
        evidence = [r.source for r in ranked[:self.settings.evidence_sentences]]
        dates = None
        if scope.bound:  # told what day it is, and each sentence's date, newest last
            evidence, dates = fresh_order(evidence, hits, articles)
        prompt = build_prompt(query, evidence, self.settings.context_chars,
                              today=day_text(day) if dates else None, dates=dates)
        t1 = time.perf_counter()
        pieces = []
        run = self.generator.stream(prompt, self.settings.max_new_tokens, stop=stop)
        for piece in run:
            pieces.append(piece)
            yield "token", piece
        raw = "".join(pieces)
        timings["generate"] = _ms(t1)
        for key in ("prefill", "decode"):
            value = getattr(run.stats, f"{key}_ms")
            if value is not None:
                timings[key] = value
        yield "generated", run.stats  # this call's token counts (metrics)
        if stop is not None and stop.is_set():
            return
        t2 = time.perf_counter()
        g = self.grounder.ground(raw, query, hits, articles, evidence)
        if not g.grounded:
            # The model refused or said nothing the sources back: the sentence the
            # verifier found to answer is the answer, quoted verbatim.
            fallback = self.grounder.extractive(query, ranked, hits, articles)
            if fallback is not None:
                # (a draft sentence that only repeats the quote is not one the sources failed)
                quotes = [c.quote for c in fallback.citations]
                fallback.claims = [c for c in g.claims if not within(c.text, quotes)] + fallback.claims
                g = fallback
        elif ranked:
            g.short = self.grounder.short_answer(query, ranked[0], hits, articles, g.citations)
            if self.grounder.disagrees(g):
                # The answer leaves out what the sentence it cites answers ("held in
                # Shanghai" citing "... summit in Tianjin"): that sentence is quoted instead.
                fallback = self.grounder.extractive(query, ranked, hits, articles)
                if fallback is not None:
                    fallback.claims = [replace(c, citations=(), supported=False, status="disagrees")
                                       for c in g.claims] + fallback.claims
                    g = fallback
        timings["ground"] = _ms(t2)
        yield from self._finish(shown, g, hits, timings, t0, best, day, scope, articles)

    def _finish(self, query: str, g: Grounded | None, hits: list[Hit], timings: dict, t0: float,
                best: float, day: dt.date, scope: TimeScope, articles: dict) -> Iterator[tuple[str, object]]:
        """The answer `g` (an abstention when it is not grounded). An answer no model wrote
        streams no draft: it is checked already, and comes whole with its citations (sent as
        a draft too, the OpenAI-style stream showed it twice, as reasoning and as content)."""
        if g is None or not g.grounded:
            ans = self._abstain(query, hits, "unsupported_answer", UNSUPPORTED, timings, t0, day,
                                claims=g.claims if g else [], answerability=best)
            yield "done", ans
            return
        text = g.answer
        if scope.bound and (lead := as_of_lead(g.citations, articles)):
            text = f"{lead}: {text}"  # after grounding: a date, not a claim to check
        yield "citations", g.citations
        timings["total"] = _ms(t0)
        yield "done", Answer(answer=text, abstained=False, query=query, citations=g.citations,
                             passages=hits, claims=g.claims, grounded=True, timings_ms=timings,
                             answerability=best, short_answer=g.short, as_of=day.isoformat())

    def _rerank(self, query: str, candidates: list[Hit], k: int) -> tuple[list[Hit], list[Ranked]]:
        """The k passages holding the sentences most likely to answer (retrieval order
        breaks ties), and those passages' sentences ranked by the verifier."""
        ranked = self.grounder.rank(query, candidates)
        best: dict[int, float] = {}
        for r in ranked:
            best.setdefault(r.source.hit, r.rank)
        order = sorted(range(len(candidates)), key=lambda i: (-best.get(i, float("-inf")), i))[:k]
        hits = [candidates[i] for i in order]
        return hits, self.grounder.rerank(ranked, hits)

    def _yes_or_no(self, query: str, shown: str, ranked: list[Ranked], hits: list[Hit], articles: dict,
                   timings: dict, t0: float, best: float, day: dt.date,
                   scope: TimeScope) -> Iterator[tuple[str, object]]:
        """Yes or No with the sentence that says so, or what the articles do say."""
        tv = time.perf_counter()
        v = yesno.decide(query, ranked, self.verifier,
                         lambda r: articles[hits[r.source.hit].chunk.article_id].title,
                         self.grounder.calibration.settled)
        timings["verify"] = timings.get("verify", 0.0) + _ms(tv)
        if v is None or v.answer is None:
            text = NOT_ANSWERED if v is None else NEITHER.format(quote=quotation(v.evidence.source.quoted().text))
            ans = self._abstain(shown, hits, "not_answered", text, timings, t0, day, answerability=best)
            yield "done", ans
            return
        src = v.evidence.source.quoted()
        cite = self.grounder.citation(1, hits[src.hit], src, v.score, articles)
        g = quoted_answer(cite, v.answer)
        yield from self._finish(shown, g, hits, timings, t0, best, day, scope, articles)

    def _abstain(self, query: str, hits: list[Hit], reason: str, text: str, timings: dict, t0: float,
                 day: dt.date, newest: str | None = None, **more) -> Answer:
        """No answer, for ``reason``, saying ``text``; ``more``: other fields of the Answer
        (the answerability, the claims that were checked)."""
        timings["total"] = _ms(t0)
        return Answer(answer=text, abstained=True, reason=reason, query=query, passages=hits,
                      timings_ms=timings, as_of=day.isoformat(), newest=newest, **more)


def _ms(t: float) -> float:
    return (time.perf_counter() - t) * 1000.0
