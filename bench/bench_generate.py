"""Generator speed: fp32 (baseline) against dynamic int8 (current default), in one run.

    .venv/bin/python bench/bench_generate.py [--model NAME] [--repeat 3] [--cold]

Prefill is timed on a ~700-token prompt (about what a 4-passage question
costs); decode is tokens per second after the first token. ``--cold`` first
converts the packaged model into a throw-away cache to time the one-off cost.
On a shared machine wall-clock figures move with the load (printed too);
the CPU-time rows are the steadier comparison there.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.config import Settings  # noqa: E402
from rag.components.generation import Prompt, TransformersGenerator  # noqa: E402
from rag.components.runtime.model_files import generator_path  # noqa: E402

SENTENCES = [
    "The summit of the Shanghai Cooperation Organisation was held in Tianjin on Monday.",
    "Leaders from ten member states discussed trade, security and energy links.",
    "Officials said the talks covered new rail corridors and a shared development bank.",
    "Analysts noted that the meeting came weeks after a sharp rise in tariffs.",
    "Heavy rain flooded parts of Lisbon, and the city council closed twelve schools.",
    "Forecasters expect more storms later this week along the Atlantic coast.",
]
SYSTEM = "Answer the question using only the numbered sources. Cite sources like [1]."
DECODE = Prompt(system="You are a helpful assistant.", user="Write a long, detailed story about a lighthouse keeper.")


def long_prompt(g: TransformersGenerator, target: int = 700) -> Prompt:
    """Numbered sources grown until the rendered prompt reaches ``target`` tokens."""
    parts: list[str] = []
    i = 0
    while True:
        parts.append(f"[{i // 3 + 1}] {SENTENCES[i % len(SENTENCES)]}" if i % 3 == 0 else SENTENCES[i % len(SENTENCES)])
        i += 1
        user = "Sources:\n" + " ".join(parts) + "\n\nQuestion: Where was the summit held?"
        prompt = Prompt(SYSTEM, user)
        if g.count_tokens(g.render(prompt)) >= target:
            return prompt


def measure(g: TransformersGenerator, prompt: Prompt, repeat: int, decode_tokens: int) -> dict[str, float]:
    g.generate(Prompt("Reply OK.", "OK?"), 2)  # first-call set-up is not what we measure
    prefill, prefill_cpu = [], []
    for _ in range(repeat):
        c0 = time.process_time()
        stats = g.generate(prompt, 1).stats
        prefill_cpu.append((time.process_time() - c0) * 1000)
        prefill.append(stats.prefill_ms)
    rates, cpu_rates = [], []
    for _ in range(repeat):
        c0 = time.process_time()
        s = g.generate(DECODE, decode_tokens).stats
        cpu = time.process_time() - c0
        if s.new_tokens > 1:
            rates.append((s.new_tokens - 1) / (s.decode_ms / 1000))
            cpu_rates.append(s.new_tokens / cpu)
    return {"load_ms": g.load_ms or 0.0, "prompt_tokens": g.count_tokens(g.render(prompt)),
            "prefill_ms": statistics.median(prefill), "prefill_cpu_ms": statistics.median(prefill_cpu),
            "decode_tok_s": statistics.median(rates) if rates else 0.0,
            "decode_tok_cpu_s": statistics.median(cpu_rates) if cpu_rates else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    settings = Settings()
    ap.add_argument("--model", default=settings.generator)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--decode-tokens", type=int, default=64)
    ap.add_argument("--cold", action="store_true", help="also time the one-off conversion (fresh cache)")
    args = ap.parse_args()
    threads = settings.threads or os.cpu_count() or 1

    if args.cold:
        settings.model_cache_dir.mkdir(parents=True, exist_ok=True)  # same disk as the real cache
        with tempfile.TemporaryDirectory(prefix=".bench-cold-", dir=settings.model_cache_dir) as tmp:
            t0 = time.perf_counter()
            generator_path(args.model, Path(tmp))
            print(f"cold conversion (assemble + sha256 + convert + save): {time.perf_counter() - t0:.1f} s",
                  file=sys.stderr)

    results = {}
    for label, quantize in (("fp32", False), ("int8", True)):
        g = TransformersGenerator(args.model, cache_dir=settings.model_cache_dir, quantize=quantize,
                                  threads=settings.threads)
        g.load()
        results[label] = measure(g, long_prompt(g), args.repeat, args.decode_tokens)
        del g

    base, cur = results["fp32"], results["int8"]
    print(f"\nmodel {args.model}  threads {threads}  load avg {os.getloadavg()[0]:.2f}  "
          f"prompt {base['prompt_tokens']} tokens  median of {args.repeat}")
    print(f"{'metric':<24}{'fp32 (baseline)':>17}{'int8 (current)':>16}{'ratio':>9}")
    # CPU-time rows (all threads summed) barely move when other processes share the cores.
    rows = [("load from cache (ms)", "load_ms", False), ("prefill (ms)", "prefill_ms", False),
            ("decode (tokens/s)", "decode_tok_s", True), ("prefill (cpu ms)", "prefill_cpu_ms", False),
            ("decode (tokens/cpu-s)", "decode_tok_cpu_s", True)]
    for name, key, higher_better in rows:
        ratio = cur[key] / base[key] if higher_better else base[key] / cur[key]
        print(f"{name:<24}{base[key]:>17.1f}{cur[key]:>16.1f}{ratio:>8.2f}x")
    print("(ratio: how many times better int8 is)")


if __name__ == "__main__":
    main()
