"""The one place that maps the `store` setting to an index backend.

Another vector store is one adapter module implementing protocols.Backend (its
snapshots holding a VectorIndex and a LexicalIndex) plus one line in BACKENDS.
Optional backends are imported only when chosen, with an install hint if missing.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable

from rag.errors import BadInput
from rag.index.faiss.backend import FaissBackend
from rag.index.protocols import Backend, Layout


def _faiss(store: str, data_dir: Path, layout: Layout) -> Backend:
    return FaissBackend(data_dir, layout)


def _postgres(store: str, data_dir: Path, layout: Layout) -> Backend:
    try:
        module = importlib.import_module("rag.index.postgres.backend")
    except ImportError as exc:  # pragma: no cover - psycopg and pgvector are dependencies
        raise BadInput(f"RAG_STORE={_redact(store)} needs psycopg and pgvector: "
                       f"pip install 'psycopg[binary]' psycopg-pool pgvector ({exc})") from None
    return module.PostgresBackend(store, layout)


# scheme of RAG_STORE -> adapter
BACKENDS: dict[str, Callable[[str, Path, Layout], Backend]] = {
    "faiss": _faiss,
    "postgresql": _postgres,
    "postgres": _postgres,
}


def open_backend(store: str, data_dir: Path, layout: Layout) -> Backend:
    """The backend ``store`` (the RAG_STORE setting) names; FAISS files go in ``data_dir``."""
    scheme = store.split("://", 1)[0].lower()
    if scheme not in BACKENDS:
        raise BadInput(f"RAG_STORE={_redact(store)} is not a known store: use "
                       "'faiss' or 'postgresql://user@host/db'")
    return BACKENDS[scheme](store, data_dir, layout)


def _redact(url: str) -> str:
    """A store URL without its password, for messages and logs."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url
