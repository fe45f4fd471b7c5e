"""Support-head pairs (claim, evidence) -> entailed / neutral / contradicted from the NLI,
fact-verification and yes/no sets of ../shared/data/training/ (v4).

- BoolQ: the question itself is the claim ("is the sun a star?"): yes -> entailed,
  no -> contradicted by its passage; against another question's passage -> neutral.
- FEVER-symmetric: SUPPORTS -> entailed, REFUTES -> contradicted.
- SufficientFacts: the cut evidence with its label (NOT ENOUGH INFO -> neutral: the
  topic is there, the detail is not), the uncut evidence with its original label.
- MultiNLI (TaxiNLI subset), negation NLI, Breaking NLI, counterfactual SNLI, ConjNLI,
  MED: their three (MED: two; its "neutral" includes contradiction) labels.
"""

from __future__ import annotations

import random
from pathlib import Path

from rag.train import verifier_data as vd
from rag.train.verifier_data import CONTRADICTED, ENTAILED, NEUTRAL, NLI_LABELS, Pair

FEVER_LABELS = {"SUPPORTS": ENTAILED, "REFUTES": CONTRADICTED, "NOT ENOUGH INFO": NEUTRAL}
BOOLQ = "boolq_dev.jsonl.gz"

# file -> how many pairs at most (a seeded sample; None: all)
NLI_SETS = {"mnli_taxinli_subset.jsonl.gz": 5000, "negation_nli.jsonl.gz": None,
            "breaking_nli.jsonl.gz": 2500, "cad_snli.jsonl.gz": 5000, "conjnli.jsonl.gz": 4000,
            "med_monotonicity_crowd.jsonl.gz": 2000}


def boolq_claim(question: str) -> str:
    q = question.strip().rstrip("?")
    return q[:1].upper() + q[1:] + "?"


def boolq_rows(data_dir: Path, holdout: bool, share: float = 0.2) -> list[dict]:
    return [r for r in vd._read(data_dir / BOOLQ) if vd.held_out(r["title"], share) == holdout]


def boolq_pairs(rows: list[dict], rng: random.Random, unrelated: float = 0.3) -> list[Pair]:
    out = []
    for r in rows:
        claim = boolq_claim(r["question"])
        out.append(Pair("support", claim, r["passage"], ENTAILED if r["answer"] else CONTRADICTED))
        if len(rows) > 1 and rng.random() < unrelated:
            other = rng.choice(rows)
            if other["title"] != r["title"]:
                out.append(Pair("support", claim, other["passage"], NEUTRAL))
    return out


def fever_pairs(data_dir: Path) -> list[Pair]:
    return [Pair("support", r["claim"], r["evidence"], FEVER_LABELS[r["label"]])
            for r in vd._read(data_dir / "fever_symmetric.jsonl.gz") if r["label"] in FEVER_LABELS]


def sufficient_facts_pairs(data_dir: Path, rng: random.Random, uncut: float = 0.5) -> list[Pair]:
    out = []
    for r in vd._read(data_dir / "sufficient_facts.jsonl.gz"):
        out.append(Pair("support", r["claim"], r["evidence"], FEVER_LABELS[r["label"]]))
        if r["label"] == "NOT ENOUGH INFO" or rng.random() < uncut:
            out.append(Pair("support", r["claim"], r["evidence_original"], FEVER_LABELS[r["label_original"]]))
    return out


def nli_pairs(data_dir: Path, rng: random.Random, sets: dict[str, int | None] = NLI_SETS) -> list[Pair]:
    out = []
    for name, cap in sets.items():
        rows = [r for r in vd._read(data_dir / name) if r["label"] in NLI_LABELS
                and r.get("split") not in ("dev", "test")]  # cad_snli: its train split only
        if name.startswith("breaking"):  # mostly contradictions: keep every other label
            rare = [r for r in rows if r["label"] != "contradiction"]
            rest = [r for r in rows if r["label"] == "contradiction"]
            rows = rare + rng.sample(rest, min(len(rest), max(0, (cap or len(rest)) - len(rare))))
        elif cap and len(rows) > cap:
            rows = rng.sample(rows, cap)
        out += [Pair("support", r["hypothesis"], r["premise"], NLI_LABELS[r["label"]]) for r in rows]
    return out
