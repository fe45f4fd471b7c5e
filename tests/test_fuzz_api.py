"""Fuzz every operation of the OpenAPI schema (schemathesis): whatever the body,
headers or path, the API answers without a server error, with a JSON `detail`."""

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings as hsettings
from schemathesis.checks import not_a_server_error

from rag.api import create_app
from rag.config import Settings
from rag.documents import make_article
from rag.indexing import ingest

from .conftest import SEEDS, SUMMIT, WEATHER, make_pipeline


# JSONL bodies are text on the wire.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
_TMP = tempfile.TemporaryDirectory(prefix="rag-fuzz-")  # removed when the session ends


def _app():
    # Built at collection time: schemathesis' lazy fixture loader does not work with
    # this pytest, and parametrizing needs the schema up front.
    tmp = Path(_TMP.name)
    # Small limits, so that the fuzzer also reaches them.
    s = Settings(data_dir=tmp / "data", seeds_dir=SEEDS, model_cache_dir=tmp / "cache",
                 max_body_bytes=64_000, max_upload_bytes=32_000, max_batch_articles=20,
                 max_question_chars=500, max_history_turns=6)
    p = make_pipeline(s, replies=("The summit was held in Tianjin [1].",))
    ingest(p, [make_article(SUMMIT, id="summit"), make_article(WEATHER, id="weather")])
    return create_app(p)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@hsettings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        assert isinstance(response.json()["detail"], str), response.text
