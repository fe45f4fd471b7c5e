"""The index in memory: articles, chunks, FAISS vectors and BM25 as one snapshot.

An ArticleStore is immutable. Changes build a new snapshot (only new articles are
embedded); versions.save_version publishes it as a new version on disk, so a reader,
or a process killed at any moment, sees either the old index or the new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Iterable, Sequence

import faiss
import numpy as np

from rag.chunking import chunk_article
from rag.components.embedding import Embedder
from rag.index.bm25 import Bm25Index, lexical_texts
from rag.index.embed import embed_chunks
from rag.index.protocols import Chunking, Progress
from rag.index.faiss import vector_index
from rag.index.faiss.vector_index import IvfRows, build_index, can_extend, extend_index, is_exact
from rag.types import Article, Chunk



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
    lexical: Bm25Index | None = None  # reused from the snapshot this one derives from
    # The snapshot this one extends by appending rows: its FAISS index is copied and
    # given only the new vectors (vector_index.extend_index) instead of being rebuilt.
    extends: "ArticleStore | None" = field(default=None, repr=False)
    # An index already holding exactly ``vectors`` (read from disk by versions.py).
    loaded_index: object = field(default=None, repr=False)
    # Rows before this one were there when the IVF's clusters were trained; the rest are
    # also searched exactly (vector_index.search). None: all of them.
    trained: int | None = None

    def __post_init__(self) -> None:
        if self.vectors is None:
            self.vectors = np.zeros((0, self.dim), dtype=np.float32)
        n = len(self.vectors)
        if self.loaded_index is not None and self.loaded_index.ntotal == n:
            self.faiss, self.loaded_index = self.loaded_index, None
            self.trained = n if self.trained is None else min(self.trained, n)
        elif self.extends is not None:
            old = self.extends
            self.trained = old.trained if can_extend(old.faiss, n, old.trained) else n
            self.faiss = extend_index(old.faiss, self.vectors, self.dim, old.trained)
            self.extends = None  # do not keep the older snapshot alive
        else:
            self.faiss = build_index(self.vectors, self.dim)  # exact until too slow (vector_index.py)
            self.trained = n
        if is_exact(self.faiss):
            self.trained = n
        if len(self.vectors) and is_exact(self.faiss):
            # FAISS holds its own copy: read vectors from it instead of keeping a second
            # one (300 MB at 200k chunks).
            self.vectors = _pinned_view(self.faiss, len(self.vectors), self.dim)
        elif len(self.vectors) and not (isinstance(self.vectors, IvfRows) and self.vectors.reads(self.faiss, self.trained)):
            # an IVF: its rows read back on demand (vector_index.IvfRows)
            self.vectors = IvfRows(self.faiss, self.trained)
        if self.lexical is None:
            self.lexical = Bm25Index.build([c.id for c in self.chunks], lexical_texts(self.chunks, self.articles))
        self.positions = {c.id: i for i, c in enumerate(self.chunks)}
        # Corpus statistics (document frequencies, mean length) over this snapshot's
        # live chunks, whatever segments hold them: scores as after a full rebuild.
        self.lexical = self.lexical.for_live(self.positions)
        self._chunks_by_article: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            self._chunks_by_article.setdefault(c.article_id, []).append(i)

    # -- reading ----------------------------------------------------------------
    def chunk_count(self, article_id: str) -> int:
        return len(self._chunks_by_article.get(article_id, ()))

    def article_chunks(self, article_id: str) -> list[Chunk]:
        return [self.chunks[i] for i in self._chunks_by_article.get(article_id, ())]

    # -- changing (each returns a new snapshot) ---------------------------------
    def with_articles(self, new: Iterable[tuple[Article, str]], embedder: Embedder,
                      progress: Progress | None = None) -> "ArticleStore":
        """Add (article, content_hash) pairs; an article with an existing id replaces it.
        Only the new articles are chunked and embedded."""
        new = list(new)
        new_chunks = [c for a, _ in new for c in chunk_article(a, **_kw(self.chunking))]
        vecs = embed_chunks(embedder, [c.text for c in new_chunks], self.dim, progress)
        return self.with_chunks(new, new_chunks, vecs)

    def with_chunks(self, new: Sequence[tuple[Article, str]], new_chunks: Sequence[Chunk],
                    vecs: np.ndarray) -> "ArticleStore":
        """Add (article, content_hash) pairs already chunked and embedded (row i of
        ``vecs`` is ``new_chunks[i]``); an article with an existing id replaces it."""
        new_chunks = list(new_chunks)
        drop = {a.id for a, _ in new if a.id in self.articles}
        base = self.without(drop) if drop else self
        articles = dict(base.articles)
        hashes = dict(base.hashes)
        for a, h in new:
            articles[a.id] = a
            hashes[a.id] = h
        chunks = base.chunks + new_chunks
        # An updated article reuses its chunk ids, so old BM25 entries would point at
        # its new chunks: rebuild BM25 then (updates are rare), else extend it.
        lexical = None if drop else base.lexical.extended(
            [c.id for c in new_chunks], lexical_texts(new_chunks, articles),
            _LazyTexts(chunks, articles))
        return ArticleStore(self.embedder_name, self.dim, self.chunking, articles, hashes,
                            chunks, np.vstack([base.vectors, np.asarray(vecs, dtype=np.float32)]),
                            lexical=lexical, extends=base)

    def with_batches(self, batches: Sequence[tuple[Sequence[tuple[Article, str]], Sequence[Chunk], np.ndarray]]
                     ) -> "ArticleStore":
        """``with_chunks`` of each (articles, chunks, vectors) batch in turn, as one new
        snapshot: one stack of the vectors and one FAISS index, and a BM25 segment per
        batch, so no step tokenizes more than its own batch (bounded memory)."""
        new = [p for b in batches for p in b[0]]
        ids = [a.id for a, _ in new]
        if len(batches) == 1 or len(set(ids)) < len(ids) or any(i in self.articles for i in ids):
            out = self  # updates: one batch at a time, as with_chunks handles them
            for arts, cs, vecs in batches:
                out = out.with_chunks(arts, cs, vecs)
            return out
        articles, hashes = dict(self.articles), dict(self.hashes)
        for a, h in new:
            articles[a.id], hashes[a.id] = a, h
        chunks = self.chunks + [c for b in batches for c in b[1]]
        lazy = _LazyTexts(chunks, articles)
        lexical = self.lexical
        for _, cs, _ in batches:
            lexical = lexical.extended([c.id for c in cs], lexical_texts(list(cs), articles), lazy)
        if len(chunks) > vector_index.EXACT_MAX and not can_extend(self.faiss, len(chunks), self.trained):
            # A new IVF: trained on a sample, then given each batch in turn, each dropped once
            # added (``batches`` is the writer's list of pending adds, emptied here): the
            # vectors are never stacked beside the index (-300 MB at the peak of a 197k-chunk ingest).
            parts = ([np.asarray(self.vectors)] if len(self.vectors) else []) + [v for _, _, v in batches]
            if isinstance(batches, list):
                batches[:] = [(arts, cs, None) for arts, cs, _ in batches]
            index = vector_index.build_ivf_in_parts(parts, self.dim)
            return ArticleStore(self.embedder_name, self.dim, self.chunking, articles, hashes, chunks,
                                IvfRows(index, len(chunks)), lexical=lexical, loaded_index=index)
        # Each batch's vectors are dropped once copied (``batches`` is the writer's list
        # of pending adds, emptied here): the whole corpus is held once, not twice.
        vectors = np.empty((len(chunks), self.dim), dtype=np.float32)
        vectors[:len(self.vectors)] = self.vectors
        row = len(self.vectors)
        for i, (arts, cs, v) in enumerate(batches):
            vectors[row:row + len(cs)] = v
            row += len(cs)
            if isinstance(batches, list):
                batches[i] = (arts, cs, None)
        v = None  # noqa: F841 - nor the last batch while the index is built
        return ArticleStore(self.embedder_name, self.dim, self.chunking, articles, hashes, chunks, vectors,
                            lexical=lexical, extends=self)

    def without(self, article_ids: set[str]) -> "ArticleStore":
        keep = [i for i, c in enumerate(self.chunks) if c.article_id not in article_ids]
        return ArticleStore(
            self.embedder_name, self.dim, self.chunking,
            {k: v for k, v in self.articles.items() if k not in article_ids},
            {k: v for k, v in self.hashes.items() if k not in article_ids},
            [self.chunks[i] for i in keep], self.vectors[keep],
            # Dead BM25 entries are skipped at search time until they are a quarter.
            lexical=self.lexical if 4 * (self.lexical.size - len(keep)) < self.lexical.size else None)



class _LazyTexts(Mapping):
    """id -> BM25 text of every live chunk, built only if segments are merged."""

    def __init__(self, chunks: list[Chunk], articles: dict[str, Article]):
        self._chunks, self._articles = chunks, articles
        self._by_id: dict[str, Chunk] | None = None

    def _index(self) -> dict[str, Chunk]:
        if self._by_id is None:
            self._by_id = {c.id: c for c in self._chunks}
        return self._by_id

    def __getitem__(self, cid: str) -> str:
        return lexical_texts([self._index()[cid]], self._articles)[0]

    def __contains__(self, cid: object) -> bool:
        return cid in self._index()

    def __iter__(self):
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._chunks)


def empty_store(embedder: Embedder, chunking: Chunking) -> ArticleStore:
    return ArticleStore(embedder.name, embedder.dim, chunking)


def build_store(articles: Iterable[tuple[Article, str]], embedder: Embedder, chunking: Chunking,
                progress: Progress | None = None) -> ArticleStore:
    """A fresh snapshot with every article embedded: what a rebuild produces."""
    return empty_store(embedder, chunking).with_articles(articles, embedder, progress=progress)


class _Pinned(np.ndarray):
    """A view of FAISS's vector storage that keeps the index alive while in use."""

    owner: object = None


def _pinned_view(index, n: int, dim: int) -> np.ndarray:
    view = faiss.rev_swig_ptr(index.get_xb(), n * dim).reshape(n, dim).view(_Pinned)
    view.owner = index
    view.flags.writeable = False  # a snapshot is immutable
    return view


def _kw(c: Chunking) -> dict:
    return {"sentences": c.sentences, "overlap": c.overlap, "max_chars": c.max_chars}
