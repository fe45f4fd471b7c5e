"""The answering path's internal knobs: values measured once (evals/README.md), not for
users or operators to set, so they are not in Settings. An evaluation may still
override any of them: `rag eval --tune rrf_k=30 --tune verifier_answerable=0`.

``AnswerSettings`` is everything the Pipeline reads: these knobs, and the few choices
of Settings that reach it (answer mode, top_k, request limits). The Pipeline takes it,
not the whole Settings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal, Sequence, get_type_hints

from rag.config import Settings
from rag.components.verifier import Calibration, Verifier
from rag.errors import BadInput


@dataclass(frozen=True)
class Tuning:
    # Reciprocal-rank fusion of the dense and keyword rankings (retrieval.py): 1/(k + rank).
    rrf_k: int = 60
    # Below this cosine similarity the best passage is not about the question: answer
    # "the articles don't say" without calling the verifier or the model.
    min_relevance: float = 0.25
    # The verifier re-ranks this many retrieved passages by their sentences and keeps top_k.
    rerank_candidates: int = 12
    # The prompt: evidence sentences the model sees, and their length in characters.
    evidence_sentences: int = 5
    context_chars: int = 2400
    # A confident extractive answer (confident.py): no model call when the best sentence
    # answers with at least `extract_answers` and the span head reads a short answer of at
    # most `extract_words` words in it with at least `extract_span`. 1.01 turns it off.
    extract_answers: float = 0.9
    extract_span: float = 0.5
    extract_words: int = 4
    # The longest answer the model writes, in tokens (also the cap of /v1 plain completions).
    max_new_tokens: int = 160
    # Prompt-lookup decoding of answers (streamed): they quote their sources, so up to this
    # many tokens are drafted from the prompt and checked in one forward pass; a draft token
    # is kept only where it is the model's own greedy choice. 0 turns it off. With dynamic
    # int8 the activation scales depend on how many tokens a pass holds, so outputs can
    # differ from plain decoding: same seed-eval figures, ~2x decode tokens/s (bench_ask.py).
    prompt_lookup_tokens: int = 10
    # Time (when.py, recency.py). A question about the present without a window ranks
    # passages by fused score x 2^(-age in days / half-life) (undated: one half-life old);
    # and is answered only from an article at most `recent_days` old. A question without
    # time words is not answered from an article more than `stale_days` old when the newest
    # relevant article is `stale_days` newer still (tuned on dev: evals/README.md, issue #20).
    recency_half_life_days: float = 7.0
    recent_days: int = 31
    stale_days: int = 93
    # None: the verifier's thresholds calibrated with its weights (models/verifier/config.json).
    # Set only to sweep them (answerable: abstain when no sentence answers with this
    # probability; supported: a claim needs this entailment probability; span: a short
    # answer read with less confidence is not shown; passage_weight: how much a sentence's
    # passage counts in ranking it; has_answer: answer when a whole passage answers, 1 =
    # passages not read).
    verifier_answerable: float | None = None
    verifier_supported: float | None = None
    verifier_span: float | None = None
    verifier_passage_weight: float | None = None
    verifier_has_answer: float | None = None

    def tuned(self, overrides: Sequence[str]) -> "Tuning":
        """This tuning with ``name=value`` overrides (`rag eval --tune`); BadInput for an
        unknown name or a value of the wrong type."""
        types = get_type_hints(Tuning)
        known = {f.name for f in fields(Tuning)}
        changes = {}
        for item in overrides:
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or name not in known:
                raise BadInput(f"--tune {item!r}: expected NAME=VALUE, NAME one of {', '.join(sorted(known))}")
            kind = types[name]
            try:
                if value.strip().lower() in ("", "none") and "None" in str(kind):
                    changes[name] = None
                else:
                    changes[name] = int(value) if kind is int else float(value)
            except ValueError:
                raise BadInput(f"--tune {name}: {value!r} is not a number") from None
        return replace(self, **changes)

    def calibration(self, verifier: Verifier) -> Calibration | None:
        """The verifier's calibrated thresholds with any these settings override (None:
        none overridden, the verifier's own)."""
        over = {k: v for k, v in (("answerable", self.verifier_answerable),
                                  ("supported", self.verifier_supported),
                                  ("span", self.verifier_span),
                                  ("passage_weight", self.verifier_passage_weight),
                                  ("has_answer", self.verifier_has_answer)) if v is not None}
        if not over:
            return None
        return replace(verifier.calibration, **over)


@dataclass(frozen=True)
class AnswerSettings(Tuning):
    top_k: int = 4
    max_top_k: int = 20
    max_question_chars: int = 1000
    max_history_turns: int = 20
    answer_mode: Literal["generate", "extract", "read"] = "generate"
    generator: str = ""  # (its name, for reports)

    @classmethod
    def of(cls, settings: Settings, tuning: Tuning | None = None) -> "AnswerSettings":
        knobs = {f.name: getattr(tuning or Tuning(), f.name) for f in fields(Tuning)}
        return cls(**knobs, top_k=settings.top_k, max_top_k=settings.max_top_k,
                   max_question_chars=settings.max_question_chars,
                   max_history_turns=settings.max_history_turns, answer_mode=settings.answer_mode,
                   generator=settings.generator)
