"""What kind of answer a question asks for, so that each kind is answered on purpose.

- factoid (who / what / which / where / when / how many ...): a short answer, read as a
  span in the passages, and the sentence it comes from;
- yesno ("Did ...?", "Is ...?"): yes or no, decided by the support head reading the
  question's statement against the evidence;
- summary ("Give me the gist", "Tell me about X", "What happened at X?"): the opening of
  the best-matching article;
- list ("Which regions ...?", "What areas ...?"): items, from one sentence or several;
- explain (why / how / describe): the generator over the evidence, every sentence checked.

Decided by the six patterns below, in order (the issue allows a small, tested rule set;
the word lists in it count against the project's budget of hand-typed entries).
"""

from __future__ import annotations

import re
from enum import Enum


class QuestionType(str, Enum):
    FACTOID = "factoid"
    YESNO = "yesno"
    SUMMARY = "summary"
    LIST = "list"
    EXPLAIN = "explain"


# A leading "So," / "And" / "OK," carries no meaning for the type.
_LEAD = re.compile(r"^\s*(?:\w+,\s*|and\s+)?")
# 1. A request for the whole story, in any wording.
_SUMMARY = re.compile(
    r"\b(summar\w*|overview|recap|gist|main points|key points|tl;?dr|in a nutshell|in brief)\b|"
    r"^(?:tell me (?:about|more)|what(?:'s| is| was) (?:the|this) (?:story|article|news|piece)\b|"
    r"what(?:'s| is| was) (?:going on|happening|the latest)|what happened\b|"
    r"(?:can you )?(?:brief|update) me|what do (?:we|the articles) know about|"
    r"what(?:'s| is| was) (?:this|it|the article) about)", re.I)
# 2. Yes or no: an auxiliary first, and no "or" offering alternatives.
_YESNO = re.compile(r"^(?:did|does|do|is|was|were|are|has|have|had|can|could|will|would|should|"
                    r"shall|may|might|must|isn't|wasn't|didn't|doesn't|don't|aren't|hasn't|haven't)\b", re.I)
_ALTERNATIVES = re.compile(r"\bor\b(?! not\b)", re.I)
# 3. Why and how (but not how many / much / long / old / far / often ..., which ask for a figure).
_EXPLAIN = re.compile(r"^(?:why\b|how(?! (?:many|much|long|old|far|often|big|large|tall|"
                      r"soon|fast|high|deep|early|late)\b)\b|explain\b|describe\b|in what way)", re.I)
# 4. A plural after which / what / name / list ("Which regions ...", "What areas ..."), or an
#    explicit request for a list.
_LIST = re.compile(r"^(?:(?:which|what)(?: \w+)? (?!\w+'s\b)(?!(?:is|was|has|does|this|its|"
                   r"his|as|us|plus)\b)\w{3,}s\b(?! (?:is|was|has|does)\b)|(?:list|name)\b|"
                   r"what (?:are|were) (?:the|some)\b)", re.I)


_ABOUT_THE_TEXT = re.compile(r"\b(?:this|the|that|these)\s+(?:article|story|news|piece|text)s?\b|\bhere\b", re.I)


def topicless(question: str) -> bool:
    """A summary request that names no topic ("Give me the gist", "What's the story
    here?"): no word of five letters or more besides the request itself."""
    rest = _ABOUT_THE_TEXT.sub(" ", _SUMMARY.sub(" ", _LEAD.sub("", question.strip())))
    return not re.search(r"[^\W\d_]{5,}", rest)


def classify(question: str) -> QuestionType:
    """The kind of answer `question` asks for (see the module docstring)."""
    q = _LEAD.sub("", question.strip())
    if _SUMMARY.search(q):
        return QuestionType.SUMMARY
    if _YESNO.match(q) and not _ALTERNATIVES.search(q):
        return QuestionType.YESNO
    if _EXPLAIN.match(q):
        return QuestionType.EXPLAIN
    if _LIST.match(q):
        return QuestionType.LIST
    return QuestionType.FACTOID
