"""The index in PostgreSQL: articles, chunks, pgvector vectors (HNSW, inner product)
and BM25 keyword postings (tokenised as the FAISS backend's bm25s index) in one database.

Tables are per *generation* (schema.py); `index_state` names the published
one and counts versions. A write is one transaction under an advisory lock; a rebuild
fills a new generation beside the live one (`staging`) and a writer flips
`index_state` to it (`swap_in`); the old generation's tables are dropped a minute later.
Readers (snapshot.py) run each query on a pooled autocommit connection.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool

from rag.errors import Busy, IndexMismatch, IndexUnavailable
from rag.types import Article, Chunk
from rag.index.postgres.schema import (LEXICAL_FORMAT, STAGING_LOCK, WRITE_LOCK, create_generation, create_hnsw,
                              drop_generation, migrate, table)
from rag.index.bm25 import lexical_texts, text_tokens
from rag.index.postgres.snapshot import (ARTICLE_COLS, Db, PgSnapshot, layout_from,
                                     database_errors)
from rag.index.protocols import Layout

POOL_WAIT_S = 3.0
# A retired generation's tables are kept this long after the swap (readers of a
# snapshot taken before it; another server notices on its next request).
RETIRED_GRACE_S = 60.0


class PgWriter:
    """Writes into one generation on one connection. The backend's writer holds the
    write lock inside a transaction; a staging writer commits each `add`."""

    def __init__(self, conn: psycopg.Connection, gen: int, layout: Layout, version: str,
                 autocommit: bool = False, new: bool = False):
        self._conn, self._gen, self._layout, self._version = conn, gen, layout, version
        self._autocommit = autocommit
        self.needs_hnsw = new  # a new generation's HNSW index is built when it is published
        self.dirty = False
        self.staged: PgWriter | None = None
        self.open = True

    @property
    def generation(self) -> int:
        return self._gen

    @property
    def snapshot(self) -> PgSnapshot:
        return PgSnapshot(Db(conn=self._conn), self._gen, self._layout, self._version)

    def add(self, articles: Sequence[tuple[Article, str]], chunks: Sequence[Chunk],
            vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(chunks) and (vectors.ndim != 2 or vectors.shape[1] != self._layout.dim):
            raise IndexMismatch(f"vectors have {vectors.shape[-1]} dims, index has "
                                f"{self._layout.dim}: run `rag rebuild`")
        if len(vectors) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        by_id = {a.id: a for a, _ in articles}
        tokens = text_tokens(lexical_texts(list(chunks), by_id))  # as the FAISS backend's BM25
        a, c, ps = (table(k, self._gen) for k in ("articles", "chunks", "postings"))
        with self._tx():
            self._delete([x.id for x, _ in articles])
            with self._conn.cursor() as cur:
                with cur.copy(f"COPY {a} (id, title, text, url, published, source, hash) FROM STDIN") as cp:
                    for art, h in articles:
                        cp.write_row((art.id, art.title, art.text, art.url, art.published, art.source, h))
                with cur.copy(f'COPY {c} (id, article_id, start, "end", title, text, dl, embedding) '
                              "FROM STDIN WITH (FORMAT BINARY)") as cp:
                    cp.set_types(["text", "text", "int4", "int4", "text", "text", "int4", "vector"])
                    for ch, v, toks in zip(chunks, vectors, tokens):
                        cp.write_row((ch.id, ch.article_id, ch.start, ch.end, by_id[ch.article_id].title,
                                      ch.text, len(toks), v))
                seq = dict(self._conn.execute(f"SELECT id, seq FROM {c} WHERE article_id = ANY(%s)",
                                              (list(by_id),)).fetchall())
                df: Counter = Counter()
                with cur.copy(f"COPY {ps} (term, chunk, tf, dl) FROM STDIN") as cp:
                    for ch, toks in zip(chunks, tokens):
                        tf = Counter(toks)
                        df.update(tf.keys())
                        for term, n in tf.items():
                            cp.write_row((term, seq[ch.id], n, len(toks)))
            df[""], df[" "] = len(chunks), sum(len(t) for t in tokens)
            self._add_terms(list(df), list(df.values()))
            self.dirty = True
        if not self._autocommit:
            # The live index's first rows: build the graph now, not at commit, so that
            # searches in this transaction (the near-duplicate check) use it instead of
            # scanning every vector once per new article (quadratic in a first bulk ingest:
            # 249 chunks/s at 10k, bench_stores.py). Later adds go into the graph.
            self.build_hnsw()

    def delete(self, article_ids: Iterable[str]) -> None:
        with self._tx():
            self._delete(list(article_ids))

    def swap_in(self, staged: "PgWriter") -> None:
        if not isinstance(staged, PgWriter) or not staged._autocommit or not staged.open:
            raise ValueError("swap_in takes the Writer of an open PostgresBackend.staging block")
        staged.build_hnsw()
        self.staged, self.dirty = staged, True

    def build_hnsw(self) -> None:
        if self.needs_hnsw:
            with self._tx():
                create_hnsw(self._conn, self._gen)
            self.needs_hnsw = False

    def _delete(self, ids: list[str]) -> None:
        if ids:
            self._forget_terms(ids)
            n = self._conn.execute(f"DELETE FROM {table('articles', self._gen)} WHERE id = ANY(%s)", (ids,))
            self.dirty = self.dirty or bool(n.rowcount)

    def _add_terms(self, terms: list[str], counts: list[int]) -> None:
        """Keep terms_gN in step: document frequencies, the chunk count (row '') and the
        token count of all chunks (row ' ', for the mean chunk length)."""
        t = table("terms", self._gen)
        self._conn.execute(f"""
            INSERT INTO {t} (lexeme, df) SELECT * FROM unnest(%s::text[], %s::bigint[])
            ON CONFLICT (lexeme) DO UPDATE SET df = {t}.df + excluded.df""", (terms, counts))

    def _forget_terms(self, article_ids: list[str]) -> None:
        c, ps = table("chunks", self._gen), table("postings", self._gen)
        rows = self._conn.execute(f"""
            SELECT p.term, count(*) FROM {ps} p JOIN {c} ch ON ch.seq = p.chunk
            WHERE ch.article_id = ANY(%(ids)s) GROUP BY p.term
            UNION ALL SELECT '', count(*) FROM {c} WHERE article_id = ANY(%(ids)s)
            UNION ALL SELECT ' ', coalesce(sum(dl), 0) FROM {c} WHERE article_id = ANY(%(ids)s)""",
                                  {"ids": article_ids}).fetchall()
        self._add_terms([term for term, _ in rows], [-n for _, n in rows])

    @contextmanager
    def _tx(self) -> Iterator[None]:
        if not self.open:
            raise RuntimeError("this Writer's block has ended")
        if self._autocommit:
            with self._conn.transaction():
                yield
        else:
            yield


class PostgresBackend:
    """`Backend` on PostgreSQL + pgvector: ``PostgresBackend("postgresql://...", layout)``."""

    def __init__(self, url: str, layout: Layout, pool_size: int = 8):
        self.url, self.layout = url, layout
        with database_errors(), psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            self.migrated = migrate(conn)  # the versions applied by this start (tests)
        # A request waits at most POOL_WAIT_S for a connection (the database is away: a
        # 503 then, not a hang); connections are checked before use, so that a restarted
        # database is used again at once (measured: within 0.2 s).
        self._pool = ConnectionPool(url, min_size=1, max_size=pool_size, timeout=POOL_WAIT_S,
                                    kwargs={"autocommit": True, "connect_timeout": 10},
                                    check=ConnectionPool.check_connection,
                                    configure=register_vector, open=True)

    def _state(self, db: Db) -> tuple[int | None, str, Layout | None]:
        (gen, version, emb, dim, chunking), = db.rows(
            "SELECT s.generation, s.version, g.embedder, g.dim, g.chunking FROM index_state s "
            "LEFT JOIN generations g ON g.id = s.generation")
        return gen, (str(version) if version else ""), (layout_from(emb, dim, chunking) if gen else None)

    def exists(self) -> bool:
        return self._state(Db(self._pool))[0] is not None

    def version(self) -> str | None:
        """The published version (one small query), None if nothing was published."""
        gen, version, _ = self._state(Db(self._pool))
        return version if gen is not None else None

    def current(self) -> PgSnapshot:
        db = Db(self._pool)
        gen, version, layout = self._state(db)
        if gen is None:
            raise IndexUnavailable("no index in the database yet: add articles first")
        (lexical,), = db.rows("SELECT lexical FROM generations WHERE id = %s", (gen,))
        if lexical != LEXICAL_FORMAT:
            raise IndexMismatch(f"the index's keyword side is of an older format ({lexical}): run `rag rebuild`")
        if layout != self.layout:
            raise IndexMismatch(f"the index was built with {layout.embedder} ({layout.dim} dims, "
                                f"{layout.chunking.to_dict()}), the configuration says {self.layout.embedder} "
                                f"({self.layout.dim} dims, {self.layout.chunking.to_dict()}): run `rag rebuild`")
        return PgSnapshot(db, gen, layout, version)

    @contextmanager
    def writing(self, timeout: float | None = None) -> Iterator[PgWriter]:
        with database_errors(), self._pool.connection() as conn:
            with conn.transaction():
                deadline = None if timeout is None else time.monotonic() + timeout
                while not conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (WRITE_LOCK,)).fetchone()[0]:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise Busy("another process is changing the index; try again shortly")
                    time.sleep(0.05)
                gen, version, layout = self._state(Db(conn=conn))
                new = gen is None
                if new:  # the first write makes generation 1 (undone if nothing is written)
                    gen, layout = self._new_generation(conn, self.layout, "live"), self.layout
                    conn.execute("UPDATE index_state SET generation = %s", (gen,))
                writer = PgWriter(conn, gen, layout, version, new=new)
                try:
                    yield writer
                    if not writer.dirty:
                        raise _NothingToPublish
                    writer.build_hnsw()
                    if writer.staged is not None:
                        new = writer.staged.generation
                        conn.execute("UPDATE generations SET state = 'live' WHERE id = %s", (new,))
                        conn.execute("UPDATE generations SET state = 'retired', retired = now() "
                                     "WHERE id = %s", (gen,))
                        conn.execute("UPDATE index_state SET generation = %s", (new,))
                    conn.execute("UPDATE index_state SET version = version + 1")
                except _NothingToPublish:
                    raise psycopg.Rollback from None
                finally:
                    writer.open = False
        if writer.staged is not None:
            writer.staged.open = False  # the live index: written to under the lock only
            self._drop_retired()

    @contextmanager
    def staging(self, layout: Layout) -> Iterator[PgWriter]:
        with database_errors(), self._pool.connection() as conn:
            with conn.transaction():
                gen = self._new_generation(conn, layout, "staging")
            conn.execute("SELECT pg_advisory_lock(%s, %s)", (STAGING_LOCK, gen))
            writer = PgWriter(conn, gen, layout, "", autocommit=True, new=True)
            try:
                yield writer
            finally:
                writer.open = False
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (STAGING_LOCK, gen))
                (state,), = conn.execute("SELECT state FROM generations WHERE id = %s", (gen,)).fetchall()
                if state == "staging":
                    self._drop(gen)

    def stored_articles(self) -> tuple[list[tuple[Article, str]], str]:
        with database_errors(), self._pool.connection() as conn:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                gen, version, _ = self._state(Db(conn=conn))
                if gen is None:
                    return [], ""
                rows = conn.execute(f"SELECT {ARTICLE_COLS}, hash FROM {table('articles', gen)} "
                                    "ORDER BY seq").fetchall()
        return [(Article(*r[:6]), r[6]) for r in rows], version

    def clean_up(self) -> list[str]:
        """Drop the tables of generations left unpublished by a killed rebuild (no live
        process holds their staging lock) and of retired ones not yet dropped."""
        dropped = []
        with database_errors(), self._pool.connection() as conn:
            if conn.execute("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'"
                            ).fetchone()[0]:
                return []  # a replica: the primary cleans up
            for gen, state in conn.execute("SELECT id, state FROM generations WHERE state <> 'live' "
                                           "ORDER BY id").fetchall():
                if state == "staging":
                    if not conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (STAGING_LOCK, gen)).fetchone()[0]:
                        continue  # a rebuild in progress
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (STAGING_LOCK, gen))
                    dropped += self._drop(gen, conn)
            dropped += self._drop_retired(conn)
        return dropped

    def _drop_retired(self, conn: psycopg.Connection | None = None) -> list[str]:
        """Drop generations retired more than RETIRED_GRACE_S ago. Until then a request
        that took its snapshot before the swap (here or in another server) finishes on
        the old tables, as FAISS readers keep the previous version's files."""
        if conn is None:
            with self._pool.connection() as c:
                return self._drop_retired(c)
        old = conn.execute("SELECT id FROM generations WHERE state = 'retired' AND retired < "
                           "now() - make_interval(secs => %s) ORDER BY id", (RETIRED_GRACE_S,)).fetchall()
        return [name for (gen,) in old for name in self._drop(gen, conn)]

    def close(self) -> None:
        self._pool.close()

    @staticmethod
    def _new_generation(conn: psycopg.Connection, layout: Layout, state: str) -> int:
        (gen,), = conn.execute("INSERT INTO generations (embedder, dim, chunking, state, lexical) "
                               "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                               (layout.embedder, layout.dim, json.dumps(layout.chunking.to_dict()),
                                state, LEXICAL_FORMAT)).fetchall()
        create_generation(conn, gen, layout.dim)
        return gen

    def _drop(self, gen: int, conn: psycopg.Connection | None = None) -> list[str]:
        if conn is None:
            with self._pool.connection() as c:
                return self._drop(gen, c)
        with conn.transaction():
            names = drop_generation(conn, gen)
            conn.execute("DELETE FROM generations WHERE id = %s", (gen,))
        return names


class _NothingToPublish(Exception):
    pass
