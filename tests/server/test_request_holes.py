"""What a probe of the running API found let through, each now refused or allowed as
the schema says: form fields past Starlette's 100, fields other than `file`, one huge
article holding the write lock for minutes, a question of zero-width spaces, a NUL
silently dropped from a JSON text, a rebuild with a body it ignored, a weak admin
token, and the raw model open to the network."""

import json
import re

import pytest
from fastapi.testclient import TestClient

from rag.cli.main import check_bind, main
from rag.components.generation import Prompt
from rag.components.remote_generator import OpenAIGenerator
from rag.documents import make_article
from rag.text_checks import NOT_BLANK, is_blank
from rag.errors import BadInput
from rag.server.app import create_app

from ..conftest import SUMMIT, make_pipeline
from ..servers import ThreadServer

TOKEN = "a-long-enough-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def story(i: int) -> str:
    return f"Story number {i} tells of boats in harbour {i}. The crews sailed at dawn. Fish were sold by noon."


@pytest.fixture
def pipeline(settings):
    p = make_pipeline(settings, replies=("The summit was held in Tianjin [1].",))
    p.index.ingest([make_article(SUMMIT, id="summit")])
    return p


@pytest.fixture
def client(pipeline):
    with TestClient(create_app(pipeline)) as c:
        yield c


def _count(c) -> int:
    return c.get("/health").json()["articles"]


def test_as_many_file_fields_as_the_schema_allows_then_a_413(settings):
    """`file` parts without a file name are form fields: Starlette stopped at 100."""
    p = make_pipeline(settings.model_copy(update={"max_batch_articles": 150}))
    with TestClient(create_app(p)) as c:
        schema = c.get("/openapi.json").json()["paths"]["/articles"]["post"]["requestBody"]["content"]
        assert schema["multipart/form-data"]["schema"]["properties"]["file"]["maxItems"] == 150
        r = c.post("/articles", files=[("file", (None, story(i))) for i in range(101)])
        assert r.status_code == 200 and r.json()["counts"]["added"] == 101, r.text
        r = c.post("/articles", files=[("file", (None, story(i))) for i in range(1000, 1151)])
        assert r.status_code == 413 and "150" in r.json()["detail"], r.text
        r = c.post("/articles", files=[("file", (f"s{i}.txt", story(i))) for i in range(2000, 2151)])
        assert r.status_code == 413 and "150" in r.json()["detail"], r.text
        assert _count(c) == 101


def test_a_text_field_may_be_as_large_as_an_upload(client):
    """Starlette's 1 MB per form field is not the upload limit the schema states."""
    text = " ".join(story(i) for i in range(12_000))[:1_100_000]
    assert len(text.encode()) > 1024 * 1024
    r = client.post("/articles", files=[("file", (None, text))])
    assert r.status_code == 413 and "limit per article" in r.json()["detail"], r.text  # not "Part exceeded"


def test_only_the_file_field_is_read(client):
    for files in ([("other", ("a.txt", story(1).encode()))],
                  [("file", ("a.txt", story(2).encode())), ("other", ("b.txt", story(3).encode()))],
                  [("file", (None, story(4))), ("note", (None, "hello"))]):
        r = client.post("/articles", files=files)
        assert r.status_code == 422 and "field named `file`" in r.json()["detail"], r.text
    assert _count(client) == 1
    schema = client.get("/openapi.json").json()["paths"]["/articles"]["post"]["requestBody"]["content"]
    assert schema["multipart/form-data"]["schema"]["additionalProperties"] is False


def test_an_article_over_the_size_limit_is_a_413_and_nothing_is_added(settings):
    p = make_pipeline(settings.model_copy(update={"max_article_chars": 2000}))
    long = " ".join(story(i) for i in range(40))[:2500]
    with TestClient(create_app(p)) as c:
        for kw in ({"json": {"text": long}}, {"json": [{"text": story(1)}, {"text": long}]},
                   {"content": long.encode(), "headers": {"content-type": "text/plain"}},
                   {"content": json.dumps({"text": long}).encode(), "headers": {"content-type": "application/x-ndjson"}},
                   {"files": [("file", ("long.txt", long.encode()))]}):
            r = c.post("/articles", **kw)
            assert r.status_code == 413 and "limit per article is 2000" in r.json()["detail"], r.text
        assert c.get("/articles").status_code == 503  # still no index: nothing was added
        one = c.get("/openapi.json").json()["paths"]["/articles"]["post"]["requestBody"]["content"]
        assert one["application/json"]["schema"]["oneOf"][0]["properties"]["text"]["maxLength"] == 2000
        assert one["text/plain"]["schema"]["maxLength"] == 2000
        assert c.post("/articles", json={"text": long[:1990]}).status_code == 200


@pytest.mark.parametrize("question", ["\u200b\u200b\u200b", "\ufeff", "\u200c\u200d\u2060", "\x00", " \u200b\t"])
def test_a_question_of_invisible_characters_is_empty(client, question):
    for path in ("/ask", "/ask/stream"):
        r = client.post(path, json={"question": question})
        assert r.status_code == 422 and "question is empty" in r.json()["detail"], (path, r.text)
    r = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]})
    assert r.status_code == 400, r.text
    assert client.post("/ask", json={"question": "Where\u200b was the summit?"}).status_code == 200


def test_the_schema_and_python_agree_on_blank():
    """The pattern as a client reads it (ECMA; Python's re reads \\uXXXX alike) matches a
    character exactly when Python's is_blank says it is not blank, over the whole BMP."""
    pattern = re.compile(NOT_BLANK)
    wrong = [hex(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF
             and bool(pattern.search(chr(c))) == is_blank(chr(c))]
    assert not wrong
    assert is_blank("\u200b") and is_blank("\u0085") and is_blank("\x00") and not is_blank("a")


def test_a_nul_in_a_json_text_is_refused_not_dropped(client):
    for kw in ({"json": {"text": story(1) + "\x00 more"}},
               {"json": [{"text": story(2)}, {"body": "a\x00" + story(3)}]},
               {"content": (json.dumps({"text": story(4)}) + "\n" + json.dumps({"text": story(5) + "\x00"})).encode(),
                "headers": {"content-type": "application/x-ndjson"}},
               {"files": [("file", ("a.json", json.dumps({"text": "\x00" + story(6)}).encode()))]}):
        r = client.post("/articles", **kw)
        assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
    assert _count(client) == 1
    # The escape written out as text (a backslash, then u0000) is no NUL.
    r = client.post("/articles", json={"text": story(7) + " \\u0000"})
    assert r.status_code == 200 and r.json()["counts"]["added"] == 1
    schema = client.get("/openapi.json").json()["paths"]["/articles"]["post"]["requestBody"]["content"]
    text = schema["application/json"]["schema"]["oneOf"][0]["properties"]["text"]
    assert any(p.get("pattern") == "^[^\\x00]*$" for p in text["allOf"])


def test_a_rebuild_refuses_a_body_it_would_ignore(client):
    for kw, status in (({"content": b"garbage", "headers": {"content-type": "application/json"}}, 422),
                       ({"content": b"\n", "headers": {"content-type": "application/json"}}, 422),
                       ({"json": {"embedder": "other"}}, 422), ({"json": []}, 422),
                       ({"content": b"x=1", "headers": {"content-type": "text/plain"}}, 415)):
        r = client.post("/index/rebuild", **kw)
        assert r.status_code == status and "no body" in r.json()["detail"], r.text
    assert client.get("/index/status").json()["state"] == "idle"
    assert client.post("/index/rebuild", json={}).status_code == 202


def test_a_rebuild_without_a_body_starts(client):
    assert client.post("/index/rebuild").status_code == 202


@pytest.mark.parametrize("token", [" ", "   \t ", "short-token", "a token with spaces in it", "é" * 20])
def test_a_weak_admin_token_is_a_start_up_error(settings, token, monkeypatch, capsys):
    weak = settings.model_copy(update={"admin_token": token, "host": "0.0.0.0"})
    with pytest.raises(BadInput, match="RAG_ADMIN_TOKEN"):
        check_bind(weak)
    with pytest.raises(BadInput, match="RAG_ADMIN_TOKEN"):
        create_app(make_pipeline(weak))
    monkeypatch.setenv("RAG_ADMIN_TOKEN", token)
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rag: error: RAG_ADMIN_TOKEN") and err.count("\n") == 1


def test_a_strong_admin_token_passes(settings):
    check_bind(settings.model_copy(update={"admin_token": TOKEN, "host": "0.0.0.0"}))
    check_bind(settings.model_copy(update={"admin_token": ""}))  # empty: none, loopback only


def test_the_raw_model_needs_the_token_like_writes(settings):
    plain = {"messages": [{"role": "user", "content": "Write a poem."}]}
    p = make_pipeline(settings.model_copy(update={"admin_token": TOKEN}), replies=("A poem.",))
    with TestClient(create_app(p)) as c:
        r = c.post("/v1/generator/chat/completions", json=plain)
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error", r.text
        r = c.post("/v1/generator/chat/completions", json=plain, headers={"Authorization": "Bearer wrong-token"})
        assert r.status_code == 401
        r = c.post("/v1/generator/chat/completions", json=plain, headers=AUTH)
        assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "A poem."
        # Answers from the articles stay open without RAG_PROTECT_READS.
        assert c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "Where?"}]}).status_code != 401
        op = c.get("/openapi.json").json()["paths"]["/v1/generator/chat/completions"]["post"]
        assert op["security"] and "401" in op["responses"]
    with TestClient(create_app(make_pipeline(settings, replies=("A poem.",)))) as c:  # no token: loopback only
        assert c.post("/v1/generator/chat/completions", json=plain).status_code == 200


def test_a_remote_generator_sends_the_token_as_its_api_key(settings):
    p = make_pipeline(settings.model_copy(update={"admin_token": TOKEN}), replies=("A poem.",))
    with ThreadServer(create_app(p)) as server:
        url = f"{server.url}/v1/generator"
        prompt = Prompt("Be brief.", "Write a poem.", ())
        assert OpenAIGenerator(url, "fake", api_key=TOKEN, timeout_s=5).generate(prompt, 20).text == "A poem."
        with pytest.raises(Exception, match="401|admin token"):
            OpenAIGenerator(url, "fake", timeout_s=5).generate(prompt, 20)
