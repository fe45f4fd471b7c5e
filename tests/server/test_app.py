"""The HTTP API of rag/server/app.py on the fake pipeline: /ask (plain and streamed),
/health, GET /articles, the OpenAPI docs, and the 4xx answers to bad requests."""

import json
import re

import pytest
from fastapi.testclient import TestClient

from rag.text_checks import is_blank
from rag.server.app import create_app
from rag.components.generation import FakeGenerator


@pytest.fixture
def settings(any_settings):
    """Every test here runs on each index backend (FAISS, PostgreSQL)."""
    return any_settings


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
    from ..conftest import make_pipeline
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


# ------------------------------------------------------------ issue #12: input holes

SURROGATE_QUESTION = b'{"question": "Where was the summit \\ud800 held?"}'


def test_a_lone_surrogate_in_a_question_is_a_422_not_a_500(client):
    for path in ("/ask", "/ask/stream"):
        r = client.post(path, content=SURROGATE_QUESTION, headers={"content-type": "application/json"})
        assert r.status_code == 422 and "surrogate" in r.json()["detail"], (path, r.text)
    r = client.post("/ask", content=b'{"question": "Where?", "history": [{"role": "user", "content": "\\udfff"}]}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 422 and "surrogate" in r.json()["detail"]


@pytest.mark.parametrize("payload,fragment", [
    ({"question": "Where was the summit held?", "evil": 1}, "evil"),
    ({"question": "Where was the summit held?", "top_k": "2"}, "top_k"),
    ({"question": "Where was the summit held?", "top_k": True}, "top_k"),
    ({"question": "Where was the summit held?", "top_k": 2.5}, "top_k"),
    ({"question": "Where?", "history": [{"role": "user", "content": "x", "extra": 1}]}, "extra"),
    ({"question": " \t "}, "empty"),
    ({"question": "\x1c"}, "empty"),
    ({"question": "\x85\u3000"}, "empty"),
])
def test_unknown_fields_and_wrong_types_are_refused(client, payload, fragment):
    for path in ("/ask", "/ask/stream"):
        r = client.post(path, json=payload)
        assert r.status_code == 422 and fragment in r.json()["detail"], (path, r.text)


def test_over_a_limit_is_still_413_and_the_schema_states_the_limits(client, fake_pipeline):
    s = fake_pipeline.settings
    r = client.post("/ask", json={"question": "x" * (s.max_question_chars + 1)})
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    body = client.get("/openapi.json").json()["paths"]["/ask"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = client.get("/openapi.json").json()["components"]["schemas"][ref]
    q = schema["properties"]["question"]
    assert q["minLength"] == 1 and q["maxLength"] == s.max_question_chars and q["pattern"]
    assert schema["additionalProperties"] is False
    # The schema's pattern (ECMA regex, as a client or fuzzer reads it) calls exactly the
    # characters text_checks.is_blank knows blank (white space, U+0085 too, which is blank
    # to Python and not to ECMA's \s; and invisible ones, zero-width spaces).
    blank = re.compile(q["pattern"])
    assert all(bool(blank.search(chr(c))) != is_blank(chr(c)) for c in range(0x3001))


def test_stream_is_documented_as_server_sent_events(client):
    op = client.get("/openapi.json").json()["paths"]["/ask/stream"]["post"]
    assert list(op["responses"]["200"]["content"]) == ["text/event-stream"]
    for path in ("/ask", "/ask/stream"):
        assert "400" in client.get("/openapi.json").json()["paths"][path]["post"]["responses"]


def test_a_binary_body_gets_a_documented_json_error(client):
    r = client.post("/ask", content=b"\xff\xfe\x00binary", headers={"content-type": "application/json"})
    assert r.status_code in (400, 422) and isinstance(r.json()["detail"], str)


def test_an_unsupported_method_gets_405_naming_every_allowed_one(client):
    r = client.options("/articles")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) >= {"GET", "POST"}
    r = client.request("PATCH", "/articles/x")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) >= {"GET", "DELETE"}
    assert isinstance(r.json()["detail"], str)


def test_articles_filtered_by_publication_date(client):
    assert [a["id"] for a in client.get("/articles?since=2025-09-01").json()] == ["summit"]
    assert [a["id"] for a in client.get("/articles?until=2025-09-01&since=2025-01-01").json()] == ["summit"]
    assert client.get("/articles?until=2025-08-31").json() == []  # the undated one is never in a window
    assert client.get("/articles?since=2025-09-02&until=2025-09-01").json() == []
    for query, fragment in (("since=yesterday", "since must be a date written YYYY-MM-DD"),
                            ("until=2025-02-30", "until must be")):
        r = client.get(f"/articles?{query}")
        assert r.status_code == 422 and fragment in r.json()["detail"]


class Unreachable(FakeGenerator):
    def check(self) -> str | None:
        return "the generator at http://gpu-box is unavailable"


@pytest.mark.parametrize("generator,status", [(FakeGenerator(), 200), (Unreachable(), 503)])
def test_health_reports_what_the_generator_check_says(fake_pipeline, generator, status):
    with TestClient(create_app(fake_pipeline.with_generator(generator))) as c:
        r = c.get("/health")
    assert r.status_code == status and r.json()["generator"] == generator.name
    if status == 503:
        assert r.json()["status"] == "generator_unreachable" and "gpu-box" in r.json()["detail"]
