"""Resident memory of the loaded generator: what int8 quantization leaves behind.

Measured on qwen2.5-coder-0.5b (2 cores, glibc): loading in fp32 and quantizing
leaves the process at 3.6 GB resident although the model needs ~1.5 GB. The fp32
weights that quantization replaced are freed, but glibc keeps the freed pages;
``malloc_trim`` hands them back (3.0 -> 1.56 GB). The input embeddings (136M
parameters, not a Linear layer, so not quantized) stay fp32: 545 MB. The cached
checkpoint is fp16 (model_files.py), so keeping them in fp16 and widening the looked-up
rows loses nothing: 272 MB less, outputs bit-identical.

After the first load the quantized model is cached (generator_cache.py), which keeps
these fp16 embeddings in a read-only file mapping: only rows of tokens seen get paged in.

Imported only by the generator's loader (torch is loaded by then).
"""

from __future__ import annotations

from typing import Any

import torch

from rag.components.runtime.heap import release_freed_memory  # noqa: F401 - re-exported: the loader calls it from here


def half_input_embeddings(model: Any) -> bool:
    """Store the input embeddings in fp16 when that is exact; returns whether it did."""
    old = model.get_input_embeddings()
    if not isinstance(old, torch.nn.Embedding) or old.weight.dtype != torch.float32:
        return False
    half = old.weight.detach().to(torch.float16)
    if not torch.equal(half.to(torch.float32), old.weight):  # not fp16 values: would change outputs
        return False
    if model.get_output_embeddings() is not None and model.get_output_embeddings().weight is old.weight:
        return False  # tied to the output layer, which needs fp32
    model.set_input_embeddings(HalfEmbedding(half, old.padding_idx))
    return True


class HalfEmbedding(torch.nn.Module):
    """nn.Embedding over fp16 weights that returns fp32 rows, as the original did."""

    def __init__(self, weight: Any, padding_idx: int | None = None):
        super().__init__()
        self.weight = torch.nn.Parameter(weight, requires_grad=False)
        self.padding_idx = padding_idx
        self.num_embeddings, self.embedding_dim = weight.shape

    def forward(self, ids: Any) -> Any:
        return torch.nn.functional.embedding(ids, self.weight, self.padding_idx).to(torch.float32)
