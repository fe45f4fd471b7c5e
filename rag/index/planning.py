"""What an ingest does with each article (add, update, skip) and what it reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable

import numpy as np

from rag.documents import content_hash
from rag.index.protocols import Snapshot
from rag.types import Article

STATUSES = ("added", "updated", "unchanged", "duplicate", "rejected")
# A new article whose sampled chunks all have a near-identical chunk (cosine) in one
# other article is reported as a near-duplicate (a wire copy with small edits).
NEAR_DUPLICATE_COS = 0.97


@dataclass(frozen=True)
class ItemResult:
    id: str | None
    status: str  # added | updated | unchanged | duplicate | rejected | deleted
    title: str | None = None
    reason: str | None = None
    duplicate_of: str | None = None
    near_duplicate_of: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None or k == "id"}


@dataclass
class IngestReport:
    items: list[ItemResult] = field(default_factory=list)
    articles: int = 0
    chunks: int = 0
    version: str = ""

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in STATUSES + ("deleted",) if self.count(s)]
        near = sum(1 for i in self.items if i.near_duplicate_of)
        if near:
            parts.append(f"{near} near-duplicate{'s' * (near > 1)} reported")
        return (", ".join(parts) or "nothing to do") + f"; index has {self.articles} articles, {self.chunks} chunks"

    def to_dict(self) -> dict:
        return {"items": [i.to_dict() for i in self.items],
                "counts": {s: self.count(s) for s in STATUSES},
                "articles": self.articles, "chunks": self.chunks, "index_version": self.version}


def plan(snapshot: Snapshot, articles: Iterable[Article]) -> tuple[list[tuple[Article, str]], list[ItemResult]]:
    """Decide per article: add, update (same id, new text), skip as unchanged or duplicate."""
    articles = list(articles)
    new_hashes = [content_hash(a.text) for a in articles]
    stored = snapshot.hashes({a.id for a in articles})  # id -> hash, of these ids
    by_hash = snapshot.ids_by_hash(set(new_hashes) | set(stored.values()))
    todo: list[tuple[Article, str]] = []
    results: list[ItemResult] = []
    batch_ids: set[str] = set()
    for a, h in zip(articles, new_hashes):
        if a.id in batch_ids:
            results.append(ItemResult(a.id, "duplicate", a.title, "id repeated in this batch", a.id))
            continue
        batch_ids.add(a.id)
        if stored.get(a.id) == h:
            results.append(ItemResult(a.id, "unchanged", a.title))
        elif h in by_hash and by_hash[h] != a.id:
            results.append(ItemResult(a.id, "duplicate", a.title, "same text as another article", by_hash[h]))
        else:
            results.append(ItemResult(a.id, "updated" if a.id in stored else "added", a.title))
            todo.append((a, h))
            if by_hash.get(stored.get(a.id)) == a.id:  # its old text is gone
                del by_hash[stored[a.id]]
            by_hash[h] = a.id
    return todo, results


def mark_near_duplicates(snapshot: Snapshot, new_ids: set[str], results: list[ItemResult]) -> list[ItemResult]:
    """Flag new articles whose first and last chunks each have a near-identical
    chunk in one same other article. Reported, not skipped: the text does differ."""
    if not new_ids or snapshot.article_count < 2:
        return results
    found: dict[str, str] = {}
    for aid in sorted(new_ids):
        chunks = snapshot.article_chunks(aid)
        if not chunks:
            continue
        sample = list(dict.fromkeys([chunks[0].id, chunks[-1].id]))
        common: set[str] | None = None
        for vec in snapshot.vectors.vectors(sample):
            hits = snapshot.vectors.search(np.ascontiguousarray(vec, dtype=np.float32), 4)
            close = [cid for cid, cos in hits if cos >= NEAR_DUPLICATE_COS]
            near = {c.article_id for c in snapshot.chunks(close)} - {aid}
            common = near if common is None else common & near
        if common:
            found[aid] = sorted(common)[0]
    return [ItemResult(**{**asdict(r), "near_duplicate_of": found[r.id]})
            if r.id in found and r.status in ("added", "updated") else r for r in results]
