"""GET /metrics: Prometheus text with request counts, stage latencies, tokens/s and index size."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from rag.server.app import create_app
from rag.server.metrics import Metrics
from rag.types import Answer


def scrape(client) -> dict[tuple[str, tuple], float]:
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


@pytest.fixture
def client(fake_pipeline):
    # The fake's reply has 7 words (tokens): the first in 50 ms, the 6 after it in 0.3 s.
    fake_pipeline.generator.ms_per_token = 50.0
    with TestClient(create_app(fake_pipeline)) as c:
        yield c


def test_ask_is_counted_with_stage_latencies_and_tokens(client, fake_pipeline):
    assert client.post("/ask", json={"question": "Where was the summit held?"}).status_code == 200
    m = scrape(client)
    assert m[("rag_http_requests_total", (("method", "POST"), ("route", "/ask"), ("status", "200")))] == 1
    assert m[("rag_answers_total", (("outcome", "answered"),))] == 1
    for stage in ("retrieve", "prefill", "decode", "ground", "total"):
        assert m[("rag_stage_seconds_count", (("stage", stage),))] == 1
    assert m[("rag_stage_seconds_sum", (("stage", "decode"),))] == pytest.approx(0.3)
    assert m[("rag_stage_seconds_sum", (("stage", "prefill"),))] == pytest.approx(0.05)
    assert m[("rag_generated_tokens_total", ())] == 7
    assert m[("rag_decode_tokens_per_second_sum", ())] == pytest.approx(20.0)
    assert m[("rag_decode_tokens_per_second_bucket", (("le", "15.0"),))] == 0
    assert m[("rag_decode_tokens_per_second_bucket", (("le", "20.0"),))] == 1
    assert m[("rag_index_articles", ())] == 2
    assert m[("rag_index_chunks", ())] == len(fake_pipeline.index.snapshot().store.chunks)


def test_errors_are_counted_by_route_template_and_status(client):
    client.post("/ask", json={"question": "  "})
    client.get("/articles/nope")
    client.get("/articles/other")
    m = scrape(client)
    assert m[("rag_http_requests_total", (("method", "POST"), ("route", "/ask"), ("status", "422")))] == 1
    # One series for the route, not one per article id.
    assert m[("rag_http_requests_total", (("method", "GET"), ("route", "/articles/{article_id}"),
                                          ("status", "404")))] == 2
    assert ("rag_answers_total", (("outcome", "answered"),)) not in m


def test_stream_records_first_token_and_answer(client):
    with client.stream("POST", "/ask/stream", json={"question": "Where was the summit held?"}) as r:
        assert r.status_code == 200
        "".join(r.iter_text())
    m = scrape(client)
    assert m[("rag_time_to_first_token_seconds_count", ())] == 1
    assert m[("rag_answers_total", (("outcome", "answered"),))] == 1
    assert m[("rag_stage_seconds_count", (("stage", "total"),))] == 1


def test_abstention_counts_no_tokens():
    metrics = Metrics()
    metrics.observe_answer(Answer(answer="no", abstained=True, query="q", timings_ms={"retrieve": 3.0}),
                           generated=None)
    text = metrics.render()[0].decode()
    m = {(s.name, tuple(sorted(s.labels.items()))): s.value
         for f in text_string_to_metric_families(text) for s in f.samples}
    assert m[("rag_answers_total", (("outcome", "abstained"),))] == 1
    assert m[("rag_stage_seconds_sum", (("stage", "retrieve"),))] == pytest.approx(0.003)
    assert m[("rag_generated_tokens_total", ())] == 0
    assert m[("rag_index_chunks", ())] == 0  # no pipeline yet: an empty index, not an error


def test_two_apps_have_separate_registries(fake_pipeline):
    a, b = TestClient(create_app(fake_pipeline)), TestClient(create_app(fake_pipeline))
    a.get("/health")
    assert scrape(b).get(("rag_http_requests_total", (("method", "GET"), ("route", "/health"),
                                                      ("status", "200")))) is None
