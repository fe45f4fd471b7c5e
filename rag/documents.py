"""Load news articles from files and uploads, and clean them into ``Article`` records.

The stored ``Article.text`` is the cleaned text: citations are character offsets
into it, so cleaning happens once, here, and only drops whole lines of boilerplate.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Sequence

from rag.dates import RECORD_FIELDS, article_date, normalize_date  # noqa: F401 (re-exported)
from rag.errors import BadInput, TooLarge
from rag.text_checks import check_unicode
from rag.types import Article

SUPPORTED_EXTENSIONS = (".txt", ".md", ".html", ".htm", ".json", ".jsonl")
MIN_TEXT_CHARS = 20
TITLE_CHARS = 80
MAX_INT_ID = 2 ** 53  # integers JSON carries exactly everywhere (and a float holds exactly)
_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,200}")
_WORD_RE = re.compile(r"\w")


@dataclass(frozen=True)
class Rejected:
    source: str  # "path", "path:17" (JSONL line) or "path[3]" (JSON list index)
    reason: str


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


# Zero-width characters and soft hyphens split words invisibly and break search.
_INVISIBLE_RE = re.compile("[\u200b\u2060\ufeff\u00ad\x00-\x08\x0e-\x1b\x7f]")
# Every str.isspace() character that str.splitlines() does not treat as a line break.
_HSPACES = "\t\x1f\xa0\u1680\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B)))
# Matched against whole lines only, so a sentence that mentions these words survives.
_BOILERPLATE_RE = re.compile(r"""(?ix)
    (?:share|tweet|email|e-mail|print|copy\ link|facebook|twitter|x|linkedin|whatsapp
       |pinterest|reddit|telegram|messenger|share\ (?:this|on)(?:\ (?:article|story|post|page))?
       |[\s|·•,/:-])+
  | (?:advertisement|advertising|advert|ad|sponsored(?:\ content)?)
  | (?:story|article)\ continues\ below(?:\ (?:this\ )?advertisement)?|scroll\ to\ continue.*
  | (?:click|tap)\ here\b.{0,100}|follow\ us\ on\b.{0,80}
  | (?:sign\ up|subscribe|register)\b.{0,80}\bnewsletters?\b.{0,80}
  | (?:subscribe|subscribe\ now|subscribe\ today|newsletter)
  | (?:we|this\ (?:web)?site|our\ site)\ uses?\ cookies\b.{0,300}
  | (?:accept|reject|allow|manage)(?:\ all)?\ cookies|cookie\ (?:policy|settings|preferences)
  | (?:©|\(c\)|copyright\s*(?:©|\(c\))?\s*\d{4}).{0,200}
  | (?:read\ more|related|see\ also|more\ on\ this\ story|read\ next)\s*:.{0,200}
  | your\ email\ address\ will\ not\ be\ published\.?.{0,80}|required\ fields\ are\ marked\ \*?
  | save\ my\ name,\ email,\ and\ website\b.{0,100}|post\ comment|cancel\ reply
  | (?:\d+\.\ )?how\ relevant\ is\ this\ ad\ to\ you\??|video\ player\ was\ slow\ to\ load.{0,200}
  | just\ watched\b.{0,300}\breplay\ more\ videos\b.{0,400}  # CNN's video widget, as one line of text
""")
# Headings of trailing link lists ("Related Articles", "More from CNBC:").
_RELATED_RE = re.compile(r"""(?ix)(?:related(?:\ (?:articles|stories|content|posts|coverage))?
    |read\ more|more\ (?:stories|from\ \S.{0,60})|you\ (?:may|might)\ also\ like|read\ next
    |recommended(?:\ for\ you|\ stories)?|most\ (?:read|popular)|trending(?:\ now)?)\s*:?""")
# Notices that may sit anywhere in a short line.
_NOTICE_RE = re.compile(r"(?i)by continuing to (?:use|browse)\b.*\bcookies\b|all rights reserved")
_COMMENTS_RE = re.compile(r"(?i)leave an? (?:reply|comment)|post a comment|add a comment"
                          r"|\d* ?comments?|join the (?:discussion|conversation)")


def clean_text(text: str) -> str:
    text = _INVISIBLE_RE.sub("", unicodedata.normalize("NFC", text))
    text = "\n".join(text.splitlines())  # \r\n, \r, U+2028, form feeds, ...
    # str.replace is several times faster than a regex over a 40 MB corpus.
    for ch in _HSPACES:
        if ch in text:
            text = text.replace(ch, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    lines = _drop_tail([line.strip() for line in text.split("\n")])
    text = "\n".join(x for x in lines if not _is_boilerplate(x))
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def _is_boilerplate(line: str) -> bool:
    return bool(_BOILERPLATE_RE.fullmatch(line) or _RELATED_RE.fullmatch(line)
                or (len(line) <= 400 and ("cookies" in (low := line.lower()) or "reserved" in low)
                    and _NOTICE_RE.search(line)))


def _drop_tail(lines: list[str]) -> list[str]:
    """Cut a comment form or a link list off the end: it is not part of the article."""
    total = sum(len(line) + 1 for line in lines)
    for i in [i for i, line in enumerate(lines) if line][-10:]:
        tail = sum(len(line) + 1 for line in lines[i:])
        if _COMMENTS_RE.fullmatch(lines[i]) and (tail <= 0.1 * total or tail <= 600):
            return lines[:i]
        # Link lists are short lines; a real paragraph after the heading keeps everything.
        if _RELATED_RE.fullmatch(lines[i]) and all(len(x) <= 150 for x in lines[i + 1:]):
            return lines[:i]
    return lines


def content_hash(text: str) -> str:
    norm = " ".join(unicodedata.normalize("NFC", text).casefold().split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def _one_line(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).split())


def _truncate(s: str, limit: int) -> str:
    if len(s) <= limit:
        return s
    cut = s[: limit + 1].rsplit(" ", 1)[0] if " " in s[: limit + 1] else s[:limit]
    return cut.rstrip(" ,;:-–—") + "…"


_ABBREV_RE = re.compile(r"[\"“‘'(]?(?:[A-Za-z]|[A-Z]\.[A-Z.]*|Dr|Mr|Mrs|Ms|Prof|St|Sr|Jr|Gen"
                        r"|Gov|Sen|Rep|Lt|Col|Capt|Sgt|Rev|No|vs|etc|Inc|Co|Corp|Ltd|Mt|Ft)")
_DASHES = ("—", "–", "-")


def derive_title(text: str) -> str:
    """The first sentence of the text, truncated on a word boundary."""
    paras = [p for p in text.split("\n") if p.strip()] or [""]
    # Skip a dateline paragraph such as "Washington CNN —" or "USA TODAY".
    first = next((p for p in paras if not p.endswith(_DASHES)
                  and (len(p.split()) >= 4 or p.endswith((".", "!", "?")))), paras[0])
    sentence = first
    for m in re.finditer(r"[.!?](?=\s+[\"“‘'(]?[A-Z0-9]|\s*$)", first):
        words = first[: m.start()].split()
        # "Dr." or the "W." of a name does not end a sentence.
        if m.start() >= 20 and words and not _ABBREV_RE.fullmatch(words[-1]):
            sentence = first[: m.end()]
            break
    if sentence.endswith(".") and len(sentence) <= TITLE_CHARS:
        sentence = sentence[:-1]
    return _truncate(_one_line(sentence), TITLE_CHARS)


def _has_words(text: str) -> bool:
    return sum(1 for _ in itertools.islice(_WORD_RE.finditer(text), MIN_TEXT_CHARS)) == MIN_TEXT_CHARS


def make_article(text, title=None, url=None, published=None, id=None, source=None) -> Article:
    for name, value in (("text", text), ("title", title), ("url", url), ("published", published),
                        ("id", id), ("source", source)):
        check_unicode(value, name)
    raw, text = text, clean_text(text) if isinstance(text, str) else ""
    # Letters or digits, not characters: a line of dashes is no article (the API's
    # schema says the same, so what it allows is accepted).
    if not _has_words(text):
        left = _has_words(raw) if isinstance(raw, str) else False
        raise BadInput("record has no text" + (" left after removing boilerplate" * left))
    if id is None or not str(id).strip():
        id = "a-" + content_hash(text)[:16]
    elif not _ID_RE.fullmatch(id := str(id).strip()) or not id.strip("."):
        # "." and ".." are path segments: clients normalise /articles/.. away.
        raise BadInput(f"invalid id {_truncate(id, 60)!r}: use 1-200 characters "
                       "of letters, digits, '.', '_', ':' or '-', not only dots")
    url = url.strip() if isinstance(url, str) else None
    # The url is rendered as a link, so only web links: never "javascript:".
    if url and not re.match(r"(?i)https?://\S+$", url):
        url = None
    return Article(id=id, title=_truncate(_one_line(title or ""), 300) or derive_title(text),
                   text=text, url=url, published=article_date(published, url, text),
                   source=_one_line(source or "") or None)


def _field(rec: dict, *names: str, numbers: bool = False) -> str | None:
    """The first non-empty of ``names``: a string (a JSON integer too when ``numbers``:
    ids). Anything else is refused, never turned into text."""
    for name in names:
        value = rec.get(name)
        if value is None or value == "":
            continue
        if isinstance(value, str):
            return value
        if numbers and isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON has one number type: 1000.0 is the integer 1000
        if numbers and isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > MAX_INT_ID:
                raise BadInput(f"field {name!r}: an integer id must be within ±{MAX_INT_ID} (send a string)")
            return str(value)
        raise BadInput(f"field {name!r} must be a string, not {_json_type(value)}")
    return None


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "an array"}.get(type(value), type(value).__name__)


def article_from_record(rec: dict) -> Article:
    if not isinstance(rec, dict):
        raise BadInput("record is not a JSON object")
    text = _field(rec, "text", "body", "content")
    if text is None:
        raise BadInput("record has no text")
    return make_article(text, title=_field(rec, "title"), url=_field(rec, "url"),
                        published=_field(rec, *RECORD_FIELDS),
                        id=_field(rec, "id", "doc_id", numbers=True), source=_field(rec, "source"))


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise BadInput("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")  # also plain UTF-8; drops a leading BOM
    except UnicodeDecodeError as e:
        raise BadInput(f"not UTF-8 text (undecodable byte at offset {e.start})") from None


def _parse_text(text: str, md: bool) -> Article:
    text = whole = clean_text(text)
    first, _, rest = text.partition("\n")
    title = None
    if m := re.fullmatch(r"#{1,6}\s+(.+?)(?:\s+#+)?", first):
        title, text = m.group(1), rest
    elif md and re.fullmatch(r"=+|-+", rest.partition("\n")[0]):
        title, text = first, rest.partition("\n")[2]  # setext heading: "Title\n====="
    elif len(first) < 120 and not first.endswith((".", ",", ";", ":") + _DASHES) \
            and rest.startswith("\n"):
        title, text = first, rest
    if title is not None and not _has_words(clean_text(text)):
        title, text = None, whole  # the "title" was all the article there is
    return make_article(text, title=title)


def _parse_html(text: str) -> Article:
    import trafilatura  # slow to import; only needed for HTML

    # A string argument is parsed as is: trafilatura never fetches anything here.
    doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False,
                                      as_dict=True)
    if not doc or not (doc.get("text") or "").strip():
        raise BadInput("no article text found in the HTML")
    title = doc.get("title")
    paras = [p for p in doc["text"].split("\n") if p.strip()]
    # trafilatura repeats the <h1> as the first line; the title is stored separately.
    if title and paras and _one_line(paras[0]).casefold() == _one_line(title).casefold():
        paras = paras[1:]
    return make_article("\n\n".join(paras), title=title, url=doc.get("url"),
                        published=doc.get("date"), source=doc.get("sitename"))


def _add(out: LoadResult, label: str, rec: Any) -> None:
    try:
        out.articles.append(article_from_record(rec))
    except BadInput as e:
        out.rejected.append(Rejected(label, str(e)))


def _parse(data: bytes, ext: str, label: str, out: LoadResult) -> None:
    """Parse one file into ``out``: every problem becomes a rejection, never an exception."""
    try:
        if not data.strip():
            raise BadInput("empty")
        text = _decode(data)
        if ext in (".txt", ".md"):
            out.articles.append(_parse_text(text, md=ext == ".md"))
        elif ext in (".html", ".htm"):
            out.articles.append(_parse_html(text))
        elif ext == ".json":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise BadInput(f"invalid JSON: {e.msg} at line {e.lineno}") from None
            if isinstance(data, list) and data:
                for i, rec in enumerate(data):
                    _add(out, f"{label}[{i}]", rec)
            elif isinstance(data, dict):
                _add(out, label, data)
            else:
                raise BadInput("JSON must be an object or a non-empty list of objects")
        else:
            # Not splitlines(): U+2028 may appear unescaped inside a JSON string.
            for n, line in enumerate(text.split("\n"), start=1):
                if line.strip():
                    try:
                        rec = json.loads(line)
                    except (ValueError, RecursionError) as e:
                        msg = e.msg if isinstance(e, json.JSONDecodeError) else "nested too deeply"
                        out.rejected.append(Rejected(f"{label}:{n}", f"invalid JSON: {msg}"))
                        continue
                    _add(out, f"{label}:{n}", rec)
    except BadInput as e:
        out.rejected.append(Rejected(label, str(e)))
    except Exception as e:  # noqa: BLE001 - odd input must not abort a whole batch
        out.rejected.append(Rejected(label, f"could not parse: {type(e).__name__}: {e}"))


def _extension(filename: str) -> str:
    return PurePosixPath(filename.replace("\\", "/")).suffix.lower()


def parse_bytes(data: bytes, filename: str, *, max_bytes: int | None = None) -> LoadResult:
    """Parse an upload. ``filename`` is untrusted: only its extension is used."""
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(f"upload is {len(data)} bytes; the limit is {max_bytes}")
    label = PurePosixPath(filename.replace("\\", "/")).name or "upload"
    out, ext = LoadResult(), _extension(filename)
    if ext in SUPPORTED_EXTENSIONS:
        _parse(data, ext, label, out)
    else:
        out.rejected.append(Rejected(label, "unsupported file type"))
    return out


def _walk(root: Path) -> list[Path]:
    found = []
    # os.walk does not follow directory symlinks, so a link loop cannot recurse forever.
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        found += [Path(dirpath, f) for f in filenames
                  if not f.startswith(".") and _extension(f) in SUPPORTED_EXTENSIONS]
    return sorted(found, key=lambda p: p.relative_to(root).parts)


def load_paths(paths: Sequence[str | Path], *, max_bytes: int | None = None) -> LoadResult:
    """Load files and folders (recursively); files that cannot be used are rejected."""
    roots = [Path(p) for p in paths]
    for p in roots:
        if not p.exists():
            raise BadInput(f"no such file or directory: {p}")
    out, seen = LoadResult(), set()
    for path in (f for root in roots for f in (_walk(root) if root.is_dir() else [root])):
        if path.resolve() in seen:  # named twice, or also inside a named folder
            continue
        seen.add(path.resolve())
        reason, ext = None, _extension(path.name)
        if not path.is_file():
            reason = "not a regular file"
        elif ext not in SUPPORTED_EXTENSIONS:
            reason = "unsupported file type"
        elif max_bytes is not None and (size := path.stat().st_size) > max_bytes:
            reason = f"too large ({size} bytes; the limit is {max_bytes})"
        else:
            try:
                _parse(path.read_bytes(), ext, str(path), out)
            except OSError as e:
                reason = f"cannot read: {e.strerror or e}"
        if reason:
            out.rejected.append(Rejected(str(path), reason))
    return out
