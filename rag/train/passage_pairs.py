"""Passage-level answer pairs (v4): a question against a 2-4 sentence window of its
paragraph, the size of the product's chunks (3 sentences).

A window holding the answer is a positive whose span target is the answer; a window
without it, and any window of an unanswerable question, is a negative whose span target
is the null option ([CLS], token 0: `NULL_SPAN`), SQuAD 2.0's way. Sentence pairs use the
same convention: every answer-task negative teaches the null span.
"""

from __future__ import annotations

import random
from pathlib import Path

from rag.train import verifier_data as vd

NULL_SPAN = "null"  # Pair.span of a negative is None; the trainer maps label-0 pairs to [CLS]


def window(context: str, sents, lo: int, hi: int) -> tuple[str, int]:
    """Sentences lo..hi (inclusive) as one text cut from the context (its own spacing),
    and the context offset it starts at."""
    return context[sents[lo][0]:sents[hi][1]], sents[lo][0]


def window_around(sents, k: int, size: int, rng: random.Random) -> tuple[int, int]:
    """A window of `size` sentences (fewer if the paragraph is short) holding sentence k,
    at a random offset."""
    size = min(size, len(sents))
    lo = rng.randint(max(0, k - size + 1), min(k, len(sents) - size))
    return lo, lo + size - 1


def window_without(sents, k: int, size: int, rng: random.Random) -> tuple[int, int] | None:
    """A window of `size` sentences that leaves sentence k out, if the paragraph has one."""
    choices = [lo for lo in range(0, len(sents) - size + 1) if not lo <= k <= lo + size - 1]
    if not choices:
        return None
    lo = rng.choice(choices)
    return lo, lo + size - 1


def passage_positive(r: dict, sents, k: int, rng: random.Random, size: int | None = None) -> vd.Pair | None:
    lo, hi = window_around(sents, k, size or rng.randint(2, 4), rng)
    text, off = window(r["context"], sents, lo, hi)
    a0 = r["start"] - off
    if text[a0:a0 + len(r["answer"])] != r["answer"]:
        return None
    return vd.Pair("answer", r["question"], text, 1, (a0, a0 + len(r["answer"])))


def passage_negative(r: dict, sents, k: int | None, rng: random.Random) -> vd.Pair | None:
    """A window without the answer sentence (answerable question), or the window closest
    to the question (unanswerable one): label 0, null span."""
    size = rng.randint(2, 4)
    if k is None:
        ranked = sorted(range(len(sents)), key=lambda j: -vd._overlap(r["question"], sents[j][2]))
        lo, hi = window_around(sents, ranked[0], size, rng)
    else:
        w = window_without(sents, k, min(size, max(1, len(sents) - 1)), rng)
        if w is None:
            return None
        lo, hi = w
    text, _ = window(r["context"], sents, lo, hi)
    if r["answer"] and r["answer"] in text:
        return None
    return vd.Pair("answer", r["question"], text, 0)


def one_pair(r: dict, rng: random.Random, shares: dict[str, float]) -> list[vd.Pair]:
    """One pair for an answerable question, of a kind drawn by `shares`: a passage with the
    answer, a passage without it, the answer sentence, the closest other sentence, a short
    claim holding the answer, or that claim with the answer taken out."""
    sents = vd.sentences(r["context"])
    k = vd._answer_sentence(sents, r["start"]) if sents else None
    if k is None or r["answer"] not in sents[k][2]:
        return []
    kind = rng.choices(list(shares), weights=list(shares.values()))[0]
    if kind == "passage_pos":
        p = passage_positive(r, sents, k, rng)
        return [p] if p else []
    if kind == "passage_neg":
        p = passage_negative(r, sents, k, rng)
        return [p] if p else []
    s0, _, sent = sents[k]
    a0 = r["start"] - s0
    span = (a0, a0 + len(r["answer"])) if sent[a0:a0 + len(r["answer"])] == r["answer"] else None
    if kind == "sentence_pos":
        return [vd.Pair("answer", r["question"], sent, 1, span)]
    if kind == "sentence_neg":
        others = sorted((s for j, s in enumerate(sents) if j != k and r["answer"] not in s[2]),
                        key=lambda s: -vd._overlap(r["question"], s[2]))
        return [vd.Pair("answer", r["question"], others[0][2], 0)] if others else []
    if span is None:
        return []
    claim, c0, c1 = vd._window(sent, *span, rng)
    if kind == "claim_pos":
        return [vd.Pair("answer", r["question"], claim, 1, (c0, c1))]
    return [vd.Pair("answer", r["question"], vd.without_answer(claim, c0, c1, rng), 0)]


SQUAD11_SHARES = {"passage_pos": 0.22, "passage_neg": 0.08, "sentence_pos": 0.25,
                  "sentence_neg": 0.2, "claim_pos": 0.15, "claim_neg": 0.1}


def squad11_pairs(rows: list[dict], rng: random.Random, shares: dict[str, float] = SQUAD11_SHARES) -> list[vd.Pair]:
    """Every answerable question once (all of SQuAD 1.1 train fits the time this way)."""
    return [p for r in rows for p in one_pair(r, rng, shares)]


def squad20_passage_pairs(rows: list[dict], rng: random.Random) -> list[vd.Pair]:
    """SQuAD 2.0: each unanswerable question against its closest window and closest
    sentence (null span); each answerable one against a window holding its answer."""
    out = []
    for r in rows:
        sents = vd.sentences(r["context"])
        if not sents:
            continue
        if r["impossible"]:
            p = passage_negative(r, sents, None, rng)
            out += [p] if p else []
            best = max(sents, key=lambda s: vd._overlap(r["question"], s[2]))
            out.append(vd.Pair("answer", r["question"], best[2], 0))
            continue
        k = vd._answer_sentence(sents, r["start"])
        if k is not None:
            p = passage_positive(r, sents, k, rng)
            out += [p] if p else []
    return out


def adversarial_pairs(data_dir: Path, titles_ok, rng: random.Random) -> list[vd.Pair]:
    """Adversarial SQuAD: the appended distractor is a negative (null span) for its question;
    half the time also the answer sentence followed by the distractor, a positive whose span
    is the real answer. Only articles `titles_ok(title)` accepts (the split of SQuAD 2.0)."""
    out = []
    for r in vd._read(data_dir / "squad_adversarial.jsonl.gz"):
        d = r.get("distractor")
        if not d or not titles_ok(r["title"]):
            continue
        out.append(vd.Pair("answer", r["question"], d, 0))
        ans = r["answers"]["text"][0] if r["answers"]["text"] else None
        if ans is None or rng.random() >= 0.5:
            continue
        ctx = r["context"][:len(r["context"]) - len(d)].rstrip()
        sents = vd.sentences(ctx)
        k = vd._answer_sentence(sents, r["answers"]["answer_start"][0]) if sents else None
        if k is None or ans not in sents[k][2]:
            continue
        sent = sents[k][2]
        a0 = sent.index(ans)
        out.append(vd.Pair("answer", r["question"], f"{sent} {d}", 1, (a0, a0 + len(ans))))
    return out


def squadshifts_pairs(rows: list[dict], rng: random.Random) -> list[vd.Pair]:
    return squad11_pairs(rows, rng, {"passage_pos": 0.4, "passage_neg": 0.1, "sentence_pos": 0.25,
                                     "sentence_neg": 0.25})


def selqa_pairs(data_dir: Path, rng: random.Random) -> list[vd.Pair]:
    """SelQA: an answer sentence (no span given: the answer head only) and the closest
    non-answer sentence (null span) per question."""
    out = []
    for r in vd._read(data_dir / "selqa_ass_dev_test.jsonl.gz"):
        sents, pos = r["sentences"], set(r["answer_sentences"])
        if not pos:
            continue
        out.append(vd.Pair("answer", r["question"], sents[rng.choice(sorted(pos))], 1))
        neg = sorted((s for j, s in enumerate(sents) if j not in pos), key=lambda s: -vd._overlap(r["question"], s))
        if neg:
            out.append(vd.Pair("answer", r["question"], neg[0], 0))
    return out
