"""Held-out figures of a verifier (`rag train verifier` prints them; `rag train
verifier-eval --model DIR` gives them for any saved verifier, e.g. v3 beside v4).

v3's figures (sentence level): answer-sentence precision@1, answerability AUC (best
sentence's score, answerable vs SQuAD 2.0 unanswerable), span exact/F1 in the answer
sentence, support accuracy per set. v4's added ones (passage level, 3-sentence windows):
no-answer AUC of the span head's has_answer (answerable vs unanswerable; a v3 head has no
null option, so its figure is left out), the answer head's AUC on the same windows, span
exact/F1 in the window; BoolQ entailed-vs-contradicted accuracy; role-swap accuracy
(entailed or not).
"""

from __future__ import annotations

import re

import numpy as np

from rag.train import verifier_data as vd


def _norm(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, articles or extra spaces."""
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(w for w in text.split() if w not in ("a", "an", "the"))


def _f1(got: str, gold: str) -> float:
    g, t = _norm(got).split(), _norm(gold).split()
    common = sum(min(g.count(w), t.count(w)) for w in set(g))
    if not g or not t or not common:
        return float(not g and not t)
    p, r = common / len(g), common / len(t)
    return 2 * p * r / (p + r)


def auc(pos: list[float], neg: list[float]) -> float:
    if not pos or not neg:
        return float("nan")
    scores = np.array(pos + neg)
    ranks = scores.argsort().argsort() + 1
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def _r(x: float) -> float:
    return round(float(x), 4)


def sentence_figures(verifier, questions: list[dict]) -> dict:
    top1, best_pos, best_neg, exact, f1, found = [], [], [], [], [], []
    for r in questions:
        sents = vd.sentences(r["context"])
        if not sents:
            continue
        p, spans = verifier.read(r["question"], [s[2] for s in sents])
        if r["impossible"]:
            best_neg.append(float(p.max()))
            continue
        k = vd._answer_sentence(sents, r["start"])
        if k is None:
            continue
        best_pos.append(float(p.max()))
        top1.append(int(p.argmax()) == k)
        got = spans[k].text if spans[k] else ""
        exact.append(_norm(got) == _norm(r["answer"]))
        f1.append(_f1(got, r["answer"]))
        top = spans[int(p.argmax())]
        found.append(bool(top) and _norm(r["answer"]) in _norm(top.text))
    return {"answer_sentence_p_at_1": _r(np.mean(top1)), "questions": len(top1),
            "answerability_auc": _r(auc(best_pos, best_neg)), "unanswerable_questions": len(best_neg),
            "span_exact_in_answer_sentence": _r(np.mean(exact)),
            "span_f1_in_answer_sentence": _r(np.mean(f1)),
            "span_of_best_sentence_holds_answer": _r(np.mean(found))}


def passage_figures(verifier, passages: list[dict]) -> dict:
    has_pos, has_neg, ans_pos, ans_neg, exact, f1 = [], [], [], [], [], []
    for w in passages:
        p, spans = verifier.read(w["question"], [w["text"]])
        sp = spans[0]
        has = sp.has_answer if sp is not None and sp.has_answer is not None else None
        if w["answer"] is None:
            ans_neg.append(float(p[0]))
            if has is not None or sp is None:
                has_neg.append(has if has is not None else 0.0)
            continue
        ans_pos.append(float(p[0]))
        if has is not None or sp is None:
            has_pos.append(has if has is not None else 0.0)
        got = sp.text if sp else ""
        exact.append(_norm(got) == _norm(w["answer"]))
        f1.append(_f1(got, w["answer"]))
    out = {"passage_answerable": len(ans_pos), "passage_unanswerable": len(ans_neg),
           "passage_answer_head_auc": _r(auc(ans_pos, ans_neg)),
           "passage_span_exact": _r(np.mean(exact)), "passage_span_f1": _r(np.mean(f1))}
    if verifier.span_null:
        out["passage_no_answer_auc"] = _r(auc(has_pos, has_neg))
        out["passage_has_answer_accuracy_at_0.5"] = _r(
            (sum(h >= 0.5 for h in has_pos) + sum(h < 0.5 for h in has_neg)) / max(1, len(has_pos) + len(has_neg)))
    return out


def support_figures(verifier, support: dict[str, list[vd.Pair]]) -> dict:
    out = {}
    for name, pairs in support.items():
        if not pairs:
            continue
        probs = verifier.support([(p.a, p.b) for p in pairs])
        pred = probs.argmax(1)
        gold = np.array([p.label for p in pairs])
        out[f"support_{name}_accuracy"] = _r((pred == gold).mean())
        ent = probs[:, vd.ENTAILED]
        out[f"support_{name}_entailed_auc"] = _r(auc(list(ent[gold == 0]), list(ent[gold != 0])))
        out[f"support_{name}_pairs"] = len(pairs)
        if name == "boolq":  # yes or no: entailed against contradicted only
            yes = probs[:, vd.ENTAILED] > probs[:, vd.CONTRADICTED]
            out["support_boolq_yes_no_accuracy"] = _r((yes == (gold == vd.ENTAILED)).mean())
        if name == "roles":  # entailed or not
            out["support_roles_entailed_or_not_accuracy"] = _r(((pred == vd.ENTAILED) == (gold == vd.ENTAILED)).mean())
    return out


def evaluate(verifier, splits) -> dict:
    out = sentence_figures(verifier, splits.heldout_questions)
    out.update(passage_figures(verifier, splits.heldout_passages))
    out.update(support_figures(verifier, splits.heldout_support))
    return out
