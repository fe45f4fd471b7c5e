"""Sentence-aware chunking with character offsets. Pure functions, no models."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.types import Article, Chunk

# The chunking every index is built with: windows of 3 sentences, 1 shared with the
# previous window, closed early at 1,000 characters. An index records them in its
# manifest (rag.index.protocols.Chunking); an index built with other values is refused
# until `rag rebuild`. Internal constants, not settings (issue #22).
CHUNK_SENTENCES = 3
CHUNK_OVERLAP = 1
CHUNK_MAX_CHARS = 1000

# Tokens that end with a period but rarely end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "gov", "sen", "rep",
    "col", "lt", "sgt", "capt", "cmdr", "adm", "maj", "rev", "hon", "pres", "supt",
    "inc", "ltd", "co", "corp", "vs", "etc", "no", "nos", "vol", "fig", "al", "approx",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m", "d.c",
}

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before
# whitespace, or at a paragraph break.
_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s)|\n\s*\n""")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _is_abbreviation(text: str, dot_pos: int) -> bool:
    if text[dot_pos] != ".":
        return False
    m = re.search(r"([A-Za-z.]+)$", text[max(0, dot_pos - 12):dot_pos])
    if not m:
        return False
    word = m.group(1).lower().strip(".")
    if word in _ABBREVIATIONS:
        return True
    # Single capital initials ("J. K. Rowling") do not end sentences.
    return len(word) == 1 and text[dot_pos - 1].isupper()


def split_sentences(text: str) -> list[Span]:
    """Return spans of sentences; stripped of surrounding whitespace, never empty."""
    spans: list[Span] = []
    start = 0
    for m in _END.finditer(text):
        end = m.end()
        if m.group().strip() and _is_abbreviation(text, m.start()):
            continue
        # A lower-case continuation ("e.g. this") is not a new sentence.
        nxt = re.match(r"\s*(\S)", text[end:])
        if m.group().strip() and nxt and nxt.group(1).islower():
            continue
        _add(text, start, end, spans)
        start = end
    _add(text, start, len(text), spans)
    return spans


def _add(text: str, start: int, end: int, spans: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Span(start, end))


def _split_long(span: Span, max_chars: int, text: str) -> list[Span]:
    """Cut an over-long sentence at word boundaries so no chunk exceeds max_chars."""
    out, start = [], span.start
    while span.end - start > max_chars:
        cut = text.rfind(" ", start, start + max_chars)
        if cut <= start:
            cut = start + max_chars
        _add(text, start, cut, out)
        start = cut
    _add(text, start, span.end, out)
    return out


def chunk_article(article: Article, sentences: int = CHUNK_SENTENCES, overlap: int = CHUNK_OVERLAP,
                  max_chars: int = CHUNK_MAX_CHARS) -> list[Chunk]:
    """Windows of `sentences` sentences, `overlap` shared with the previous window,
    closed early so a chunk stays under `max_chars`. Chunks never cross paragraphs
    they do not need to: a window is a run of whole sentences."""
    if overlap >= sentences:
        raise ValueError("chunk overlap must be smaller than chunk size")
    text = article.text
    sents = [piece for s in split_sentences(text) for piece in _split_long(s, max_chars, text)]
    chunks: list[Chunk] = []
    i = 0
    while i < len(sents):
        j = i + 1
        while j < len(sents) and j - i < sentences and sents[j].end - sents[i].start <= max_chars:
            j += 1
        start, end = sents[i].start, sents[j - 1].end
        chunks.append(Chunk(id=f"{article.id}#{len(chunks)}", article_id=article.id,
                            text=text[start:end], start=start, end=end))
        if j >= len(sents):
            break
        i = max(i + 1, j - overlap)
    return chunks
