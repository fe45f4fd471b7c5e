"""PostgresBackend against a real throwaway PostgreSQL 18 + pgvector (tests/pg_server.py):
one server per session, one fresh database per test."""

from __future__ import annotations

import json
import math
import threading
import time
import uuid

import numpy as np
import psycopg
import pytest

from rag.errors import Busy, IndexMismatch, IndexUnavailable
from rag.index.postgres import backend as postgres
from rag.index.bm25 import Bm25Index, lexical_texts
from rag.index.postgres.backend import PostgresBackend
from rag.index.postgres.schema import MIGRATIONS
from rag.index.protocols import Chunking, Layout
from rag.types import Article, Chunk
from tests.pg_server import pg_server, start_postgres  # noqa: F401  (the fixture)

DIM = 4
LAYOUT = Layout("test-embedder", DIM, Chunking())
E = np.eye(DIM, dtype=np.float32)


def article(aid: str, title: str, *sentences: str) -> tuple[Article, list[Chunk]]:
    """An article whose chunks are its sentences (text == article.text[start:end])."""
    text = " ".join(sentences)
    chunks, pos = [], 0
    for n, s in enumerate(sentences):
        chunks.append(Chunk(f"{aid}#{n}", aid, s, pos, pos + len(s)))
        pos += len(s) + 1
    return Article(aid, title, text, url=f"https://example.org/{aid}"), chunks


def add(writer, *items: tuple[Article, list[Chunk], np.ndarray]) -> None:
    writer.add([(a, f"hash-{a.id}") for a, _, _ in items], [c for _, cs, _ in items for c in cs],
               np.vstack([v for _, _, v in items]))


A, A_CHUNKS = article("a", "Alpha", "The zeppelin landed in the city.", "The city council met in the city hall.")
B, B_CHUNKS = article("b", "Beta", "Another city story.")
C, C_CHUNKS = article("c", "Gamma", "Weather report for today.")
A_VECS = E[[0, 1]]
B_VECS = E[[2]]
C_VECS = E[[3]]


@pytest.fixture
def db_url(pg_server):  # noqa: F811
    name = "t_" + uuid.uuid4().hex[:12]
    admin = pg_server.url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield admin.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def backend(db_url):
    b = PostgresBackend(db_url, LAYOUT)
    yield b
    b.close()


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_first_start_creates_the_schema_and_records_migrations(db_url):
    b = PostgresBackend(db_url, LAYOUT)
    b2 = PostgresBackend(db_url, LAYOUT)
    try:
        assert b.migrated == [v for v, _, _ in MIGRATIONS] and b2.migrated == []
        assert tables(db_url) == {"schema_migrations", "generations", "index_state"}
        with psycopg.connect(db_url) as conn:
            assert conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall() == [
                (v, name) for v, name, _ in MIGRATIONS]
        assert not b.exists()
        with pytest.raises(IndexUnavailable):
            b.current()
        assert b.stored_articles() == ([], "")
    finally:
        b.close()
        b2.close()


def test_a_database_of_an_older_release_is_migrated_on_start(db_url):
    """A database at migration 1, with a retired generation: migration 2 adds when it
    was retired, once, and keeps the data."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (version int PRIMARY KEY, name text NOT NULL, "
                     "applied timestamptz NOT NULL DEFAULT now())")
        version, name, sql = MIGRATIONS[0]
        conn.execute(sql)
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
        conn.execute("""INSERT INTO generations (embedder, dim, chunking, state) VALUES ('e', 4, '{}', 'retired')""")
    b = PostgresBackend(db_url, LAYOUT)
    try:
        assert b.migrated == [v for v, _, _ in MIGRATIONS[1:]]
        with psycopg.connect(db_url, autocommit=True) as conn:
            assert conn.execute("SELECT state, retired IS NOT NULL, lexical FROM generations").fetchall() == [
                ("retired", True, "tsvector")]
            # Published, an index of the old keyword format asks for a rebuild.
            conn.execute("UPDATE generations SET state = 'live', embedder = 'test-embedder', "
                         "chunking = %s", (json.dumps(Chunking().to_dict()),))
            conn.execute("UPDATE index_state SET generation = (SELECT id FROM generations), version = 1")
        with pytest.raises(IndexMismatch, match=r"older format.*: run `rag rebuild`$"):
            b.current()
    finally:
        b.close()


def test_two_processes_starting_at_once_apply_the_migrations_once(db_url):
    out, errors = [], []

    def start():
        try:
            out.append(PostgresBackend(db_url, LAYOUT))
        except Exception as exc:  # pragma: no cover - the failure is the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for b in out:
        b.close()
    assert errors == []
    assert sorted(len(b.migrated) for b in out) == [0, 0, len(MIGRATIONS)]


def test_add_search_and_delete(backend):
    with backend.writing() as w:
        add(w, (A, A_CHUNKS, A_VECS), (B, B_CHUNKS, B_VECS))
    assert backend.exists()
    s = backend.current()
    assert s.version == "1" and s.layout == LAYOUT
    assert (s.article_count, s.chunk_count, len(s.vectors), len(s.lexical)) == (2, 3, 3, 3)
    assert s.hashes() == {"a": "hash-a", "b": "hash-b"}
    assert s.hashes(["b", "zz"]) == {"b": "hash-b"}
    assert s.ids_by_hash(["hash-a", "nope"]) == {"hash-a": "a"}
    assert s.articles(["a", "zz"]) == {"a": A}
    assert s.all_articles() == [(A, 2), (B, 1)]
    assert s.article_chunks("a") == A_CHUNKS
    assert s.chunks(["b#0", "a#1"]) == [B_CHUNKS[0], A_CHUNKS[1]]
    assert s.order(["b#0", "a#0", "a#1"]) == [3, 1, 2]
    np.testing.assert_array_equal(s.vectors.vectors(["b#0", "a#0"]), E[[2, 0]])
    q = (E[0] + E[1] * 0.5) / math.sqrt(1.25)
    hits = s.vectors.search(q, 3)
    assert [h[0] for h in hits] == ["a#0", "a#1", "b#0"]
    assert [h[1] for h in hits] == pytest.approx([1 / math.sqrt(1.25), 0.5 / math.sqrt(1.25), 0.0], abs=1e-6)

    with backend.writing() as w:
        w.delete(["a", "missing"])
    s = backend.current()
    assert s.version == "2"
    assert (s.article_count, s.chunk_count) == (1, 1)
    assert s.vectors.search(E[0], 5) == [("b#0", pytest.approx(0.0, abs=1e-6))]
    assert s.lexical.search("zeppelin", 5) == []
    with backend.writing() as w:  # nothing changed: nothing published
        w.delete(["missing"])
    assert backend.current().version == "2"


def test_adding_an_article_again_replaces_it(backend):
    with backend.writing() as w:
        add(w, (A, A_CHUNKS, A_VECS), (B, B_CHUNKS, B_VECS))
    a2, a2_chunks = article("a", "Alpha 2", "Only one sentence now.")
    with backend.writing() as w:
        w.add([(a2, "hash-a2")], a2_chunks, E[[3]])
    s = backend.current()
    assert s.all_articles() == [(B, 1), (a2, 1)]
    assert s.hashes() == {"a": "hash-a2", "b": "hash-b"}
    assert s.article_chunks("a") == a2_chunks
    assert s.order(["b#0", "a#0"]) == [3, 4]


def test_the_writer_sees_its_own_changes_and_readers_only_after_commit(backend):
    with backend.writing() as w:
        add(w, (A, A_CHUNKS, A_VECS))
    with backend.writing() as w:
        add(w, (B, B_CHUNKS, B_VECS))
        assert w.snapshot.hashes() == {"a": "hash-a", "b": "hash-b"}
        assert w.snapshot.vectors.search(E[2], 1) == [("b#0", pytest.approx(1.0))]
        assert [h[0] for h in w.snapshot.lexical.search("another story", 5)] == ["b#0"]
        assert backend.current().hashes() == {"a": "hash-a"}  # not yet published
        assert backend.current().version == "1"
    assert backend.current().hashes() == {"a": "hash-a", "b": "hash-b"}


def test_an_error_in_the_block_rolls_back_and_loses_nothing_published(backend):
    with backend.writing() as w:
        add(w, (A, A_CHUNKS, A_VECS))
    with pytest.raises(RuntimeError, match="boom"):
        with backend.writing() as w:
            w.delete(["a"])
            add(w, (B, B_CHUNKS, B_VECS))
            raise RuntimeError("boom")
    s = backend.current()
    assert (s.version, s.hashes(), s.chunk_count) == ("1", {"a": "hash-a"}, 2)
    assert [h[0] for h in s.lexical.search("zeppelin", 5)] == ["a#0"]


def test_a_first_write_that_fails_leaves_no_index(backend, db_url):
    with pytest.raises(RuntimeError):
        with backend.writing() as w:
            add(w, (A, A_CHUNKS, A_VECS))
            raise RuntimeError("boom")
    assert not backend.exists()
    assert tables(db_url) == {"schema_migrations", "generations", "index_state"}


def test_two_backends_on_one_database_see_each_others_writes(backend, db_url):
    other = PostgresBackend(db_url, LAYOUT)
    try:
        with backend.writing() as w:
            add(w, (A, A_CHUNKS, A_VECS))
        with other.writing() as w:
            assert w.snapshot.hashes() == {"a": "hash-a"}
            add(w, (B, B_CHUNKS, B_VECS))
        assert backend.current().version == other.current().version == "2"
        assert backend.current().hashes() == {"a": "hash-a", "b": "hash-b"}
        assert backend.stored_articles() == ([(A, "hash-a"), (B, "hash-b")], "2")
    finally:
        other.close()


def test_busy_while_another_writer_holds_the_lock(backend, db_url):
    other = PostgresBackend(db_url, LAYOUT)
    try:
        with backend.writing():
            t0 = time.monotonic()
            with pytest.raises(Busy, match="another process is changing the index"):
                with other.writing(timeout=0.3):
                    pass
            assert 0.3 <= time.monotonic() - t0 < 2
        with other.writing(timeout=0.3) as w:  # released at the end of the block
            add(w, (A, A_CHUNKS, A_VECS))
        assert backend.current().hashes() == {"a": "hash-a"}
    finally:
        other.close()


def test_staging_and_swap_in_replace_the_index(backend, db_url, monkeypatch):
    with backend.writing() as w:
        add(w, (A, A_CHUNKS, A_VECS))
    new_layout = Layout("other-embedder", 3, Chunking(sentences=2))
    with backend.staging(new_layout) as new:
        add(new, (A, A_CHUNKS, np.eye(3, dtype=np.float32)[[0, 1]]))
        assert backend.current().version == "1"  # readers go on with the old one
        assert tables(db_url) >= {"articles_g1", "chunks_g1", "articles_g2", "chunks_g2"}
        with backend.writing() as w:
            add(new, (B, B_CHUNKS, np.eye(3, dtype=np.float32)[[2]]))  # what changed meanwhile
            w.swap_in(new)
    # The old generation outlives the swap for a while (a request that took its snapshot
    # before it finishes there), then goes.
    assert tables(db_url) >= {"articles_g1", "chunks_g1", "terms_g1", "articles_g2"}
    assert backend.clean_up() == []
    monkeypatch.setattr(postgres, "RETIRED_GRACE_S", 0.0)
    assert sorted(backend.clean_up()) == ["articles_g1", "chunks_g1", "postings_g1", "terms_g1"]
    assert tables(db_url) == {"schema_migrations", "generations", "index_state",
                              "articles_g2", "chunks_g2", "postings_g2", "terms_g2"}
    with pytest.raises(IndexMismatch, match=r": run `rag rebuild`$"):
        backend.current()
    rebuilt = PostgresBackend(db_url, new_layout)
    try:
        s = rebuilt.current()
        assert (s.version, s.layout, s.generation) == ("2", new_layout, 2)
        assert s.hashes() == {"a": "hash-a", "b": "hash-b"}
        assert s.vectors.search(np.array([0, 0, 1], dtype=np.float32), 1) == [("b#0", pytest.approx(1.0))]
        assert rebuilt.stored_articles() == ([(A, "hash-a"), (B, "hash-b")], "2")
    finally:
        rebuilt.close()


def test_staging_without_swap_in_leaves_no_tables(backend, db_url):
    with backend.writing() as w:
        add(w, (A, A_CHUNKS, A_VECS))
    with backend.staging(LAYOUT) as new:
        add(new, (B, B_CHUNKS, B_VECS))
    with pytest.raises(ValueError):
        with backend.staging(LAYOUT) as new:
            add(new, (B, B_CHUNKS, B_VECS))
            raise ValueError
    assert tables(db_url) == {"schema_migrations", "generations", "index_state",
                              "articles_g1", "chunks_g1", "postings_g1", "terms_g1"}
    assert backend.current().hashes() == {"a": "hash-a"}


def test_clean_up_drops_what_a_killed_rebuild_left_but_not_a_running_one(backend, db_url):
    with backend.writing() as w:
        add(w, (A, A_CHUNKS, A_VECS))
    with psycopg.connect(db_url, autocommit=True) as conn:  # a rebuild killed mid-way
        backend._new_generation(conn, LAYOUT, "staging")
    with backend.staging(LAYOUT):  # a rebuild still running (generation 3)
        assert backend.clean_up() == ["postings_g2", "chunks_g2", "articles_g2", "terms_g2"]
        assert "chunks_g3" in tables(db_url)
    assert backend.clean_up() == []
    assert backend.current().hashes() == {"a": "hash-a"}


def test_another_layout_is_a_mismatch(backend, db_url):
    with backend.writing() as w:
        add(w, (A, A_CHUNKS, A_VECS))
    for layout in (Layout("other", DIM, Chunking()), Layout("test-embedder", DIM, Chunking(overlap=0))):
        other = PostgresBackend(db_url, layout)
        try:
            with pytest.raises(IndexMismatch, match=r": run `rag rebuild`$"):
                other.current()
            assert other.stored_articles() == ([(A, "hash-a")], "1")  # the rebuild's input
        finally:
            other.close()


def test_keyword_search_scores_exactly_as_the_faiss_backends_bm25(backend):
    """Same tokens (bm25s'), same BM25 (k1 1.5, b 0.75, idf over live chunks): the
    PostgreSQL postings rank and score every query as the bm25s index does, also after
    a delete changed the statistics."""
    with backend.writing() as w:
        add(w, (A, A_CHUNKS, A_VECS), (B, B_CHUNKS, B_VECS), (C, C_CHUNKS, C_VECS))

    def bm25(items):
        chunks = [c for _, cs in items for c in cs]
        ref = Bm25Index.build([c.id for c in chunks], lexical_texts(chunks, {a.id: a for a, _ in items}))
        live = {c.id: i for i, c in enumerate(chunks)}
        return lambda q: [(chunks[i].id, s) for i, s in ref.for_live(live).search(q, 10, live)]

    queries = ["Zeppelins over the city?", "city council hall", "the of and", "gamma weather", "alpha city city"]
    ref = bm25([(A, A_CHUNKS), (B, B_CHUNKS), (C, C_CHUNKS)])
    for q in queries:
        got, want = backend.current().lexical.search(q, 10), ref(q)
        assert [i for i, _ in got] == [i for i, _ in want], q
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-9), q
    assert backend.current().lexical.search("the of and", 10) == []  # stop words only
    assert [h[0] for h in backend.current().lexical.search("gamma", 10)] == ["c#0"]  # the title
    with backend.writing() as w:
        w.delete(["b"])
    ref = bm25([(A, A_CHUNKS), (C, C_CHUNKS)])
    for q in queries:
        got, want = backend.current().lexical.search(q, 10), ref(q)
        assert [(i, pytest.approx(s, rel=1e-9)) for i, s in got] == want, q


def test_a_committed_write_survives_the_server_being_killed(tmp_path):
    with start_postgres(tmp_path) as pg:
        b = PostgresBackend(pg.url, LAYOUT)
        with b.writing() as w:
            add(w, (A, A_CHUNKS, A_VECS))
        b.close()
        pg.kill()  # SIGKILL, right after the commit was acknowledged
        pg.start()  # crash recovery
        b = PostgresBackend(pg.url, LAYOUT)
        try:
            assert b.current().hashes() == {"a": "hash-a"}
            assert b.current().version == "1"
        finally:
            b.close()
