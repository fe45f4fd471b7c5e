"""When the database is not what a server needs: a read-only replica serves answers and
refuses changes with a reason; a database that goes away is a 503 with a reason, not a
stack trace, and the server answers again once it is back."""

import time

from fastapi.testclient import TestClient

from rag.documents import make_article
from rag.server.app import create_app

from .conftest import SUMMIT, WEATHER, fresh_database, make_pipeline
from .pg_server import start_postgres

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
