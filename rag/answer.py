"""Pipeline.ask: retrieve -> prompt -> generate -> ground, with per-stage timings."""

from __future__ import annotations

import threading
import time
from typing import Iterator, Sequence

from .config import Settings
from .embedding import Embedder
from .errors import BadInput, IndexUnavailable, TooLarge
from .generation import Generator
from .followup import Turn, standalone_query
from .grounding import Grounder, GroundingConfig
from .prompts import RETRY_INSTRUCTION, build_prompt, is_refusal
from .retrieval import Retriever
from .store import ArticleStore
from .types import Answer, Hit

NO_PASSAGES = "The articles don't say: nothing in them is relevant to this question."
UNSUPPORTED = ("The articles don't say: the passages found do not support an answer. "
               "The closest passages are listed below.")


class Pipeline:
    def __init__(self, settings: Settings, embedder: Embedder, generator: Generator,
                 store: ArticleStore | None = None):
        self.settings = settings
        self.embedder = embedder
        self.generator = generator
        self.store = store  # swapped whole by writers; readers take one reference
        self.retriever = Retriever(embedder, rrf_k=settings.rrf_k)
        self.grounder = Grounder(embedder, GroundingConfig(
            min_support=settings.min_support, min_evidence=settings.min_evidence,
            min_coverage=settings.min_coverage, min_name_coverage=settings.min_name_coverage,
            min_covered_words=settings.min_covered_words,
            names_in_passage=settings.names_in_passage))
        self.write_lock = threading.RLock()

    def warm_up(self) -> None:
        """Pay the first-call costs (lazy loads, kernel set-up) before the first user does."""
        from .generation import Prompt

        # One after the other: loading both at once measured no faster (6.1-6.2 s to
        # ready against 6.0-6.2 s), the two loads mostly need the same interpreter lock.
        self.embedder.embed(["warm up"])
        self.generator.generate(Prompt(system="Reply OK.", user="OK?"), 2)

    # -- input checks live here once, for the API and the CLI alike -------------
    def check(self, question: str, top_k: int | None, history: Sequence[Turn] | None) -> tuple[str, int]:
        s = self.settings
        question = (question or "").strip()
        if not question:
            raise BadInput("question is empty")
        if len(question) > s.max_question_chars:
            raise TooLarge(f"question is {len(question)} characters; the limit is {s.max_question_chars}")
        k = s.top_k if top_k is None else top_k
        if not 1 <= k <= s.max_top_k:
            raise BadInput(f"top_k must be between 1 and {s.max_top_k}")
        if history and len(history) > s.max_history_turns:
            raise TooLarge(f"history has {len(history)} turns; the limit is {s.max_history_turns}")
        return question, k

    def standalone_query(self, question: str, history: Sequence[Turn] | None) -> str:
        """What to search for: a follow-up rewritten by the model into a standalone question."""
        return standalone_query(self.generator, question, history)

    def _store(self) -> ArticleStore:
        if self.store is None:
            raise IndexUnavailable("no index is loaded: run `rag ingest seeds/` first")
        return self.store

    def ask(self, question: str, top_k: int | None = None,
            history: Sequence[Turn] | None = None) -> Answer:
        events = self.ask_stream(question, top_k, history)
        for kind, payload in events:
            if kind == "done":
                return payload
        raise RuntimeError("pipeline ended without an answer")  # pragma: no cover

    def ask_stream(self, question: str, top_k: int | None = None,
                   history: Sequence[Turn] | None = None,
                   stop: threading.Event | None = None) -> Iterator[tuple[str, object]]:
        """Yields ("token", str)* then ("citations", list), ("done", Answer)."""
        t0 = time.perf_counter()
        question, k = self.check(question, top_k, history)
        store = self._store()
        timings: dict[str, float] = {}
        query = self.standalone_query(question, history)
        if query != question:
            timings["rewrite"] = _ms(t0)
        tr = time.perf_counter()
        hits = self.retriever.search(store, query, k)
        timings["retrieve"] = _ms(tr)
        if not hits or max(h.dense for h in hits) < self.settings.min_relevance:
            yield "done", self._abstain(query, hits, "no_relevant_passages", timings, t0)
            return
        evidence = self.grounder.select_evidence(query, hits, self.settings.evidence_sentences)
        # No sentence found could answer (wrong kind, or not about what was asked):
        # the model would only be tempted to invent, so it is not asked.
        if not self.grounder.can_answer(query, evidence):
            yield "done", self._abstain(query, hits, "no_relevant_passages", timings, t0)
            return
        prompt = build_prompt(query, evidence, self.settings.context_chars)
        t1 = time.perf_counter()
        pieces = []
        for piece in self.generator.stream(prompt, self.settings.max_new_tokens, stop=stop):
            pieces.append(piece)
            yield "token", piece
        raw = "".join(pieces)
        timings["generate"] = _ms(t1)
        for key in ("prefill_ms", "decode_ms"):
            value = getattr(self.generator, "stats", {}).get(key)
            if value is not None:
                timings[key.removesuffix("_ms")] = value
        if stop is not None and stop.is_set():
            return
        t2 = time.perf_counter()
        refused = is_refusal(raw)
        g = self.grounder.ground("" if refused else raw, hits, store.articles, evidence, query)
        if not g.grounded:
            # The model refused or said nothing verifiable; a strong source sentence of
            # the right kind is still an answer, quoted verbatim.
            fallback = self.grounder.extractive(query, hits, store.articles)
            if fallback is not None:
                fallback.claims = g.claims + fallback.claims
                g = fallback
        if not g.grounded and self.settings.retry_unverified:
            # Weaker evidence: one more attempt, worded differently (costs ~1 s, and only
            # on answers that would otherwise abstain).
            t3 = time.perf_counter()
            retry = build_prompt(query, evidence, self.settings.context_chars, RETRY_INSTRUCTION)
            raw2 = "".join(self.generator.stream(retry, self.settings.max_new_tokens, stop=stop))
            timings["retry"] = _ms(t3)
            if stop is not None and stop.is_set():
                return
            g2 = self.grounder.ground("" if is_refusal(raw2) else raw2, hits, store.articles, evidence, query)
            g2.claims = g.claims + g2.claims
            g = g2
        timings["ground"] = _ms(t2)
        if not g.grounded:
            ans = self._abstain(query, hits, "unsupported_answer", timings, t0)
            ans.claims = g.claims
            yield "done", ans
            return
        yield "citations", g.citations
        timings["total"] = _ms(t0)
        yield "done", Answer(answer=g.answer, abstained=False, query=query, citations=g.citations,
                             passages=hits, claims=g.claims, grounded=True, timings_ms=timings)

    def _abstain(self, query: str, hits: list[Hit], reason: str, timings: dict, t0: float) -> Answer:
        timings["total"] = _ms(t0)
        text = NO_PASSAGES if reason == "no_relevant_passages" else UNSUPPORTED
        return Answer(answer=text, abstained=True, reason=reason, query=query, passages=hits,
                      timings_ms=timings)


def _ms(t: float) -> float:
    return (time.perf_counter() - t) * 1000.0
