"""What an admin token (RAG_ADMIN_TOKEN) must be: long enough not to be guessed, and one
that a client can send at all. No web framework here: `rag serve` checks it before
importing the server."""

from __future__ import annotations

import re

MIN_TOKEN_CHARS = 16
# Visible ASCII: an HTTP header carries it unchanged (no spaces to trim, no encoding).
_VISIBLE_ASCII = re.compile(r"[!-~]+")


def token_problem(token: str | None) -> str | None:
    """Why ``token`` cannot be the admin token (None: it can, or none is set)."""
    if not token:
        return None
    if not _VISIBLE_ASCII.fullmatch(token):
        return ("RAG_ADMIN_TOKEN must be visible ASCII characters only (no spaces, no accents): "
                "a client could not send it or the server would never match it")
    if len(token) < MIN_TOKEN_CHARS:
        return (f"RAG_ADMIN_TOKEN is {len(token)} characters; it needs at least {MIN_TOKEN_CHARS} "
                "so that it cannot be guessed (e.g. python -c \"import secrets; print(secrets.token_urlsafe(32))\")")
    return None
