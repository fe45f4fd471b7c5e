"""Index versions on disk: save one atomically, find and load the published one.

A version is a directory under data_dir/versions holding manifest.json (format,
embedder, dimension, chunking, article hashes), articles.jsonl, chunks.jsonl (offsets
only: texts come from the articles) and vectors.faiss. It is written under a
temporary name, fsynced, renamed, then published by atomically replacing the
data_dir/index symlink. A process killed at any point leaves the old version
published; what it left behind is removed at the next start (remove_leftovers)
or by the next save.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Iterable

import faiss
import orjson

from rag.documents import content_hash
from rag.errors import IndexMismatch, IndexUnavailable
from rag.index.bm25 import Bm25Index
from rag.index.faiss.article_store import ArticleStore
from rag.index.faiss.vector_index import NPROBE, IvfRows, is_exact
from rag.index.protocols import Chunking, version_order
from rag.types import Article, Chunk


FORMAT = 1
log = logging.getLogger("rag")


def save_version(store: ArticleStore, data_dir: Path) -> Path:
    """Write a new version directory, fsync it, then swap the `index` link to it.
    Call it holding the write lock (locks.writer_lock): version names are chosen under it."""
    data_dir = Path(data_dir)
    versions = data_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    previous = current_version(data_dir)
    name = _next_version(data_dir)
    tmp = versions / f".tmp-{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    _write_jsonl(tmp / "articles.jsonl", (a.to_dict() for a in store.articles.values()))
    # Chunks as columns, one JSON document: a row per chunk cost 0.5 s of json.dumps
    # calls at 90k chunks, most of the time to add one article to a large index.
    cs = store.chunks
    (tmp / "chunks.json").write_bytes(orjson.dumps({
        "id": [c.id for c in cs], "article_id": [c.article_id for c in cs],
        "start": [c.start for c in cs], "end": [c.end for c in cs]}))
    faiss.write_index(store.faiss, str(tmp / "vectors.faiss"))
    # BM25 segments are immutable: those of the previous version are hard-linked.
    lexical = store.lexical.save(tmp / "bm25", versions / previous / "bm25" if previous else None)
    _write_json(tmp / "manifest.json", {**_manifest(store), "lexical": lexical})
    for f in tmp.rglob("*"):
        if f.is_dir() or f.stat().st_nlink == 1:  # linked BM25 files were synced when written
            _fsync(f)
    _fsync(tmp)
    os.rename(tmp, versions / name)
    _fsync(versions)
    # Killed before this point: the link still names the old, complete version.
    link = data_dir / "index"
    tmp_link = data_dir / f".index-{name}"
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(Path("versions") / name, tmp_link)
    os.replace(tmp_link, link)
    _fsync(data_dir)
    store.version = name
    _prune(data_dir, keep={name, previous})
    return versions / name


def _manifest(store: ArticleStore) -> dict:
    return {
        "format": FORMAT,
        "embedder": store.embedder_name,
        "dim": store.dim,
        "chunking": store.chunking.to_dict(),
        "articles": len(store.articles),
        "chunks": len(store.chunks),
        "hashes": store.hashes,
        "trained": store.trained,  # rows the IVF's clusters were trained with (vector_index.search)
    }


def index_exists(data_dir: Path) -> bool:
    return (Path(data_dir) / "index" / "manifest.json").exists()


def current_version(data_dir: Path) -> str | None:
    """The published version's name: one readlink, cheap enough to call per request."""
    try:
        return os.path.basename(os.readlink(Path(data_dir) / "index"))
    except OSError:
        return None


def is_newer(a: str, b: str) -> bool:
    """Whether version name `a` was published after `b` (names grow with time)."""
    return version_order(a) > version_order(b)


def load_articles(data_dir: Path) -> tuple[dict[str, Article], dict[str, str], dict]:
    """The stored articles, their hashes and the manifest, whatever embedder built the
    index: enough to list them, or to rebuild the index with other settings."""
    version = _resolve(data_dir)
    root = Path(data_dir) / "versions" / version
    try:
        manifest = _read_manifest(root)
        articles = _read_articles(root)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexUnavailable(f"index in {data_dir} is unreadable ({exc})") from exc
    hashes = manifest.get("hashes") or {}
    if set(hashes) != set(articles):
        # an older or hand-edited manifest: recompute
        hashes = {aid: content_hash(a.text) for aid, a in articles.items()}
    return articles, hashes, manifest


def load_store(data_dir: Path, embedder_name: str | None = None,
               chunking: Chunking | None = None) -> ArticleStore:
    """Load the current version; refuse one built with another embedder or chunking."""
    for attempt in range(3):
        version = _resolve(data_dir)
        try:
            return _load_version(Path(data_dir), version, embedder_name, chunking)
        except (FileNotFoundError, IndexUnavailable) as exc:
            # A writer published twice and pruned this version while we read it:
            # load the newer one instead.
            if attempt == 2 or current_version(data_dir) == version:
                if isinstance(exc, IndexUnavailable):
                    raise
                raise IndexUnavailable(f"index in {data_dir} is incomplete: run `rag rebuild`") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _load_version(data_dir: Path, version: str, embedder_name: str | None,
                  chunking: Chunking | None) -> ArticleStore:
    # Every file is read from the resolved version directory, never through the link,
    # so a swap in the middle of loading cannot mix two versions.
    root = data_dir / "versions" / version
    try:
        manifest = _read_manifest(root)
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
                "is configured: run `rag rebuild` to re-chunk and re-embed the stored articles")
        articles = _read_articles(root)
        chunks = _read_chunks(root, articles)
        index = faiss.read_index(str(root / "vectors.faiss"))
        if not is_exact(index):
            index.nprobe = min(NPROBE, index.nlist)  # (an index saved with fewer probes gets today's)
        # An IVF's rows are read back on demand (no second copy, not even while loading;
        # ArticleStore gives them the tail its manifest's ``trained`` says); an exact
        # index's become a view of its storage there.
        vectors = (None if not index.ntotal else index.reconstruct_n(0, index.ntotal) if is_exact(index)
                   else IvfRows(index, index.ntotal))
        if index.ntotal != len(chunks):
            raise ValueError(f"{index.ntotal} vectors for {len(chunks)} chunks")
    except (IndexUnavailable, FileNotFoundError):
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexUnavailable(f"index in {data_dir} is unreadable ({exc}): run `rag rebuild`") from exc
    store = ArticleStore(manifest["embedder"], manifest["dim"], built, articles,
                         manifest.get("hashes", {}), chunks, vectors, loaded_index=index,
                         trained=manifest.get("trained"),
                         lexical=_read_lexical(root, manifest, chunks))
    store.version = version
    return store


def _read_lexical(root: Path, manifest: dict, chunks: list[Chunk]) -> Bm25Index | None:
    """The saved BM25 segments, or None to rebuild them from the chunks (an index written
    before they were saved, or damaged ones: BM25 is derived data)."""
    if "lexical" not in manifest:
        return None
    try:
        return Bm25Index.load(root / "bm25", manifest["lexical"], (c.id for c in chunks))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("rebuilding the BM25 index of %s: %s", root.name, exc)
        return None


def _read_chunks(root: Path, articles: dict[str, Article]) -> list[Chunk]:
    if not (root / "chunks.json").exists():  # written before chunks were stored as columns
        rows = [json.loads(line) for line in open(root / "chunks.jsonl", encoding="utf-8")]
        cols = {k: [r[k] for r in rows] for k in ("id", "article_id", "start", "end")}
    else:
        cols = orjson.loads((root / "chunks.json").read_bytes())
    return [Chunk(cid, aid, articles[aid].text[start:end], start, end)
            for cid, aid, start, end in zip(cols["id"], cols["article_id"], cols["start"], cols["end"],
                                            strict=True)]


def _resolve(data_dir: Path) -> str:
    version = current_version(data_dir)
    if version is None or not (Path(data_dir) / "versions" / version / "manifest.json").exists():
        raise IndexUnavailable(f"no index in {data_dir}: run `rag ingest seeds/` first")
    return version


def _read_manifest(root: Path) -> dict:
    return json.loads((root / "manifest.json").read_text(encoding="utf-8"))


def _read_articles(root: Path) -> dict[str, Article]:
    articles = {}
    with open(root / "articles.jsonl", encoding="utf-8") as f:
        for line in f:
            a = Article(**orjson.loads(line))
            articles[a.id] = a
    return articles


def _next_version(data_dir: Path) -> str:
    # Nanosecond clock, but always after the published one even if the clock stepped back.
    current = current_version(data_dir)
    return f"v{max(time.time_ns(), version_order(current) + 1)}"


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    # orjson: the article texts of a large index (40 MB) in 0.05 s instead of 0.3 s.
    with open(path, "wb") as f:
        for row in rows:
            f.write(orjson.dumps(row) + b"\n")


def _write_json(path: Path, obj: dict) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_leftovers(data_dir: Path) -> list[str]:
    """What a writer killed mid-save left: `.tmp-v…` folders, versions renamed into place
    but never published (newer than the published one) and temporary links. Call it
    holding indexing.writer_lock (no save is in progress then). Published and older
    versions are left to the next save's pruning (a reader may still be loading one).
    Returns the names removed."""
    versions = Path(data_dir) / "versions"
    if not versions.is_dir():
        return []
    current = current_version(data_dir)
    removed = []
    for p in versions.iterdir():
        unpublished = p.name.startswith("v") and (current is None or is_newer(p.name, current))
        if p.name.startswith(".tmp-") or unpublished:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    for p in Path(data_dir).glob(".index-v*"):
        if p.is_symlink():
            p.unlink(missing_ok=True)
            removed.append(p.name)
    return removed


def _prune(data_dir: Path, keep: set) -> None:
    """Drop everything but the current version and its predecessor (another process
    may still be loading it): abandoned temporaries and versions a killed writer
    renamed into place but never published included."""
    for p in (data_dir / "versions").iterdir():
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)
    for p in data_dir.glob(".index-v*"):  # a link made by a writer killed before the swap
        if p.is_symlink():
            p.unlink(missing_ok=True)
