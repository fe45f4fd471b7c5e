"""Reading the short answer out of the span head's start and end logits.

The span head scores every token as the start and as the end of the short answer. The
best span is the most probable start <= end inside the second text (at most
MAX_SPAN_TOKENS long). A head trained with a null option (SQuAD 2.0's way, config
`"span_null": true`) also scores the [CLS] token (index 0) as "no answer here": the
text answers when its best span's logit sum (start + end) beats the null's
(start[0] + end[0]); `has_answer` is the sigmoid of that difference, so 0.5 is the
point where the best span and "no answer" are scored alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_SPAN_TOKENS = 24


@dataclass(frozen=True)
class Span:
    """The short answer the span head reads in a text: character offsets, its text, the
    probability of that start and end among the text's tokens, and (a head with a null
    option only, else None) the probability that the text answers at all."""
    start: int
    end: int
    text: str
    score: float
    has_answer: float | None = None


def best_span(enc, row: int, logits, text: str, null: bool = False) -> Span | None:
    """The best span of row `row` of a tokenised batch `enc` (with offsets), from its
    (tokens x 2) logits, as character offsets into `text`."""
    import torch

    seq = enc.sequence_ids(row)
    keep = torch.tensor([x == 1 for x in seq])
    if not keep.any():
        return None
    st, en = logits[:, 0], logits[:, 1]
    start = torch.softmax(st.masked_fill(~keep, -1e4), -1)
    end = torch.softmax(en.masked_fill(~keep, -1e4), -1)
    n = len(seq)
    joint = torch.triu(start[:, None] * end[None, :]) - torch.triu(torch.ones(n, n), diagonal=MAX_SPAN_TOKENS)
    s, e = divmod(int(joint.argmax()), n)
    offsets = enc["offset_mapping"][row]
    c0, c1 = int(offsets[s][0]), int(offsets[e][1])
    if c1 <= c0:
        return None
    has = None
    if null:
        margin = float(st[s] + en[e] - st[0] - en[0])
        has = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, margin))))
    return Span(c0, c1, text[c0:c1], float(joint[s, e]), has)
