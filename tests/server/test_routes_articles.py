import json
import threading
import time

import pytest

from rag.components.fake_verifier import FakeVerifier
from fastapi.testclient import TestClient

from rag.server.app import create_app
from rag.documents import make_article
from rag.components.embedding import FakeEmbedder
from rag.components.generation import FakeGenerator

from ..conftest import SUMMIT, WEATHER, make_pipeline

@pytest.fixture
def settings(any_settings):
    """Every test here runs on each index backend (FAISS, PostgreSQL)."""
    return any_settings


PORTO = "A new bridge opened in Porto on Monday. Traffic was heavy all day. The mayor cut the ribbon."
TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def client(fake_pipeline):
    with TestClient(create_app(fake_pipeline)) as c:
        yield c


def _version(client) -> str:
    return client.get("/health").json()["index_version"]


def _wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_add_one_json_article(client):
    r = client.post("/articles", json={"title": "Porto bridge", "text": PORTO, "id": "porto",
                                       "url": "https://example.org/porto", "published": "2025-03-02"})
    assert r.status_code == 200
    body = r.json()
    assert body["items"] == [{"id": "porto", "status": "added", "title": "Porto bridge"}]
    assert body["counts"]["added"] == 1 and body["articles"] == 3
    art = client.get("/articles/porto").json()
    assert art["published"] == "2025-03-02" and art["chunks"]
    hit = client.post("/ask", json={"question": "Where did a new bridge open?", "top_k": 1}).json()
    assert hit["passages"][0]["article_id"] == "porto"  # searchable at once


def test_batch_reports_each_item(client):
    r = client.post("/articles", json=[
        {"text": PORTO, "id": "porto"},
        {"text": SUMMIT, "id": "summit"},  # same id and text as indexed: unchanged
        {"text": WEATHER, "id": "w2"},  # same text as "weather": duplicate
        {"title": "no text"},
        {"text": WEATHER + " Schools reopen Friday.", "id": "weather"},  # updated
    ])
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["status"] for i in items] == ["added", "unchanged", "duplicate", "updated", "rejected"]
    assert items[2]["duplicate_of"] == "weather"
    assert items[4]["reason"] == "body.json[3]: record has no text"


def test_jsonl_text_and_file_uploads(client):
    lines = "\n".join(json.dumps({"text": t, "id": i}) for i, t in [("a", PORTO), ("b", WEATHER + " Again.")])
    r = client.post("/articles", content=lines, headers={"content-type": "application/x-ndjson"})
    assert r.json()["counts"]["added"] == 2
    r = client.post("/articles", content="Lighthouse festival\n\nThe lighthouse festival in Porto drew "
                                         "a large crowd. Boats sailed past at dusk.",
                    headers={"content-type": "text/plain; charset=utf-8"})
    assert r.json()["items"][0]["title"] == "Lighthouse festival"
    files = [("file", ("one.md", b"# Harbour\n\nThe harbour of Faro was dredged in May. Ships can dock again.")),
             ("file", ("two.txt", b"The ferry to Tavira resumed service. Tickets cost four euros."))]
    r = client.post("/articles", files=files)
    assert r.status_code == 200 and r.json()["counts"]["added"] == 2


@pytest.mark.parametrize("kwargs,status,fragment", [
    ({"content": b"", "headers": {"content-type": "application/json"}}, 422, "empty"),
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "invalid JSON"),
    ({"json": {"title": "x"}}, 422, "no text"),
    ({"json": {"text": "   "}}, 422, "no text"),
    ({"json": []}, 422, "non-empty list"),
    ({"json": {"text": PORTO, "id": "../../etc/passwd"}}, 422, "invalid id"),
    ({"files": {"file": ("../../etc/passwd", b"root:x:0:0:root")}}, 422, "unsupported file type"),
    ({"files": {"file": ("a.txt", b"\x00\x01binary\x00")}}, 422, "binary"),
    ({"files": {"file": ("a.txt", "caf\u00e9 ol\u00e9 ".encode("latin-1") * 20)}}, 422, "not UTF-8"),
    ({"files": {"file": ("a.jsonl", b'{"text": 5}\n[1]\n')}}, 422, "nothing added"),
    ({"files": {"file": ("a.txt", b"")}}, 422, "empty"),
    ({"data": {"field": "value"}, "headers": {}}, 422, "named `file`"),
    ({"content": b"<xml/>", "headers": {"content-type": "application/xml"}}, 415, "unsupported content type"),
])
def test_bad_input_is_4xx_and_changes_nothing(client, kwargs, status, fragment):
    before = _version(client)
    if "data" in kwargs:  # a form without a file part
        kwargs = {"files": {"field": (None, "value")}}
    r = client.post("/articles", **kwargs)
    assert r.status_code == status, r.text
    assert fragment in r.json()["detail"]
    assert _version(client) == before


def test_limits(settings):
    s = settings.model_copy(update={"max_upload_bytes": 2048, "max_body_bytes": 4096, "max_batch_articles": 2})
    p = make_pipeline(s)
    p.index.ingest([make_article(SUMMIT, id="summit")])
    with TestClient(create_app(p)) as c:
        before = _version(c)
        r = c.post("/articles", files={"file": ("big.txt", b"word " * 600)})
        assert r.status_code == 413 and "limit is 2048" in r.json()["detail"]
        r = c.post("/articles", json=[{"text": f"Story {i} about boats and harbours here."} for i in range(3)])
        assert r.status_code == 413 and "limit is 2" in r.json()["detail"]
        r = c.post("/articles", content=b"x" * 5000, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "4096" in r.json()["detail"]
        # Chunked: no Content-Length header, the size is only known while reading.
        chunks = (b'{"text": "' + b"y" * 1000 for _ in range(10))
        r = c.post("/articles", content=chunks, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "4096" in r.json()["detail"]
        r = c.post("/ask", content=(b" " * 1000 for _ in range(10)), headers={"content-type": "application/json"})
        assert r.status_code == 413
        small = (b'{"text": "' + PORTO.encode()[i:i + 20] for i in range(0, 1, 20))
        assert c.post("/articles", content=b"".join(small) + PORTO.encode()[20:] + b'"}',
                      headers={"content-type": "application/json"}).status_code == 200
        assert _version(c) != before


def test_chunked_body_under_the_limit_is_read_whole(client):
    body = json.dumps({"text": PORTO, "id": "porto"}).encode()
    r = client.post("/articles", content=(body[i:i + 7] for i in range(0, len(body), 7)),
                    headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["items"][0]["status"] == "added"


def test_delete_removes_article_from_every_index(client):
    assert client.delete("/articles/nope").status_code == 404
    r = client.delete("/articles/weather")
    assert r.status_code == 200 and r.json()["articles"] == 1
    assert client.get("/articles/weather").status_code == 404
    a = client.post("/ask", json={"question": "Lisbon flooded streets schools closed"}).json()
    assert all(p["article_id"] != "weather" for p in a["passages"])


def test_admin_token_guards_changes_only(settings):
    p = make_pipeline(settings.model_copy(update={"admin_token": TOKEN}))
    p.index.ingest([make_article(SUMMIT, id="summit")])
    with TestClient(create_app(p)) as c:
        for method, path, kw in [("post", "/articles", {"json": {"text": PORTO}}),
                                 ("delete", "/articles/summit", {}), ("post", "/index/rebuild", {})]:
            r = getattr(c, method)(path, **kw)
            assert r.status_code == 401 and "Bearer" in r.json()["detail"]
            assert r.headers["www-authenticate"] == "Bearer"
            r = getattr(c, method)(path, headers={"Authorization": "Bearer wrong"}, **kw)
            assert r.status_code == 401 and "wrong" in r.json()["detail"]
            r = getattr(c, method)(path, headers={"Authorization": TOKEN}, **kw)  # no scheme
            assert r.status_code == 401
        assert c.get("/articles/summit").status_code == 200  # nothing was deleted
        assert c.get("/index/status").status_code == 200
        assert c.post("/ask", json={"question": "Where was the summit?"}).status_code == 200
        ok = c.post("/articles", json={"text": PORTO}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and ok.json()["counts"]["added"] == 1


class GatedEmbedder(FakeEmbedder):
    """In the rebuild job's thread, embeds only once the test opens the gate."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def embed(self, texts):
        if threading.current_thread().name == "rag-rebuild":
            self.waiting.set()
            assert self.gate.wait(10)
        return super().embed(texts)


def test_rebuild_in_background_while_answering_from_old_index(settings):
    make_pipeline(settings).index.ingest([make_article(SUMMIT, id="summit"), make_article(WEATHER, id="weather")])
    gated = GatedEmbedder()
    p = make_pipeline(settings, replies=("The summit was held in Tianjin [1].",), embedder=gated)
    with TestClient(create_app(p)) as c:
        old = _version(c)
        r = c.post("/index/rebuild")
        assert r.status_code == 202 and r.json()["state"] == "running"
        job = r.json()["job_id"]
        assert gated.waiting.wait(5)
        assert c.post("/index/rebuild").status_code == 409
        # Mid-rebuild: answers keep coming, from the old snapshot.
        a = c.post("/ask", json={"question": "Where was the summit held?"})
        assert a.status_code == 200 and not a.json()["abstained"]
        st = c.get("/index/status").json()
        assert st["state"] == "running" and st["job_id"] == job and st["index_version"] == old
        assert {"done", "total", "rate", "eta_s", "error"} <= set(st)
        gated.gate.set()
        _wait_for(lambda: c.get("/index/status").json()["state"] == "done")
        st = c.get("/index/status").json()
        assert st["done"] == st["total"] == st["chunks"] > 0 and st["error"] is None
        assert _version(c) != old and c.get("/health").json()["articles"] == 2


def test_startup_with_mismatched_index_reports_then_rebuild_fixes(settings, monkeypatch):
    old = make_pipeline(settings, embedder=FakeEmbedder(name="old-embedder"))
    old.index.ingest([make_article(SUMMIT, id="summit"), make_article(WEATHER, id="weather")])
    # The server's own loader runs, with fakes in place of the packaged models.
    monkeypatch.setattr("rag.assemble.load_embedder", lambda name, **kw: FakeEmbedder())
    monkeypatch.setattr("rag.assemble.load_generator", lambda s, tuning=None: FakeGenerator(("ok",)))
    monkeypatch.setattr("rag.assemble.load_verifier", lambda s: FakeVerifier())
    with TestClient(create_app(settings=settings)) as c:
        _wait_for(lambda: c.get("/health").json()["status"] != "loading")
        h = c.get("/health")
        assert h.status_code == 503 and "rag rebuild" in h.json()["detail"]
        assert "old-embedder" in c.get("/index/status").json()["index_error"]
        assert c.post("/ask", json={"question": "Where?"}).status_code == 503
        assert c.post("/index/rebuild").status_code == 202
        _wait_for(lambda: c.get("/health").status_code == 200)
        assert c.get("/health").json()["articles"] == 2 and c.get("/health").json()["embedder"] == "fake-embedder"


def test_server_notices_index_written_by_another_process(client, fake_pipeline):
    other = make_pipeline(fake_pipeline.settings)  # stands for `rag ingest` in another process
    other.index.ingest([make_article(PORTO, id="porto")])
    assert other.index.backend.version() != fake_pipeline.index.snapshot().version
    _wait_for(lambda: client.get("/health").json()["articles"] == 3)
    assert client.get("/articles/porto").status_code == 200


def test_reads_can_be_protected_too(settings):
    p = make_pipeline(settings.model_copy(update={"admin_token": TOKEN, "protect_reads": True}))
    p.index.ingest([make_article(SUMMIT, id="summit")])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(create_app(p)) as c:
        assert c.get("/health").status_code == 200
        assert c.get("/openapi.json").status_code == 200
        for path in ("/articles", "/articles/summit", "/index/status"):
            assert c.get(path).status_code == 401 and "Bearer" in c.get(path).json()["detail"]
            assert c.get(path, headers=auth).status_code == 200
        assert c.post("/ask", json={"question": "Where?"}).status_code == 401
        assert c.post("/ask", json={"question": "Where?"}, headers=auth).status_code == 200


def test_serving_beyond_loopback_needs_a_token(settings, capsys, monkeypatch):
    monkeypatch.delenv("RAG_ADMIN_TOKEN", raising=False)
    from rag.cli.main import check_bind, main

    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    assert "RAG_ADMIN_TOKEN" in capsys.readouterr().err
    check_bind(settings.model_copy(update={"host": "0.0.0.0", "admin_token": TOKEN}))  # no error
    check_bind(settings)  # loopback: fine without a token


class BrokenEmbedder(FakeEmbedder):
    def embed(self, texts):
        if threading.current_thread().name == "rag-rebuild":
            from rag.errors import ModelUnavailable
            raise ModelUnavailable("embedder went away")
        return super().embed(texts)


def test_rebuild_failures_are_reported(settings):
    p = make_pipeline(settings)
    with TestClient(create_app(p)) as c:
        r = c.post("/index/rebuild")  # nothing to rebuild yet
        assert r.status_code == 422 and "no index" in r.json()["detail"]
        assert c.get("/index/status").json()["state"] == "idle"
    p.index.ingest([make_article(SUMMIT, id="summit")])
    p = make_pipeline(settings, embedder=BrokenEmbedder())
    with TestClient(create_app(p)) as c:
        old = _version(c)
        assert c.post("/index/rebuild").status_code == 202
        _wait_for(lambda: c.get("/index/status").json()["state"] != "running")
        st = c.get("/index/status").json()
        assert st["state"] == "failed" and st["error"] == "embedder went away"
        assert _version(c) == old and c.get("/health").status_code == 200  # old index still served


# ------------------------------------------------------------ issue #12: input holes

def test_a_lone_surrogate_rejects_only_its_article_not_the_batch(client):
    good = {"id": "good", "text": "The harbour of Port Avery opened a new ferry terminal on Thursday."}
    for field in ("title", "url", "published", "source"):
        body = ('[{"id": "bad", "text": "A perfectly ordinary article text about the weather.", '
                f'"{field}": "x\\ud800y"}}, ' + json.dumps(good) + "]")
        r = client.post("/articles", content=body.encode(), headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [i["status"] for i in items if i["id"] == "good"] in (["added"], ["unchanged"])
        rejected = [i for i in items if i["status"] == "rejected"]
        assert len(rejected) == 1 and "surrogate" in rejected[0]["reason"] and field in rejected[0]["reason"]
    assert "bad" not in {a["id"] for a in client.get("/articles").json()}


@pytest.mark.parametrize("record,fragment", [
    ({"text": 380376164024049105258074341376}, "must be a string"),
    ({"text": "A perfectly ordinary article text about the weather.", "id": ".."}, "invalid id"),
    ({"text": "A perfectly ordinary article text about the weather.", "id": "."}, "invalid id"),
    ({"text": "----------------------------------------"}, "no text"),
])
def test_numbers_dot_ids_and_wordless_texts_are_refused(client, record, fragment):
    r = client.post("/articles", json=record)
    assert r.status_code == 422 and fragment in r.json()["detail"], r.text


def test_an_upload_without_a_known_extension_is_read_by_its_content_type(client):
    text = "The harbour of Port Avery opened a new ferry terminal on Thursday, officials said."
    r = client.post("/articles", files=[("file", ("story", text.encode(), "text/plain"))])
    assert r.status_code == 200 and r.json()["counts"]["added"] == 1, r.text
    r = client.post("/articles", files=[("file", ("pic", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"))])
    assert r.status_code == 422 and "unsupported file type" in r.json()["detail"]


def test_the_schema_of_post_articles_matches_what_is_accepted(client):
    op = client.get("/openapi.json").json()["paths"]["/articles"]["post"]
    assert "400" in op["responses"]
    content = op["requestBody"]["content"]
    assert content["multipart/form-data"]["encoding"]["file"]["contentType"] == "text/plain"
    one = content["application/json"]["schema"]["oneOf"][0]
    assert one["properties"]["text"]["pattern"] and "ignored" in one["description"]
