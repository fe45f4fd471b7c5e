"""The answerability gate's calibration curve: refusals against wrong answers.

Reads `rag eval --json` reports of runs made with the gate open (`rag eval --tune verifier_answerable=0`,
so every question the gate would have stopped is answered and scored) and replays the
gate "answer when the best sentence reaches A or the best passage reaches H" over a grid.
The replay is NOT exact (evals/README.md, round 10): the same threshold also decides
whether a generated claim answers the question and which sentences a list quotes, so use
the curve to rank thresholds and report figures from gated runs. Cost, as the product counts it: a refused answerable question is as bad as a wrong
answer (to an answerable question, or any answer to an unanswerable one).

    python evals/gate_curve.py dev1.json [dev2.json ...] [--pick]
    python evals/gate_curve.py dev1.json [dev2.json ...] --macro [--smooth 0.05]

prints, per (A, H): refused answerable, wrong answers, right answers, cost; with --pick,
the (A, H) of least total cost over the files (ties: the higher thresholds).

--macro (sentence threshold only, passages not consulted) weighs each file the same: its
cost per question, averaged over the files, so that one big set (200 SQuAD questions)
does not outvote the small news sets; on a finer grid, with --smooth W each threshold's
cost averaged over the thresholds within ±W, so that a dip next to a cliff (a threshold
that a small shift of the scores would push over) is not picked. It prints the curve and
the threshold of least smoothed cost (ties: the higher).
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


def macro(sets: dict[str, list[dict]], a: float) -> float:
    """The cost per question at sentence threshold `a`, averaged over the sets."""
    rates = []
    for items in sets.values():
        o = outcomes(items, a, 1.01)
        rates.append((o["refused"] + o["wrong"]) / max(len(items), 1))
    return sum(rates) / len(rates)


def macro_curve(sets: dict[str, list[dict]], smooth: float, step: float = 0.025) -> list[tuple[float, float, float]]:
    """(threshold, macro cost, smoothed macro cost) from 0.5 to 0.95."""
    grid = [round(0.5 + i * step, 3) for i in range(int(round(0.45 / step)) + 1)]
    k = int(round(smooth / step))
    out = []
    for a in grid:
        near = [round(a + j * step, 3) for j in range(-k, k + 1)]
        out.append((a, macro(sets, a), sum(macro(sets, x) for x in near) / len(near)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", nargs="+")
    ap.add_argument("--pick", action="store_true")
    ap.add_argument("--macro", action="store_true", help="each file weighs the same (sentence threshold only)")
    ap.add_argument("--smooth", type=float, default=0.0, help="with --macro: average over thresholds within ±W")
    args = ap.parse_args()
    sets = {Path(p).stem: json.loads(Path(p).read_text())["items"] for p in args.reports}
    if args.macro:
        curve = macro_curve(sets, args.smooth)
        print("A      macro cost   smoothed")
        for a, c, s in curve:
            print(f"{a:<6} {c:.4f}       {s:.4f}")
        best = min(curve, key=lambda t: (round(t[2], 6), -t[0]))
        print(f"least smoothed cost {best[2]:.4f} at A={best[0]}")
        return
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
