"""What kind of answer a question asks for, so that each kind is answered on purpose.

- summary ("Give me the gist", "Tell me about X", "What happened at X?", "Summarize ..."):
  the lede of the best-matching article, quoted (rag/answering/lede.py);
- yesno ("Did ...?", "Is ...?", "Has ...?"): yes or no, decided by the support head
  reading the question against the evidence (rag/answering/yesno.py);
- open: everything else (who / what / which / where / when / how many, lists of items, why
  and how): the generator over the sentences the verifier ranks first, every sentence of
  its answer checked, the short answer read by the span head.

A small rule set decides, 20 entries in all (the issue's budget): the six words of a
summary request, the eleven auxiliaries a yes/no question opens with, "or" (which makes
"Is it X or Y?" a choice, not a yes/no question), and the two words by which a summary
request names the text itself rather than a topic ("the article", "this piece").
"""

from __future__ import annotations

import re
from enum import Enum


class QuestionType(str, Enum):
    SUMMARY = "summary"
    YESNO = "yesno"
    OPEN = "open"


SUMMARY = re.compile(r"\b(?:summar\w*|gist|overview|tell me about|what happened|story)\b", re.I)
_YESNO = re.compile(r"^(?:is|are|was|were|do|does|did|has|have|can|will)(?:n't)?\b", re.I)
_CHOICE = re.compile(r"\bor\b", re.I)
_LEAD = re.compile(r"^\s*(?:\w+,\s*)?")  # "So, ...", "OK, ..."
_THE_TEXT = re.compile(r"\b(?:article|piece)s?\b", re.I)  # "the gist of the article": no topic


def classify(question: str) -> QuestionType:
    """The kind of answer `question` asks for (see the module docstring)."""
    q = _LEAD.sub("", question.strip())
    if SUMMARY.search(q):
        return QuestionType.SUMMARY
    if _YESNO.match(q) and not _CHOICE.search(q):
        return QuestionType.YESNO
    return QuestionType.OPEN


def auxiliary(word: str) -> bool:
    """One of the auxiliaries a yes/no question opens with ("did", "was", "isn't"): in an
    open question, where its clause begins ("Who | did Sharif meet?")."""
    return bool(_YESNO.fullmatch(word.strip()))


def topicless(question: str) -> bool:
    """A summary request that names no topic ("Give me the gist", "What's the story
    here?", "Summarize the article"): no word of five letters or more besides the request
    and the words naming the text itself."""
    rest = _THE_TEXT.sub(" ", SUMMARY.sub(" ", _LEAD.sub("", question.strip())))
    return not re.search(r"[^\W\d_]{5,}", rest)
