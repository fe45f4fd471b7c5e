"""/metrics after one real answer: the real generator's token counts and stage timings arrive."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from rag.server.app import create_app


def test_metrics_after_a_real_answer(real_pipeline):
    client = TestClient(create_app(real_pipeline))
    r = client.post("/ask", json={"question": "Which multilateral organisation held the summit?"})
    assert r.status_code == 200
    body = r.json()
    m = {(s.name, tuple(sorted(s.labels.items()))): s.value
         for f in text_string_to_metric_families(client.get("/metrics").text) for s in f.samples}
    assert m[("rag_index_chunks", ())] == len(real_pipeline.index.snapshot().store.chunks) > 0
    assert m[("rag_stage_seconds_count", (("stage", "retrieve"),))] == 1
    assert "decode" in body["timings_ms"]  # answerable: the model was asked
    generated = next(v for k, v in real_pipeline.ask_stream("Which multilateral organisation held the summit?")
                     if k == "generated")  # the same question again: greedy, the same tokens
    assert m[("rag_generated_tokens_total", ())] == generated.new_tokens > 0
    assert m[("rag_stage_seconds_sum", (("stage", "prefill"),))] > 0
    assert m[("rag_decode_tokens_per_second_count", ())] == (m[("rag_generated_tokens_total", ())] > 1)
