"""The int8 embedder on the real packaged model: near-identical vectors, and kept apart from fp32 indexes."""

from __future__ import annotations

import numpy as np
import pytest

from rag.documents import make_article
from rag.components.embedding import SentenceTransformerEmbedder, has_native_bf16
from rag.errors import IndexMismatch
from rag.index.protocols import Chunking
from rag.index.faiss.article_store import build_store
from rag.index.faiss.versions import load_store, save_version

SENTENCES = [
    "Pakistan's Prime Minister Shehbaz Sharif met Russian President Vladimir Putin in Tianjin.",
    "Heavy rain flooded the streets of Lisbon on Tuesday and the council closed 12 schools.",
    "Where was the SCO summit held?",
    "The central bank raised interest rates by half a percentage point to curb inflation.",
    "Sharif accepted an invitation to visit Russia in November for an SCO event.",
    "Tianjin",
]


@pytest.fixture(scope="module")
def pair(real_embedder):
    """fp32 and int8 variants of the same packaged model."""
    name = real_embedder.name.removesuffix("+int8")
    fp32 = SentenceTransformerEmbedder(name, dtype="float32")
    int8 = SentenceTransformerEmbedder(name, quantize=True)
    return fp32, int8


@pytest.mark.skipif(not has_native_bf16(), reason="this CPU has no native bf16: auto means float32")
def test_bf16_vectors_are_near_fp32_and_share_the_index(pair, tmp_path):
    fp32 = pair[0]
    bf16 = SentenceTransformerEmbedder(fp32.name, dtype="bfloat16")
    auto = SentenceTransformerEmbedder(fp32.name)  # "auto" here: float32, bulk calls in bf16
    assert (auto.dtype, auto.bulk_dtype) == ("float32", "bfloat16")
    a, b = fp32.embed(SENTENCES), bf16.embed(SENTENCES)
    assert b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)  # normalised in fp32
    cos = np.sum(a * b, axis=1)
    assert 0.99 < cos.min() and cos.max() < 0.999999, cos  # close, and really computed in bf16
    others = [0, 1, 3, 4, 5]
    assert list(np.argsort(-(a[others] @ a[2]))) == list(np.argsort(-(b[others] @ b[2])))
    # Same name: an index embedded in one precision is opened by the other.
    assert bf16.name == fp32.name
    save_version(build_store([(make_article(SENTENCES[0] + " " + SENTENCES[4], id="a"), "h")], bf16, Chunking()),
                 tmp_path)
    assert len(load_store(tmp_path, fp32.name).chunks) == 1


def test_int8_vectors_are_near_fp32(pair):
    fp32, int8 = pair
    a = fp32.embed(SENTENCES)
    b = int8.embed(SENTENCES)
    assert a.shape == b.shape == (len(SENTENCES), 384) and b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
    cos = np.sum(a * b, axis=1)
    assert cos.min() > 0.99, cos
    # Not the same model by accident: quantization does move the vectors a little.
    assert cos.max() < 0.99999
    # Filler words alone move most (two or three tokens to average): still close.
    fillers = np.sum(fp32.embed(["ok", "yes", "When?"]) * int8.embed(["ok", "yes", "When?"]), axis=1)
    assert fillers.min() > 0.97, fillers
    # The other sentences rank the same against the question with either variant.
    others = [0, 1, 3, 4, 5]
    assert list(np.argsort(-(a[others] @ a[2]))) == list(np.argsort(-(b[others] @ b[2])))


def test_index_built_by_one_variant_is_refused_by_the_other(pair, tmp_path):
    fp32, int8 = pair
    assert fp32.name != int8.name
    store = build_store([(make_article(SENTENCES[0] + " " + SENTENCES[4], id="a"), "h")], int8, Chunking())
    save_version(store, tmp_path)
    assert load_store(tmp_path, int8.name).chunks
    with pytest.raises(IndexMismatch, match="rebuild"):
        load_store(tmp_path, fp32.name)


def test_bulk_calls_split_across_cores_give_the_same_vectors_in_order(real_embedder):
    import torch

    texts = [f"{s} (item {i}{' with a longer tail of words' * (i % 4)})" for i, s in enumerate(SENTENCES * 15)]
    assert len(texts) >= 64 and real_embedder._workers() >= 1
    threads = torch.get_num_threads()
    bulk = real_embedder._encode_parallel(texts, 2)
    assert torch.get_num_threads() == threads  # restored for the generator
    one = np.vstack([real_embedder._encode(texts[i:i + 16]) for i in range(0, len(texts), 16)])
    cos = np.sum(bulk * one, axis=1)
    assert bulk.shape == one.shape and cos.min() > 0.999, cos.min()


def test_default_model_runs_without_sentence_transformers_and_matches_it():
    """The packaged model is encoded on transformers alone (no sentence_transformers
    import at start-up) with the vectors sentence-transformers gives."""
    import subprocess
    import sys

    from sentence_transformers import SentenceTransformer

    from rag.components.runtime.mean_pooling import MeanPoolingEncoder, supports
    from rag.components.runtime.model_files import embedder_path

    path = embedder_path("packaged:all-MiniLM-L6-v2")
    assert supports(path)
    texts = SENTENCES + ["  padded  ", "x " * 400]  # stripped; truncated at max_seq_length
    ours = MeanPoolingEncoder(path).encode(texts, batch_size=3)
    ref = SentenceTransformer(path, device="cpu").encode(texts, batch_size=3, normalize_embeddings=True)
    ours = ours / np.linalg.norm(ours, axis=1, keepdims=True)
    assert ours.shape == ref.shape and np.sum(ours * ref, axis=1).min() > 0.99999
    code = ("import sys; from rag.components.embedding import SentenceTransformerEmbedder as E; "
            "E('packaged:all-MiniLM-L6-v2').embed(['hi']); print('sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False"


@pytest.mark.skipif(not has_native_bf16(), reason="this CPU has no native bf16: auto means float32")
def test_auto_embeds_in_fp32_and_large_jobs_in_bf16(pair):
    fp32 = pair[0]
    auto = SentenceTransformerEmbedder(fp32.name)
    bf16 = SentenceTransformerEmbedder(fp32.name, dtype="bfloat16")
    np.testing.assert_array_equal(auto.embed(SENTENCES), fp32.embed(SENTENCES))  # questions: float32
    bulk = [SENTENCES[i % len(SENTENCES)] + f" (copy {i})" for i in range(140)]  # > CACHED_BATCH: bulk
    b, f = bf16.embed(bulk), fp32.embed(bulk)
    np.testing.assert_array_equal(auto.embed(bulk), f)  # a server's small add: float32
    with auto.large_job():
        a = auto.embed(bulk)
    np.testing.assert_allclose(a, b, atol=1e-6)  # indexing a corpus: bf16, as before
    assert np.sum(a * f, axis=1).min() > 0.99 and not np.allclose(a, f, atol=1e-6)
    assert next(auto.load().model.parameters()).dtype.is_floating_point  # the float32 model stays
    assert str(next(auto.load().model.parameters()).dtype) == "torch.float32"


_BULK = """
import os, sys
import numpy as np
from rag.components.embedding import SentenceTransformerEmbedder
words = " ".join({sentences!r}).split()
texts = [" ".join(words[(i * 7) % len(words):] + words)[: 20 + (i * 37) % 900] for i in range(300)]
e = SentenceTransformerEmbedder("packaged:all-MiniLM-L6-v2")
with e.large_job():  # the bulk path of an ingest: bf16 where native, every length a new shape
    np.save(sys.argv[1], e.embed(texts))
print(os.environ["LRU_CACHE_CAPACITY"])
"""


def test_capping_torchs_onednn_cache_leaves_bulk_vectors_bitwise_identical(tmp_path):
    """The cap (runtime/heap.limit_onednn_cache) only drops cached computations: an
    ingest's vectors are the same bits as with torch's default cache of 1,024 shapes."""
    import os
    import subprocess
    import sys

    code = _BULK.format(sentences=SENTENCES)
    seen = {}
    for name, env in (("capped", {}), ("default", {"LRU_CACHE_CAPACITY": "1024"})):
        environ = {k: v for k, v in os.environ.items() if k != "LRU_CACHE_CAPACITY"} | env
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path / f"{name}.npy")], env=environ,
                             capture_output=True, text=True, check=True).stdout
        seen[name] = out.strip().splitlines()[-1]
    assert seen == {"capped": "8", "default": "1024"}
    capped, default = np.load(tmp_path / "capped.npy"), np.load(tmp_path / "default.npy")
    assert capped.shape == (300, 384) and np.array_equal(capped, default)
