"""Fuzz every operation of the OpenAPI schema (schemathesis, every built-in check):
whatever the body, headers or path, the API answers as its schema says (no server
error, documented status codes, content types and bodies; what the schema allows is
accepted, what it forbids is refused), and every error has a JSON `detail`."""

import tempfile
from pathlib import Path

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection
from hypothesis import HealthCheck, settings as hsettings

from rag.server.app import create_app
from rag.config import Settings
from rag.documents import make_article

from ..conftest import SEEDS, SUMMIT, WEATHER, make_pipeline


_TMP = tempfile.TemporaryDirectory(prefix="rag-fuzz-")  # removed when the session ends


def _app():
    # Built at collection time: schemathesis' lazy fixture loader does not work with
    # this pytest, and parametrizing needs the schema up front.
    tmp = Path(_TMP.name)
    # Small limits, so that the fuzzer also reaches them.
    s = Settings(data_dir=tmp / "data", seeds_dir=SEEDS, model_cache_dir=tmp / "cache",
                 max_body_bytes=64_000, max_upload_bytes=32_000, max_batch_articles=20,
                 max_question_chars=500, max_history_turns=6, admin_token=TOKEN)
    p = make_pipeline(s, replies=("The summit was held in Tianjin [1].",))
    p.index.ingest([make_article(SUMMIT, id="summit"), make_article(WEATHER, id="weather")])
    return create_app(p)


TOKEN = "fuzz-admin-token"
# Refusing what is over a limit with 413 is a refusal too (the schema states the limits).
_REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
_CONFIG = SchemathesisConfig.from_dict({
    "headers": {"Authorization": f"Bearer {TOKEN}"},
    # A delete saves a version (fsync): seconds, not milliseconds, on a loaded machine.
    "request-timeout": 120,
    "checks": {"negative_data_rejection": {"expected-statuses": _REFUSED}}})
schema = schemathesis.openapi.from_asgi("/openapi.json", _app(), config=_CONFIG)


@schema.parametrize()
@hsettings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    # Every built-in check: no 5xx, only documented status codes, content types and
    # response bodies, valid data accepted and invalid data rejected, undocumented
    # methods answered 405 with Allow, ...
    # One exception: in multipart/form-data every value travels as text, so a "number"
    # the fuzzer puts in place of a file's contents reaches the server as the text
    # "1.6e+16", which is a valid upload; the server cannot tell the two apart.
    multipart = (case.media_type or "").startswith("multipart/")
    response = case.call_and_validate(excluded_checks=[negative_data_rejection] if multipart else None)
    if response.status_code >= 400 and response.status_code != 405:
        assert isinstance(response.json()["detail"], str), response.text
