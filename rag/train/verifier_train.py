"""`rag train verifier`: fine-tune the verifier cross-encoder on the CPU, seeded.

Starts from the packaged all-MiniLM-L6-v2 weights; one epoch over the pairs of
verifier_data.py in bf16 autocast (where the CPU has it), length-bucketed batches, a
progress bar; then the held-out figures, and the weights (fp16 safetensors, without the
frozen word-embedding table) with a config and their sha256.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from pathlib import Path

import numpy as np

from rag.components.embedding import has_native_bf16
from rag.components.models import embedder_path
from rag.components.verifier import CONFIG, FROZEN, WEIGHTS, CrossEncoderVerifier, build_model, sha256
from rag.train import verifier_data as vd


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


def _norm(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, articles or extra spaces."""
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(w for w in text.split() if w not in ("a", "an", "the"))


def _f1(got: str, gold: str) -> float:
    g, t = _norm(got).split(), _norm(gold).split()
    common = sum(min(g.count(w), t.count(w)) for w in set(g))
    if not g or not t or not common:
        return float(not g and not t)
    p, r = common / len(g), common / len(t)
    return 2 * p * r / (p + r)


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


def auc(pos: list[float], neg: list[float]) -> float:
    if not pos or not neg:
        return float("nan")
    scores = np.array(pos + neg)
    ranks = scores.argsort().argsort() + 1
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def evaluate(verifier, splits: vd.Splits) -> dict:
    """Held-out figures: answer-sentence precision@1, answerability AUC (best sentence's
    score, answerable vs SQuAD 2.0 unanswerable), support accuracy per source."""
    top1, best_pos, best_neg, exact, f1, found = [], [], [], [], [], []
    for r in splits.heldout_questions:
        sents = vd.sentences(r["context"])
        if not sents:
            continue
        p, spans = verifier.read(r["question"], [s[2] for s in sents])
        if r["impossible"]:
            best_neg.append(float(p.max()))
            continue
        k = vd._answer_sentence(sents, r["start"])
        if k is None:
            continue
        best_pos.append(float(p.max()))
        top1.append(int(p.argmax()) == k)
        got = spans[k].text if spans[k] else ""
        exact.append(_norm(got) == _norm(r["answer"]))
        f1.append(_f1(got, r["answer"]))
        top = spans[int(p.argmax())]
        found.append(bool(top) and _norm(r["answer"]) in _norm(top.text))
    out = {"answer_sentence_p_at_1": round(float(np.mean(top1)), 4), "questions": len(top1),
           "answerability_auc": round(auc(best_pos, best_neg), 4),
           "unanswerable_questions": len(best_neg),
           "span_exact_in_answer_sentence": round(float(np.mean(exact)), 4),
           "span_f1_in_answer_sentence": round(float(np.mean(f1)), 4),
           "span_of_best_sentence_holds_answer": round(float(np.mean(found)), 4)}
    for name, pairs in splits.heldout_support.items():
        probs = verifier.support([(p.a, p.b) for p in pairs])
        pred = probs.argmax(1)
        gold = np.array([p.label for p in pairs])
        out[f"support_{name}_accuracy"] = round(float((pred == gold).mean()), 4)
        ent = probs[:, vd.ENTAILED]
        out[f"support_{name}_entailed_auc"] = round(auc(list(ent[gold == 0]), list(ent[gold != 0])), 4)
        out[f"support_{name}_pairs"] = len(pairs)
    return out


def train(data_dir: Path, out_dir: Path, *, seed: int = 13, epochs: float = 1.0, batch_size: int = 32,
          lr: float = 4e-5, max_length: int = 128, squad11_questions: int = 13000,
          limit: int | None = None, threads: int = 0, log=print) -> dict:
    import torch
    from safetensors.torch import save_file
    from tqdm import tqdm
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    base = embedder_path("packaged:all-MiniLM-L6-v2")
    t0 = time.time()
    splits = vd.build(Path(data_dir), seed=seed, squad11_questions=squad11_questions)
    pairs = splits.train[:limit] if limit else splits.train
    if limit:  # a quick check: a taste of the held-out sets too
        splits = vd.Splits(pairs, splits.heldout_questions[:limit],
                           {k: v[:limit] for k, v in splits.heldout_support.items()})
    counts = {}
    for p in pairs:
        counts[(p.task, p.label)] = counts.get((p.task, p.label), 0) + 1
    log(f"{len(pairs)} training pairs ({time.time() - t0:.0f} s): "
        + ", ".join(f"{t}/{l}: {n}" for (t, l), n in sorted(counts.items())))

    tok = AutoTokenizer.from_pretrained(base)
    enc = tok([p.a for p in pairs], [p.b for p in pairs], truncation="longest_first",
              max_length=max_length, return_offsets_mapping=True)
    lengths = [len(x) for x in enc["input_ids"]]
    span_tokens = torch.tensor([token_span(enc, i, p.span) for i, p in enumerate(pairs)])
    log(f"{int((span_tokens[:, 0] >= 0).sum())} pairs teach the span head")
    model = build_model(base)
    model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    dtype = torch.bfloat16 if has_native_bf16() else None
    rng = random.Random(seed)
    batches = []
    for e in range(math.ceil(epochs)):
        bs = _batches(lengths, batch_size, rng)
        batches += bs if e + 1 <= epochs else bs[:int(len(bs) * (epochs - e))]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    sched = get_linear_schedule_with_warmup(opt, int(0.06 * len(batches)), len(batches))
    is_answer = torch.tensor([p.task == "answer" for p in pairs])
    labels = torch.tensor([p.label for p in pairs])
    bce = torch.nn.BCEWithLogitsLoss()
    ce = torch.nn.CrossEntropyLoss()
    model.train()
    bar = tqdm(batches, desc="training verifier", unit="batch")
    seen, t1 = 0, time.time()
    for step, b in enumerate(bar):
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
            # Start and end over the sentence's tokens only (the question's are masked).
            in_b = (feats["token_type_ids"] == 1) & (feats["attention_mask"] == 1)
            z = z.masked_fill(~in_b.unsqueeze(-1), -1e4)
            loss = loss + 0.5 * (ce(z[has, :, 0], tgt[has, 0]) + ce(z[has, :, 1], tgt[has, 1]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        seen += len(b)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}", pairs_s=f"{seen / (time.time() - t1):.0f}")
    train_s = time.time() - t1
    model.eval()
    figures = evaluate(CrossEncoderVerifier.in_memory(model, tok, max_length, autocast=dtype), splits)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
             if not k.endswith(FROZEN)}
    save_file(state, str(out_dir / WEIGHTS))
    cfg_path = out_dir / CONFIG
    old = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    cfg = {"base": "packaged:all-MiniLM-L6-v2", "pooling": "mean", "max_length": max_length,
           "heads": {"answer": "sigmoid: the sentence answers the question",
                     "support": ["entailed", "neutral", "contradicted"],
                     "span": "start and end of the short answer in the sentence"},
           "calibration": old.get("calibration", {}),
           "training": {"seed": seed, "epochs": epochs, "batch_size": batch_size, "lr": lr,
                        "pairs": len(pairs), "squad11_questions": squad11_questions,
                        "seconds": round(train_s), "pairs_per_s": round(len(pairs) * epochs / train_s, 1)},
           "heldout": figures, "sha256": sha256(out_dir / WEIGHTS)}
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
    log(json.dumps({"heldout": figures, "sha256": cfg["sha256"], "train_seconds": round(train_s)}, indent=2))
    return cfg
