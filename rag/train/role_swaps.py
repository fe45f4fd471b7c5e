"""Negatives that keep every word of the evidence and change who did what (v4).

From a sentence naming two people, places or organisations:
- a role swap: the two names traded ("X defeated Y" -> "Y defeated X"): not entailed
  (neutral: a symmetric verb would keep it true, so it is not called contradicted); the
  names joined only by "and", "or", "with", "met" or a comma are skipped, since trading
  those keeps the meaning;
- self-reference: the second name replaced by the first ("Sharif talked with Sharif"):
  neutral, and not an answer either;
- a speaker swap: "X said" -> "observers said" (and back): neutral;
- the original sentence is kept beside them as entailed, so that names alone do not
  mean "not entailed".
And for the answer head: a question restated as a statement without its answer ("Which
organisation held the summit?" -> "The organisation held the summit.") is a negative.
"""

from __future__ import annotations

import random
import re

from rag.train import verifier_data as vd
from rag.train.verifier_data import ENTAILED, NEUTRAL, Pair

# Capitalised runs (a sentence's capitalised first word only when it is not a function word).
_NAME = re.compile(r"(?:(?<=[\s(\"'])|^)(?:[A-Z][\w'.-]*[a-z][\w'.-]*)(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w'.-]*[a-z][\w'.-]*)*")
_JOINED = re.compile(r"^\s*(?:,|and|or|with|met|&|/|-|–)?\s*(?:and|or|with)?\s*$|,")
_SPEAKER = re.compile(r"\b([A-Z][\w'.-]+(?:\s+[A-Z][\w'.-]+)*)\s+(said|says|told|stated|added|argued|claimed)\b")
_GROUPS = ["observers", "analysts", "officials", "critics", "experts", "many people"]
_SAID_BY_GROUP = re.compile(r"\b(observers|analysts|officials|critics|experts)\s+(said|say|noted|argued)\b", re.I)


_NOT_NAMES = {"The", "A", "An", "In", "On", "At", "It", "This", "That", "These", "He", "She", "They", "By",
              "For", "After", "Before", "During", "However", "When", "As", "Its", "His", "Her", "Their",
              "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}


class _Name:
    def __init__(self, start: int, end: int, text: str):
        self.s, self.e, self.t = start, end, text

    def start(self, *_):
        return self.s

    def end(self, *_):
        return self.e

    def group(self, *_):
        return self.t


def names(text: str) -> list[_Name]:
    """Capitalised runs, less a leading function word ("The Broncos" -> "Broncos") and a
    trailing full stop."""
    out = []
    for m in _NAME.finditer(text):
        s, t = m.start(), m.group(0).rstrip(".")
        words = t.split()
        while words and words[0] in _NOT_NAMES:
            cut = t.index(words[0]) + len(words[0])
            s, t, words = s + cut + (len(t[cut:]) - len(t[cut:].lstrip())), t[cut:].lstrip(), words[1:]
        if len(t) > 2 and words:
            out.append(_Name(s, s + len(t), t))
    return out


def role_swap(text: str) -> str | None:
    """The first two distinct names traded, unless only a conjunction or comma joins them."""
    ms = names(text)
    for i in range(len(ms) - 1):
        a, b = ms[i], ms[i + 1]
        between = text[a.end():b.start()]
        if a.group(0) == b.group(0) or a.group(0) in b.group(0) or b.group(0) in a.group(0):
            continue
        if _JOINED.search(between) or len(between.split()) < 1 or re.search(r"\b(and|or|with|met|between|both)\b", between):
            continue
        return text[:a.start()] + b.group(0) + between + a.group(0) + text[b.end():]
    return None


def self_reference(text: str) -> str | None:
    """The second distinct name replaced by the first ("Sharif talked with Sharif")."""
    ms = names(text)
    for a, b in zip(ms, ms[1:]):
        if a.group(0) != b.group(0) and a.group(0) not in b.group(0) and b.group(0) not in a.group(0):
            return text[:b.start()] + a.group(0) + text[b.end():]
    return None


def speaker_swap(text: str, rng: random.Random, other_names: list[str]) -> str | None:
    """"X said" -> "observers said"; "observers said" -> "X said"."""
    m = _SPEAKER.search(text)
    if m and m.group(1).split()[0] not in _NOT_NAMES:
        group = rng.choice(_GROUPS)
        return text[:m.start(1)] + (group.capitalize() if m.start(1) == 0 else group) + text[m.end(1):]
    m = _SAID_BY_GROUP.search(text)
    if m and other_names:
        return text[:m.start(1)] + rng.choice(other_names) + text[m.end(1):]
    return None


_WH = re.compile(r"^(?:what|which|who|whom|whose|where|when|how many|how much|how long|how old|in what|in which)\s+(.*)$", re.I)


def restated(question: str) -> str | None:
    """The question as a statement without its answer: "Which organisation held the
    summit?" -> "The organisation held the summit."."""
    m = _WH.match(question.strip().rstrip("?").strip())
    if not m or len(m.group(1).split()) < 3:
        return None
    rest = m.group(1)
    rest = re.sub(r"^(?:is|was|are|were|did|does|do)\s+", "", rest, flags=re.I)
    if rest[0].islower() and not re.match(r"(?:the|a|an|this|that|his|her|its|their)\b", rest):
        rest = "the " + rest
    return rest[0].upper() + rest[1:] + "."


def role_pairs(rows: list[dict], rng: random.Random, share: float = 1.0) -> list[Pair]:
    """Support pairs from the answer sentences of SQuAD rows (and answer-head negatives:
    the self-referential claim and the restated question, for the row's question)."""
    out = []
    for r in rows:
        if r["impossible"] or rng.random() >= share:
            continue
        sents = vd.sentences(r["context"])
        k = vd._answer_sentence(sents, r["start"]) if sents else None
        if k is None:
            continue
        sent = sents[k][2]
        made = False
        swapped = role_swap(sent)
        if swapped and swapped != sent:
            out.append(Pair("support", swapped, sent, NEUTRAL))
            made = True
        selfref = self_reference(sent)
        if selfref and selfref != sent and rng.random() < 0.5:
            out.append(Pair("support", selfref, sent, NEUTRAL))
            if r["answer"] not in selfref:
                out.append(Pair("answer", r["question"], selfref, 0))
            made = True
        spk = speaker_swap(sent, rng, [m.group(0) for m in names(r["context"])])
        if spk and spk != sent:
            out.append(Pair("support", spk, sent, NEUTRAL))
            made = True
        if made:
            out.append(Pair("support", sent, sent if rng.random() < 0.3 else r["context"][:600], ENTAILED))
        st = restated(r["question"])
        if st and rng.random() < 0.3:
            out.append(Pair("answer", r["question"], st, 0))
    return out
