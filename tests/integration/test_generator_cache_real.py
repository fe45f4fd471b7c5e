"""The real generator rebuilt from the int8 cache decodes exactly as after quantize_dynamic.

The reference is quantized from the converted checkpoint in this process (the cache
neither read nor written); the other is loaded from the cache, written first if missing.
"""

from __future__ import annotations

import pytest

from rag.components.generation import GenerationStats, Prompt, TransformersGenerator

PROMPTS = [
    Prompt("Answer the question using only the numbered sources. Be brief.",
           "Source [1]: The summit was held in Tianjin.\n\nQuestion: Where was the summit held?"),
    Prompt("You are a helpful assistant.", "Write a long story about a lighthouse keeper."),
    Prompt("Reply OK.", "OK?"),
]


def token_ids(g: TransformersGenerator, prompt: Prompt) -> list[int]:
    inputs = g._inputs(prompt)
    return g._run(inputs, 48, None, GenerationStats())[0, inputs["input_ids"].shape[1]:].tolist()


@pytest.fixture(scope="module")
def from_checkpoint(real_settings):
    g = TransformersGenerator(real_settings.generator, cache_dir=real_settings.model_cache_dir, progress=False)
    g._int8_cache = lambda: None  # neither read nor write the cache
    g.load()
    assert g.loaded_from == "checkpoint"
    yield g
    g._model = None


def test_cached_int8_generator_gives_identical_token_ids(real_settings, from_checkpoint):
    def fresh() -> TransformersGenerator:
        return TransformersGenerator(real_settings.generator, cache_dir=real_settings.model_cache_dir,
                                     progress=False).load()

    cached = fresh()
    if cached.loaded_from != "int8-cache":  # no cache yet: that load wrote it
        cached = fresh()
    assert cached.loaded_from == "int8-cache"
    for prompt in PROMPTS:
        assert token_ids(cached, prompt) == token_ids(from_checkpoint, prompt)
