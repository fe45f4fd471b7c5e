"""Embedding chunks in batches, with progress: the same for every index backend."""

from __future__ import annotations

import numpy as np

from rag.components.embedding import Embedder
from rag.errors import IndexMismatch
from rag.index.protocols import Progress

EMBED_BATCH = 256  # chunks per embedder call: small enough for steady progress reports


def embed_chunks(embedder: Embedder, texts: list[str], dim: int,
                 progress: Progress | None = None) -> np.ndarray:
    out = [np.zeros((0, dim), dtype=np.float32)]
    if progress and texts:
        progress(0, len(texts))  # the total is known before the first (slow) batch
    for i in range(0, len(texts), EMBED_BATCH):
        vecs = np.asarray(embedder.embed(texts[i:i + EMBED_BATCH]), dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape[1] != dim:
            raise IndexMismatch(f"embedder gives {vecs.shape[-1]} dims, index has {dim}: run `rag rebuild`")
        out.append(vecs)
        if progress:
            progress(min(i + EMBED_BATCH, len(texts)), len(texts))
    return np.vstack(out)
