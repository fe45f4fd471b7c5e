"""The remote generator (RAG_GENERATOR=openai:<base_url>#<model>) against a real HTTP
server: this project's /v1 on the fake pipeline, served by uvicorn in a thread. Down,
slow or cut off, it is a 503 with `detail` (an `error` event when streaming), /health
says the generator is unreachable, and the next request after it is back works."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from rag.answering.pipeline import Pipeline
from rag.answering.tuning import AnswerSettings
from rag.assemble import load_generator, open_index
from rag.server.app import create_app
from rag.config import Settings
from rag.components.embedding import FakeEmbedder
from rag.errors import BadInput, GeneratorUnavailable
from rag.components.generation import FakeGenerator, Generator, Prompt
from rag.components.remote_generator import OpenAIGenerator, parse
from rag.components.fake_verifier import FakeVerifier

from ..conftest import TUNING, Rig
from ..servers import ThreadServer, free_port, sse_events

ANSWER = "The summit was held in Tianjin [1]."
P = Prompt(system="Be brief.", user="Where was the summit held?")


@pytest.fixture
def remote(fake_pipeline):
    """This project's server on the fake pipeline: /v1/generator is the fake model's plain completions."""
    with ThreadServer(create_app(fake_pipeline)) as server:
        yield server


def front(fake_pipeline, url: str, timeout_s: float = 5.0) -> Rig:
    """A pipeline like the fake one, whose model is the remote's."""
    settings = fake_pipeline.settings.model_copy(update={"generator": f"openai:{url}/v1/generator#fake",
                                                         "generator_timeout_s": timeout_s})
    index = fake_pipeline.index
    return Rig(index, Pipeline.build(AnswerSettings.of(settings, TUNING), index.snapshot, index.embedder, load_generator(settings),
                                     FakeVerifier()), settings)


def test_settings_select_the_remote_adapter():
    g = load_generator(Settings(generator="openai:http://gpu-box:8000/v1/#Qwen/Qwen2.5-7B-Instruct",
                                generator_api_key="k", generator_timeout_s=7))
    assert isinstance(g, OpenAIGenerator) and isinstance(g, Generator)
    assert (g.base_url, g.name, g.timeout_s) == ("http://gpu-box:8000/v1", "Qwen/Qwen2.5-7B-Instruct", 7)
    assert parse("openai:https://h/v1#llama3:8b") == ("https://h/v1", "llama3:8b")


@pytest.mark.parametrize("spec", ["openai:http://h/v1", "openai:http://h/v1#", "openai:h/v1#m"])
def test_a_bad_spec_says_what_is_expected(spec):
    with pytest.raises(BadInput, match="openai:<base_url>#<model>"):
        parse(spec)


def test_generate_and_stream_through_http(remote, fake_pipeline):
    g = OpenAIGenerator(f"{remote.url}/v1/generator", "fake", timeout_s=5)
    reply = g.generate(P, 20)
    assert reply.text == ANSWER and reply.stats.new_tokens == 7
    run = g.stream(P, 20)
    assert "".join(run) == ANSWER
    assert run.stats.new_tokens == 7 and run.stats.prompt_tokens == 5  # the remote's usage
    assert run.stats.prefill_ms > 0 and run.stats.decode_ms >= 0
    assert fake_pipeline.generator.prompts[-1] == P  # the same prompt, system included
    assert g.check() is None


def test_pipeline_answers_with_the_remote_model(remote, fake_pipeline):
    p = front(fake_pipeline, remote.url)
    with TestClient(create_app(p)) as c:
        body = c.post("/ask", json={"question": "Where was the summit held?"}).json()
        assert body["answer"] == ANSWER and body["citations"][0]["article_id"] == "summit"
        assert {"prefill", "decode"} <= set(body["timings_ms"])
        assert c.get("/health").json()["generator"] == "fake"


def test_a_remote_that_is_down_is_a_503_and_health_says_so(fake_pipeline):
    p = front(fake_pipeline, f"http://127.0.0.1:{free_port()}")  # nothing listens there
    with TestClient(create_app(p)) as c:
        t0 = time.monotonic()
        r = c.post("/ask", json={"question": "Where was the summit held?"})
        assert r.status_code == 503 and "unavailable: cannot connect" in r.json()["detail"]
        with c.stream("POST", "/ask/stream", json={"question": "Where was the summit held?"}) as s:
            events = sse_events(s.iter_lines())
        assert events[-1][0] == "error" and '"status": 503' in events[-1][1]
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "Where was the summit held?"}]})
        assert r.status_code == 503 and r.json()["error"]["code"] == "generator_unavailable"
        health = c.get("/health")
        assert health.status_code == 503 and health.json()["status"] == "generator_unreachable"
        assert "cannot connect" in health.json()["detail"]
        assert time.monotonic() - t0 < 20  # refused at once, no retries
        # What needs no model still works.
        assert c.get("/articles").status_code == 200


def test_a_slow_remote_times_out(settings):
    gate = threading.Event()

    def slow(prompt):
        gate.wait(10)
        return "late"

    index = open_index(settings, FakeEmbedder())
    slow_pipeline = Rig(index, Pipeline.build(AnswerSettings.of(settings, TUNING), index.snapshot, index.embedder, FakeGenerator(slow, name="slow"),
                                              FakeVerifier()), settings)
    try:
        with ThreadServer(create_app(slow_pipeline)) as server:
            g = OpenAIGenerator(f"{server.url}/v1/generator", "slow", timeout_s=0.5)
            t0 = time.monotonic()
            with pytest.raises(GeneratorUnavailable, match="no reply within 0.5 s"):
                list(g.stream(P, 5))
            assert time.monotonic() - t0 < 5
    finally:
        gate.set()


def test_the_next_request_after_the_remote_is_back_works(fake_pipeline):
    port = free_port()
    p = front(fake_pipeline, f"http://127.0.0.1:{port}")
    with TestClient(create_app(p)) as c:
        assert c.post("/ask", json={"question": "Where was the summit held?"}).status_code == 503
        with ThreadServer(create_app(fake_pipeline), port=port):
            assert c.get("/health").status_code == 200
            r = c.post("/ask", json={"question": "Where was the summit held?"})
            assert r.status_code == 200 and r.json()["answer"] == ANSWER


def test_the_server_starts_while_the_remote_is_down(settings, monkeypatch):
    """Warm-up cannot reach the model: the server still serves, /health says why."""
    from rag import assemble as service

    s = settings.model_copy(update={"generator": f"openai:http://127.0.0.1:{free_port()}/v1#m",
                                    "generator_timeout_s": 2})
    monkeypatch.setattr(service, "load_embedder", lambda *a, **k: FakeEmbedder())
    monkeypatch.setattr(service, "load_verifier", lambda *a, **k: FakeVerifier())
    with TestClient(create_app(settings=s)) as c:
        deadline = time.monotonic() + 20
        while c.app.state.rag.index is None or not c.app.state.rag.index.loaded:
            assert time.monotonic() < deadline and c.app.state.rag.error is None, c.app.state.rag.error
            time.sleep(0.05)
        r = c.get("/health")
        assert r.status_code == 503 and r.json()["status"] == "generator_unreachable"
