"""Training pairs for the verifier, built from the public sets in ../shared/data/training/.

Several tasks share one cross-encoder (its heads: see rag/components/verifier.py):

- "answer" (question, sentence) -> 1 if the sentence answers the question. From SQuAD:
  the sentence holding the answer span is positive, the paragraph's other sentences are
  hard negatives, a sentence of another paragraph of the same article is a harder-to-
  tell-apart topical negative; every sentence of a SQuAD 2.0 unanswerable question's
  paragraph is a negative (those questions were written to look answerable).
- "support" (claim, evidence) -> entailed / neutral / contradicted. From SNLI, and from
  SQuAD: a stretch of the answer sentence around the answer is entailed by the sentence,
  neutral against another sentence of the paragraph, and contradicted once its answer is
  swapped for another answer of the same paragraph or its figure is changed.

Held out by article title (SQuAD) and by premise (SNLI), never by pair: no held-out
question or premise shares a paragraph with training. Everything is seeded.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from rag.chunking import split_sentences

ENTAILED, NEUTRAL, CONTRADICTED = 0, 1, 2
NLI_LABELS = {"entailment": ENTAILED, "neutral": NEUTRAL, "contradiction": CONTRADICTED}

SQUAD11 = "squad11_train.jsonl.gz"
SQUAD20 = "squad20_dev_minus_eval.jsonl.gz"
SNLI = "snli_dev_test.jsonl.gz"


@dataclass(frozen=True)
class Pair:
    task: str  # "answer" | "support"
    a: str  # question or claim
    b: str  # sentence or evidence
    label: int  # answer: 0/1; support: ENTAILED / NEUTRAL / CONTRADICTED
    span: tuple[int, int] | None = None  # answer: where in `b` the short answer is


def _read(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def held_out(key: str, share: float) -> bool:
    """A stable split by hashing a key (an article title, a premise)."""
    h = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < share


def detok(text: str) -> str:
    """SNLI is tokenised ("packages ."): join punctuation back."""
    text = re.sub(r"\s+([.,;:!?)'])", r"\1", text)
    text = re.sub(r"([(])\s+", r"\1", text)
    return re.sub(r"\s+(n't|'s|'re|'ll|'ve|'d|'m)\b", r"\1", text).strip()


def sentences(context: str) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, context[s.start:s.end]) for s in split_sentences(context)]


def _answer_sentence(sents, start: int) -> int | None:
    for k, (a, b, _) in enumerate(sents):
        if a <= start < b:
            return k
    return None


_WORD = re.compile(r"\w+")


def _overlap(q: str, s: str) -> int:
    qw = {w for w in _WORD.findall(q.lower()) if len(w) > 3}
    return len(qw & {w for w in _WORD.findall(s.lower())})


def squad_questions(data_dir: Path, name: str) -> list[dict]:
    rows = []
    for r in _read(data_dir / name):
        ans = r.get("answers") or {}
        texts, starts = ans.get("text") or [], ans.get("answer_start") or []
        rows.append({"title": r["title"], "context": r["context"], "question": r["question"],
                     "impossible": bool(r.get("is_impossible")) or not texts,
                     "answer": texts[0] if texts else None, "start": starts[0] if starts else None})
    return rows


_NAME = re.compile(r"(?<=\s)[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)*")
_Q_AUX = re.compile(r"^(\w+(?:\s+\w+)?\s+(?:is|was|were|are|did|does|do|has|have|had|can|could|will|would))\b(?! not)")


def perturb_question(question: str, sentence: str, names_elsewhere: list[str],
                     rng: random.Random) -> str | None:
    """The question changed so its answer sentence no longer answers it, the way SQuAD
    2.0's writers made unanswerable questions: a figure changed, a name the sentence
    holds swapped for another name of the article, or a negation."""
    nums = [m for m in _NUM.finditer(question) if m.group(0) in sentence]
    if nums:
        return _change_number(question, rng)
    names = [m for m in _NAME.finditer(question) if m.group(0) in sentence]
    others = [n for n in names_elsewhere if n not in sentence and n not in question]
    if names and others:
        m = rng.choice(names)
        return question[:m.start()] + rng.choice(others) + question[m.end():]
    m = _Q_AUX.search(question)
    if m:
        return question[:m.end()] + " not" + question[m.end():]
    return None


_FILLERS = ["", "it", "this", "someone", "something", "one of them", "that", "there"]


def without_answer(text: str, a0: int, a1: int, rng: random.Random) -> str:
    """The text with its answer taken out ("... held talks with someone"): it says the
    question's words back and no longer answers it, as a small model's answer often does."""
    return re.sub(r"\s+", " ", text[:a0] + rng.choice(_FILLERS) + text[a1:]).strip()


def with_preamble(told: str, question: str) -> str:
    """A sentence of the article said before the question, as a news quiz asks."""
    words = told.split()
    if len(words) > 30:
        told = " ".join(words[:30]).rstrip(",;:") + "."
    return f"{told.strip()} {question}"


def answer_pairs(rows: list[dict], rng: random.Random, negatives: int = 2,
                 other_paragraph: bool = True, perturbed: float = 0.0,
                 removed: float = 0.0, preamble: float = 0.0) -> list[Pair]:
    """(question, sentence) pairs: the answer sentence (with its answer span) and hard
    negatives: other sentences, the answer sentence with its answer taken out, and, for a
    question asked after a preamble, the sentence that states the preamble."""
    by_title: dict[str, list[str]] = {}
    for r in rows:
        by_title.setdefault(r["title"], [])
        if not by_title[r["title"]] or by_title[r["title"]][-1] != r["context"]:
            by_title[r["title"]].append(r["context"])
    out = []
    for r in rows:
        sents = sentences(r["context"])
        if not sents:
            continue
        q = r["question"]
        if r["impossible"]:
            # Every sentence is a negative; the closest-looking ones teach the most.
            # (the scarcest and most telling negatives: up to five per question)
            ranked = sorted(sents, key=lambda s: -_overlap(q, s[2]))
            picks = ranked[:negatives + 1] + rng.sample(ranked[negatives + 1:], min(2, len(ranked[negatives + 1:])))
            out += [Pair("answer", q, s[2], 0) for s in picks]
            if len(ranked) > 1 and rng.random() < preamble:  # a preamble does not make it answerable
                told = ranked[-1][2]
                out += [Pair("answer", with_preamble(told, q), s[2], 0) for s in ranked[:2] if s[2] != told]
            continue
        k = _answer_sentence(sents, r["start"])
        if k is None or r["answer"] not in sents[k][2]:
            continue
        s0, _, sent = sents[k]
        a0 = r["start"] - s0
        span = (a0, a0 + len(r["answer"])) if sent[a0:a0 + len(r["answer"])] == r["answer"] else None
        out.append(Pair("answer", q, sent, 1, span))
        if span and rng.random() < removed:
            out.append(Pair("answer", q, without_answer(sent, *span, rng), 0))
        others_with = [s for j, s in enumerate(sents) if j != k and r["answer"] not in s[2]]
        if others_with and rng.random() < preamble:
            # A news quiz asks with a preamble ("X died this week at 94. Which team did he
            # call games for?"): the sentence that states the preamble does not answer.
            told = rng.choice(others_with)[2]
            pq = with_preamble(told, q)
            out.append(Pair("answer", pq, sent, 1, span))
            out.append(Pair("answer", pq, told, 0))
        if perturbed and rng.random() < perturbed:
            names = [m.group(0) for c in by_title.get(r["title"], []) if c != r["context"]
                     for m in _NAME.finditer(c)]
            changed = perturb_question(q, sent, names[:200], rng)
            if changed and changed != q:
                out.append(Pair("answer", changed, sent, 0))
        others = [s for j, s in enumerate(sents) if j != k]
        others.sort(key=lambda s: -_overlap(q, s[2]))
        # The closest-looking other sentence, then a random one.
        picks = others[:1] + rng.sample(others[1:], min(max(0, negatives - 1), len(others[1:])))
        out += [Pair("answer", q, s[2], 0) for s in picks]
        paras = [c for c in by_title.get(r["title"], []) if c != r["context"]]
        if other_paragraph and paras and rng.random() < 0.5:
            far = sentences(rng.choice(paras))
            if far:
                out.append(Pair("answer", q, rng.choice(far)[2], 0))
    return out


_NUM = re.compile(r"\d+(?:[.,]\d+)*")


def _change_number(text: str, rng: random.Random) -> str | None:
    nums = list(_NUM.finditer(text))
    if not nums:
        return None
    m = rng.choice(nums)
    digits = m.group(0)
    value = int(re.sub(r"\D", "", digits) or "0")
    new = str(value + rng.choice([1, 2, 3, 5, 10, 100]) * rng.choice([-1, 1]))
    if new == digits or new.startswith("-"):
        new = str(value + 7)
    return text[:m.start()] + new + text[m.end():]


def _window(sentence: str, a0: int, a1: int, rng: random.Random) -> tuple[str, int, int]:
    """A stretch of the sentence around [a0, a1): a few words each side, like a short answer."""
    left = [m.start() for m in re.finditer(r"\S+", sentence[:a0])]
    right = [m.end() for m in re.finditer(r"\S+", sentence[a1:])]
    lo = left[-min(len(left), rng.randint(3, 10))] if left else a0
    hi = a1 + right[min(len(right), rng.randint(2, 8)) - 1] if right else a1
    return sentence[lo:hi].strip(" ,;:"), a0 - lo, a1 - lo


_AUX = re.compile(r"\b(is|was|were|are|has|have|had|will|would|can|could|should|did|does|do|may|might|must)\b(?! not)")
_PAST = re.compile(r"(?<=\s)[a-z]{3,}ed\b")


def _negate(claim: str) -> str | None:
    """The claim negated: "not" after its first auxiliary, else "never" before its first
    past-tense verb ("Sharif never accepted ...")."""
    m = _AUX.search(claim)
    if m:
        return claim[:m.end()] + " not" + claim[m.end():]
    m = _PAST.search(claim)
    if m:
        return claim[:m.start()] + "never " + claim[m.start():]
    return None


def support_pairs_squad(rows: list[dict], rng: random.Random) -> list[Pair]:
    """Claims cut from answer sentences: entailed by their sentence, neutral against a
    neighbour, contradicted with another answer, a changed figure or a negation. The
    claim is also a positive for its question on the answer head (a short answer that
    answers), and a stretch of another sentence a negative (the answer head also judges
    whether a model's answer sentence answers)."""
    answers_by_context: dict[str, list[str]] = {}
    for r in rows:
        if not r["impossible"]:
            answers_by_context.setdefault(r["context"], []).append(r["answer"])
    out = []
    for r in rows:
        if r["impossible"]:
            continue
        sents = sentences(r["context"])
        k = _answer_sentence(sents, r["start"])
        if k is None:
            continue
        s0, _, sent = sents[k]
        a0 = r["start"] - s0
        a1 = a0 + len(r["answer"])
        if sent[a0:a1] != r["answer"]:
            continue
        claim, c0, c1 = _window(sent, a0, a1, rng)
        if len(claim.split()) < 4:
            continue
        claim = claim[0].upper() + claim[1:] + "."
        out.append(Pair("support", claim, sent, ENTAILED))
        out.append(Pair("answer", r["question"], claim, 1, (c0, c1)))
        if rng.random() < 0.5:  # the claim without its answer does not answer
            out.append(Pair("answer", r["question"], without_answer(claim, c0, c1, rng), 0))
        others = [s[2] for j, s in enumerate(sents) if j != k and r["answer"] not in s[2]]
        if others:
            other = rng.choice(others)
            out.append(Pair("support", claim, other, NEUTRAL))
            words = other.split()
            lo = rng.randint(0, max(0, len(words) - 6))
            out.append(Pair("answer", r["question"], " ".join(words[lo:lo + rng.randint(6, 14)]), 0))
        negated = _negate(claim) if rng.random() < 0.5 else None
        if negated:
            out.append(Pair("support", negated, sent, CONTRADICTED))
        alts = [a for a in answers_by_context.get(r["context"], [])
                if a.lower() not in sent.lower() and r["answer"].lower() not in a.lower()]
        if _NUM.search(r["answer"]) and rng.random() < 0.5:
            changed = _change_number(claim, rng)
            if changed and changed != claim:
                out.append(Pair("support", changed, sent, CONTRADICTED))
        elif alts:
            swapped = claim[:c0] + rng.choice(alts) + claim[c1:]
            out.append(Pair("support", swapped, sent, CONTRADICTED))
    return out


def snli_pairs(data_dir: Path, holdout: bool, share: float) -> list[Pair]:
    out = []
    for r in _read(data_dir / SNLI):
        if r["label"] not in NLI_LABELS:
            continue
        premise = detok(r["premise"])
        if held_out(premise, share) != holdout:
            continue
        out.append(Pair("support", detok(r["hypothesis"]), premise, NLI_LABELS[r["label"]]))
    return out


@dataclass
class Splits:
    train: list[Pair]
    # Held-out: whole questions with every sentence of their paragraph, to measure
    # answer-sentence selection and answerability; and support pairs.
    heldout_questions: list[dict]
    heldout_support: dict[str, list[Pair]]


def build(data_dir: Path, seed: int = 13, squad11_questions: int = 13000,
          heldout_share: float = 0.2) -> Splits:
    rng = random.Random(seed)
    s11 = squad_questions(data_dir, SQUAD11)
    s20 = squad_questions(data_dir, SQUAD20)
    train11 = [r for r in s11 if not held_out(r["title"], 0.05)]
    test11 = [r for r in s11 if held_out(r["title"], 0.05)]
    train20 = [r for r in s20 if not held_out(r["title"], heldout_share)]
    test20 = [r for r in s20 if held_out(r["title"], heldout_share)]
    rng.shuffle(train11)
    qa11 = train11[:squad11_questions]
    sup11 = train11[squad11_questions:squad11_questions + 9000]
    train = (answer_pairs(qa11, rng, perturbed=0.6, removed=0.3, preamble=0.3)
             + answer_pairs(train20, rng, negatives=2, removed=0.3, preamble=0.2)
             + support_pairs_squad(sup11 + [r for r in train20 if not r["impossible"]], rng)
             + snli_pairs(data_dir, holdout=False, share=heldout_share))
    rng.shuffle(train)
    rng2 = random.Random(seed + 1)
    rng2.shuffle(test11)
    return Splits(
        train=train,
        heldout_questions=test20 + test11[:1500],
        heldout_support={"snli": snli_pairs(data_dir, holdout=True, share=heldout_share),
                         "squad_claims": [p for p in support_pairs_squad(test11[1500:4500], rng2)
                                         if p.task == "support"]},
    )
