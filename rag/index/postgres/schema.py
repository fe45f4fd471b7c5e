"""The PostgreSQL index's schema: numbered migrations, and one generation's tables.

Shared tables (migrations): `schema_migrations`, `generations` (one row per index
generation: its layout and state), `index_state` (one row: the published generation,
its layout and the version counter). Per generation N, made by `create_generation`:

    articles_gN  id, title, text, url, published, source, hash, seq (insertion order)
    chunks_gN    seq (insertion order), id "<article>#<n>", article_id (cascade), start,
                 "end", title, text, dl (its BM25 token count), embedding vector(dim)
                 under an HNSW index (inner product, `create_hnsw`)
    postings_gN  term, chunk (seq, cascade), tf, dl (the chunk's length, repeated so that
                 a query reads the postings index alone): BM25's postings, tokenised in Python
                 exactly as the FAISS backend's bm25s index is (bm25.text_tokens)
    terms_gN     term -> number of chunks holding it (document frequency, for BM25's
                 idf); the row '' holds the chunk count, the row ' ' the tokens of all

A migration that changes per-generation tables loops over `generations` itself.
"""

from __future__ import annotations

import psycopg

MIGRATE_LOCK = 0x7261675F6D696772  # pg_advisory_xact_lock keys ("rag_migr", "rag_writ", ...)
WRITE_LOCK = 0x7261675F77726974
STAGING_LOCK = 0x72616753  # (STAGING_LOCK, generation): held while a staging block is open
HNSW_BUILD_MEMORY = "1GB"  # 100k chunks x 384 dims: about 200 MB of graph

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "vector extension, generations, index state", """
        CREATE EXTENSION IF NOT EXISTS vector;
        CREATE TABLE generations (
            id serial PRIMARY KEY,
            embedder text NOT NULL,
            dim int NOT NULL,
            chunking jsonb NOT NULL,
            state text NOT NULL CHECK (state IN ('staging', 'live', 'retired')),
            created timestamptz NOT NULL DEFAULT now());
        CREATE TABLE index_state (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            generation int REFERENCES generations (id),
            version bigint NOT NULL DEFAULT 0);
        INSERT INTO index_state DEFAULT VALUES;
    """),
    (2, "when a generation was retired (its tables outlive the swap for a while)", """
        ALTER TABLE generations ADD COLUMN retired timestamptz;
        UPDATE generations SET retired = now() WHERE state = 'retired';
    """),
    # Generations made before keep 'tsvector' and are reported as needing `rag rebuild`.
    (3, "the keyword index's format per generation (bm25: postings tokenised as bm25s does)", """
        ALTER TABLE generations ADD COLUMN lexical text NOT NULL DEFAULT 'tsvector';
    """),
]
LEXICAL_FORMAT = "bm25"  # what create_generation makes


def migrate(conn: psycopg.Connection) -> list[int]:
    """Apply the migrations not yet recorded, in order, in one transaction under an
    advisory lock (two processes starting at once: the second waits, then finds them
    applied). Returns the versions applied now."""
    applied_now = []
    if _up_to_date(conn):  # no lock, no write: also on a read-only replica
        return applied_now
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
        conn.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
            version int PRIMARY KEY, name text NOT NULL,
            applied timestamptz NOT NULL DEFAULT now())""")
        done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
        for version, name, sql in MIGRATIONS:
            if version not in done:
                conn.execute(sql)
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                             (version, name))
                applied_now.append(version)
    return applied_now


def _up_to_date(conn: psycopg.Connection) -> bool:
    if conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
        return False
    done = {v for (v,) in conn.execute("SELECT version FROM schema_migrations")}
    return all(version in done for version, _, _ in MIGRATIONS)


def table(kind: str, generation: int) -> str:
    """`articles_g3`: safe to put in SQL (the generation is an int)."""
    return f"{kind}_g{int(generation)}"


def create_generation(conn: psycopg.Connection, generation: int, dim: int) -> None:
    """The tables, without the HNSW index: `create_hnsw` builds it once the first rows
    are in (six times faster than inserting into the graph row by row)."""
    a, c, t, ps = (table(k, generation) for k in ("articles", "chunks", "terms", "postings"))
    conn.execute(f"""
        CREATE TABLE {a} (
            id text PRIMARY KEY, title text NOT NULL, text text NOT NULL, url text,
            published text, source text, hash text NOT NULL,
            seq bigserial NOT NULL UNIQUE);
        CREATE INDEX ON {a} (hash);
        CREATE TABLE {c} (
            seq bigserial PRIMARY KEY,
            id text NOT NULL UNIQUE,
            article_id text NOT NULL REFERENCES {a} (id) ON DELETE CASCADE,
            start int NOT NULL, "end" int NOT NULL,
            title text NOT NULL, text text NOT NULL, dl int NOT NULL,
            embedding vector({int(dim)}) NOT NULL);
        CREATE INDEX ON {c} (article_id);
        CREATE TABLE {ps} (
            term text NOT NULL, chunk bigint NOT NULL REFERENCES {c} (seq) ON DELETE CASCADE,
            tf int NOT NULL, dl int NOT NULL, PRIMARY KEY (term, chunk) INCLUDE (tf, dl));
        CREATE INDEX ON {ps} (chunk);
        CREATE TABLE {t} (lexeme text PRIMARY KEY, df bigint NOT NULL);
        INSERT INTO {t} VALUES ('', 0), (' ', 0);
    """)


def create_hnsw(conn: psycopg.Connection, generation: int) -> None:
    """In the caller's transaction; maintenance_work_mem should hold the graph
    (pgvector builds far slower once it spills)."""
    conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", (HNSW_BUILD_MEMORY,))
    conn.execute(f"CREATE INDEX IF NOT EXISTS {table('chunks', generation)}_hnsw "
                 f"ON {table('chunks', generation)} USING hnsw (embedding vector_ip_ops)")


def drop_generation(conn: psycopg.Connection, generation: int) -> list[str]:
    names = [table(k, generation) for k in ("postings", "chunks", "articles", "terms")]
    for name in names:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
    return names
