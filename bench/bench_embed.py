"""Embedding throughput and quality: fp32 sentence-transformers (baseline) against bf16 and int8, in one run.

    .venv/bin/python bench/bench_embed.py [--corpus PATH] [--chunks 800] [--repeat 2]

Chunks are real: the default chunking of news articles from the corpus (the
articles that answer qa_dev.jsonl questions first, so retrieval quality can be
checked on them). Throughput is chunks/s on the wall clock and per CPU-second
(all threads summed): on a shared machine the CPU figure is the steadier one.
Quality of each variant against fp32: cosine of the two vectors of every chunk,
overlap of the top-10 chunks for each question, and how often the gold article
is in the top 5. ONNX Runtime is measured only when it is installed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.chunking import chunk_article  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.documents import load_paths  # noqa: E402
from rag.components.embedding import SentenceTransformerEmbedder, has_native_bf16  # noqa: E402
from rag.assemble import offline  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "realtimeqa"  # ../shared/data/realtimeqa


def sample(corpus: Path, questions: Path, n_chunks: int):
    """The first ``n_chunks`` chunks (gold articles first), the questions about them, and
    how many chunks the whole corpus makes."""
    qa = [json.loads(line) for line in questions.open()] if questions.exists() else []
    gold = {d for q in qa for d in q.get("gold_doc_ids", [])[:1]}
    articles = load_paths([corpus]).articles
    articles.sort(key=lambda a: (a.id not in gold, a.id))  # gold articles first, then a stable order
    chunks, total = [], 0
    for a in articles:
        got = chunk_article(a)  # the project's chunking (rag/chunking.py)
        total += len(got)
        if len(chunks) < n_chunks:
            chunks += got
    chunks = chunks[:n_chunks]
    have = {c.article_id for c in chunks}
    qa = [q for q in qa if q.get("gold_doc_ids") and q["gold_doc_ids"][0] in have]
    return chunks, qa, total, len(articles)


def throughput(embed, texts: list[str], repeat: int) -> tuple[float, float, np.ndarray]:
    embed(texts[:64])  # first-call set-up is not what we measure
    walls, cpus, vecs = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        vecs = embed(texts)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return len(texts) / statistics.median(walls), len(texts) / statistics.median(cpus), vecs


def unsorted_batches(e: SentenceTransformerEmbedder, batch: int = 64):
    """One encode call per batch of shuffled texts: the padding waste a naive loop pays."""
    def embed(texts):
        order = list(range(len(texts)))
        random.Random(0).shuffle(order)
        shuffled = [texts[i] for i in order]
        parts = [e.load().encode(shuffled[i:i + batch], batch_size=batch, normalize_embeddings=True)
                 for i in range(0, len(shuffled), batch)]
        out = np.empty((len(texts), e.dim), dtype=np.float32)
        out[order] = np.vstack(parts)
        return out
    return embed


def onnx_variant(model_dir: str):
    """sentence-transformers' ONNX backend, if optimum + onnxruntime are installed."""
    try:
        import onnxruntime  # noqa: F401
        from sentence_transformers import SentenceTransformer
        m = SentenceTransformer(model_dir, device="cpu", backend="onnx")
    except Exception as exc:  # noqa: BLE001 - optional: report why it is missing
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
    return (lambda texts: m.encode(texts, batch_size=64, normalize_embeddings=True)), ""


def quality(vecs: np.ndarray, base: np.ndarray, qv: np.ndarray, qbase: np.ndarray,
            chunks, qa) -> dict:
    cos = np.sum(vecs * base, axis=1)
    out = {"cos_min": float(cos.min()), "cos_mean": float(cos.mean())}
    if len(qa):
        top = np.argsort(-(qv @ vecs.T), axis=1)[:, :10]
        top_base = np.argsort(-(qbase @ base.T), axis=1)[:, :10]
        out["top10_overlap"] = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top, top_base)]))
        out["gold_at5"] = float(np.mean([q["gold_doc_ids"][0] in {chunks[i].article_id for i in t[:5]}
                                         for q, t in zip(qa, top)]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DATA / "corpus_2022.jsonl")
    ap.add_argument("--questions", type=Path, default=DATA / "qa_dev.jsonl")
    ap.add_argument("--chunks", type=int, default=800)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-slow", action="store_true", help="skip the 1-thread and unsorted rows")
    args = ap.parse_args()
    offline()
    import torch

    settings = Settings()
    cores = os.cpu_count() or 1
    chunks, qa, corpus_chunks, corpus_articles = sample(args.corpus, args.questions, args.chunks)
    texts = [c.text for c in chunks]
    questions = [q["question"] for q in qa]
    print(f"{len(texts)} chunks (mean {statistics.mean(map(len, texts)):.0f} chars), "
          f"{len(questions)} questions; cores {cores}", file=sys.stderr)

    name = settings.embedder.removesuffix("+int8")
    # Baseline: fp32 in batches of 64 (sentence-transformers' habit and our old default).
    fp32 = SentenceTransformerEmbedder(name, threads=cores, batch_size=64, cache_size=0, dtype="float32")
    fp32_b16 = SentenceTransformerEmbedder(name, threads=cores, batch_size=16, cache_size=0, dtype="float32")
    bf16 = SentenceTransformerEmbedder(name, threads=cores, batch_size=16, cache_size=0, dtype="bfloat16")
    int8 = SentenceTransformerEmbedder(name, threads=cores, quantize=True, batch_size=16, cache_size=0)
    int8_b64 = SentenceTransformerEmbedder(name, threads=cores, quantize=True, batch_size=64, cache_size=0)
    variants = [("fp32 batch 64 (baseline)", cores, fp32.embed), ("fp32 batch 16", cores, fp32_b16.embed),
                ("int8 batch 16", cores, int8.embed)]
    if has_native_bf16():  # the default here ("auto"); emulated bf16 elsewhere is not worth timing
        # every operation split across the cores, as before the per-core split
        one_call = SentenceTransformerEmbedder(name, threads=cores, batch_size=16, cache_size=0, dtype="bfloat16",
                                               split_bulk=False)
        variants += [("bf16 b16, one call", cores, one_call.embed),
                     ("bf16 b16, a call per core (default)", cores, bf16.embed)]
    if not args.skip_slow:
        variants += [("int8 batch 64", cores, int8_b64.embed),
                     ("fp32 b64 unsorted", cores, unsorted_batches(fp32)),
                     ("int8 b16, 1 thread", 1, int8.embed)]
    from rag.components.runtime.model_files import embedder_path
    onnx, why_not = onnx_variant(embedder_path(fp32.model_name))
    if onnx is not None:
        variants.append(("onnx (fp32)", cores, onnx))

    rows, base = [], None
    for label, threads, embed in variants:
        torch.set_num_threads(threads)
        print(f"measuring {label} ...", file=sys.stderr)
        rate, cpu_rate, vecs = throughput(embed, texts, args.repeat)
        qv = np.asarray(embed(questions), dtype=np.float32) if questions else np.zeros((0, 1))
        if base is None:
            base = (np.asarray(vecs, dtype=np.float32), qv)
        rows.append((label, threads, rate, cpu_rate, quality(np.asarray(vecs, dtype=np.float32), base[0],
                                                              qv, base[1], chunks, qa)))
    torch.set_num_threads(cores)

    b_rate, b_cpu = rows[0][2], rows[0][3]
    print(f"\nload average {os.getloadavg()[0]:.2f} (cores {cores}); {len(texts)} chunks, median of {args.repeat}")
    print(f"{'variant':<24}{'threads':>8}{'chunks/s':>10}{'ratio':>8}{'chunks/cpu-s':>14}{'ratio':>8}"
          f"{'cos min':>9}{'cos mean':>10}{'top10 ovl':>11}{'gold@5':>8}")
    for label, threads, rate, cpu_rate, q in rows:
        print(f"{label:<24}{threads:>8}{rate:>10.1f}{rate / b_rate:>7.2f}x{cpu_rate:>14.1f}"
              f"{cpu_rate / b_cpu:>7.2f}x{q['cos_min']:>9.4f}{q['cos_mean']:>10.4f}"
              f"{q.get('top10_overlap', float('nan')):>11.2f}{q.get('gold_at5', float('nan')):>8.2f}")
    if onnx is None:
        print(f"onnx: not measured ({why_not})")
    for label, _, rate, _, _ in rows:
        print(f"{label}: the corpus's {corpus_chunks:,} chunks ({corpus_articles:,} articles) "
              f"-> ~{corpus_chunks / rate / 60:.0f} min of embedding at this rate")

if __name__ == "__main__":
    main()
