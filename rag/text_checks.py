"""What any text from outside (a question, a history turn, an article field) must be:
valid Unicode, and not blank. Shared by the request schemas (rag/server/), the
pipeline's own checks (the CLI's questions) and the article loader."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rag.errors import BadInput

_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def is_blank(c: str) -> bool:
    """Blank: white space (str.isspace()), or invisible: a control or format character
    (zero-width spaces and joiners, U+FEFF, soft hyphens, NUL...), which shows nothing."""
    return c.isspace() or unicodedata.category(c) in ("Cc", "Cf")


def _blank_class() -> str:
    """A regex class of every blank character of the Basic Multilingual Plane, written
    as \\uXXXX ranges, so that JSON Schema (ECMA), pydantic (Rust) and Python agree on
    it: their own \\s differ (U+0085, U+001C..U+001F, U+FEFF). (Above U+FFFF an ECMA
    class without the u flag sees two surrogate halves: none of them is listed.)"""
    blanks = [c for c in range(0x10000) if is_blank(chr(c)) and not 0xD800 <= c <= 0xDFFF]
    ranges, start = [], blanks[0]
    for a, b in zip(blanks, blanks[1:] + [None]):
        if b != a + 1:
            ranges.append(f"\\u{start:04x}" + (f"-\\u{a:04x}" if a != start else ""))
            start = b
    return "".join(ranges)


# A text with at least one character that is neither blank nor invisible (JSON Schema:
# unanchored search): a question of zero-width spaces is as empty as one of spaces.
NOT_BLANK = f"[^{_blank_class()}]"


def check_unicode(value: Any, name: str) -> None:
    """BadInput when a string holds a lone UTF-16 surrogate: valid in JSON ("\\ud800"),
    but not Unicode text, so it can be neither stored (UTF-8) nor searched."""
    if isinstance(value, str) and (m := _SURROGATE_RE.search(value)):
        raise BadInput(f"{name} holds a lone UTF-16 surrogate (\\u{ord(m.group()):04x} at "
                       f"character {m.start()}): not valid Unicode text")


def valid_text(value: str, name: str) -> str:
    """``value`` if it is valid Unicode; else ValueError, as a pydantic validator raises."""
    try:
        check_unicode(value, name)
    except BadInput as exc:
        raise ValueError(str(exc)) from None
    return value
