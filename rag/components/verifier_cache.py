"""The verifier's readings of (question or claim, text) pairs it has already read.

One answer reads the same pair more than once: the ranking reads every sentence against
the question, then the short answer is read again in the best sentence (and again when
the model's answer falls back to quoting it); a question asked twice (the chat's retry,
/ask then /ask/stream) reads them all again. The model's output for a pair does not depend
on the other pairs of its batch, so a reading kept is a reading saved. Bounded (least
recently used goes first); a model still in training keeps none (its weights change).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

NOT_READ = object()  # a pair scored without its span read


class PairCache:
    """(a, b) -> (answer probability, support probabilities, span or NOT_READ)."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[float, np.ndarray, object]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[str, str], want_spans: bool):
        """The kept reading, or None (none kept, or one without the span asked for)."""
        entry = self._entries.get(key)
        if entry is None or (want_spans and entry[2] is NOT_READ):
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[str, str], answer: float, support: np.ndarray, span: object) -> None:
        old = self._entries.get(key)
        if span is NOT_READ and old is not None:
            span = old[2]  # a reading with its span is not replaced by one without
        self._entries[key] = (answer, support, span)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
