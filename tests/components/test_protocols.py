"""Every implementation offers what its Protocol declares (the answering code and the
server call these members without probing for them)."""

from __future__ import annotations

from rag.components.embedding import FakeEmbedder
from rag.components.generation import FakeGenerator, Generator, TransformersGenerator
from rag.components.verifier import Calibration, CrossEncoderVerifier
from rag.components.fake_verifier import FakeVerifier
from rag.eval import RecordedGenerator


class Unreachable(FakeGenerator):
    def check(self) -> str | None:
        return "the generator at http://gpu-box is unavailable"


def test_every_generator_has_a_name_and_a_check(tmp_path):
    local = TransformersGenerator("packaged:nothing-loaded", cache_dir=tmp_path)  # lazy: nothing loads
    for g in (FakeGenerator(), local, RecordedGenerator(FakeGenerator(), tmp_path / "r.jsonl")):
        assert isinstance(g, Generator) and g.name
        assert g.check() is None  # a local model's problems surface when it loads
    # A wrapper passes its generator's problem on.
    assert RecordedGenerator(Unreachable(), tmp_path / "r.jsonl").check() == Unreachable().check()


def test_every_verifier_has_its_calibration_and_says_whether_its_spans_have_a_null():
    shipped = CrossEncoderVerifier()  # models/verifier/config.json: no weights are read
    assert shipped.calibration.answerable == 0.7 and shipped.calibration.contradicted == 0.5
    assert shipped.span_null is True
    untuned = CrossEncoderVerifier.in_memory(None, None, max_length=128)  # a model in training
    assert untuned.calibration == Calibration() and untuned.span_null is False
    assert FakeVerifier().calibration == Calibration() and FakeVerifier(span_null=True).span_null


def test_the_fake_embedder_takes_a_large_job():
    e = FakeEmbedder()
    with e.large_job():
        assert e.embed(["a text"]).shape == (1, e.dim)

