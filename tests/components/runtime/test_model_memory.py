"""fp16 input embeddings change nothing when the weights are fp16 values, and are refused otherwise.

A tiny Qwen2 built from a config (random weights, nothing downloaded) stands in for the
packaged model: same classes, same embedding hooks.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from rag.components.runtime.heap import Trimmer  # noqa: E402
from rag.components.runtime.model_memory import HalfEmbedding, half_input_embeddings  # noqa: E402

IDS = [[1, 5, 7, 9, 42, 3]]


def tiny(tied: bool = False, fp16_values: bool = True):
    cfg = transformers.Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=tied)
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(cfg).eval()
    if fp16_values:  # as loaded from the fp16 cache: every weight is an fp16 value held in fp32
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.half().float())
    return model


def test_half_embeddings_give_identical_logits_and_greedy_tokens():
    model = tiny()
    ids = torch.tensor(IDS)
    with torch.inference_mode():
        logits = model(ids).logits
        tokens = model.generate(ids, max_new_tokens=8, do_sample=False)
    assert half_input_embeddings(model)
    emb = model.get_input_embeddings()
    assert isinstance(emb, HalfEmbedding) and emb.weight.dtype == torch.float16
    with torch.inference_mode():
        assert torch.equal(model(ids).logits, logits)
        assert torch.equal(model.generate(ids, max_new_tokens=8, do_sample=False), tokens)


def test_weights_that_are_not_fp16_values_stay_fp32():
    model = tiny(fp16_values=False)
    assert not half_input_embeddings(model)
    assert model.get_input_embeddings().weight.dtype == torch.float32


def test_embeddings_tied_to_the_output_layer_stay_fp32():
    model = tiny(tied=True)
    assert not half_input_embeddings(model)
    assert model.get_input_embeddings().weight.dtype == torch.float32


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    """``script`` in a fresh interpreter (its own heap), without MALLOC_* tunables."""
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")},
                         cwd=Path(__file__).resolve().parents[3], timeout=60)  # the repository
    assert out.returncode == 0, out.stderr
    return out


_RELEASE = """
import ctypes, sys
from pathlib import Path
from rag.components.runtime.model_memory import release_freed_memory
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
def rss():
    return int(next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS")).split()[1])
blocks, pins = [], []
for _ in range(1600):  # 100 MB in the heap, each block under the mmap threshold and pinned by a
    blocks.append(libc.malloc(64 << 10))  # small one in use after it: free() leaves holes, never
    pins.append(libc.malloc(64))  # a top it could give back
for p in blocks:
    ctypes.memset(p, 1, 64 << 10)
for p in blocks:
    libc.free(ctypes.c_void_p(p))
before = rss()
if sys.argv[1] == "release":
    release_freed_memory()
print(before - rss())
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux only")
def test_release_freed_memory_hands_freed_heap_pages_back():
    def released_kb(mode: str) -> int:
        return int(_run(_RELEASE, mode).stdout.strip())
    assert released_kb("keep") < 10_000  # glibc keeps the freed 100 MB
    assert released_kb("release") > 80_000


def test_limit_malloc_arenas_leaves_an_explicit_setting_alone(monkeypatch):
    from rag.components.runtime.heap import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas(2) is False


_ARENAS = """
import ctypes, sys, threading
from rag.components.runtime.heap import limit_malloc_arenas
if sys.argv[1] == "limited":
    assert limit_malloc_arenas(1) is True
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
together = threading.Barrier(4)
def work():  # four threads alive at once, each allocating: glibc gives each a heap of its own
    p = libc.malloc(1000)
    together.wait()
    libc.free(ctypes.c_void_p(p))
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
libc.malloc_stats()  # one "Arena n:" section per heap, on stderr
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux (glibc) only")
def test_limit_malloc_arenas_makes_new_threads_share_the_heaps():
    def arenas(mode: str) -> int:
        return sum(line.startswith("Arena ") for line in _run(_ARENAS, mode).stderr.splitlines())
    assert arenas("default") >= 3
    assert arenas("limited") == 1


_REUSE = """
import ctypes, sys
from pathlib import Path
from rag.components.runtime.heap import map_large_blocks
if sys.argv[1] == "fixed":
    assert map_large_blocks()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
def rss():
    return int(next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmRSS")).split()[1])
base = rss()
for _ in range(3):  # a mapped block freed raises glibc's dynamic threshold: the next comes from the heap
    p = libc.malloc(24 << 20)
    ctypes.memset(p, 1, 24 << 20)
    libc.free(ctypes.c_void_p(p))
print(rss() - base)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux only")
def test_a_large_freed_block_goes_back_to_the_os_every_time():
    def kept_kb(mode: str) -> int:
        out = subprocess.run([sys.executable, "-c", _REUSE, mode], capture_output=True, text=True,
                             env={k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")},
                             cwd=Path(__file__).resolve().parents[3], timeout=60)  # the repository
        assert out.returncode == 0, out.stderr
        return int(out.stdout.strip())
    assert kept_kb("dynamic") > 20_000  # glibc's default keeps the 24 MB in its heap
    assert kept_kb("fixed") < 4_000


def test_the_trimmer_trims_once_after_a_burst_and_stops():
    t = Trimmer(delay_s=0.05)
    try:
        for _ in range(20):
            t.poke()
        deadline = time.monotonic() + 5
        while t.trims == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert t.trims == 1
    finally:
        t.stop()
    assert not t._thread.is_alive()


def test_limit_onednn_cache_also_caps_torchs_own_cache_and_leaves_explicit_settings(monkeypatch):
    from rag.components.runtime.heap import limit_onednn_cache

    for var in ("LRU_CACHE_CAPACITY", "ONEDNN_PRIMITIVE_CACHE_CAPACITY", "DNNL_PRIMITIVE_CACHE_CAPACITY"):
        monkeypatch.delenv(var, raising=False)
    assert limit_onednn_cache(8)
    assert os.environ["LRU_CACHE_CAPACITY"] == "8" and os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "8"
    monkeypatch.setenv("LRU_CACHE_CAPACITY", "1024")
    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "512")
    assert not limit_onednn_cache(8)
    assert os.environ["LRU_CACHE_CAPACITY"] == "1024" and os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "512"
