"""`rag train verifier`: fine-tune the verifier cross-encoder on the CPU, seeded.

Starts from the packaged all-MiniLM-L6-v2 weights, or (`--init models/verifier`) from a
trained verifier's; one pass over the pairs of verifier_mix.py in bf16 autocast (where
the CPU has it), length-bucketed batches, a progress bar. The span head has a null
option: an answer-task negative's start and end target is [CLS] (token 0). Checkpoints
(model, optimiser, schedule, step) every `checkpoint_minutes` to `checkpoint_dir`;
`resume` continues from there on the same seeded batch order; `max_minutes` stops the
pass early (the figures and the card then say how far it got). Then the held-out
figures, and the weights (fp16 safetensors, without the frozen word-embedding table)
with a config and their sha256.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import numpy as np

from rag.components.embedding import has_native_bf16
from rag.components.runtime.model_files import embedder_path
from rag.components.verifier import CONFIG, FROZEN, WEIGHTS, CrossEncoderVerifier, build_model, sha256
from rag.train import verifier_mix as vm
from rag.train.verifier_eval import evaluate

CHECKPOINT = "checkpoint.pt"


def schedule(lengths: list[int], batch_size: int, seed: int, epochs: float,
             start: float = 0.0) -> list[list[int]]:
    """The batches of a run: the seeded order of every epoch, from `start` (in epochs) for
    `epochs` epochs. With the same seed, `--epochs 0.2 --start 0.2` is the second fifth of
    the order `--epochs 0.2` began: shares trained in different sessions never repeat a
    batch, and the held-out split (from the same seed) never moves."""
    rng = random.Random(seed)
    order: list[list[int]] = []
    n = 0
    for _ in range(math.ceil(start + epochs)):
        bs = _batches(lengths, batch_size, rng)
        n = n or len(bs)
        order += bs
    return order[int(start * n):int((start + epochs) * n)]


def _batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Similar lengths together (less padding), batches in random order."""
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    out = []
    pool = batch_size * 64
    for s in range(0, len(idx), pool):
        part = sorted(idx[s:s + pool], key=lambda i: lengths[i])
        out += [part[j:j + batch_size] for j in range(0, len(part), batch_size)]
    rng.shuffle(out)
    return out


def token_span(enc, i: int, span: tuple[int, int] | None) -> tuple[int, int]:
    """The first and last token of a character span of the second text; (-1, -1) when
    there is none or truncation cut it."""
    if span is None:
        return (-1, -1)
    a0, a1 = span
    seq = enc.sequence_ids(i)
    start = end = -1
    for t, (o0, o1) in enumerate(enc["offset_mapping"][i]):
        if seq[t] != 1 or o1 <= o0:
            continue
        if start < 0 and o1 > a0:
            start = t
        if o0 < a1:
            end = t
    return (start, end) if 0 <= start <= end else (-1, -1)


def span_targets(enc, pairs) -> list[tuple[int, int]]:
    """Span targets: the answer's tokens for a positive, the null option [CLS] (0, 0) for
    an answer-task negative, (-1, -1) (no span loss) otherwise."""
    out = []
    for i, p in enumerate(pairs):
        if p.task != "answer":
            out.append((-1, -1))
        elif p.label == 0:
            out.append((0, 0))
        else:
            out.append(token_span(enc, i, p.span))
    return out


def load_init(model, init_dir: Path) -> None:
    """A trained verifier's weights (fp16, without the frozen table) into `model`."""
    import torch
    from safetensors.torch import load_file

    state = {k: v.to(torch.float32) for k, v in load_file(str(Path(init_dir) / WEIGHTS)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if not k.endswith(FROZEN)]:
        raise RuntimeError(f"{init_dir} does not fit the model: missing {missing}, unexpected {unexpected}")


def save_weights(model, out_dir: Path) -> Path:
    import torch
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
             if not k.endswith(FROZEN)}
    save_file(state, str(out_dir / WEIGHTS))
    return out_dir / WEIGHTS


def train(data_dir: Path, out_dir: Path, *, seed: int = 13, epochs: float = 1.0, start: float = 0.0,
          batch_size: int = 32,
          lr: float = 4e-5, max_length: int = 160, init: Path | None = None,
          checkpoint_dir: Path | None = None, checkpoint_minutes: float = 15.0, resume: bool = False,
          max_minutes: float | None = None, limit: int | None = None, eval_stride: int = 1,
          threads: int = 0, log=print) -> dict:
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    base = embedder_path("packaged:all-MiniLM-L6-v2")
    t0 = time.time()
    splits = vm.build(Path(data_dir), seed=seed)
    pairs = splits.train[:limit] if limit else splits.train
    if limit:  # a quick check: a taste of the held-out sets too
        splits = vm.Splits(pairs, splits.heldout_questions[:limit // 4],
                           {k: v[:limit // 4] for k, v in splits.heldout_support.items()},
                           splits.heldout_passages[:limit // 4], splits.counts)
    counts = {}
    for p in pairs:
        counts[(p.task, p.label)] = counts.get((p.task, p.label), 0) + 1
    log(f"{len(pairs)} training pairs ({time.time() - t0:.0f} s) from {splits.counts}: "
        + ", ".join(f"{t}/{l}: {n}" for (t, l), n in sorted(counts.items())))

    tok = AutoTokenizer.from_pretrained(base)
    enc = tok([p.a for p in pairs], [p.b for p in pairs], truncation="longest_first",
              max_length=max_length, return_offsets_mapping=True)
    lengths = [len(x) for x in enc["input_ids"]]
    span_tokens = torch.tensor(span_targets(enc, pairs))
    log(f"{int((span_tokens[:, 0] > 0).sum())} pairs teach an answer span, "
        f"{int((span_tokens[:, 0] == 0).sum())} the null span; {sum(lengths)} tokens")
    model = build_model(base)
    if init:
        load_init(model, Path(init))
        log(f"initialised from {init}")
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    dtype = torch.bfloat16 if has_native_bf16() else None
    batches = schedule(lengths, batch_size, seed, epochs, start)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * len(batches)), len(batches))
    start_step, seen, spent = 0, 0, 0.0
    ckpt = Path(checkpoint_dir) / CHECKPOINT if checkpoint_dir else None
    if resume:
        if not ckpt or not ckpt.is_file():
            raise FileNotFoundError(f"no checkpoint to resume from in {checkpoint_dir}")
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        start_step, seen, spent = state["step"], state["seen"], state["seconds"]
        log(f"resumed at batch {start_step} of {len(batches)} ({seen} pairs, {spent:.0f} s)")

    def checkpoint(step: int, elapsed: float) -> None:
        if not ckpt:
            return
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        tmp = ckpt.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                    "step": step, "seen": seen, "seconds": elapsed, "batches": len(batches)}, tmp)
        tmp.replace(ckpt)
        log(f"checkpoint at batch {step}/{len(batches)}, {seen} pairs, {elapsed:.0f} s")

    is_answer = torch.tensor([p.task == "answer" for p in pairs])
    labels = torch.tensor([p.label for p in pairs])
    bce = torch.nn.BCEWithLogitsLoss()
    ce = torch.nn.CrossEntropyLoss()
    model.train()
    bar = tqdm(batches[start_step:], desc="training verifier", unit="batch", mininterval=30)
    t1, last_ckpt, step = time.time(), time.time(), start_step
    stopped = False
    for step, b in enumerate(bar, start=start_step):
        if max_minutes is not None and spent + time.time() - t1 > max_minutes * 60:
            stopped = True
            break
        feats = tok.pad({"input_ids": [enc["input_ids"][i] for i in b],
                         "attention_mask": [enc["attention_mask"][i] for i in b],
                         "token_type_ids": [enc["token_type_ids"][i] for i in b]}, return_tensors="pt")
        idx = torch.tensor(b)
        with torch.autocast("cpu", dtype=dtype, enabled=dtype is not None):
            x, y, z = model(feats["input_ids"], feats["attention_mask"], feats["token_type_ids"])
        x, y, z = x.float(), y.float(), z.float()
        qa, lab = is_answer[idx], labels[idx]
        loss = torch.zeros(())
        if qa.any():
            loss = loss + bce(x[qa], lab[qa].float())
        if (~qa).any():
            loss = loss + ce(y[~qa], lab[~qa])
        tgt = span_tokens[idx]
        has = tgt[:, 0] >= 0
        if has.any():
            # Start and end over the second text's tokens and [CLS] (the null option).
            allowed = (feats["token_type_ids"] == 1) & (feats["attention_mask"] == 1)
            allowed[:, 0] = True
            z = z.masked_fill(~allowed.unsqueeze(-1), -1e4)
            loss = loss + 0.5 * (ce(z[has, :, 0], tgt[has, 0]) + ce(z[has, :, 1], tgt[has, 1]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        seen += len(b)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}", pairs_s=f"{(seen) / (spent + time.time() - t1):.0f}")
        if time.time() - last_ckpt > checkpoint_minutes * 60:
            checkpoint(step + 1, spent + time.time() - t1)
            last_ckpt = time.time()
    else:
        step = len(batches)
    train_s = spent + time.time() - t1
    checkpoint(step, train_s)
    log(f"trained {step}/{len(batches)} batches, {seen} pairs, {train_s:.0f} s" + (" (stopped: time budget)" if stopped else ""))
    model.eval()
    figures = evaluate(CrossEncoderVerifier.in_memory(model, tok, max_length, autocast=dtype, span_null=True),
                       vm.thinned(splits, eval_stride))
    figures["eval_stride"] = eval_stride
    out_dir = Path(out_dir)
    cfg_path = out_dir / CONFIG
    old = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    save_weights(model, out_dir)
    cfg = {"base": "packaged:all-MiniLM-L6-v2", "pooling": "mean", "max_length": max_length,
           "span_null": True,
           "heads": {"answer": "sigmoid: the text (sentence or passage) answers the question",
                     "support": ["entailed", "neutral", "contradicted"],
                     "span": "start and end of the short answer in the text; token 0 ([CLS]) is the "
                             "null option: has_answer = sigmoid(best span's start+end logits - null's)"},
           "calibration": old.get("calibration", {}),
           "training": {"seed": seed, "init": str(init) if init else None, "epochs": epochs, "start": start,
                        "batch_size": batch_size, "lr": lr, "max_length": max_length,
                        "pairs": len(pairs), "pairs_seen": seen, "batches_done": step,
                        "batches_planned": len(batches), "stopped_early": stopped,
                        "sources": splits.counts, "seconds": round(train_s),
                        "pairs_per_s": round(seen / max(train_s, 1e-9), 1)},
           "heldout": figures, "sha256": sha256(out_dir / WEIGHTS)}
    if old.get("heldout_v3"):
        cfg["heldout_v3"] = old["heldout_v3"]
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
    log(json.dumps({"heldout": figures, "sha256": cfg["sha256"], "train_seconds": round(train_s)}, indent=2))
    return cfg


def evaluate_saved(data_dir: Path, model_dir: Path, seed: int = 13, limit: int | None = None,
                   eval_stride: int = 1) -> dict:
    """The held-out figures of a saved verifier (v3 or v4) on the same splits as training."""
    splits = vm.thinned(vm.build(Path(data_dir), seed=seed), eval_stride)
    if limit:
        splits = vm.Splits([], splits.heldout_questions[:limit],
                           {k: v[:limit] for k, v in splits.heldout_support.items()},
                           splits.heldout_passages[:limit], splits.counts)
    return {**evaluate(CrossEncoderVerifier(Path(model_dir)), splits), "eval_stride": eval_stride}
