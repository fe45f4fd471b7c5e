"""The real packaged generator (converted once into the model cache, then ~10 s to load).

``real_generator`` is the session-scoped fixture from this folder's conftest.py,
shared with the pipeline tests so the model loads once per run.
"""

from __future__ import annotations

import threading
import time

from rag.components.generation import Prompt, TransformersGenerator

SYSTEM = "Answer the question using only the numbered sources. Be brief."
TIANJIN = Prompt(system=SYSTEM, user="Source [1]: The summit was held in Tianjin.\n\n"
                                     "Question: Where was the summit held?")
LONG = Prompt(system="You are a helpful assistant.", user="Write a long story about a lighthouse keeper.")


def test_answers_a_grounded_question(real_generator):
    assert isinstance(real_generator, TransformersGenerator)
    reply = real_generator.generate(TIANJIN, 40)
    assert "Tianjin" in reply.text
    stats = reply.stats
    assert stats.prompt_tokens > 20 and 0 < stats.new_tokens <= 40
    assert stats.prefill_ms > 0 and stats.decode_ms >= 0
    assert stats.token_logprobs is None  # not recorded when serving


def test_records_token_logprobs_when_asked(real_generator):
    real_generator.record_logprobs = True
    try:
        reply = real_generator.generate(TIANJIN, 40)
    finally:
        real_generator.record_logprobs = False
    stats = reply.stats
    assert "".join(stats.tokens).strip().startswith(reply.text.strip())  # then the end-of-turn token
    assert len(stats.token_logprobs) == stats.new_tokens
    assert all(lp is not None and lp <= 0 for lp in stats.token_logprobs)


def test_stream_pieces_join_to_the_generated_text(real_generator, monkeypatch):
    # Plain decoding on both sides: streamed answers otherwise draft from the prompt
    # (prompt lookup), which generate() does not use.
    monkeypatch.setattr(real_generator, "prompt_lookup", 0)
    whole = real_generator.generate(TIANJIN, 40).text
    pieces = list(real_generator.stream(TIANJIN, 40))
    assert len(pieces) > 1
    assert "".join(pieces) == whole


def test_prompt_lookup_streams_a_quoting_answer_and_reports_its_tokens(real_generator):
    """With drafts from the prompt the stream still arrives in pieces, stops at the end of
    the turn, and the stats count what was produced."""
    assert real_generator.prompt_lookup > 0  # the default setting
    prompt = Prompt(system="Copy the sentence the user gives, word for word.",
                    user="Sentence: The Shanghai Cooperation Organisation summit was held in Tianjin in 2025.")
    run = real_generator.stream(prompt, 40)
    pieces = list(run)
    text = "".join(pieces)
    assert len(pieces) > 1 and "Tianjin" in text
    assert 0 < run.stats.new_tokens < 40 and run.stats.decode_ms > 0


def test_stop_ends_the_stream_quickly(real_generator):
    stop = threading.Event()
    pieces = []
    t0 = time.perf_counter()
    run = real_generator.stream(LONG, 300, stop)
    for piece in run:
        pieces.append(piece)
        if len(pieces) == 2:
            stop.set()
    elapsed = time.perf_counter() - t0
    assert run.stats.stopped
    assert run.stats.new_tokens < 10  # 300 were allowed
    assert elapsed < 10


def test_closing_the_stream_stops_the_model(real_generator):
    it = real_generator.stream(LONG, 300)
    next(it)
    it.close()  # a client disconnect
    assert it.stats.stopped and it.stats.new_tokens < 10


def test_count_tokens(real_generator):
    assert real_generator.count_tokens("The summit was held in Tianjin.") in range(5, 12)
