"""The answer writer: a small interface (stream or write a reply to a prompt), its local
adapter (a causal LM on CPU) and a fake for tests. The remote adapter, any
OpenAI-compatible server, lives in remote_generator.py."""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

# Must precede torch's import (OpenMP reads it once). With the default busy-wait,
# two threads on a 2-core box shared with other work fell from ~7 to <1 token/s
# (each waits spinning for a preempted peer); passive waiting kept ~7 token/s.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from rag.errors import ModelUnavailable  # noqa: E402
from rag.components.runtime.model_files import generator_path, set_offline  # noqa: E402
from rag.components.runtime.model_thread import GENERATOR  # noqa: E402


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    # Earlier (role, content) turns, oldest first: only plain chat completions through
    # /v1 have them; the pipeline's prompts are one system and one user message.
    history: tuple[tuple[str, str], ...] = ()

    def messages(self) -> list[dict[str, str]]:
        """The prompt as chat messages: system (if any), history, user."""
        out = [{"role": "system", "content": self.system}] if self.system else []
        out += [{"role": role, "content": content} for role, content in self.history]
        return out + [{"role": "user", "content": self.user}]


@dataclass
class GenerationStats:
    """Facts about one generation call, final once its reply is complete. None where the
    adapter cannot tell (a remote server that reports no token counts)."""

    prompt_tokens: int | None = None
    new_tokens: int | None = None
    prefill_ms: float | None = None  # to the first new token (for a remote: the network too)
    decode_ms: float | None = None  # the rest
    stopped: bool = False  # ended early by the caller's stop event or by closing the stream
    # With TransformersGenerator.record_logprobs: each new token and its log-probability.
    tokens: list[str] | None = None
    token_logprobs: list[float | None] | None = None


class TokenStream:
    """The text pieces of one generation, as they are decoded. ``stats`` belongs to this
    call alone and is final once iteration ends (or the stream is closed)."""

    def __init__(self, pieces: Iterator[str], stats: GenerationStats):
        self._pieces = pieces
        self.stats = stats

    def __iter__(self) -> TokenStream:
        return self

    def __next__(self) -> str:
        return next(self._pieces)

    def close(self) -> None:
        """Abandon the generation (a gone client): the model stops within one step."""
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()


@dataclass(frozen=True)
class Reply:
    text: str
    stats: GenerationStats


@runtime_checkable
class Generator(Protocol):
    """What the pipeline calls. Per-call facts (timings, token counts) come back with
    each call, never on a shared attribute: two requests may generate at once.
    ``name``: the model it runs (what /health and /v1/models show); ``check()``: None
    when it can answer, else what is wrong (a remote that cannot be reached; a local
    model is checked when it loads, so its check is always None)."""

    name: str

    def check(self) -> str | None: ...

    def generate(self, prompt: Prompt, max_new_tokens: int) -> Reply: ...

    def stream(self, prompt: Prompt, max_new_tokens: int,
               stop: threading.Event | None = None) -> TokenStream: ...


class FakeGenerator:
    """Canned replies for fast tests: a list used in turn (the last one repeats) or a function of the prompt."""

    def __init__(self, replies: Sequence[str] | Callable[[Prompt], str] = ("...",), name: str = "fake",
                 ms_per_token: float = 1.0):
        if not callable(replies) and not replies:
            raise ValueError("FakeGenerator needs at least one reply")
        self.name = name
        self.ms_per_token = ms_per_token  # the timings its stats report (a word is a token)
        self.prompts: list[Prompt] = []
        self._replies = replies
        self._lock = threading.Lock()

    def check(self) -> str | None:
        return None

    def _reply(self, prompt: Prompt) -> str:
        with self._lock:
            self.prompts.append(prompt)
            if callable(self._replies):
                return self._replies(prompt)
            return self._replies[min(len(self.prompts), len(self._replies)) - 1]

    def generate(self, prompt: Prompt, max_new_tokens: int) -> Reply:
        text = self._reply(prompt)
        return Reply(text, self._count(prompt, text, GenerationStats()))

    def stream(self, prompt: Prompt, max_new_tokens: int,
               stop: threading.Event | None = None) -> TokenStream:
        stats = GenerationStats()
        return TokenStream(self._pieces(prompt, stop, stats), stats)

    def _pieces(self, prompt: Prompt, stop: threading.Event | None, stats: GenerationStats) -> Iterator[str]:
        text = self._reply(prompt)
        # Pieces keep their trailing whitespace so that "".join(pieces) == text, as with the real model.
        start = 0
        for i in range(1, len(text) + 1):
            if stop is not None and stop.is_set():
                stats.stopped = True
                break
            if i == len(text) or (text[i - 1].isspace() and not text[i].isspace()):
                yield text[start:i]
                start = i
        self._count(prompt, text[:start], stats)

    def _count(self, prompt: Prompt, text: str, stats: GenerationStats) -> GenerationStats:
        """Fixed figures: a word is a token, and each takes ms_per_token to write."""
        words = len(text.split())
        stats.prompt_tokens, stats.new_tokens = len(prompt.user.split()), words
        stats.prefill_ms = self.ms_per_token if words else 0.0
        stats.decode_ms = self.ms_per_token * max(words - 1, 0)
        return stats


class TransformersGenerator:
    """Any transformers causal LM (a packaged name, a local path or a cached hub name), run on CPU.

    Lazy: nothing loads until the first call or ``load()``. One forward pass
    runs at a time; each call returns its own GenerationStats.
    """

    def __init__(self, model: str, *, cache_dir: Path, quantize: bool = True, threads: int = 0,
                 progress: bool = True, prompt_lookup: int = 0):
        self.name = model
        self.prompt_lookup = prompt_lookup  # draft tokens copied from the prompt (0: off)
        self.quantize = quantize
        self.threads = threads or os.cpu_count() or 1
        # Note each generated token and its log-probability in each call's stats (`rag
        # eval --replay` records them); off when serving, where nothing reads them.
        self.record_logprobs = False
        self.load_ms: float | None = None
        self.loaded_from: str | None = None  # "int8-cache" or "checkpoint"
        self._cache_dir = Path(cache_dir)
        self._progress = progress
        self._model: Any = None
        self._tokenizer: Any = None
        self._path: str | None = None
        self._load_lock = threading.RLock()
        self._gen_lock = threading.Lock()

    def check(self) -> str | None:
        """None: a local model's problems surface when it loads (ModelUnavailable)."""
        return None

    # -- loading -------------------------------------------------------------

    def _resolve(self) -> str:
        if self._path is None:
            self._path = generator_path(self.name, self._cache_dir, progress=self._progress)
        return self._path

    def _ensure_tokenizer(self) -> Any:
        if self._tokenizer is None:
            with self._load_lock:
                if self._tokenizer is None:
                    set_offline()
                    from transformers import AutoTokenizer
                    try:
                        self._tokenizer = AutoTokenizer.from_pretrained(self._resolve(), local_files_only=True)
                    except (OSError, ValueError) as exc:
                        raise ModelUnavailable(f"cannot load tokenizer for generator {self.name!r} offline: {exc}") from exc
        return self._tokenizer

    def load(self) -> TransformersGenerator:
        if self._model is not None:
            return self
        with self._load_lock:
            if self._model is not None:
                return self
            t0 = time.perf_counter()
            tokenizer = self._ensure_tokenizer()
            import torch
            torch.set_num_threads(self.threads)
            model = self._load_cached_int8() if self.quantize else None
            if model is None:
                model = self._load_and_quantize()
            self._eos = _stop_token_ids(tokenizer, model)
            self._pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self._eos[0]
            self._model = model
            self.load_ms = (time.perf_counter() - t0) * 1000
        return self

    def _int8_cache(self) -> tuple[Path, str] | None:
        """Where the quantized model is cached and its key; None for models not in a local directory."""
        path = Path(self._resolve())
        if not path.is_dir():  # a hub name: its files are not ours to key on
            return None
        from rag.components.runtime.generator_cache import cache_key, cache_path  # imports torch

        key = cache_key(path, self.name)
        return cache_path(self._cache_dir, self.name, key), key

    def _load_cached_int8(self) -> Any:
        where = self._int8_cache()
        if where is None:
            return None
        from rag.components.runtime.generator_cache import load_cached  # imports torch

        model = load_cached(self._resolve(), where[0], where[1], threads=self.threads)
        if model is not None:
            self.loaded_from = "int8-cache"
        return model

    def _load_and_quantize(self) -> Any:
        """The converted checkpoint in fp32, quantized in place (and cached for next time)."""
        import torch
        from transformers import AutoModelForCausalLM

        from rag.components.runtime.generator_cache import save_cached  # these two import torch
        from rag.components.runtime.model_memory import half_input_embeddings, release_freed_memory
        try:
            model = AutoModelForCausalLM.from_pretrained(self._resolve(), dtype=torch.float32,
                                                         local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(f"cannot load generator {self.name!r} offline: {exc}") from exc
        model.eval()
        self.loaded_from = "checkpoint"
        if not self.quantize:
            return model
        with warnings.catch_warnings():  # deprecated in favour of torchao, which we do not ship
            for category in (DeprecationWarning, FutureWarning, UserWarning):
                warnings.simplefilter("ignore", category)
            # inplace: a copy of the fp32 model would double peak memory and load time
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8,
                                                           inplace=True)
        # 3.6 -> 1.3 GB resident, outputs unchanged (see runtime/model_memory.py).
        half_input_embeddings(model)
        release_freed_memory()
        where = self._int8_cache()
        if where is not None:
            save_cached(model, *where)
            release_freed_memory()
        return model

    # -- generation ----------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return len(self._ensure_tokenizer()(text, add_special_tokens=False)["input_ids"])

    def render(self, prompt: Prompt) -> str:
        """The prompt as the model sees it, chat template applied."""
        return self._ensure_tokenizer().apply_chat_template(prompt.messages(), tokenize=False,
                                                            add_generation_prompt=True)

    def _inputs(self, prompt: Prompt) -> Any:
        return self._tokenizer(self.render(prompt), return_tensors="pt", add_special_tokens=False)

    def _run(self, inputs: Any, max_new_tokens: int, stop: threading.Event | _AnyEvent | None,
             stats: GenerationStats, streamer: Any = None, started: threading.Event | None = None,
             lookup: bool = False) -> Any:
        """One greedy generate() call under the model lock; fills this call's ``stats``.
        ``lookup``: draft tokens from the prompt (answers, which quote their sources)."""
        import torch
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        lookup = {"prompt_lookup_num_tokens": self.prompt_lookup} if lookup and self.prompt_lookup else {}
        config = GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False, repetition_penalty=1.0,
                                  eos_token_id=self._eos, pad_token_id=self._pad, **lookup)
        clock = _Clock(stop)
        scorer = _TokenLogProbs() if self.record_logprobs else None
        n_prompt = int(inputs["input_ids"].shape[1])
        stats.prompt_tokens = n_prompt
        with self._gen_lock, torch.inference_mode():
            if stop is not None and stop.is_set():  # abandoned while queued: skip even the prefill
                stats.new_tokens, stats.prefill_ms, stats.decode_ms, stats.stopped = 0, 0.0, 0.0, True
                if streamer is not None:
                    streamer.end()
                return inputs["input_ids"]
            if started is not None:
                started.set()
            clock.start = time.perf_counter()
            out = self._model.generate(**inputs, generation_config=config, streamer=streamer,
                                       stopping_criteria=StoppingCriteriaList([clock]),
                                       logits_processor=LogitsProcessorList([scorer] if scorer else []))
        end = time.perf_counter()
        first = clock.first or end
        stats.new_tokens = int(out.shape[1]) - n_prompt
        stats.prefill_ms, stats.decode_ms = (first - clock.start) * 1000, (end - first) * 1000
        stats.stopped = clock.halted
        if scorer is not None:
            scored = scorer.result(out[0, n_prompt:].tolist(), n_prompt, self._tokenizer)
            stats.tokens, stats.token_logprobs = scored["tokens"], scored["token_logprobs"]
        return out

    def generate(self, prompt: Prompt, max_new_tokens: int) -> Reply:
        """The whole reply at once (follow-up rewriting, warm-up): decoded token by token,
        without prompt lookup, whose drafts only pay off on replies that quote the prompt."""
        self.load()
        inputs = self._inputs(prompt)
        stats = GenerationStats()
        out = GENERATOR.run(self._run, inputs, max_new_tokens, None, stats)
        return Reply(self._tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True),
                     stats)

    def stream(self, prompt: Prompt, max_new_tokens: int,
               stop: threading.Event | None = None) -> TokenStream:
        """Text pieces as they are decoded; the stream's stats are final when it ends.

        Generation runs on the generator's thread (runtime/model_thread.py). It ends promptly when ``stop``
        is set or when the consumer abandons the stream (closing it, e.g. on
        client disconnect), so a gone client never keeps the model busy.
        """
        stats = GenerationStats()
        return TokenStream(self._stream(prompt, max_new_tokens, stop, stats), stats)

    def _stream(self, prompt: Prompt, max_new_tokens: int, stop: threading.Event | None,
                stats: GenerationStats) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        self.load()
        inputs = self._inputs(prompt)
        halt = _AnyEvent(stop)
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
        failure: list[BaseException] = []
        started = threading.Event()

        def work() -> None:
            try:
                self._run(inputs, max_new_tokens, halt, stats, streamer, started, lookup=True)
            except BaseException as exc:  # re-raised in the consumer, which would otherwise wait forever
                failure.append(exc)
                streamer.end()

        # On the generator's long-lived thread, not a new one per answer (runtime/model_thread.py).
        done = GENERATOR.submit(work)
        try:
            for piece in streamer:
                if piece:
                    yield piece
                if halt.is_set():
                    break
        finally:
            halt.own.set()
            # A running generation stops within one forward pass: wait so stats are final.
            # One still queued behind another request will skip itself; don't wait for that.
            if started.is_set() or done.done():
                done.result()
        if failure:
            raise failure[0]


class _AnyEvent:
    """Set when the caller's event or our own is set (the caller's must not be touched)."""

    def __init__(self, outer: threading.Event | None):
        self.outer = outer
        self.own = threading.Event()

    def is_set(self) -> bool:
        return self.own.is_set() or (self.outer is not None and self.outer.is_set())


class _TokenLogProbs:
    """A pass-through logits processor noting the log-probability of the greedy token at
    each position: the model's confidence in what it wrote, for one logsumexp per token.
    Keyed by position: with prompt lookup, positions are scored again when drafts are
    rejected, and the last scoring of a position is the one on the accepted prefix."""

    def __init__(self) -> None:
        self.by_pos: dict[int, tuple[float, int]] = {}

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch
        row = scores[0].float()
        self.by_pos[int(input_ids.shape[1])] = (float(row.max() - torch.logsumexp(row, dim=-1)),
                                               int(row.argmax()))
        return scores

    def result(self, new_ids: list[int], n_prompt: int, tokenizer: Any) -> dict[str, list]:
        """Per generated token, its text and log-probability (None where not scored)."""
        lps = []
        for k, i in enumerate(new_ids):
            got = self.by_pos.get(n_prompt + k)
            lps.append(got[0] if got is not None and got[1] == i else None)
        return {"token_logprobs": lps, "tokens": [tokenizer.decode([i]) for i in new_ids]}


class _Clock:
    """A stopping criterion that also timestamps the first new token: prefill ends there."""

    def __init__(self, stop: threading.Event | _AnyEvent | None):
        self.stop = stop
        self.start = 0.0
        self.first: float | None = None
        self.halted = False

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch
        if self.first is None:
            self.first = time.perf_counter()
        halt = self.stop is not None and self.stop.is_set()
        self.halted = self.halted or halt
        return torch.full((input_ids.shape[0],), halt, dtype=torch.bool, device=input_ids.device)


def _stop_token_ids(tokenizer: Any, model: Any) -> list[int]:
    """End-of-turn ids: chat models end turns with a token other than the base model's EOS."""
    ids: list[int] = []
    vocab = tokenizer.get_vocab()
    for candidate in (tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None),
                      vocab.get("<|im_end|>"), vocab.get("<|endoftext|>")):
        for i in candidate if isinstance(candidate, list) else [candidate]:
            if isinstance(i, int) and i >= 0 and i not in ids:
                ids.append(i)
    if not ids:
        raise ModelUnavailable("the generator's tokenizer defines no end-of-sequence token")
    return ids
