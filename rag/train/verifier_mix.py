"""The v4 training mix and held-out splits (`rag train verifier`, continuing from v3).

Every SQuAD 1.1 train question once (passage, sentence or claim pair: passage_pairs.py),
SQuAD 2.0 (less the evaluation paragraphs) at the passage level with null spans,
Adversarial SQuAD's distractors, SQuAD-Shifts, SelQA, v3's SQuAD-derived claims for a
share, role swaps, BoolQ, FEVER-symmetric, SufficientFacts, six NLI sets and an SNLI
replay. Held out by hash, as v3: 5% of SQuAD 1.1 titles, 20% of SQuAD 2.0 titles (and the
same titles of Adversarial SQuAD, which shares its articles), 10% of SQuAD-Shifts titles,
20% of BoolQ titles, 20% of SNLI premises. The v3 held-out sets are rebuilt exactly, so
v3's figures and v4's compare.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from rag.train import passage_pairs as pp
from rag.train import role_swaps as rs
from rag.train import support_sets as ss
from rag.train import verifier_data as vd

SQUADSHIFTS = "squadshifts_new_wiki.jsonl.gz"
SIZES = {"squad_claims_questions": 1000, "role_questions": 3000, "snli_replay": 3000}
NLI_CAPS = {"mnli_taxinli_subset.jsonl.gz": 3000, "negation_nli.jsonl.gz": None,
            "breaking_nli.jsonl.gz": 1500, "cad_snli.jsonl.gz": 3000, "conjnli.jsonl.gz": 2500,
            "med_monotonicity_crowd.jsonl.gz": 1500}


@dataclass
class Splits:
    train: list[vd.Pair]
    heldout_questions: list[dict]  # v3's: whole paragraphs, sentence by sentence
    heldout_support: dict[str, list[vd.Pair]]
    heldout_passages: list[dict] = field(default_factory=list)  # question, text, answer span or None
    counts: dict[str, int] = field(default_factory=dict)


def thinned(splits: Splits, stride: int) -> Splits:
    """Every `stride`-th held-out item of each set (a quicker evaluation, the same for
    every model it compares); the training pairs as they are."""
    if stride <= 1:
        return splits
    return Splits(splits.train, splits.heldout_questions[::stride],
                  {k: v[::stride] for k, v in splits.heldout_support.items()},
                  splits.heldout_passages[::stride], splits.counts)


def passage_heldout(rows: list[dict], rng: random.Random) -> list[dict]:
    """A 3-sentence window per held-out question: around the answer sentence, or (an
    unanswerable question) around the sentence closest to it."""
    out = []
    for r in rows:
        sents = vd.sentences(r["context"])
        if not sents:
            continue
        if r["impossible"]:
            k = max(range(len(sents)), key=lambda j: vd._overlap(r["question"], sents[j][2]))
        else:
            k = vd._answer_sentence(sents, r["start"])
            if k is None:
                continue
        lo, hi = pp.window_around(sents, k, 3, rng)
        text, off = pp.window(r["context"], sents, lo, hi)
        answer = None if r["impossible"] else r["answer"]
        if answer and text[r["start"] - off:r["start"] - off + len(answer)] != answer:
            continue
        out.append({"question": r["question"], "text": text, "answer": answer})
    return out


def build(data_dir: Path, seed: int = 13, heldout_share: float = 0.2) -> Splits:
    data_dir = Path(data_dir)
    rng = random.Random(seed)
    s11 = vd.squad_questions(data_dir, vd.SQUAD11)
    s20 = vd.squad_questions(data_dir, vd.SQUAD20)
    train11 = [r for r in s11 if not vd.held_out(r["title"], 0.05)]
    test11 = [r for r in s11 if vd.held_out(r["title"], 0.05)]
    train20 = [r for r in s20 if not vd.held_out(r["title"], heldout_share)]
    test20 = [r for r in s20 if vd.held_out(r["title"], heldout_share)]
    shifts = vd.squad_questions(data_dir, SQUADSHIFTS)
    rng.shuffle(train11)
    parts = {
        "squad11": pp.squad11_pairs(train11, rng),
        "squad20": pp.squad20_passage_pairs(train20, rng),
        "squad_claims": vd.support_pairs_squad(train11[:SIZES["squad_claims_questions"]], rng),
        "roles": rs.role_pairs(train11[-SIZES["role_questions"]:], rng),
        "adversarial": pp.adversarial_pairs(data_dir, lambda t: not vd.held_out(t, heldout_share), rng),
        "squadshifts": pp.squadshifts_pairs([r for r in shifts if not vd.held_out(r["title"], 0.1)], rng),
        "selqa": pp.selqa_pairs(data_dir, rng),
        "boolq": ss.boolq_pairs(ss.boolq_rows(data_dir, holdout=False), rng),
        "fever": ss.fever_pairs(data_dir),
        "sufficient_facts": ss.sufficient_facts_pairs(data_dir, rng),
        "nli": ss.nli_pairs(data_dir, rng, NLI_CAPS),
    }
    snli = vd.snli_pairs(data_dir, holdout=False, share=heldout_share)
    parts["snli"] = rng.sample(snli, min(len(snli), SIZES["snli_replay"]))
    train = [p for ps in parts.values() for p in ps]
    rng.shuffle(train)
    # v3's held-out sets, rebuilt the way v3 built them (same seeds, same order).
    rng2 = random.Random(seed + 1)
    rng2.shuffle(test11)
    claims = vd.support_pairs_squad(test11[1500:4500], rng2)
    rng3 = random.Random(seed + 2)
    roles = [p for p in rs.role_pairs(test11[1500:4500], rng3) if p.task == "support"]
    boolq = [p for p in ss.boolq_pairs(ss.boolq_rows(data_dir, holdout=True), rng3, unrelated=0.0)]
    return Splits(
        train=train,
        heldout_questions=test20 + test11[:1500],
        heldout_support={"snli": vd.snli_pairs(data_dir, holdout=True, share=heldout_share),
                         "squad_claims": [p for p in claims if p.task == "support"],
                         "boolq": boolq, "roles": roles},
        heldout_passages=passage_heldout(test20 + test11[:1500], rng3),
        counts={k: len(v) for k, v in parts.items()},
    )
