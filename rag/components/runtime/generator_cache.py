"""The int8 generator, cached after its first quantization.

Loading the converted checkpoint in fp32 and quantizing it costs ~6-8 s on two
cores and a 2.5 GB peak; most of that is reading, widening and re-quantizing
weights that come out the same every time. The first quantized load therefore
saves what quantization produced (int8 weights with their scales, the fp16 input
embeddings, the remaining small tensors) to one safetensors file, and later loads
rebuild the model from it: a skeleton on the meta device (no memory, no random
init), its Linear layers swapped for dynamic int8 ones packed from the stored
integers. The packed weights are the same bytes as after ``quantize_dynamic``, so
outputs are identical (tests/integration/test_generator_cache_real.py compares
greedy token ids).

Safety of the cache:

* the file name and its metadata carry a key over the model files (names,
  sizes, mtimes), torch and transformers versions, the quantized engine and
  ``RECIPE``: anything that could change the result gives a new key, and a file
  with another key is never used (and is deleted once a fresh one is written);
* it is written to a temp file beside the target, fsynced, then renamed, so a
  killed write leaves no file under the final name;
* a file that cannot be read or does not fit the model (truncated, wrong or
  missing tensors) is deleted and ``load_cached`` returns None: the caller
  quantizes again and rewrites it. Nothing here ever raises to the caller.

safetensors, not pickle: loading the cache cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch

from rag.components.runtime.model_memory import HalfEmbedding

log = logging.getLogger("rag")

# Bump when what gets quantized, or how, changes (quantize_dynamic on nn.Linear to
# qint8 with the default dynamic qconfig; input embeddings halved when exact).
RECIPE = "quantize_dynamic:Linear:qint8:default-qconfig;half_input_embeddings;v1"
FORMAT = "rag-int8-generator/1"
SUBDIR = "int8"
_KEY_CHARS = 20
_QSCHEMES = (torch.per_tensor_affine, torch.per_tensor_symmetric)


class Unsupported(Exception):
    """The model holds something this format does not store: it is not cached."""


def _qlinear_type() -> type:
    from torch.ao.nn.quantized.dynamic import Linear
    return Linear


def cache_key(model_dir: Path, name: str) -> str:
    """A hash of everything the quantized weights depend on."""
    import transformers

    files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                   for p in Path(model_dir).iterdir() if p.is_file() and not p.name.startswith("."))
    parts = {"name": name, "dir": str(Path(model_dir).resolve()), "files": files, "recipe": RECIPE,
             "format": FORMAT, "torch": torch.__version__, "transformers": transformers.__version__,
             "engine": torch.backends.quantized.engine}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"


def cache_path(cache_dir: Path, name: str, key: str) -> Path:
    return Path(cache_dir) / SUBDIR / f"{_slug(name)}-{key[:_KEY_CHARS]}.safetensors"


# -- saving -------------------------------------------------------------------

def model_tensors(model: Any) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The quantized model as plain tensors plus a layout (module name -> kind)."""
    qlinear = _qlinear_type()
    tensors: dict[str, torch.Tensor] = {}
    layout: dict[str, Any] = {}
    seen: dict[int, str] = {}

    def put(key: str, t: torch.Tensor) -> None:
        t = t.detach()
        if t.numel() and t.untyped_storage().data_ptr() in seen:
            raise Unsupported(f"{key} shares storage with {seen[t.untyped_storage().data_ptr()]}")
        if t.numel():
            seen[t.untyped_storage().data_ptr()] = key
        tensors[key] = t.contiguous()

    for mod_name, mod in model.named_modules():
        if isinstance(mod, qlinear):
            w, b = mod.weight(), mod.bias()
            if w.dtype != torch.qint8 or w.qscheme() not in _QSCHEMES:
                raise Unsupported(f"{mod_name}: {w.dtype} {w.qscheme()}")
            put(f"q.{mod_name}.weight", w.int_repr())
            put(f"q.{mod_name}.scale", torch.tensor([w.q_scale()], dtype=torch.float64))
            put(f"q.{mod_name}.zero_point", torch.tensor([w.q_zero_point()], dtype=torch.int64))
            if b is not None:
                put(f"q.{mod_name}.bias", b)
            layout[mod_name] = {"kind": "qlinear", "in": mod.in_features, "out": mod.out_features,
                                "version": getattr(mod, "version", None)}
            continue
        if isinstance(mod, HalfEmbedding):
            put(f"h.{mod_name}.weight", mod.weight)
            layout[mod_name] = {"kind": "half", "padding_idx": mod.padding_idx}
            continue
        if any(mod_name.startswith(q + ".") for q, v in layout.items() if v["kind"] in ("qlinear", "half")):
            continue  # inside a module stored whole (the packed params)
        for p_name, p in mod.named_parameters(recurse=False):
            put(f"p.{mod_name}.{p_name}", p)
        for b_name, buf in mod.named_buffers(recurse=False):
            if buf is not None:
                put(f"b.{mod_name}.{b_name}", buf)
    return tensors, layout


def save_cached(model: Any, path: Path, key: str) -> bool:
    """Write the quantized ``model`` to ``path`` atomically; False (logged) when it cannot be cached."""
    from safetensors.torch import save_file

    path = Path(path)
    try:
        tensors, layout = model_tensors(model)
    except Unsupported as exc:
        log.info("not caching the quantized generator: %s", exc)
        return False
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        save_file(tensors, tmp, metadata={"format": FORMAT, "key": key, "layout": json.dumps(layout)})
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except Exception as exc:  # noqa: BLE001 - a cache we cannot write only costs time next start
        log.warning("could not write the quantized generator cache %s: %s", path, exc)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        return False
    # Older keys of the same model can never be used again (other models' files are kept).
    prefix = path.name[: -len(".safetensors") - _KEY_CHARS]
    same_model = re.compile(re.escape(prefix) + r"[0-9a-f]{%d}\.safetensors" % _KEY_CHARS)
    for old in path.parent.iterdir():
        if old != path and same_model.fullmatch(old.name):
            old.unlink(missing_ok=True)
    return True


# -- loading ------------------------------------------------------------------

def load_cached(model_dir: str, path: Path, key: str, threads: int = 1) -> Any | None:
    """The quantized model rebuilt from ``path``, or None when there is no usable cache.

    A file that exists but is unreadable or does not match the model is deleted.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        with warnings.catch_warnings():  # torch's deprecation notes on its quantized tensors
            for category in (DeprecationWarning, FutureWarning, UserWarning):
                warnings.simplefilter("ignore", category)
            return _load(model_dir, path, key, threads)
    except Exception as exc:  # noqa: BLE001 - any failure means "rebuild it", never a crash
        log.warning("discarding the quantized generator cache %s: %s", path, exc)
        path.unlink(missing_ok=True)
        return None


def _load(model_dir: str, path: Path, key: str, threads: int) -> Any:
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        if meta.get("format") != FORMAT or meta.get("key") != key:
            raise ValueError("written for another model, recipe or library version")
        layout = json.loads(meta["layout"])
        # The int8 weights are read once, by packing: views of the mapped file, whose
        # pages go away with this mapping. Other kept tensors are small: copied.
        tensors = {k: f.get_tensor(k) if k.startswith("q.") and k.endswith(".weight") else f.get_tensor(k).clone()
                   for k in f.keys() if not k.startswith("h.")}
        halves = [k for k in f.keys() if k.startswith("h.")]
    if halves:
        # The fp16 input embeddings (260 MB for qwen 0.5b) stay views of a second,
        # read-only mapping: only the rows of tokens actually seen are ever paged in,
        # and those pages are clean page cache, not process heap. The file is only
        # ever replaced by rename, never rewritten in place, so the mapping stays valid.
        with safe_open(str(path), framework="pt") as f:
            tensors.update({k: f.get_tensor(k) for k in halves})

    config = AutoConfig.from_pretrained(model_dir, local_files_only=True)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    try:
        model.generation_config = GenerationConfig.from_pretrained(model_dir, local_files_only=True)
    except OSError:
        pass  # none saved: from_pretrained would keep the default too

    qlinear = _qlinear_type()
    jobs = []
    for mod_name, spec in layout.items():
        parent_name, _, child = mod_name.rpartition(".")
        parent = model.get_submodule(parent_name)
        old = getattr(parent, child)
        if spec["kind"] == "qlinear":
            if not isinstance(old, torch.nn.Linear) or (old.in_features, old.out_features) != (spec["in"], spec["out"]):
                raise ValueError(f"{mod_name} is not a matching Linear layer")
            w = tensors.pop(f"q.{mod_name}.weight")
            if tuple(w.shape) != (spec["out"], spec["in"]) or w.dtype != torch.int8:
                raise ValueError(f"{mod_name}: stored weight {tuple(w.shape)} {w.dtype}")
            scale = float(tensors.pop(f"q.{mod_name}.scale").item())
            zero_point = int(tensors.pop(f"q.{mod_name}.zero_point").item())
            bias = tensors.pop(f"q.{mod_name}.bias", None)
            if (bias is None) != (old.bias is None):
                raise ValueError(f"{mod_name}: bias mismatch")
            # Built 1x1 (cheap), then given the real weight: the same state as from_float().
            new = qlinear(1, 1, bias_=bias is not None, dtype=torch.qint8)
            new.in_features, new.out_features = spec["in"], spec["out"]
            if spec.get("version") is not None:
                new.version = spec["version"]
            jobs.append((new, w, scale, zero_point, bias))
            setattr(parent, child, new)
        elif spec["kind"] == "half":
            weight = tensors.pop(f"h.{mod_name}.weight")
            if not isinstance(old, torch.nn.Embedding) or tuple(weight.shape) != tuple(old.weight.shape):
                raise ValueError(f"{mod_name} is not a matching Embedding")
            setattr(parent, child, HalfEmbedding(weight, spec["padding_idx"]))
        else:
            raise ValueError(f"{mod_name}: unknown kind {spec['kind']!r}")

    for key_name, t in tensors.items():
        kind, _, rest = key_name.partition(".")
        mod_name, _, attr = rest.rpartition(".")
        mod = model.get_submodule(mod_name)
        table = {"p": mod._parameters, "b": mod._buffers}.get(kind)
        if table is None or attr not in table:
            raise ValueError(f"{key_name}: no such tensor in the model")
        old = table[attr]
        if old is None or tuple(old.shape) != tuple(t.shape) or old.dtype != t.dtype:
            raise ValueError(f"{key_name}: stored {tuple(t.shape)} {t.dtype}")
        table[attr] = torch.nn.Parameter(t, requires_grad=old.requires_grad) if kind == "p" else t

    # Packing (fbgemm reorders every weight) is most of the load time, single-threaded
    # per weight, and torch releases the GIL for it (a Python thread kept running every
    # 5 ms during a 1 s pack): spread over ``threads``, largest first. Packs are
    # independent, so the result does not depend on the order.
    def pack(job: tuple) -> None:
        new, w, scale, zero_point, bias = job
        new.set_weight_bias(torch._make_per_tensor_quantized_tensor(w, scale, zero_point), bias)

    jobs.sort(key=lambda job: -job[1].numel())
    if threads > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(min(threads, len(jobs)), thread_name_prefix="rag-pack") as pool:
            list(pool.map(pack, jobs))
    else:
        for job in jobs:
            pack(job)

    left = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
    if left:
        raise ValueError(f"not in the cache: {', '.join(left[:5])}")
    model.eval()
    return model
