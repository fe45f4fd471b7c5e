"""Cutting an encoder's inputs into batches so that padding costs least.

A batch is computed at its longest input's length: the rank call's short sentences in
one batch with its passages (3-4 times longer) would each be computed at a passage's
length. The inputs are taken in order of length and cut where the cost, rows x tokens as
the batch is padded (rows to a power of two and tokens to a multiple, with fixed shapes),
plus a fixed cost per batch (one more forward pass), is least in all (dynamic
programming over the cut points: at most a few hundred inputs).
"""

from __future__ import annotations

from typing import Sequence

# A forward pass's own cost, in padded token-rows: cutting a batch must save more.
PASS_COST = 256


def _up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def padded_cost(rows: int, tokens: int, pad_rows: bool, pad_tokens: int) -> int:
    """Token-rows a batch is computed on, as padded."""
    r = 1 << (rows - 1).bit_length() if pad_rows else rows
    return r * _up(tokens, pad_tokens or 1)


def length_batches(lengths: Sequence[int], batch_size: int, pad_rows: bool = False,
                   pad_tokens: int = 0, pass_cost: int = PASS_COST) -> list[list[int]]:
    """The indices of ``lengths`` (tokens per input), shortest first, cut into batches of at
    most ``batch_size`` at the least total padded cost."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    n = len(order)
    best = [0] + [None] * n  # best[j]: least cost of the first j inputs
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        longest = lengths[order[j - 1]]
        for i in range(max(0, j - batch_size), j):
            c = best[i] + padded_cost(j - i, longest, pad_rows, pad_tokens) + pass_cost
            if best[j] is None or c < best[j]:
                best[j], cut[j] = c, i
    out, j = [], n
    while j > 0:
        out.append(order[cut[j]:j])
        j = cut[j]
    return out[::-1]
