"""When the database is not what a server needs: a read-only replica serves answers and
refuses changes with a reason; a database that goes away is a 503 with a reason, not a
stack trace, and the server answers again once it is back."""

import time

from fastapi.testclient import TestClient

from rag.documents import make_article
from rag.server.app import create_app

from ...conftest import SUMMIT, WEATHER, fresh_database, make_pipeline
from ...pg_server import start_postgres

READ_ONLY = "?options=-c%20default_transaction_read_only%3Don"  # as a hot standby behaves
Q = "Where was the summit held?"


def test_a_read_only_database_answers_and_refuses_changes_with_a_reason(pg_server, settings):
    url = fresh_database(pg_server)
    primary = make_pipeline(settings.model_copy(update={"store": url}))
    primary.index.ingest([make_article(SUMMIT, id="summit"), make_article(WEATHER, id="weather")])
    replica = make_pipeline(settings.model_copy(update={"store": url + READ_ONLY}),
                            replies=("The summit was held in Tianjin [1].",))
    with TestClient(create_app(replica)) as c:
        a = c.post("/ask", json={"question": Q})
        assert a.status_code == 200 and not a.json()["abstained"]
        r = c.post("/articles", json={"id": "porto", "text": "A new bridge opened in Porto on Monday. "
                                                             "Traffic was heavy all day."})
        assert r.status_code == 503 and "read-only" in r.json()["detail"] and "primary" in r.json()["detail"]
        r = c.delete("/articles/weather")
        assert r.status_code == 503 and "read-only" in r.json()["detail"]
    assert primary.index.snapshot().article_count == 2  # nothing changed


def test_a_database_that_goes_away_is_a_503_then_answers_again(tmp_path, settings):
    with start_postgres(tmp_path / "pg") as server:
        url = server.url
        p = make_pipeline(settings.model_copy(update={"store": url}), replies=("The summit was held in Tianjin [1].",))
        p.index.ingest([make_article(SUMMIT, id="summit")])
        with TestClient(create_app(p)) as c:
            assert c.post("/ask", json={"question": Q}).status_code == 200
            server.kill()  # the database crashes
            for r in (c.post("/ask", json={"question": Q}),
                      c.post("/articles", json={"id": "w", "text": WEATHER})):
                # within the pool's wait (3 s) plus one refresh check: no hang
                assert r.status_code == 503 and "database is unreachable" in r.json()["detail"], r.text
            server.start()  # and comes back (crash recovery)
            deadline = time.monotonic() + 30
            while (r := c.post("/ask", json={"question": Q})).status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
            assert r.status_code == 200 and not r.json()["abstained"]
            assert c.get("/health").json()["articles"] == 1


def test_the_cli_on_a_postgresql_store(pg_server, tmp_path, capsys, monkeypatch):
    """`rag --store URL ...`: ingest, list, show and delete articles in the database."""
    from rag.cli.main import main
    from rag.components.embedding import FakeEmbedder
    from rag.config import PACKAGED_EMBEDDER

    monkeypatch.setattr("rag.assemble.load_embedder", lambda *a, **kw: FakeEmbedder(name=PACKAGED_EMBEDDER))
    monkeypatch.setattr("rag.assemble.load_verifier", lambda s: None)
    url, data = fresh_database(pg_server), str(tmp_path / "locks")
    base = ["--data-dir", data, "--store", url]
    assert main(base + ["articles", "list"]) == 1
    assert "no index in the database" in capsys.readouterr().err
    f = tmp_path / "two.jsonl"
    f.write_text('{"id": "summit", "title": "Summit", "text": "%s"}\n{"id": "weather", "text": "%s"}\n' % (SUMMIT, WEATHER))
    assert main(base + ["ingest", str(f)]) == 0
    assert "2 added" in capsys.readouterr().out
    assert main(base + ["articles", "list"]) == 0
    assert [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()] == ["summit", "weather"]
    assert main(base + ["articles", "delete", "weather"]) == 0
    assert main(base + ["articles", "show", "weather"]) == 1
    assert "no article with id 'weather'" in capsys.readouterr().err
