"""Follow-up questions: "What did he invite him to do?" means nothing to a search index.

With history, the model rewrites the follow-up into a standalone question before
retrieval. The rewrite is checked, not trusted: it must read as one question and
keep the follow-up's own words; otherwise the follow-up is searched together with
the last user turn, which at least carries the names the pronouns refer to.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Sequence

from rag.answering.when import time_scope
from rag.components.generation import Generator, Prompt

# Words that point back to something named before: without one, a question stands alone
# (and a source sentence that opens with one is read with the sentence before it,
# rag/answering/grounding.py).
REFERS = re.compile(r"\b(he|she|it|they|him|her|them|his|hers|its|their|theirs|this|that|these|"
                    r"those|such|there|then|the same|the other|former|latter)\b", re.I)
_TURN_CHARS = 400  # older and longer turns cost prefill time and add little

SYSTEM = "You rewrite follow-up questions so they can be understood on their own."


@dataclass(frozen=True)
class Turn:
    role: str
    content: str


def _stems(text: str) -> set[str]:
    """Words of five letters or more, cut to five ("invite"/"invitation"): enough to tell whether a
    rewrite kept the follow-up's own words, with no list of words to skip."""
    return {w[:5] for w in re.findall(r"[a-z]{5,}", text.lower())}


def needs_rewrite(question: str, history: Sequence[Turn] | None) -> bool:
    """A word that points back, outside the words naming a time ("What happened this
    week?" stands alone: its "this" points at the calendar, not at the last answer)."""
    if not history:
        return False
    said = time_scope(question, dt.date.today()).said
    return bool(REFERS.search(question.replace(said, " ") if said else question))


def rewrite_prompt(question: str, history: Sequence[Turn]) -> Prompt:
    """Names the pronouns to resolve: asked generally ("rewrite it standalone", even with
    a worked example) the 0.5B model hands the question back or echoes the conversation."""
    lines = []
    for t in list(history)[-4:]:
        text = " ".join(re.sub(r"\s*\[\d+(?:,\s*\d+)*\]", "", t.content).split())  # drop [n] markers
        if len(text) > _TURN_CHARS:
            text = text[:_TURN_CHARS].rsplit(" ", 1)[0] + " ..."
        lines.append(f"{'User' if t.role == 'user' else 'Assistant'}: {text}")
    refs = list(dict.fromkeys(m.group().lower() for m in REFERS.finditer(question)))
    asked = " and who is ".join(f'"{r}"' for r in refs) or "each pronoun"
    user = ("\n".join(lines) + f'\n\nIn the question "{question}", who is {asked}? '
            "Rewrite the question with their names instead of the pronouns. "
            "Reply with the question only.")
    return Prompt(system=SYSTEM, user=user)


def fallback_query(question: str, history: Sequence[Turn]) -> str:
    users = [t.content.strip() for t in history if t.role == "user" and t.content.strip()]
    return f"{users[-1]} {question}" if users else question


def accept(rewrite: str, question: str) -> str | None:
    """The model's rewrite if it is a plausible standalone version of the question."""
    text = " ".join(rewrite.strip().split())
    text = re.sub(r"^(standalone question|rewritten( follow-up)? question|question)\s*:\s*", "", text, flags=re.I)
    # The model often adds an answer after the question: keep the first question only.
    text = text.split("?", 1)[0].strip().strip('"“”') + "?" if "?" in text else text
    if not text or len(text) > 3 * len(question) + 200 or text.lower().startswith("in the question"):
        return None
    if not text.endswith("?") or text.casefold() == question.strip().casefold():
        return None  # not a question, or handed back unchanged
    # It must still ask what the user asked: most of the follow-up's words survive.
    own = _stems(question)
    if own and len(own & _stems(text)) < max(1, len(own) // 2):
        return None
    return text


def standalone_query(generator: Generator, question: str, history: Sequence[Turn] | None,
                     max_new_tokens: int = 48) -> str:
    if not history:
        return question
    if not needs_rewrite(question, history):
        return question
    raw = generator.generate(rewrite_prompt(question, history), max_new_tokens).text
    return accept(raw, question) or fallback_query(question, history)
