"""Embedders turn texts into L2-normalised float32 vectors."""

from __future__ import annotations

import copy
import hashlib
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from collections import OrderedDict
from contextlib import contextmanager, nullcontext
from typing import ContextManager, Iterator, Protocol, Sequence

import numpy as np

from rag.errors import ModelUnavailable
from rag.components.runtime import mean_pooling
from rag.components.runtime.model_files import embedder_path
from rag.components.runtime.model_thread import ENCODERS
from rag.components.runtime.heap import limit_onednn_cache, trim_heap
from rag.components.runtime.quantization import quantize_encoder


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def large_job(self) -> ContextManager[None]:
        """Held around a bulk ingest (thousands of chunks): the embedder may then trade
        precision for speed (SentenceTransformerEmbedder's bulk_dtype), or do nothing."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class FakeEmbedder:
    """Hashed bag of words: deterministic, instant, and similar texts get similar
    vectors, which is all the unit tests of retrieval need."""

    def __init__(self, dim: int = 64, name: str = "fake-embedder"):
        self.dim = dim
        self.name = name
        self.calls = 0

    def large_job(self) -> ContextManager[None]:
        return nullcontext()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[i, h % self.dim] += 1.0
        out[~out.any(axis=1), 0] = 1.0  # an empty text still gets a unit vector
        return _normalise(out)


INT8_SUFFIX = "+int8"
CACHED_BATCH = 128  # calls with more texts than this are bulk indexing: not cached
PARALLEL_MIN = 64  # from this many texts a call is split across the cores (_encode_parallel)


class SentenceTransformerEmbedder:
    """Loads lazily; batches by length so little time is spent on padding (small batches:
    on 2 cores 16 texts a batch embedded 1.3-1.5x the chunks/s of 64, bench_embed.py), and caches
    the vectors of small calls: questions (users repeat them) and the sentences of
    retrieved passages, which grounding embeds for every answer and which recur
    across questions about the same articles (~0.1-0.3 s saved per answer).

    ``quantize``: int8 dynamic quantization (runtime/quantization.py), ~1.7x the chunks/s of
    fp32 on CPU. Vectors move slightly (cosine to fp32 >= 0.99), so the name gets
    ``+int8``: the index manifest records it and an index built by the other variant
    is refused.
    """

    def __init__(self, name: str, batch_size: int = 16, threads: int = 0, cache_size: int = 4096,
                 quantize: bool = False, dtype: str = "auto", split_bulk: bool = True):
        base = name.removesuffix(INT8_SUFFIX)
        self.quantize = quantize or name != base
        self.model_name = base
        self.name = base + INT8_SUFFIX if self.quantize else base
        if dtype not in ("auto", "float32", "bfloat16"):
            raise ValueError(f"embedder dtype must be auto, float32 or bfloat16, not {dtype!r}")
        # int8 layers take float32 input; bf16 only where the CPU computes it natively
        # (AMX / AVX512-BF16): elsewhere bf16 would be emulated, slower than fp32.
        # "auto": float32, except bulk calls (over CACHED_BATCH texts) made inside
        # ``large_job()`` (an ingest of thousands of chunks: Index._add), which run in
        # bf16 where native, on a copy of the weights made then (+45 MB): 3x the
        # chunks/s. In bf16 every new input shape left oneDNN buffers behind in a
        # server; with both small models in float32, bench/bench_memory.py (636
        # articles) gave 1,428 MB after 200 questions instead of 1,561 and 1,536 MB
        # after 500 adds of 20 articles instead of 1,824; the seed set's answers were
        # the same bar one wording, no slower.
        native = not self.quantize and has_native_bf16()
        self.dtype = "float32" if self.quantize or dtype == "auto" else dtype
        self.bulk_dtype = "bfloat16" if native and dtype == "auto" else self.dtype
        self._large_jobs = 0
        self._bulk_model = None
        self.batch_size = batch_size
        self.threads = threads
        self.split_bulk = split_bulk  # bulk calls: one single-threaded model call per core
        self._model = None
        self._lock = threading.Lock()
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._dim: int | None = None
        self._bulk_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                # oneDNN's primitive cache capped as the server does (runtime/heap.py), for every
                # process that embeds (`rag ingest`, `rag rebuild`). Not the server's
                # malloc settings: with them, indexing 200 RealTimeQA articles peaked at
                # 1,103 MB instead of 1,260 but took 1.14x as long (bench_index.py).
                limit_onednn_cache()
                import torch


                if self.threads:
                    torch.set_num_threads(self.threads)
                try:
                    path = embedder_path(self.model_name)
                    if mean_pooling.supports(path):  # the default model: no sentence_transformers import
                        model = mean_pooling.MeanPoolingEncoder(path)
                    else:
                        from sentence_transformers import SentenceTransformer

                        model = SentenceTransformer(path, device="cpu")
                except Exception as exc:  # noqa: BLE001 - any load failure means "not usable offline"
                    raise ModelUnavailable(
                        f"cannot load embedder {self.model_name!r} offline: {exc}".splitlines()[0]
                    ) from exc
                if self.quantize:

                    if isinstance(model, mean_pooling.MeanPoolingEncoder):
                        model.model = quantize_encoder(model.model)
                    else:
                        model = quantize_encoder(model)
                elif self.dtype == "bfloat16":
                    model = model.to(torch.bfloat16)
                get_dim = getattr(model, "get_embedding_dimension", None) or \
                    model.get_sentence_embedding_dimension
                self._dim = int(get_dim())
                self._model = model
        return self._model

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.load()
        return self._dim  # type: ignore[return-value]

    def embed(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) > CACHED_BATCH:  # bulk indexing: each text is seen once, caching would only evict
            return self._encode(texts, show_progress)
        with self._cache_lock:
            found = [self._cache.get(t) for t in texts]
            for t, v in zip(texts, found):
                if v is not None:
                    self._cache.move_to_end(t)
        missing = list(dict.fromkeys(t for t, v in zip(texts, found) if v is None))
        fresh = dict(zip(missing, self._encode(missing))) if missing else {}
        if fresh and self._cache_size:
            with self._cache_lock:
                self._cache.update(fresh)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return np.stack([v if v is not None else fresh[t] for t, v in zip(texts, found)]).astype(np.float32)

    def _encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        model = self.load()
        if len(texts) > CACHED_BATCH and self._large_jobs:
            model = self._bulk()
        workers = self._workers()
        if len(texts) < PARALLEL_MIN or workers < 2:
            # Normalised again in float32: a bf16 model's own normalisation leaves norms of 1 +- 0.4%.
            # On the encoders' thread, not the caller's (runtime/model_thread.py: memory per thread).
            out = _normalise(ENCODERS.run(self._raw, model, texts, show_progress))
        else:
            out = self._encode_parallel(texts, workers, model)
        if len(texts) > CACHED_BATCH:
            # A bulk call's activations (every chunk length) leave freed pages in the
            # threads' heaps: handed back at once, a few ms a call. After 4,350 RealTimeQA
            # chunks of an ingest: 621 MB instead of 785, no slower (evals/README.md, #21).
            trim_heap()
        return out

    @contextmanager
    def large_job(self) -> Iterator[None]:
        """Bulk calls made meanwhile (from any thread) use ``bulk_dtype``."""
        with self._lock:
            self._large_jobs += 1
        try:
            yield
        finally:
            with self._lock:
                self._large_jobs -= 1

    def _bulk(self):
        """The model bulk calls use: the loaded one, or its bf16 copy (``bulk_dtype``)."""
        model = self.load()
        if self.bulk_dtype == self.dtype:
            return model
        with self._lock:
            if self._bulk_model is None:
                import torch

                if isinstance(model, mean_pooling.MeanPoolingEncoder):  # holds the torch module: no deepcopy
                    twin = copy.copy(model)
                    twin.model = copy.deepcopy(model.model).to(torch.bfloat16)
                else:
                    twin = copy.deepcopy(model).to(torch.bfloat16)
                self._bulk_model = twin
            return self._bulk_model

    def _raw(self, model, texts: list[str], show_progress: bool = False) -> np.ndarray:
        """The model's vectors as float32, not normalised."""
        import torch

        with torch.inference_mode():
            return model.encode(texts, batch_size=self.batch_size, convert_to_tensor=True,
                                normalize_embeddings=False, show_progress_bar=show_progress).float().numpy()

    def _workers(self) -> int:
        return (self.threads or os.cpu_count() or 1) if self.split_bulk else 1

    def _encode_parallel(self, texts: list[str], workers: int, model=None) -> np.ndarray:
        """Bulk embedding: one model call per core, each single-threaded, instead of one
        call whose every operation is split across the cores. The cores then wait for each
        other only at the end, not at every layer, and one thread's tokenising and Python
        overhead overlaps the other's matrix products (1.27x the chunks/s of 2 threads in one
        call on 2 cores, bench_embed.py). Texts are dealt out by length, so every part pads alike."""
        import torch

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        parts = [order[w::workers] for w in range(workers)]

        def run(part: list[int]) -> np.ndarray:
            return self._raw(model or self._model, [texts[i] for i in part])

        with self._bulk_lock:  # the thread count is process-wide: one bulk call at a time
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(workers, thread_name_prefix="rag-embed")
                results = list(self._pool.map(run, parts))
            finally:
                torch.set_num_threads(before)
        out = np.empty((len(texts), results[0].shape[1]), dtype=np.float32)
        for part, vecs in zip(parts, results):
            out[part] = vecs
        return _normalise(out)


def has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (Intel AMX or AVX512-BF16)."""
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def load_embedder(name: str, threads: int = 0, quantize: bool = False, dtype: str = "auto") -> Embedder:
    """``quantize`` (or a name ending in ``+int8``): the int8 variant. ``dtype`` "auto":
    float32, with bulk calls in bfloat16 on CPUs with native bf16 (vectors within cosine
    0.996 of float32, so an index built in either precision serves the other)."""
    return SentenceTransformerEmbedder(name, threads=threads, quantize=quantize, dtype=dtype)
