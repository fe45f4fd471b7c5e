"""Model calls run on long-lived model threads, whichever thread asks (model_thread.py)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from rag.components.embedding import SentenceTransformerEmbedder
from rag.components.runtime.model_thread import ENCODERS, ModelThread
from rag.components.verifier import CrossEncoderVerifier
from rag.config import PACKAGED_EMBEDDER


def from_threads(fn, n: int = 6) -> list[int]:
    """Call ``fn`` from ``n`` new threads at once; their idents."""
    callers: list[int] = []
    barrier = threading.Barrier(n)

    def call() -> None:
        callers.append(threading.get_ident())
        barrier.wait()
        fn()

    threads = [threading.Thread(target=call) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return callers


def test_calls_from_many_threads_run_on_one():
    mt = ModelThread("test-model")
    ran: list[int] = []
    callers = from_threads(lambda: mt.run(lambda: ran.append(threading.get_ident())))
    assert len(ran) == 6 and len(set(ran)) == 1 and not set(ran) & set(callers)


def test_results_exceptions_and_nesting():
    mt = ModelThread("test-model")
    assert mt.run(lambda a, b=0: a + b, 2, b=3) == 5
    with pytest.raises(ValueError, match="bad"):
        mt.run(lambda: (_ for _ in ()).throw(ValueError("bad")))
    # A call made on the model thread runs inline instead of waiting for itself.
    assert mt.run(lambda: mt.run(lambda: threading.get_ident())) == mt.run(threading.get_ident)
    assert mt.on_it() is False
    assert mt.submit(lambda: 7).result(timeout=5) == 7


class FakeModel:
    def encode(self, texts, **kw):
        import torch

        ran.append(threading.get_ident())
        return torch.ones((len(texts), 3))


ran: list[int] = []


def test_embedder_small_calls_run_on_the_encoders_thread():
    e = SentenceTransformerEmbedder(PACKAGED_EMBEDDER, cache_size=0)
    e._model, e._dim = FakeModel(), 3
    ran.clear()
    callers = from_threads(lambda: e.embed(["a question", "a sentence"]))
    assert len(ran) == 6 and len(set(ran)) == 1 and not set(ran) & set(callers)
    assert ENCODERS.run(threading.get_ident) in ran


def test_verifier_calls_run_on_the_encoders_thread(monkeypatch):
    v = CrossEncoderVerifier()
    seen: list[int] = []

    def score(a, b, want_spans=False):
        seen.append(threading.get_ident())
        return np.zeros(len(a)), np.zeros((len(a), 3)), [None] * len(a)

    monkeypatch.setattr(v, "_score", score)
    callers = from_threads(lambda: v.answers("q?", ["s1", "s2"]))
    assert len(seen) == 6 and len(set(seen)) == 1 and not set(seen) & set(callers)
    assert seen[0] == ENCODERS.run(threading.get_ident)
