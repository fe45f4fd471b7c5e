"""SentenceTransformerEmbedder without its model: naming of the int8 variant and the vector cache."""

from __future__ import annotations

import numpy as np
import pytest

from rag.config import PACKAGED_EMBEDDER
from rag.components.embedding import CACHED_BATCH, SentenceTransformerEmbedder, load_embedder


class Counting(SentenceTransformerEmbedder):
    """The real cache logic over a stand-in encoder that records what it is asked."""

    def __init__(self, **kw):
        super().__init__(PACKAGED_EMBEDDER, **kw)
        self._dim = 3
        self.encoded: list[list[str]] = []

    def _encode(self, texts, show_progress=False):
        self.encoded.append(list(texts))
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_int8_variant_has_its_own_name():
    # The index manifest records this name: an index built by one variant is refused by the other.
    assert load_embedder(PACKAGED_EMBEDDER).name == PACKAGED_EMBEDDER
    assert load_embedder(PACKAGED_EMBEDDER, quantize=True).name == PACKAGED_EMBEDDER + "+int8"
    named = load_embedder(PACKAGED_EMBEDDER + "+int8")
    assert named.quantize and named.name == PACKAGED_EMBEDDER + "+int8"
    assert named.model_name == PACKAGED_EMBEDDER  # the same packaged weights


def test_small_calls_encode_only_unseen_texts():
    e = Counting()
    first = e.embed(["aa", "b"])
    second = e.embed(["b", "cccc", "aa", "cccc"])
    assert e.encoded == [["aa", "b"], ["cccc"]]  # each text once, duplicates folded
    assert first[:, 0].tolist() == [2, 1]
    assert second[:, 0].tolist() == [1, 4, 2, 4]  # in the order asked
    assert second.dtype == np.float32


def test_cache_is_bounded_and_evicts_least_recent():
    e = Counting(cache_size=2)
    e.embed(["a"])
    e.embed(["b"])
    e.embed(["a"])  # "a" is now the most recent
    e.embed(["c"])  # evicts "b"
    e.embed(["a", "b"])
    assert e.encoded == [["a"], ["b"], ["c"], ["b"]]


def test_bulk_calls_bypass_the_cache():
    e = Counting()
    texts = [f"t{i}" for i in range(CACHED_BATCH + 1)]
    e.embed(texts)
    e.embed(texts[:1])
    assert e.encoded == [texts, texts[:1]]


def test_returned_vectors_do_not_alias_the_cache():
    e = Counting()
    v = e.embed(["x"])
    v[0, 0] = 99
    assert e.embed(["x"])[0, 0] == 1


def test_embedder_dtype_is_checked_and_int8_stays_float32():
    with pytest.raises(ValueError, match="dtype"):
        SentenceTransformerEmbedder(PACKAGED_EMBEDDER, dtype="float16")
    assert SentenceTransformerEmbedder(PACKAGED_EMBEDDER, quantize=True, dtype="bfloat16").dtype == "float32"
    assert SentenceTransformerEmbedder(PACKAGED_EMBEDDER, dtype="float32").dtype == "float32"


def test_auto_is_float32_with_bulk_calls_in_bf16_only_where_native(monkeypatch):
    import rag.components.embedding as emb

    monkeypatch.setattr(emb, "has_native_bf16", lambda: True)
    auto = SentenceTransformerEmbedder(PACKAGED_EMBEDDER)
    assert (auto.dtype, auto.bulk_dtype) == ("float32", "bfloat16")
    assert SentenceTransformerEmbedder(PACKAGED_EMBEDDER, dtype="bfloat16").bulk_dtype == "bfloat16"
    assert SentenceTransformerEmbedder(PACKAGED_EMBEDDER, quantize=True).bulk_dtype == "float32"
    monkeypatch.setattr(emb, "has_native_bf16", lambda: False)
    plain = SentenceTransformerEmbedder(PACKAGED_EMBEDDER)
    assert (plain.dtype, plain.bulk_dtype) == ("float32", "float32")


def test_bulk_precision_only_inside_a_large_job():
    e = SentenceTransformerEmbedder(PACKAGED_EMBEDDER)
    e.bulk_dtype = "bfloat16"
    used = []
    e.load = lambda: "fp32-model"
    e._bulk = lambda: "bf16-model"
    e._raw = lambda model, texts, show_progress=False: used.append(model) or np.ones((len(texts), 3))
    e.split_bulk = False
    bulk = [f"t{i}" for i in range(CACHED_BATCH + 1)]
    e.embed(bulk)
    with e.large_job():
        e.embed(bulk)
        e.embed(["a question"])
    e.embed(bulk)
    assert used == ["fp32-model", "bf16-model", "fp32-model", "fp32-model"]


class RawOnly(SentenceTransformerEmbedder):
    """The real _encode (serial and split across threads) over a stand-in model call."""

    def __init__(self, **kw):
        super().__init__(PACKAGED_EMBEDDER, **kw)
        self._model, self._dim = object(), 3

    def _raw(self, model, texts, show_progress=False):
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


@pytest.mark.parametrize("threads", [1, 2])
def test_bulk_calls_hand_freed_heap_pages_back_and_small_calls_do_not(monkeypatch, threads):
    import rag.components.embedding as emb

    trims = []
    monkeypatch.setattr(emb, "trim_heap", lambda: trims.append(1) or True)
    e = RawOnly(threads=threads)
    bulk = [f"text {i}" for i in range(CACHED_BATCH + 1)]
    out = e.embed(bulk)
    assert len(trims) == 1 and out.shape == (len(bulk), 3)
    e.embed(["one question"])
    assert len(trims) == 1  # a question's call: no trim on the answer's path
