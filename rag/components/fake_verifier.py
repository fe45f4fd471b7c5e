"""A stand-in for the trained verifier in fast unit tests: word overlap, no model."""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from rag.components.runtime.span_reading import Span
from rag.components.verifier import Calibration

_TOKEN = re.compile(r"[a-z0-9]+")


class FakeVerifier:
    """Word overlap standing in for the trained model, for fast unit tests: a sentence
    answers when it holds most of the question's longer words and adds a word of its own;
    a claim is entailed by the share of its words the evidence holds, contradicted when
    it gives a figure the evidence does not."""

    name = "fake-verifier"
    span_null = False

    def __init__(self, calibration: Calibration = Calibration(), span_null: bool | None = None):
        if span_null is not None:
            self.span_null = span_null
        self.calibration = calibration
        self.calls: list[tuple[str, int]] = []

    @staticmethod
    def _words(text: str, n: int = 4) -> set[str]:
        return {w for w in _TOKEN.findall(text.lower()) if len(w) >= n or w.isdigit()}

    def answers(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        self.calls.append(("answers", len(sentences)))
        q = self._words(question)
        out = []
        for s in sentences:
            w = self._words(s)
            share = len(q & w) / len(q) if q else 0.0
            out.append(share if w - q else share / 2)
        return np.array(out, dtype=np.float32)

    _RUN = re.compile(r"(?<!^)\b(?:[A-Z][\w-]+(?:\s+[A-Z][\w-]+)*|\d[\d,.]*)")

    def spans(self, question: str, sentences: Sequence[str]) -> list[Span | None]:
        """The last name or figure of the sentence that the question does not hold (English
        puts the new information last: "... was held in Tianjin"); its has_answer is the
        sentence's answers() score (a null-option head's stand-in)."""
        self.calls.append(("spans", len(sentences)))
        q = question.lower()
        scores = self.answers(question, sentences)
        self.calls.pop()
        out: list[Span | None] = []
        for s, p in zip(sentences, scores):
            m = next((m for m in reversed(list(self._RUN.finditer(s)))
                      if not any(w.lower() in q for w in m.group(0).split())), None)
            out.append(Span(m.start(), m.end(), m.group(0), 0.9, float(p)) if m else None)
        return out

    def read(self, question: str, sentences: Sequence[str]) -> tuple[np.ndarray, list[Span | None]]:
        return self.answers(question, sentences), self.spans(question, sentences)

    def support(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        self.calls.append(("support", len(pairs)))
        out = np.zeros((len(pairs), 3), dtype=np.float32)
        for i, (claim, evidence) in enumerate(pairs):
            c, e = self._words(claim, 3), self._words(evidence, 3)
            ent = len(c & e) / len(c) if c else 0.0
            nums_c = {w for w in c if w.isdigit()}
            contra = 0.9 if nums_c - e and any(w.isdigit() for w in e) else 0.0
            ent = min(ent, 1.0 - contra)
            out[i] = [ent, max(0.0, 1.0 - ent - contra), contra]
        return out
