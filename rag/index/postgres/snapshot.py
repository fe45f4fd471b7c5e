"""Reading the PostgreSQL index: a snapshot of one generation, its vector search
(pgvector HNSW, inner product) and keyword search (BM25 over postings, as bm25s), and the
database's failures as the errors the API reports. Each query runs on a pooled
autocommit connection, or inside the writer's transaction for the writer's own view."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence

import numpy as np
import psycopg
from psycopg_pool import ConnectionPool

from rag.errors import IndexMismatch, IndexUnavailable
from rag.index.bm25 import B, K1, query_tokens
from rag.index.postgres.schema import table
from rag.index.protocols import Chunking, Layout
from rag.types import Article, Chunk

ARTICLE_COLS = "id, title, text, url, published, source"
CHUNK_COLS = 'id, article_id, text, start, "end"'


def layout_from(embedder: str, dim: int, chunking: dict) -> Layout:
    return Layout(embedder, dim, Chunking(**chunking))


@contextmanager
def database_errors() -> Iterator[None]:
    """The database's failures as the errors the API and CLI report (503 with a reason,
    one line), not stack traces."""
    try:
        yield
    except psycopg.errors.ReadOnlySqlTransaction:
        raise IndexUnavailable("the database is read-only (a replica?): send changes to the primary") from None
    except psycopg.errors.UndefinedColumn:
        raise IndexMismatch("the index's tables are of an older format: run `rag rebuild`") from None
    except psycopg.errors.UndefinedTable:
        raise IndexUnavailable("the index was replaced by a rebuild meanwhile; try again") from None
    except psycopg.OperationalError as exc:  # also the pool's timeout
        reason = (str(exc).strip().splitlines() or ["no reason given"])[-1]
        raise IndexUnavailable(f"the database is unreachable: {reason}") from None


class Db:
    """Runs a query on the writer's connection (inside its transaction), or on a pooled
    autocommit connection (a reader)."""

    def __init__(self, pool: ConnectionPool | None = None, conn: psycopg.Connection | None = None):
        self.pool, self.conn = pool, conn

    def rows(self, sql: str, params: Sequence = (), ef_search: int | None = None) -> list[tuple]:
        with database_errors():
            if self.conn is not None:
                return self._run(self.conn, sql, params, ef_search)
            with self.pool.connection() as conn:
                if ef_search is None:
                    return conn.execute(sql, params).fetchall()
                with conn.transaction():  # for set_config(..., is_local)
                    return self._run(conn, sql, params, ef_search)

    @staticmethod
    def _run(conn, sql, params, ef_search):
        if ef_search:
            conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef_search),))
        return conn.execute(sql, params).fetchall()


class _Vectors:
    def __init__(self, db: Db, gen: int, dim: int):
        self._db, self._c, self._dim = db, table("chunks", gen), dim

    def __len__(self) -> int:
        return self._db.rows(f"SELECT count(*) FROM {self._c}")[0][0]

    def search(self, query: np.ndarray, k: int) -> list[tuple[str, float]]:
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        rows = self._db.rows(f"SELECT id, embedding <#> %s AS d FROM {self._c} ORDER BY d LIMIT %s",
                             (q, k), ef_search=max(100, 2 * k))
        return [(cid, -float(d)) for cid, d in rows]

    def vectors(self, ids: Sequence[str]) -> np.ndarray:
        got = dict(self._db.rows(f"SELECT id, embedding FROM {self._c} WHERE id = ANY(%s)", (list(ids),)))
        out = np.zeros((len(ids), self._dim), dtype=np.float32)
        for i, cid in enumerate(ids):
            if cid in got:  # deleted since it was found: no similarity
                out[i] = got[cid].to_numpy()
        return out


class _Lexical:
    """BM25 over the postings: the same tokens, formula and statistics as the FAISS
    backend's bm25s index (bm25.py), so both rank chunks alike."""

    def __init__(self, db: Db, gen: int):
        self._db, self._c = db, table("chunks", gen)
        self._p, self._t = table("postings", gen), table("terms", gen)

    def __len__(self) -> int:
        return self._db.rows(f"SELECT count(*) FROM {self._c}")[0][0]

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        counts = Counter(query_tokens(query))
        if not counts or k <= 0:
            return []
        rows = self._db.rows(f"""
            WITH n AS (
                SELECT max(df) FILTER (WHERE lexeme = '') AS n, max(df) FILTER (WHERE lexeme = ' ') AS tokens
                FROM {self._t} WHERE lexeme IN ('', ' ')),
            w AS (
                SELECT q.term, q.qn * ln(1 + (n.n - t.df + 0.5) / (t.df + 0.5)) AS weight,
                       CASE WHEN n.n > 0 AND n.tokens > 0 THEN n.tokens::float8 / n.n ELSE 1 END AS avgdl
                FROM unnest(%(terms)s::text[], %(qn)s::int[]) AS q(term, qn)
                JOIN {self._t} t ON t.lexeme = q.term, n WHERE t.df > 0),
            top AS (
                SELECT p.chunk, sum(w.weight * p.tf / (p.tf + {K1} * ((1 - {B}) + {B} * p.dl / w.avgdl))) AS score
                FROM w JOIN {self._p} p ON p.term = w.term
                GROUP BY p.chunk ORDER BY score DESC, p.chunk LIMIT %(k)s)
            SELECT c.id, top.score FROM top JOIN {self._c} c ON c.seq = top.chunk
            ORDER BY top.score DESC, top.chunk""",
                             {"terms": list(counts), "qn": list(counts.values()), "k": k})
        return [(cid, float(s)) for cid, s in rows if s > 0]


class PgSnapshot:
    """A read view of one generation. Each method is one query: a request that reads
    while a writer commits sees the newer rows in its later reads."""

    def __init__(self, db: Db, gen: int, layout: Layout, version: str):
        self._db, self.version, self.layout, self.generation = db, version, layout, gen
        self._a, self._c = table("articles", gen), table("chunks", gen)
        self.vectors = _Vectors(db, gen, layout.dim)
        self.lexical = _Lexical(db, gen)

    @property
    def article_count(self) -> int:
        return self._db.rows(f"SELECT count(*) FROM {self._a}")[0][0]

    @property
    def chunk_count(self) -> int:
        return self._db.rows(f"SELECT count(*) FROM {self._c}")[0][0]

    def hashes(self, ids: Iterable[str] | None = None) -> dict[str, str]:
        if ids is None:
            return dict(self._db.rows(f"SELECT id, hash FROM {self._a}"))
        return dict(self._db.rows(f"SELECT id, hash FROM {self._a} WHERE id = ANY(%s)", (list(ids),)))

    def ids_by_hash(self, hashes: Iterable[str]) -> dict[str, str]:
        return dict(self._db.rows(f"SELECT DISTINCT ON (hash) hash, id FROM {self._a} "
                                  "WHERE hash = ANY(%s) ORDER BY hash, seq", (list(hashes),)))

    def articles(self, ids: Iterable[str]) -> dict[str, Article]:
        rows = self._db.rows(f"SELECT {ARTICLE_COLS} FROM {self._a} WHERE id = ANY(%s)", (list(ids),))
        return {r[0]: Article(*r) for r in rows}

    def all_articles(self) -> list[tuple[Article, int]]:
        rows = self._db.rows(f"""SELECT {ARTICLE_COLS}, coalesce(n, 0) FROM {self._a} a
            LEFT JOIN (SELECT article_id, count(*) AS n FROM {self._c} GROUP BY 1) c
            ON c.article_id = a.id ORDER BY a.seq""")
        return [(Article(*r[:6]), r[6]) for r in rows]

    def article_chunks(self, article_id: str) -> list[Chunk]:
        return [Chunk(*r) for r in self._db.rows(
            f"SELECT {CHUNK_COLS} FROM {self._c} WHERE article_id = %s ORDER BY seq", (article_id,))]

    def chunks(self, ids: Sequence[str]) -> list[Chunk]:
        got = {r[0]: Chunk(*r) for r in self._db.rows(
            f"SELECT {CHUNK_COLS} FROM {self._c} WHERE id = ANY(%s)", (list(ids),))}
        return [got[i] for i in ids if i in got]  # a chunk deleted since it was found is left out

    def order(self, ids: Sequence[str]) -> list[int]:
        got = dict(self._db.rows(f"SELECT id, seq FROM {self._c} WHERE id = ANY(%s)", (list(ids),)))
        return [got.get(i, 2**62) for i in ids]
