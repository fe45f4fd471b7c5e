"""The answerability gate's calibration curve: refusals against wrong answers.

Reads `rag eval --json` reports of runs made with the gate open (`rag eval --tune verifier_answerable=0`,
so every question the gate would have stopped is answered and scored) and replays the
gate "answer when the best sentence reaches A or the best passage reaches H" over a grid.
The gate only decides whether an answer is shown, never what it says, so the replay is
exact. Cost, as the product counts it: a refused answerable question is as bad as a wrong
answer (to an answerable question, or any answer to an unanswerable one).

    python evals/gate_curve.py dev1.json [dev2.json ...] [--pick]

prints, per (A, H): refused answerable, wrong answers, right answers, cost; with --pick,
the (A, H) of least total cost over the files (ties: the higher thresholds).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SENTENCE = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.01]
PASSAGE = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.01]


def outcomes(items: list[dict], a: float, h: float) -> dict[str, int]:
    out = {"refused": 0, "wrong": 0, "right": 0, "abstained_right": 0}
    for it in items:
        gated = it.get("reason") is None or it.get("reason") in ("not_answered",)
        shown = not it["abstained"] and (not gated or (it.get("answerability") or 0) >= a
                                          or (it.get("passage_answerability") or 0) >= h)
        if it.get("kind") in ("yesno", "summary"):
            shown = not it["abstained"]  # these kinds are not gated
        if it["answerable"]:
            if not shown:
                out["refused"] += 1
            elif it.get("correct"):
                out["right"] += 1
            else:
                out["wrong"] += 1
        else:
            out["wrong" if shown else "abstained_right"] += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", nargs="+")
    ap.add_argument("--pick", action="store_true")
    args = ap.parse_args()
    sets = {Path(p).stem: json.loads(Path(p).read_text())["items"] for p in args.reports}
    best = None
    print("A     H     " + "  ".join(f"{n[:18]:>18}" for n in sets) + "   cost")
    for a in SENTENCE:
        for h in PASSAGE:
            cost, cells = 0, []
            for items in sets.values():
                o = outcomes(items, a, h)
                cost += o["refused"] + o["wrong"]
                cells.append(f"{o['refused']:>3}r {o['wrong']:>3}w {o['right']:>3}ok")
            print(f"{a:<5} {h:<5} " + "  ".join(f"{c:>18}" for c in cells) + f"   {cost}")
            if best is None or cost < best[0] or (cost == best[0] and (a + h) > best[1] + best[2]):
                best = (cost, a, h)
    if args.pick:
        print(f"least cost {best[0]} at A={best[1]} H={best[2]}")


if __name__ == "__main__":
    main()
