"""Yes/no decisions (rag/answering/yesno.py) on public sets, with the shipped verifier.

BoolQ dev (naturally occurring yes/no questions, a Wikipedia passage each): how many are
answered, how many of those right, and the time per decision. SufficientFacts: a claim,
asked as "Is it true that <claim>?", against its evidence with and without the detail
that settles it: how often each is answered (the cut one should not be). Each set is
split by a hash of its ids into a dev part (for choosing) and a held-out part (to report).
The passage's sentences are ranked by the verifier's answer head, as the product ranks
retrieved sentences; the title is the article's.

  PYTHONPATH=. python evals/yesno_sets.py --part dev --limit 160
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import time
from pathlib import Path

from rag.answering import yesno
from rag.answering.grounding import Ranked, SourceSentence
from rag.chunking import split_sentences
from rag.components.verifier import CrossEncoderVerifier

DATA = Path("../shared/data/training")


def part_of(item_id: str) -> str:
    return "dev" if int(hashlib.sha256(item_id.encode()).hexdigest(), 16) % 2 == 0 else "held"


def as_question(text: str) -> str:
    q = text.strip().rstrip("?.")
    return q[:1].upper() + q[1:] + "?"


def decide(verifier, question: str, passage: str, title: str) -> yesno.Verdict | None:
    spans = split_sentences(passage)
    sents = [SourceSentence(0, s.start, s.end, passage[s.start:s.end], passage=passage) for s in spans]
    scores = verifier.answers(question, [s.text for s in sents])
    ranked = sorted((Ranked(s, float(p), float(p)) for s, p in zip(sents, scores)), key=lambda r: -r.rank)
    return yesno.decide(question, ranked, verifier, lambda r: title)


def boolq(verifier, part: str, limit: int) -> None:
    rows = [json.loads(line) for line in gzip.open(DATA / "boolq_dev.jsonl.gz", "rt")]
    rows = [r for r in rows if part_of(r["id"]) == part][:limit]
    answered = right = 0
    times = []
    for r in rows:
        t0 = time.perf_counter()
        v = decide(verifier, as_question(r["question"]), r["passage"], r["title"])
        times.append(time.perf_counter() - t0)
        if v is not None and v.answer is not None:
            answered += 1
            right += (v.answer == "Yes") == r["answer"]
    n = len(rows)
    times.sort()
    print(f"BoolQ {part}: {n} questions ({sum(r['answer'] for r in rows) / n:.3f} yes); answered "
          f"{answered / n:.3f}, right of answered {right / max(answered, 1):.3f}, right of all "
          f"{right / n:.3f}; per decision (rank + decide) median {times[n // 2] * 1000:.0f} ms")


def sufficient_facts(verifier, part: str, limit: int) -> None:
    rows = [json.loads(line) for line in gzip.open(DATA / "sufficient_facts.jsonl.gz", "rt")]
    rows = [r for r in rows if r["label"] == "NOT ENOUGH INFO" and r["label_original"] != "NOT ENOUGH INFO"
            and part_of(r["id"]) == part][:limit]
    said = {"full": 0, "cut": 0}
    right = 0
    for r in rows:
        q = "Is it true that " + r["claim"].strip().rstrip(".")[:1].lower() + r["claim"].strip().rstrip(".")[1:] + "?"
        title = (r.get("titles") or [""])[0]
        for key, evidence in (("full", r["evidence_original"]), ("cut", r["evidence"])):
            v = decide(verifier, q, evidence, title)
            if v is not None and v.answer is not None:
                said[key] += 1
                if key == "full":
                    right += (v.answer == "Yes") == (r["label_original"] == "SUPPORTS")
    n = len(rows)
    print(f"SufficientFacts {part}: {n} pairs; answered with the full evidence {said['full'] / n:.3f} "
          f"(right {right / max(said['full'], 1):.3f} of those), with the detail cut {said['cut'] / n:.3f}; "
          f"balanced accuracy of answered-vs-neither {(said['full'] + n - said['cut']) / (2 * n):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=("dev", "held"), default="dev")
    ap.add_argument("--limit", type=int, default=160)
    ap.add_argument("--verifier", type=Path, default=None, help="verifier directory (default: models/verifier)")
    args = ap.parse_args()
    verifier = CrossEncoderVerifier(args.verifier, threads=1)
    boolq(verifier, args.part, args.limit)
    sufficient_facts(verifier, args.part, args.limit)


if __name__ == "__main__":
    main()
