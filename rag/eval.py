"""`rag eval`: questions through the same Pipeline.ask users get, scored.

Scoring is deliberately plain so the figures mean what they say:
- recall@k: a gold article is among the retrieved passages;
- gold answer in passages: the answer text occurs in a retrieved passage, from whichever
  article (news corpora cover one event in many articles, so this is the reach of
  retrieval when the gold article is one of several that hold the answer);
- answer accuracy: on answerable questions, not abstained and a gold answer occurs
  in the answer (case, quotes and punctuation folded, whole words);
- citation precision: share of citations whose quote contains the gold evidence or
  is contained in it (only for sets that give evidence);
- abstention: share of unanswerable questions abstained (and, to keep that honest,
  share of answerable ones abstained);
- supported: share of answer sentences (claims) the grounder verified;
- latency p50/p95 of whole answers, wall clock.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from rag.assemble import build, ensure_index
from rag.components.generation import GenerationStats, Reply, TokenStream
from rag.eval_data import EvalItem, EvalSet
from rag.errors import BadInput
from rag.types import Answer


def fold(text: str) -> str:
    """Lower case, quotes and punctuation to spaces: how answers are compared."""
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def contains(haystack: str, needle: str) -> bool:
    n = fold(needle)
    return bool(n) and f" {n} " in f" {fold(haystack)} "


def answered(item: EvalItem, text: str) -> bool:
    """A gold answer is in the text. A yes/no answer must lead with it ("No: “...”", not a
    "no" inside the quote); a list must name two of its items (all when it has fewer)."""
    if item.kind == "yesno":
        return fold(text).startswith(fold(item.answers[0]))
    found = sum(contains(text, a) for a in item.answers)
    return found >= (min(2, len(item.answers)) if item.kind == "list" else 1)


@dataclass
class ItemResult:
    question: str
    answerable: bool
    answer: str
    abstained: bool
    reason: str | None
    correct: bool | None  # None: nothing to compare with
    retrieved: bool | None  # a gold article among the passages
    cited_gold: bool | None  # a gold article among the citations
    citations_ok: int
    citations_checked: int
    claims: int
    supported: int
    latency_ms: float
    quotes: list[str] = field(default_factory=list)
    error: str | None = None
    kind: str = ""
    answer_retrieved: bool | None = None  # a gold answer occurs in the passages
    answerability: float | None = None  # the verifier's best sentence probability
    passage_answerability: float | None = None  # the best passage's has_answer (null-option span head)
    statuses: list[str] = field(default_factory=list)  # each claim's verdict
    short_answer: str | None = None  # the span the verifier read as the answer
    short_correct: bool | None = None  # it holds a gold answer


def score(item: EvalItem, answer: Answer, latency_ms: float) -> ItemResult:
    passages = {h.chunk.article_id for h in answer.passages}
    cited = {c.article_id for c in answer.citations}
    gold = set(item.gold_ids)
    correct = None
    if item.answerable and item.answers:
        correct = not answer.abstained and answered(item, answer.answer)
    short = answer.short_answer.text if answer.short_answer and not answer.abstained else None
    ok = checked = 0
    if item.evidence and not answer.abstained:
        evidence = [fold(e) for e in item.evidence]
        for c in answer.citations:
            q = fold(c.quote)
            checked += 1
            ok += bool(q) and any(e in q or q in e for e in evidence)
    return ItemResult(
        question=item.question, answerable=item.answerable, answer=answer.answer,
        abstained=answer.abstained, reason=answer.reason, correct=correct,
        retrieved=bool(gold & passages) if gold else None,
        cited_gold=bool(gold & cited) if gold and not answer.abstained else None,
        citations_ok=ok, citations_checked=checked,
        claims=0 if answer.abstained else len(answer.claims),
        supported=0 if answer.abstained else sum(c.supported for c in answer.claims),
        latency_ms=latency_ms, quotes=[c.quote for c in answer.citations],
        answer_retrieved=any(contains(h.chunk.text, a) for h in answer.passages for a in item.answers)
        if item.answerable and item.answers else None,
        answerability=answer.answerability, passage_answerability=answer.passage_answerability,
        statuses=[c.status for c in answer.claims],
        short_answer=short, kind=item.kind,
        short_correct=(short is not None and any(contains(short, a) for a in item.answers))
        if item.answerable and item.answers else None)


def run(pipeline, ev: EvalSet, top_k: int | None = None, limit: int | None = None,
        progress: Callable[[int, int, ItemResult], None] | None = None,
        offset: int = 0, split: str | None = None, as_of: str | None = None) -> list[ItemResult]:
    """Items offset..offset+limit (all from offset without a limit): a dev/test split is
    e.g. --limit 200 for tuning and --offset 200 for reporting; or the set's own split."""
    items = [i for i in ev.items if split is None or i.split == split]
    items = items[offset:offset + limit] if limit else items[offset:]
    if as_of == "question_date" and items and all(item.date is None for item in items):
        raise BadInput("--as-of question_date: no question of this set carries a date")
    results = []
    for i, item in enumerate(items):
        t0 = time.perf_counter()
        try:
            # question_date: each as of its own day; a question the set gives no day (asked
            # of an undated article) as of today.
            answer = pipeline.ask(item.question, top_k, as_of=item.date if as_of == "question_date" else as_of)
        except BadInput as exc:  # a question the pipeline refuses counts, it does not stop the run
            r = ItemResult(item.question, item.answerable, "", True, "bad_input", False if item.answers else None,
                           None, None, 0, 0, 0, 0, 0.0, error=str(exc))
        else:
            r = score(item, answer, (time.perf_counter() - t0) * 1000)
        results.append(r)
        if progress:
            progress(i + 1, len(items), r)
    return results


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 1)


def summarize(results: list[ItemResult]) -> dict:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    lat = [r.latency_ms for r in results if r.error is None]
    checked = sum(r.citations_checked for r in results)
    claims = sum(r.claims for r in results)
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "recall_at_k": _share([r.retrieved for r in results if r.retrieved is not None]),
        "answer_in_passages": _share([r.answer_retrieved for r in answerable if r.answer_retrieved is not None]),
        "answer_accuracy": _share([r.correct for r in answerable if r.correct is not None]),
        "short_answer_accuracy": _share([bool(r.short_correct) for r in answerable if r.short_correct is not None]),
        "gold_cited": _share([bool(r.cited_gold) for r in answerable if r.retrieved is not None]),
        "citation_precision": round(sum(r.citations_ok for r in results) / checked, 4) if checked else None,
        "abstained_unanswerable": _share([r.abstained for r in unanswerable]),
        "abstained_answerable": _share([r.abstained for r in answerable]),
        # Questions the articles may not answer (the 2023 quiz against the 2022 corpus): the
        # right outcome is a right answer or none.
        "abstained_or_right": _share([r.abstained or bool(r.correct) for r in answerable if r.correct is not None]),
        "abstained_no_recent": _share([r.reason == "no_recent_articles" for r in results]),
        "supported_claims": round(sum(r.supported for r in results) / claims, 4) if claims else None,
        "latency_p50_ms": _pct(lat, 50),
        "latency_p95_ms": _pct(lat, 95),
        **{f"accuracy_{k}": _share([bool(r.correct) for r in answerable if r.kind == k and r.correct is not None])
           for k in sorted({r.kind for r in answerable if r.kind})},
    }


_LABELS = {
    "questions": "questions", "answerable": "answerable", "unanswerable": "unanswerable",
    "recall_at_k": "recall@k (gold article in passages)",
    "answer_in_passages": "gold answer in passages (answerable)",
    "answer_accuracy": "answer accuracy (answerable)",
    "short_answer_accuracy": "short answer holds the gold (answerable)",
    "gold_cited": "gold article cited (answerable)",
    "citation_precision": "citation precision (quote ~ evidence)",
    "abstained_unanswerable": "abstained on unanswerable",
    "abstained_answerable": "abstained on answerable",
    "abstained_or_right": "abstained or right (answerable)",
    "abstained_no_recent": "abstained: no recent articles",
    "supported_claims": "answer sentences supported",
    "latency_p50_ms": "latency p50 (ms)", "latency_p95_ms": "latency p95 (ms)",
}


def table(summary: dict, title: str) -> str:
    labels = {**_LABELS, **{k: f"  accuracy, {k.removeprefix('accuracy_')} questions"
                            for k in summary if k.startswith("accuracy_")}}
    width = max(len(v) for v in labels.values())
    lines = [title, "-" * (width + 12)]
    for key, label in labels.items():
        v = summary.get(key)
        shown = "n/a" if v is None else (f"{v:.1%}" if isinstance(v, float) and "latency" not in key else f"{v}")
        lines.append(f"{label:<{width}}  {shown:>9}")
    return "\n".join(lines)


def report(ev: EvalSet, results: list[ItemResult], settings) -> dict:
    return {"dataset": ev.name, "format": ev.format,
            "settings": {k: getattr(settings, k) for k in (
                "top_k", "min_relevance", "rerank_candidates", "evidence_sentences", "generator",
                "verifier_answerable", "verifier_supported", "verifier_span", "answer_mode")},
            "summary": summarize(results), "items": [asdict(r) for r in results]}


def eval_data_dir(settings, ev: EvalSet):
    """Where a set that brings its own articles is indexed: beside the main index, never
    in it, named after the corpus file so later runs reuse it."""
    key = hashlib.sha256(str(ev.corpus_path.resolve()).encode()).hexdigest()[:8]
    return settings.data_dir / "eval" / f"{ev.corpus_path.stem}-{key}"


def open_pipeline(settings, ev: EvalSet, index_dir=None, show_progress: bool = False, tuning=None):
    """The pipeline to evaluate: the current index, or one holding the set's corpus
    (built on first use; later runs embed only articles not indexed yet)."""
    if ev.articles:
        data_dir = Path(index_dir) if index_dir else eval_data_dir(settings, ev)
        settings = settings.model_copy(update={"data_dir": data_dir})
        index, pipeline, _ = build(settings, tuning=tuning)
        index.ingest(ev.articles, show_progress=show_progress)
    else:
        index, pipeline, _ = build(settings, tuning=tuning)
        ensure_index(index)
    return pipeline


class RecordedGenerator:
    """Wraps a generator: replies already recorded in `path` (keyed by the exact prompt)
    are replayed without the model, new ones are generated and appended. Lets a threshold
    sweep re-run grounding on the model's real answers in seconds; a change that alters a
    prompt simply costs a fresh generation for that prompt."""

    def __init__(self, inner, path: str | Path):
        self.inner = inner
        if hasattr(inner, "record_logprobs"):
            inner.record_logprobs = True
        self.name = inner.name
        self.path = Path(path)
        self.hits = self.misses = 0
        self._cache: dict[str, dict] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    self._cache[rec["key"]] = rec

    def check(self) -> str | None:
        return self.inner.check()

    @staticmethod
    def key(prompt, max_new_tokens: int) -> str:
        return hashlib.sha256(f"{prompt.system}\x00{prompt.user}\x00{max_new_tokens}".encode()).hexdigest()

    def _lookup(self, prompt, max_new_tokens: int):
        """The recorded reply with replay stats (no model time), or None."""
        rec = self._cache.get(self.key(prompt, max_new_tokens))
        if rec is None:
            return None
        self.hits += 1
        return rec["text"], GenerationStats(prefill_ms=0.0, decode_ms=0.0, tokens=rec.get("tokens"),
                                            token_logprobs=rec.get("logprobs"))

    def _store(self, prompt, max_new_tokens: int, text: str, stats) -> None:
        self.misses += 1
        rec = {"key": self.key(prompt, max_new_tokens), "text": text,
               "logprobs": stats.token_logprobs, "tokens": stats.tokens}
        self._cache[rec["key"]] = rec
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")

    def generate(self, prompt, max_new_tokens: int):
        found = self._lookup(prompt, max_new_tokens)
        if found is not None:
            return Reply(*found)
        reply = self.inner.generate(prompt, max_new_tokens)
        self._store(prompt, max_new_tokens, reply.text, reply.stats)
        return reply

    def stream(self, prompt, max_new_tokens: int, stop=None):
        found = self._lookup(prompt, max_new_tokens)
        if found is not None:
            return TokenStream(iter([found[0]] if found[0] else []), found[1])
        inner = self.inner.stream(prompt, max_new_tokens, stop=stop)

        def pieces():
            got = []
            for piece in inner:
                got.append(piece)
                yield piece
            if stop is None or not stop.is_set():
                self._store(prompt, max_new_tokens, "".join(got), inner.stats)

        return TokenStream(pieces(), inner.stats)
