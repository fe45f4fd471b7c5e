"""The persistent index: articles, chunks, FAISS vectors and BM25, saved atomically.

An ArticleStore is an immutable snapshot. Changes build a new snapshot (only new
articles are embedded) that is saved to a fresh version directory and published by
atomically replacing the `index` symlink, so a reader, or a process killed at any
moment, sees either the old index or the new one, never a half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import faiss
import numpy as np

from .chunking import chunk_article
from .embedding import Embedder
from .errors import IndexMismatch, IndexUnavailable
from .lexical import LexicalIndex
from .types import Article, Chunk

FORMAT = 1


@dataclass(frozen=True)
class Chunking:
    sentences: int = 3
    overlap: int = 1
    max_chars: int = 1000

    def to_dict(self) -> dict:
        return {"sentences": self.sentences, "overlap": self.overlap, "max_chars": self.max_chars}


@dataclass
class ArticleStore:
    embedder_name: str
    dim: int
    chunking: Chunking
    articles: dict[str, Article] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    chunks: list[Chunk] = field(default_factory=list)
    vectors: np.ndarray | None = None
    version: str = ""

    def __post_init__(self) -> None:
        if self.vectors is None:
            self.vectors = np.zeros((0, self.dim), dtype=np.float32)
        self.faiss = faiss.IndexFlatIP(self.dim)  # exact search: fast enough at this scale
        if len(self.vectors):
            self.faiss.add(self.vectors)
        self.lexical = LexicalIndex([c.text for c in self.chunks])
        self._chunks_by_article: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            self._chunks_by_article.setdefault(c.article_id, []).append(i)

    # -- reading ----------------------------------------------------------------
    def chunk_count(self, article_id: str) -> int:
        return len(self._chunks_by_article.get(article_id, ()))

    def article_chunks(self, article_id: str) -> list[Chunk]:
        return [self.chunks[i] for i in self._chunks_by_article.get(article_id, ())]

    def find_by_hash(self, content_hash: str) -> str | None:
        for aid, h in self.hashes.items():
            if h == content_hash:
                return aid
        return None

    def manifest(self) -> dict:
        return {
            "format": FORMAT,
            "embedder": self.embedder_name,
            "dim": self.dim,
            "chunking": self.chunking.to_dict(),
            "articles": len(self.articles),
            "chunks": len(self.chunks),
            "hashes": self.hashes,
        }

    # -- changing (each returns a new snapshot) ---------------------------------
    def with_articles(self, new: Iterable[tuple[Article, str]], embedder: Embedder,
                      replace: bool = True, show_progress: bool = False) -> "ArticleStore":
        """Add (article, content_hash) pairs; an article with an existing id replaces it."""
        new = list(new)
        drop = {a.id for a, _ in new if a.id in self.articles}
        base = self.without(drop) if drop else self
        new_chunks = [c for a, _ in new for c in chunk_article(a, **_kw(self.chunking))]
        if new_chunks:
            vecs = _embed(embedder, [c.text for c in new_chunks], show_progress)
            if vecs.shape[1] != self.dim:
                raise IndexMismatch(f"embedder gives {vecs.shape[1]} dims, index has {self.dim}")
        else:
            vecs = np.zeros((0, self.dim), dtype=np.float32)
        articles = dict(base.articles)
        hashes = dict(base.hashes)
        for a, h in new:
            articles[a.id] = a
            hashes[a.id] = h
        return ArticleStore(self.embedder_name, self.dim, self.chunking, articles, hashes,
                            base.chunks + new_chunks, np.vstack([base.vectors, vecs]))

    def without(self, article_ids: set[str]) -> "ArticleStore":
        keep = [i for i, c in enumerate(self.chunks) if c.article_id not in article_ids]
        return ArticleStore(
            self.embedder_name, self.dim, self.chunking,
            {k: v for k, v in self.articles.items() if k not in article_ids},
            {k: v for k, v in self.hashes.items() if k not in article_ids},
            [self.chunks[i] for i in keep], self.vectors[keep])

    # -- persistence --------------------------------------------------------------
    def save(self, data_dir: Path) -> Path:
        """Write a new version directory, fsync it, then swap the `index` link to it."""
        data_dir = Path(data_dir)
        versions = data_dir / "versions"
        versions.mkdir(parents=True, exist_ok=True)
        name = f"v{time.time_ns()}"
        tmp = versions / f".tmp-{name}"
        tmp.mkdir()
        _write_jsonl(tmp / "articles.jsonl", (a.to_dict() for a in self.articles.values()))
        _write_jsonl(tmp / "chunks.jsonl",
                     ({"id": c.id, "article_id": c.article_id, "start": c.start, "end": c.end}
                      for c in self.chunks))
        faiss.write_index(self.faiss, str(tmp / "vectors.faiss"))
        _write_json(tmp / "manifest.json", self.manifest())
        for f in tmp.iterdir():
            _fsync(f)
        os.rename(tmp, versions / name)
        _fsync(versions)
        link = data_dir / "index"
        tmp_link = data_dir / f".index-{name}"
        os.symlink(Path("versions") / name, tmp_link)
        os.replace(tmp_link, link)
        _fsync(data_dir)
        self.version = name
        _prune(versions, keep=name)
        return versions / name


def empty_store(embedder: Embedder, chunking: Chunking) -> ArticleStore:
    return ArticleStore(embedder.name, embedder.dim, chunking)


def index_exists(data_dir: Path) -> bool:
    return (Path(data_dir) / "index" / "manifest.json").exists()


def load_store(data_dir: Path, embedder_name: str | None = None,
               chunking: Chunking | None = None) -> ArticleStore:
    """Load the current version; refuse one built with another embedder or chunking."""
    root = Path(data_dir) / "index"
    if not (root / "manifest.json").exists():
        raise IndexUnavailable(f"no index in {data_dir}: run `rag ingest seeds/` first")
    try:
        manifest = json.loads((root / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise IndexMismatch(f"index format {manifest.get('format')} is not {FORMAT}: run `rag rebuild`")
        built = Chunking(**manifest["chunking"])
        if embedder_name and manifest["embedder"] != embedder_name:
            raise IndexMismatch(
                f"index was built with embedder {manifest['embedder']!r} but {embedder_name!r} "
                "is configured: run `rag rebuild` to re-embed the stored articles")
        if chunking and built != chunking:
            raise IndexMismatch(
                f"index was built with chunking {built.to_dict()} but {chunking.to_dict()} "
                "is configured: run `rag rebuild`")
        articles = {}
        for line in (root / "articles.jsonl").read_text(encoding="utf-8").splitlines():
            a = Article(**json.loads(line))
            articles[a.id] = a
        chunks = []
        for line in (root / "chunks.jsonl").read_text(encoding="utf-8").splitlines():
            c = json.loads(line)
            text = articles[c["article_id"]].text[c["start"]:c["end"]]
            chunks.append(Chunk(c["id"], c["article_id"], text, c["start"], c["end"]))
        index = faiss.read_index(str(root / "vectors.faiss"))
        vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else None
    except IndexUnavailable:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexUnavailable(f"index in {data_dir} is unreadable ({exc}): run `rag rebuild`") from exc
    store = ArticleStore(manifest["embedder"], manifest["dim"], built, articles,
                         manifest.get("hashes", {}), chunks, vectors)
    store.version = os.path.basename(os.readlink(Path(data_dir) / "index"))
    return store


def _kw(c: Chunking) -> dict:
    return {"sentences": c.sentences, "overlap": c.overlap, "max_chars": c.max_chars}


def _embed(embedder: Embedder, texts: list[str], show_progress: bool) -> np.ndarray:
    try:
        return embedder.embed(texts, show_progress=show_progress)  # type: ignore[call-arg]
    except TypeError:
        return embedder.embed(texts)


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(versions: Path, keep: str) -> None:
    """Drop abandoned temporaries (a killed writer leaves those) and all versions but
    the current one and its predecessor (another process may still be reading it)."""
    done = sorted((p for p in versions.iterdir() if p.name.startswith("v")), reverse=True)
    for p in versions.iterdir():
        if p.name.startswith(".tmp-") or (p.name != keep and p not in done[:2]):
            shutil.rmtree(p, ignore_errors=True)
