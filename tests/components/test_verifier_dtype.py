"""The verifier's precision and input shapes (no model: a stand-in records what it is given)."""

from __future__ import annotations

import pytest
import torch

from rag.components import verifier_precision as precision
from rag.components.verifier import CrossEncoderVerifier
from rag.components.verifier_precision import DTYPES, PAD_TOKENS, padded_rows


def test_an_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="float16"):
        CrossEncoderVerifier(dtype="float16")
    assert set(DTYPES) == {"auto", "float32", "bfloat16", "int8"}


@pytest.mark.parametrize("auto,native,expected", [
    ("float32", True, "float32"),
    ("bfloat16", True, "bfloat16"),
    ("bfloat16", False, "float32"),  # emulated bf16 is slower than float32: not by default
    ("int8", False, "int8"),
])
def test_auto_resolves_to_the_default_and_bf16_only_where_native(monkeypatch, auto, native, expected):
    monkeypatch.setattr(precision, "AUTO_DTYPE", auto)
    monkeypatch.setattr(precision, "has_native_bf16", lambda: native)
    v = CrossEncoderVerifier()
    assert v.resolved_dtype == expected
    assert v.pad_shapes is (expected == "bfloat16")  # only bf16 goes through per-shape primitives
    # asked for by name, a dtype is used as asked
    assert CrossEncoderVerifier(dtype="bfloat16").resolved_dtype == "bfloat16"
    assert CrossEncoderVerifier(dtype="bfloat16", pad_shapes=False).pad_shapes is False


def test_the_shipped_default_is_the_measured_one():
    # bench/bench_verifier.py: bf16 with padded shapes (verifier_precision.py)
    assert (precision.AUTO_DTYPE, precision.PAD_SHAPES) == ("bfloat16", True)


def test_padded_rows_repeat_the_last_row_up_to_a_power_of_two():
    t = torch.arange(6).reshape(3, 2)
    p = padded_rows(t)
    assert p.shape == (4, 2) and p[:3].equal(t) and p[3].equal(t[2])
    assert padded_rows(t[:2]) is not None and padded_rows(t[:2]).shape == (2, 2)
    assert padded_rows(t[:1]).shape == (1, 2)


class Tokenizer:
    """Words as tokens, padded as the real tokenizer pads (longest, then to a multiple)."""

    def __call__(self, a, b, pad_to_multiple_of=None, padding=False, **_):
        rows = [[1] + [2] * len(x.split()) + [3] + [4] * len(y.split()) for x, y in zip(a, b)]
        if not padding:
            return {"input_ids": rows}
        n = max(map(len, rows))
        if pad_to_multiple_of:
            n = -(-n // pad_to_multiple_of) * pad_to_multiple_of
        ids = torch.tensor([r + [0] * (n - len(r)) for r in rows])
        return {"input_ids": ids, "attention_mask": (ids > 0).long(), "token_type_ids": torch.zeros_like(ids)}


class Model:
    """Scores a row by its number of real tokens; records every input shape."""

    def __init__(self):
        self.shapes: list[tuple[int, int]] = []

    def __call__(self, ids, mask, types):
        self.shapes.append(tuple(ids.shape))
        n = mask.sum(1).float()
        return n / 100, torch.stack([n, -n, n * 0], 1), torch.zeros(*ids.shape, 2)


@pytest.mark.parametrize("pad", [False, True])
def test_padded_shapes_give_the_same_scores_from_a_few_shapes(pad):
    v = CrossEncoderVerifier(pad_shapes=pad, batch_size=8)
    v._model, v._tok, v._config = Model(), Tokenizer(), {"max_length": 160}
    texts = [" ".join(["w"] * k) for k in (3, 9, 1, 40, 17, 5, 22, 8, 11, 2, 30)]
    ans, sup, _ = v._score(["q"] * len(texts), texts)
    want = torch.sigmoid(torch.tensor([(3 + len(t.split())) / 100 for t in texts])).numpy()
    assert ans == pytest.approx(want, abs=1e-6)
    assert sup.shape == (len(texts), 3)
    rows = [r for r, _ in v._model.shapes]
    if pad:
        assert all(r & (r - 1) == 0 for r in rows)  # 8 and 4 (3 texts padded to 4)
        assert all(n % PAD_TOKENS == 0 for _, n in v._model.shapes)
    else:  # batches of at most 8, of like lengths
        assert sum(rows) == len(texts) and max(rows) <= 8
