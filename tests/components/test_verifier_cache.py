"""The verifier keeps its readings of pairs (rag/components/verifier_cache.py): a pair read
again is not run through the model again, and gives the same figures."""

import numpy as np
import pytest

from rag.components.runtime.span_reading import Span
from rag.components.verifier import CrossEncoderVerifier
from rag.components.verifier_cache import NOT_READ, PairCache


class Recording(CrossEncoderVerifier):
    """The model replaced by a deterministic reading per pair; records what it read."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.read_pairs: list[list[tuple[str, str, bool]]] = []

    def _read_pairs(self, a, b, want_spans=False):
        self.read_pairs.append([(x, y, want_spans) for x, y in zip(a, b)])
        ans = np.array([len(x + y) / 100 for x, y in zip(a, b)], dtype=np.float32)
        sup = np.array([[len(y) / 100, 0.5, 0.1] for y in b], dtype=np.float32).reshape(-1, 3)
        spans = [Span(0, 1, y[:1], 0.9) if want_spans else None for y in b]
        return ans, sup, spans


def test_a_pair_read_again_is_taken_from_what_was_kept():
    v = Recording()
    first = v._score(["q", "q", "claim"], ["A b.", "C d e.", "A b."])
    again = v._score(["q", "claim", "q"], ["A b.", "A b.", "F."])
    assert [len(r) for r in v.read_pairs] == [3, 1]  # only ("q", "F.") is new
    assert again[0][0] == first[0][0] and again[0][1] == first[0][2]
    assert np.array_equal(again[1][:2], first[1][[0, 2]])


def test_a_pair_twice_in_one_call_is_read_once():
    v = Recording()
    ans, sup, _ = v._score(["q", "q", "q"], ["A.", "B.", "A."])
    assert v.read_pairs == [[("q", "A.", False), ("q", "B.", False)]]
    assert ans[0] == ans[2] and sup.shape == (3, 3)


def test_spans_asked_after_a_reading_without_them_are_read():
    v = Recording()
    assert v._score(["q"], ["Tianjin."])[2] == [None]
    spans = v._score(["q"], ["Tianjin."], want_spans=True)[2]
    assert spans[0].text == "T" and len(v.read_pairs) == 2
    # ... and kept: neither a reading with nor one without spans reads it again
    assert v._score(["q"], ["Tianjin."], want_spans=True)[2][0] == spans[0]
    assert v._score(["q"], ["Tianjin."])[2] == [None]
    assert len(v.read_pairs) == 2


def test_forget_and_a_model_in_training_keep_nothing():
    v = Recording()
    v._score(["q"], ["A."])
    v.forget()
    v._score(["q"], ["A."])
    assert len(v.read_pairs) == 2
    training = CrossEncoderVerifier.in_memory(None, None, max_length=128)
    assert training._cache is None


def test_the_cache_is_bounded_least_recently_used_first():
    c = PairCache(size=2)
    sup = np.zeros(3)
    c.put(("q", "a"), 0.1, sup, NOT_READ)
    c.put(("q", "b"), 0.2, sup, NOT_READ)
    assert c.get(("q", "a"), False)[0] == pytest.approx(0.1)  # a used: b is the oldest
    c.put(("q", "c"), 0.3, sup, NOT_READ)
    assert len(c) == 2 and c.get(("q", "b"), False) is None and c.get(("q", "a"), False) is not None
    c.put(("q", "a"), 0.1, sup, "span")
    c.put(("q", "a"), 0.1, sup, NOT_READ)  # a reading without its span keeps the span
    assert c.get(("q", "a"), True)[2] == "span"
