"""What the verifier computes in, and the input shapes it computes on.

Measured with bench/bench_verifier.py (the pipeline's verifier calls on the seed and
reader-set dev questions replayed per candidate, interleaved; 150 distinct questions
per candidate in fresh processes set up as the server): see AUTO_DTYPE.
"""

from __future__ import annotations

from rag.components.embedding import has_native_bf16

DTYPES = ("auto", "float32", "bfloat16", "int8")
# What "auto" computes in: bfloat16 where the CPU has it natively (else float32), its
# inputs padded to a few fixed shapes (PAD_SHAPES). bench/bench_verifier.py (26 seed and
# reader-set dev questions' calls replayed, candidates interleaved; RSS over distinct
# questions in fresh processes set up as the server), against float32:
#   candidate      rank call  question  max|d| answer  top sentence  RSS growth
#   float32        1.00x      1.00x     0              0/26          +46 MB at 50, flat after 25
#   bfloat16       1.54x      1.50x     0.014          2/26          +83, +149, +199 at 25/50/75: grows
#   int8           1.52x      1.45x     0.119          8/26          +44 at 50, flat
#   float32+pad    0.81x      0.78x     0              0/26          (not measured)
#   bfloat16+pad   1.52x      1.32x     0.015          2/26          +24, +25, +25 at 25/50/75: flat
# int8 moves scores too much (11/1042 answer gates flip); unpadded bf16 leaves oneDNN
# buffers behind for every new input shape.
AUTO_DTYPE = "bfloat16"
# bf16 inputs padded to fixed shapes: tokens to a multiple of PAD_TOKENS, rows to a
# power of two (at most 5 x 6 shapes at max_length 160, batch 32). float32 is not padded:
# its matmuls do not go through oneDNN's per-shape primitives, so padding only costs.
PAD_SHAPES = True
PAD_TOKENS = 32


def resolve(dtype: str) -> str:
    """float32, bfloat16 or int8: "auto" is AUTO_DTYPE, with bfloat16 only where the CPU
    multiplies it natively (elsewhere emulated: slower than float32)."""
    if dtype not in DTYPES:
        raise ValueError(f"verifier dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    if dtype != "auto":
        return dtype
    return "float32" if AUTO_DTYPE == "bfloat16" and not has_native_bf16() else AUTO_DTYPE


def padded_rows(t):
    """``t`` with its last row repeated up to a power of two rows (the extra rows' results
    are not read)."""
    import torch

    n = 1 << (len(t) - 1).bit_length()
    return t if n == len(t) else torch.cat([t, t[-1:].expand(n - len(t), *t.shape[1:])])
