"""The int8 generator cache (generator_cache.py) on a tiny random Qwen2: same outputs,
stale or corrupt files rebuilt, writes atomic. The real model: tests/integration/test_generator_cache_real.py."""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from rag.components.runtime import generator_cache  # noqa: E402
from rag.components.generation import Prompt, TransformersGenerator  # noqa: E402
from rag.components.runtime.model_memory import HalfEmbedding  # noqa: E402

IDS = torch.tensor([[3, 7, 11, 19, 23, 5, 8]])


def _tokenizer(out: Path) -> None:
    from tokenizers import Tokenizer, decoders, models as tok_models
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    vocab = {t: i for i, t in enumerate(specials + list(string.ascii_letters + string.digits + " \n?."))}
    core = Tokenizer(tok_models.BPE(vocab=vocab, merges=[]))
    core.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tok.chat_template = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                         "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    tok.save_pretrained(out)


@pytest.fixture
def model_dir(tmp_path) -> Path:
    """A checkpoint whose weights are fp16 values (as the converted cache), so the
    embeddings get halved too: both kinds of stored module are exercised."""
    cfg = transformers.Qwen2Config(vocab_size=80, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=False,
                                   eos_token_id=2, pad_token_id=0)
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    out = tmp_path / "model"
    model.save_pretrained(out)
    _tokenizer(out)
    return out


def generator(model_dir: Path, cache: Path) -> TransformersGenerator:
    return TransformersGenerator(str(model_dir), cache_dir=cache, quantize=True, threads=2, progress=False)


def cache_files(cache: Path) -> list[Path]:
    return sorted((cache / generator_cache.SUBDIR).glob("*"))


def greedy(model) -> list[int]:
    with torch.inference_mode():
        return model.generate(IDS, max_new_tokens=8, do_sample=False, pad_token_id=0)[0].tolist()


def logits(model):
    with torch.inference_mode():
        return model(IDS).logits


def test_second_load_comes_from_the_cache_with_identical_outputs(model_dir, tmp_path):
    cache = tmp_path / "cache"
    first = generator(model_dir, cache).load()
    assert first.loaded_from == "checkpoint"
    files = cache_files(cache)
    assert len(files) == 1 and files[0].suffix == ".safetensors"
    second = generator(model_dir, cache).load()
    assert second.loaded_from == "int8-cache"
    assert isinstance(second._model.get_input_embeddings(), HalfEmbedding)
    assert isinstance(second._model.lm_head, torch.ao.nn.quantized.dynamic.Linear)
    assert torch.equal(logits(first._model), logits(second._model))
    assert greedy(first._model) == greedy(second._model)
    p = Prompt(system="Be brief.", user="Where?")
    assert first.generate(p, 6).text == second.generate(p, 6).text
    assert second._model.generation_config.eos_token_id == first._model.generation_config.eos_token_id
    assert not any(t.is_meta for t in [*second._model.parameters(), *second._model.buffers()])


def test_changed_model_files_give_a_new_key_and_the_stale_file_is_removed(model_dir, tmp_path):
    cache = tmp_path / "cache"
    generator(model_dir, cache).load()
    [old] = cache_files(cache)
    config = model_dir / "config.json"
    st = config.stat()
    os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # "changed"
    g = generator(model_dir, cache).load()
    assert g.loaded_from == "checkpoint"  # the old file was not used
    [new] = cache_files(cache)
    assert new != old and not old.exists()
    assert generator(model_dir, cache).load().loaded_from == "int8-cache"


def test_writing_removes_only_older_files_of_the_same_model(model_dir, tmp_path):
    cache = tmp_path / "cache"
    g = generator(model_dir, cache)
    path, key = g._int8_cache()
    path.parent.mkdir(parents=True)
    slug = path.name[: -len(".safetensors") - 20]
    older = path.parent / f"{slug}{'0' * 20}.safetensors"
    other_model = path.parent / f"{slug}large-{'0' * 20}.safetensors"
    for f in (older, other_model):
        f.write_bytes(b"x")
    g.load()
    assert path.is_file() and not older.exists() and other_model.exists()


def test_key_depends_on_recipe_and_library_versions(model_dir, monkeypatch):
    key = generator_cache.cache_key(model_dir, "m")
    assert generator_cache.cache_key(model_dir, "m") == key
    assert generator_cache.cache_key(model_dir, "other") != key
    monkeypatch.setattr(generator_cache, "RECIPE", generator_cache.RECIPE + "-changed")
    assert generator_cache.cache_key(model_dir, "m") != key
    monkeypatch.undo()
    monkeypatch.setattr(torch, "__version__", "0.0.0-other")
    assert generator_cache.cache_key(model_dir, "m") != key


def test_a_file_written_under_another_key_is_refused_and_deleted(model_dir, tmp_path):
    cache = tmp_path / "cache"
    g = generator(model_dir, cache).load()
    [path] = cache_files(cache)
    assert generator_cache.load_cached(str(model_dir), path, "another-key") is None
    assert not path.exists()
    assert g.loaded_from == "checkpoint"


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "drop-tensor"])
def test_a_corrupt_cache_is_discarded_and_rebuilt(model_dir, tmp_path, damage):
    cache = tmp_path / "cache"
    reference = greedy(generator(model_dir, cache).load()._model)
    [path] = cache_files(cache)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) * 2 // 3])
    elif damage == "garbage":
        path.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a well-formed file that lacks a weight the model needs
        from safetensors import safe_open
        from safetensors.torch import save_file
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata()
            tensors = {k: f.get_tensor(k).clone() for k in f.keys() if "layers.1.mlp" not in k}
        save_file(tensors, str(path), metadata=meta)
    g = generator(model_dir, cache).load()  # no exception: quantized again
    assert g.loaded_from == "checkpoint"
    assert greedy(g._model) == reference
    assert len(cache_files(cache)) == 1  # rewritten
    assert generator(model_dir, cache).load().loaded_from == "int8-cache"


def test_the_write_is_atomic(model_dir, tmp_path, monkeypatch):
    """A write that fails half-way leaves nothing under the final name and no temp file."""
    from safetensors import torch as st_torch

    cache = tmp_path / "cache"
    real_save = st_torch.save_file

    def half_then_crash(tensors, filename, metadata=None):
        real_save(tensors, filename, metadata=metadata)
        with open(filename, "r+b") as f:
            f.truncate(100)
        raise OSError("disk full")

    monkeypatch.setattr(st_torch, "save_file", half_then_crash)
    g = generator(model_dir, cache).load()  # the failed write is only logged
    assert g.loaded_from == "checkpoint" and cache_files(cache) == []
    assert not list((cache / generator_cache.SUBDIR).glob(".*"))

    renames = []
    real_replace = os.replace

    def spy(src, dst):
        renames.append((Path(src), Path(dst), Path(src).stat().st_size))
        return real_replace(src, dst)

    monkeypatch.setattr(st_torch, "save_file", real_save)
    monkeypatch.setattr(generator_cache.os, "replace", spy)
    generator(model_dir, cache).load()
    [(src, dst, size)] = renames
    assert src.parent == dst.parent and src.name.startswith(".") and dst.name.endswith(".safetensors")
    assert dst.stat().st_size == size and not src.exists()


def test_an_unwritable_cache_dir_only_costs_the_cache(model_dir, tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache dir should be")
    g = generator(model_dir, blocker).load()
    assert g.loaded_from == "checkpoint" and g.generate(Prompt(system="", user="Hi"), 3) is not None


def test_models_it_cannot_store_are_simply_not_cached(tmp_path):
    class Shared(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.LayerNorm(4)
            self.b = torch.nn.LayerNorm(4)
            self.b.weight = self.a.weight  # tied: the format does not record aliases

    path = tmp_path / "x.safetensors"
    assert generator_cache.save_cached(Shared(), path, "k") is False
    assert not path.exists()


def test_hub_names_are_not_cached(tmp_path):
    g = TransformersGenerator("some-org/some-model", cache_dir=tmp_path, quantize=True, progress=False)
    assert g._int8_cache() is None
