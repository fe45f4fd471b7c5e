import json

import pytest
from fastapi.testclient import TestClient

from rag.api import create_app


@pytest.fixture
def client(fake_pipeline):
    with TestClient(create_app(fake_pipeline)) as c:
        yield c


def test_ask_returns_cited_answer(client):
    r = client.post("/ask", json={"question": "Where was the summit held?", "top_k": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["abstained"] is False and body["answer"] == "The summit was held in Tianjin [1]."
    c = body["citations"][0]
    assert set(c) >= {"article_id", "title", "url", "published", "quote", "start", "end", "score"}
    art = client.get(f"/articles/{c['article_id']}").json()
    assert art["text"][c["start"]:c["end"]] == c["quote"]
    assert body["query"] == "Where was the summit held?"
    assert {"retrieve", "generate", "total"} <= set(body["timings_ms"])
    assert len(body["passages"]) == 2 and {"article_id", "chunk_id", "text", "score"} <= set(body["passages"][0])


@pytest.mark.parametrize("payload,status,fragment", [
    ({"question": ""}, 422, "empty"),
    ({"question": "x" * 5000}, 413, "limit"),
    ({"question": "summit?", "top_k": 0}, 422, "top_k"),
    ({"question": "summit?", "top_k": 1000}, 422, "top_k"),
    ({"question": 5}, 422, "question"),
    ({}, 422, "question"),
    ({"question": "q", "history": [{"role": "robot", "content": "x"}]}, 422, "role"),
])
def test_bad_requests_get_clear_4xx(client, payload, status, fragment):
    r = client.post("/ask", json=payload)
    assert r.status_code == status
    assert fragment in r.json()["detail"]


def test_malformed_json_is_422(client):
    r = client.post("/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and isinstance(r.json()["detail"], str)


def test_health_and_articles(client):
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["articles"] == 2 and h["embedder"] == "fake-embedder"
    arts = client.get("/articles").json()
    assert {a["id"] for a in arts} == {"summit", "weather"}
    assert all(a["chunks"] >= 1 for a in arts)
    assert client.get("/articles/nope").status_code == 404
    assert "detail" in client.get("/articles/nope").json()


def test_health_is_503_before_index(settings):
    from .conftest import make_pipeline
    with TestClient(create_app(make_pipeline(settings))) as c:
        assert c.get("/health").status_code == 503
        r = c.post("/ask", json={"question": "hi?"})
        assert r.status_code == 503 and r.json()["detail"]


def test_stream_events(client):
    with client.stream("POST", "/ask/stream", json={"question": "Where was the summit held?"}) as r:
        assert r.status_code == 200
        raw = "".join(r.iter_text())
    events = [line.split(":", 1)[1].strip() for line in raw.splitlines() if line.startswith("event:")]
    assert events[0] == "token" and events[-1] == "done" and "citations" in events
    done = [line for line in raw.splitlines() if line.startswith("data:")][-1]
    assert json.loads(done[5:])["citations"][0]["article_id"] == "summit"


def test_stream_rejects_bad_input_before_streaming(client):
    r = client.post("/ask/stream", json={"question": " "})
    assert r.status_code == 422


def test_openapi_docs(client):
    assert client.get("/docs").status_code == 200
    assert "/ask" in client.get("/openapi.json").json()["paths"]
