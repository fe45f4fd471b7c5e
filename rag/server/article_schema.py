"""The OpenAPI description of the article routes' bodies (rag/server/routes_articles.py):
what a record needs to be an article, with this server's limits. The routes parse the
bodies themselves (JSON, JSONL, plain text, multipart); this is what the schema shows."""

from __future__ import annotations

from rag.config import Settings
from rag.documents import MAX_INT_ID, MIN_TEXT_CHARS

# What a record needs to be an article (documents.article_from_record): a text with
# at least MIN_TEXT_CHARS letters or digits once cleaned, an id that is URL-path-safe.
_NULLABLE = {"type": ["string", "null"]}
_TEXT = {"type": "string", "pattern": rf"(?:\w\W*){{{MIN_TEXT_CHARS}}}",
         "description": f"The article body (plain text): at least {MIN_TEXT_CHARS} letters or digits."}
# A raw body or file with a NUL byte is taken for binary (documents._decode); a JSON
# text with one (\u0000) is refused too, rather than silently changed.
_NO_NUL = {"allOf": [{"pattern": "^[^\\x00]*$"}]}


def _text(settings: Settings) -> dict:
    """An article's text in a request: words, no NUL, at most max_article_chars."""
    return {**_TEXT, **_NO_NUL, "maxLength": settings.max_article_chars,
            "description": f"{_TEXT['description']} At most {settings.max_article_chars} characters "
                           "(RAG_MAX_ARTICLE_CHARS; 413 over it): its passages are embedded while "
                           "the request holds the write lock."}


def _article(settings: Settings) -> dict:
    return {**_ARTICLE, "properties": {**_ARTICLE["properties"], "text": _text(settings)}}


_ARTICLE = {
    "type": "object", "required": ["text"],
    "description": "Other fields are ignored (a feed's `authors`, say). Also read: `body` or `content` "
                   "for `text`, `doc_id` for `id`, `publish_date` or `date` for `published`.",
    "properties": {
        "text": _TEXT,
        "title": _NULLABLE, "url": {**_NULLABLE, "description": "Kept only when an http(s) link."},
        "published": {**_NULLABLE, "description": "Date, ideally YYYY-MM-DD."},
        "source": _NULLABLE,
        "id": {"anyOf": [{"type": "string", "maxLength": 200, 
                          "pattern": r"^\s*(?:[A-Za-z0-9._:-]*[A-Za-z0-9_:-][A-Za-z0-9._:-]*)?\s*$"},
                         {"type": "integer", "minimum": -MAX_INT_ID, "maximum": MAX_INT_ID}, {"type": "null"}],
               "description": "Your id: letters, digits, '.', '_', ':' or '-', not only dots; "
                              "derived from the text when absent."}}}


def add_body(settings: Settings) -> dict:
    files = {"type": "array", "minItems": 1, "maxItems": settings.max_batch_articles,
             "items": {**_TEXT, **_NO_NUL, "description": "a file: .txt .md .html .json .jsonl by its name, "
                                               "else by its content type (text/plain by default); "
                                               f"each article in it at most {settings.max_article_chars} characters"}}
    article = _article(settings)
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"oneOf": [
            article, {"type": "array", "minItems": 1, "maxItems": settings.max_batch_articles,
                      "items": article}]}},
        "text/plain": {"schema": {**_text(settings), "description": "One article; a short first line is the title."}},
        # Only `file` parts: another field name is refused (422), not read as an article.
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {"file": files},
                                           "additionalProperties": False},
                                "encoding": {"file": {"contentType": "text/plain"}}}}}}


def errors(*codes: int) -> dict:
    model = {"content": {"application/json": {"schema": {
        "type": "object", "properties": {"detail": {"type": "string"}}}}}}
    return {c: {"description": "error with a `detail` message", **model} for c in codes}
