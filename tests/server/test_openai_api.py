"""/v1/models and /v1/chat/completions on the fake pipeline: OpenAI's shapes, references
whose quotes are the article text at their offsets, abstentions, errors in OpenAI's
shape (with `detail`), plain completions by the generator's id; and the `openai` SDK
itself against a real uvicorn server."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from rag.server.app import create_app
from rag.answering.followup import Turn
from rag.server.openai_api import conversation
from rag.server.openai_schema import RAG_MODEL

from ..conftest import make_pipeline
from ..servers import ThreadServer, chunks, sse_events

Q = "Where was the summit held?"
ANSWER = "The summit was held in Tianjin [1]."


def user(text: str) -> dict:
    return {"role": "user", "content": text}


@pytest.fixture
def client(fake_pipeline):
    with TestClient(create_app(fake_pipeline)) as c:
        yield c


def quotes_match(client, refs: list[dict]) -> bool:
    texts = {r["article_id"]: client.get(f"/articles/{r['article_id']}").json()["text"] for r in refs}
    return bool(refs) and all(texts[r["article_id"]][r["start"]:r["end"]] == r["quote"] for r in refs)


def stream(client, body: dict, path: str = "/v1/chat/completions") -> list[tuple[str | None, str]]:
    with client.stream("POST", path, json={**body, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        return sse_events(r.iter_lines())


def test_models_list_the_rag_model_and_under_generator_the_generator(client):
    body = client.get("/v1/models").json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == [RAG_MODEL]
    assert [m["id"] for m in client.get("/v1/generator/models").json()["data"]] == ["fake"]
    assert all(m["object"] == "model" for m in body["data"])


def test_completion_keeps_markers_and_carries_references(client):
    r = client.post("/v1/chat/completions", json={"model": RAG_MODEL, "messages": [user(Q)]})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion" and body["model"] == RAG_MODEL
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    msg = choice["message"]
    assert msg["role"] == "assistant" and msg["content"] == ANSWER
    assert msg["abstained"] is False and msg["reason"] is None
    assert [ref["n"] for ref in msg["references"]] == [1]
    assert set(msg["references"][0]) >= {"quote", "start", "end", "article_id", "title", "url", "published"}
    assert quotes_match(client, msg["references"])
    # The same citations as /ask's.
    assert msg["references"] == client.post("/ask", json={"question": Q}).json()["citations"]


def test_stream_sends_draft_then_checked_answer_then_references(client):
    events = stream(client, {"messages": [user(Q)]})
    assert events[-1] == (None, "[DONE]")
    got = chunks(events)
    assert all(c["object"] == "chat.completion.chunk" and len({c["id"] for c in got}) == 1 for c in got)
    deltas = [c["choices"][0]["delta"] for c in got]
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert "".join(d.get("reasoning_content", "") for d in deltas) == ANSWER  # the model's draft, live
    assert "".join(d.get("content", "") for d in deltas) == ANSWER  # the checked answer
    last = got[-1]["choices"][0]
    assert last["finish_reason"] == "stop" and last["delta"]["abstained"] is False
    assert quotes_match(client, last["delta"]["references"])


def test_abstention_is_an_assistant_message_with_a_flag(settings):
    p = make_pipeline(settings)  # nothing indexed but an unrelated article
    from rag.documents import make_article
    from ..conftest import WEATHER
    p.index.ingest([make_article(WEATHER, id="weather")])
    with TestClient(create_app(p)) as c:
        msg = c.post("/v1/chat/completions", json={"messages": [user("Who won the chess final?")]}).json()
        msg = msg["choices"][0]["message"]
        assert msg["role"] == "assistant" and msg["abstained"] is True
        assert msg["reason"] in ("no_relevant_passages", "not_answered") and msg["references"] == []
        assert msg["content"].startswith("The articles don't say")
        last = chunks(stream(c, {"messages": [user("Who won the chess final?")]}))[-1]["choices"][0]["delta"]
        assert last["abstained"] is True and last["reason"] == msg["reason"]


def test_earlier_messages_are_the_history():
    from rag.server.openai_schema import AssistantMessage, SystemMessage
    from rag.config import Settings
    from rag.server.openai_schema import chat_request
    Req = chat_request(Settings())
    req = Req.model_validate({"messages": [
        {"role": "system", "content": "Be brief."}, user("Who met Putin?"),
        {"role": "assistant", "content": "Sharif [1]."}, user("What did he accept?"),
        {"role": "assistant", "content": "ignored"}]})
    assert isinstance(req.messages[0], SystemMessage) and isinstance(req.messages[2], AssistantMessage)
    question, turns, system = conversation(req.messages)
    assert question == "What did he accept?" and system == "Be brief."
    assert turns == [Turn("user", "Who met Putin?"), Turn("assistant", "Sharif [1].")]


def test_a_follow_up_is_rewritten_with_the_history(fake_pipeline, client):
    fake_pipeline.generator._replies = ("Where was the SCO summit held?", ANSWER)
    r = client.post("/v1/chat/completions", json={"messages": [
        user("Tell me about the SCO summit."), {"role": "assistant", "content": "It met in China."},
        user("Where was it held?")]})
    assert r.status_code == 200
    rewrite, answer = fake_pipeline.generator.prompts
    assert "User: Tell me about the SCO summit." in rewrite.user and "Question: Where was the SCO summit held?" in answer.user


@pytest.mark.parametrize("body,status,param,fragment", [
    ({}, 400, "messages", "Field required"),
    ({"messages": []}, 400, "messages", "at least 1"),
    ({"messages": [{"role": "assistant", "content": "hi"}]}, 400, "messages", "no user message"),
    ({"messages": [{"role": "tool", "content": "hi"}]}, 400, "messages.0", "tool"),
    ({"messages": [{"role": "user", "content": 5}]}, 400, "messages.0.user.content", "string"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}, 400, "messages.0.user.content", "string"),
    ({"messages": [user("   ")]}, 400, "messages.0.user.content", "empty"),
    ({"messages": [user("Q"), user("\x85")]}, 400, "messages.1.user.content", "empty"),
    ({"messages": [user("\ud800?")]}, 400, "messages.0.user.content", "surrogate"),
    ({"messages": [user("x" * 5000)]}, 413, "messages.0.user.content", "1000"),
    ({"messages": [user("q")] * 30}, 413, "messages", ""),
    ({"messages": [user(Q)], "stream": "yes"}, 400, "stream", "boolean"),
    ({"model": "gpt-4o", "messages": [user(Q)]}, 404, "model", "gpt-4o"),
])
def test_bad_requests_get_openai_errors_with_detail(client, body, status, param, fragment):
    # Encoded here: a lone surrogate is sent as the JSON escape \ud800, as a client would.
    r = client.post("/v1/chat/completions", content=json.dumps(body), headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    err = r.json()
    assert set(err["error"]) == {"message", "type", "param", "code"}
    assert err["error"]["param"] == param and fragment in err["error"]["message"]
    assert err["detail"] == err["error"]["message"]
    assert err["error"]["type"] == ("not_found_error" if status == 404 else "invalid_request_error")


def test_broken_json_unknown_routes_and_methods_get_openai_errors(client):
    r = client.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["message"] == r.json()["detail"] == "the body is not valid JSON"
    for r, status in ((client.get("/v1/chat/completions"), 405), (client.post("/v1/embeddings", json={}), 404)):
        assert r.status_code == status and r.json()["error"]["message"] == r.json()["detail"]


def test_reads_protected_with_a_token(settings):
    from ..conftest import make_pipeline as mk
    p = mk(settings.model_copy(update={"admin_token": "t0k-t0k-t0k-t0k-t0k", "protect_reads": True}), replies=(ANSWER,))
    with TestClient(create_app(p)) as c:
        r = c.post("/v1/chat/completions", json={"messages": [user(Q)]})
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        assert r.json()["detail"] == r.json()["error"]["message"]
        assert c.get("/v1/models").status_code == 401
        ok = c.get("/v1/models", headers={"Authorization": "Bearer t0k-t0k-t0k-t0k-t0k"})
        assert ok.status_code == 200


def test_under_generator_a_plain_completion(client, fake_pipeline):
    body = {"model": "fake", "messages": [{"role": "system", "content": "Be brief."}, user("Say hi."),
                                           {"role": "assistant", "content": "Hi."}, user("Again.")],
            "max_tokens": 50}
    r = client.post("/v1/generator/chat/completions", json=body).json()
    assert r["choices"][0]["message"] == {"role": "assistant", "content": ANSWER}
    assert r["usage"] == {"prompt_tokens": 1, "completion_tokens": 7, "total_tokens": 8}
    prompt = fake_pipeline.generator.prompts[-1]
    assert (prompt.system, prompt.user) == ("Be brief.", "Again.")
    assert prompt.history == (("user", "Say hi."), ("assistant", "Hi."))  # no retrieval, no sources
    events = stream(client, {**body, "stream_options": {"include_usage": True}}, "/v1/generator/chat/completions")
    got = chunks(events)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in got if c["choices"]) == ANSWER
    assert got[-2]["choices"][0]["finish_reason"] == "stop"
    assert got[-1]["choices"] == [] and got[-1]["usage"]["completion_tokens"] == 7
    assert events[-1] == (None, "[DONE]")


def test_openai_sdk_against_a_real_server(fake_pipeline):
    import openai

    with ThreadServer(create_app(fake_pipeline)) as server:
        sdk = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        assert [m.id for m in sdk.models.list().data] == [RAG_MODEL]
        out = sdk.chat.completions.create(model=RAG_MODEL, messages=[user(Q)])
        msg = out.choices[0].message
        assert msg.content == ANSWER and msg.model_extra["references"][0]["quote"].endswith("Tianjin.")
        pieces, last = [], None
        for chunk in sdk.chat.completions.create(model=RAG_MODEL, messages=[user(Q)], stream=True):
            pieces.append(chunk.choices[0].delta.content or "")
            last = chunk
        assert "".join(pieces) == ANSWER
        assert last.choices[0].delta.model_extra["references"] == msg.model_extra["references"]
        with pytest.raises(openai.BadRequestError) as err:
            sdk.chat.completions.create(model=RAG_MODEL, messages=[{"role": "assistant", "content": "x"}])
        assert "no user message" in err.value.message
        with pytest.raises(openai.NotFoundError):
            sdk.chat.completions.create(model="gpt-4o", messages=[user(Q)])


def test_schema_states_the_limits(client):
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    ref = body["$ref"].rsplit("/", 1)[-1]
    messages = schema["components"]["schemas"][ref]["properties"]["messages"]
    assert messages["maxItems"] == 21 and messages["contains"]["properties"]["role"] == {"const": "user"}
    assert json.dumps(schema)  # serialisable


def test_plain_completions_take_long_prompts_and_only_the_generator(client):
    long = {"messages": [user("Sources: " + "x" * 3000)], "max_tokens": 5}
    assert client.post("/v1/generator/chat/completions", json=long).status_code == 200
    assert client.post("/v1/chat/completions", json=long).status_code == 413
    r = client.post("/v1/generator/chat/completions", json={"model": RAG_MODEL, "messages": [user("hi")]})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
