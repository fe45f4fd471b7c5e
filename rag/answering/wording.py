"""Answers that read well: no phrase said twice in a row, no question handed back as its
own answer.

A 0.5B model loops on a phrase ("the 80th anniversary of the 80th anniversary of the
Chinese People's War") and restates the question ("The wildly popular South Korean show
was recently green lit for a new season."). The first is cut where it repeats; the second
is no answer, whatever the support head says of it.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\S+")
_CONTENT = re.compile(r"[\w’'-]+")
MIN_PHRASE = 3  # words: "of the" twice is English, "the 80th anniversary" twice is a loop
MAX_GAP = 3  # words allowed between the two (" of ", " and the ")


def _norm(token: str) -> str:
    return re.sub(r"^\W+|\W+$", "", token).casefold()


def without_repeats(text: str) -> str:
    """Drops the first of two copies of a phrase of MIN_PHRASE+ words that follow each
    other within MAX_GAP words: "the 80th anniversary of the 80th anniversary of the War"
    -> "the 80th anniversary of the War"."""
    while True:
        toks = list(_TOKEN.finditer(text))
        words = [_norm(t.group(0)) for t in toks]
        cut = _find_repeat(words)
        if cut is None:
            return text
        i, j = cut
        text = (text[:toks[i].start()] + text[toks[j].start():]).strip()


def _find_repeat(words: list[str]) -> tuple[int, int] | None:
    n = len(words)
    for size in range(n // 2, MIN_PHRASE - 1, -1):
        for i in range(0, n - 2 * size + 1):
            phrase = words[i:i + size]
            if not all(phrase) or sum(len(w) >= 4 or any(c.isdigit() for c in w) for w in phrase) < 2:
                continue  # "of the best of the best": an idiom, not a loop
            for gap in range(0, MAX_GAP + 1):
                j = i + size + gap
                if j + size <= n and words[j:j + size] == phrase:
                    return i, j
    return None


def content_words(text: str) -> set[str]:
    """Words of four letters or more, and figures (no list of stop words needed)."""
    words = (w.casefold().strip("’'-") for w in _CONTENT.findall(text))
    return {w for w in words if len(w) >= 4 or any(ch.isdigit() for ch in w)}


def restates(question: str, claim: str) -> bool:
    """The claim adds no word to the question: it hands the question back."""
    c = content_words(claim)
    return bool(c) and c <= content_words(question)


_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b")


def self_referent(claim: str, source: str) -> bool:
    """The claim names someone twice where its source names them once: "Shehbaz Sharif
    held talks with Pakistan's Prime Minister, Shehbaz Sharif" from a sentence in which
    Sharif meets Putin. A role filled with the same name twice is no reading of it."""
    names = _NAME.findall(claim)
    return any(names.count(n) > 1 and len(re.findall(rf"\b{n}\b", source)) <= 1 for n in set(names))


def within(claim: str, quotes: list[str]) -> bool:
    """The claim says nothing one of the quotes does not (every content word of it is the
    quote's): a draft sentence that repeats the quoted source, not one the sources fail."""
    def words(text: str) -> set[str]:
        return content_words(text.replace("’", "'"))
    c = words(claim)
    return bool(c) and any(c <= words(q) for q in quotes)
