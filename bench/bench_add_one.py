"""Articles added one at a time are findable at once (issue #12).

    nice -n 19 .venv/bin/python bench/bench_add_one.py /tmp/rtqa-copy

DIR is a copy of a kept index (bench_index.py --keep; for the 4,799 RealTimeQA
articles of ../shared/data/realtimeqa/corpus_2022.jsonl). It is changed: 50 new
articles are added to it one by one, each through `indexing.ingest` (embed, extend
FAISS and BM25, save and publish a version), as `POST /articles` or `rag ingest` do.
The articles are made up here (invented places, people and figures, written like
news), each with a question a reader would ask about it. After each add the question
is asked of the hybrid retriever (dense + BM25, rank fusion): is the new article among
the top 4 passages? At the end all 50 are asked again of the incremental index and of
a full rebuild of the same articles (every chunk re-indexed into one FAISS index and
one BM25 segment; the stored vectors are reused, as the embedder is deterministic).

Baseline in the same run: the rebuilt index. Real embeddings (all-MiniLM-L6-v2).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N = 50
TOP_K = 4

_SYL = ["bra", "quen", "dor", "vel", "mir", "tho", "kal", "zen", "lor", "fen", "gar", "ith",
        "sol", "var", "nim", "ost", "rel", "pax", "ulm", "wen", "tor", "ska", "lin", "bre"]

TEMPLATES = [
    ("{A} river festival in {B} drew {n:,} visitors",
     "The {A} river festival in {B} drew {n:,} visitors this weekend, organiser {P} said. "
     "Boat parades and night markets lined the banks for three days. "
     "The town council said it would extend the festival to a fourth day next year.",
     "How many visitors did the {A} river festival in {B} draw?"),
    ("{B} council approves {A} bridge",
     "The council of {B} approved plans for the {A} bridge on Tuesday, at a cost of "
     "{n} million dollars. Mayor {P} said construction would start in the spring. "
     "The bridge will link the old harbour with the new rail station.",
     "How much will the {A} bridge approved by the council of {B} cost?"),
    ("{P} named coach of the {A} Falcons",
     "The {A} Falcons named {P} as their new head coach on Monday. "
     "{P} previously led the {B} academy to {m} national titles. "
     "The club finished last in the league this season.",
     "Who was named head coach of the {A} Falcons?"),
    ("Earthquake of magnitude {f} strikes {A}",
     "An earthquake of magnitude {f} struck the {A} region near {B} early on Sunday, "
     "the national seismic agency said. About {m} homes were damaged and roads were closed. "
     "Rescue teams led by {P} were sent from the capital.",
     "What was the magnitude of the earthquake that struck the {A} region?"),
    ("{A} Biotech recalls {B} vaccine batch",
     "{A} Biotech recalled {n:,} doses of its {B} vaccine after a labelling error, "
     "chief executive {P} said. No patients were harmed, the company added. "
     "Regulators said the recall was a precaution.",
     "How many doses of the {B} vaccine did {A} Biotech recall?"),
    ("{P} wins the {A} marathon",
     "{P} won the {A} marathon on Saturday in a time of 2 hours {m} minutes. "
     "The race through {B} had {n:,} runners this year. "
     "Last year's winner dropped out at the halfway mark.",
     "Who won the {A} marathon?"),
    ("{A} Airways orders {m} new jets",
     "{A} Airways has ordered {m} new jets for its routes to {B}, chairman {P} announced. "
     "The first aircraft will arrive in two years. "
     "The airline said the deal would create jobs at its home base.",
     "How many new jets has {A} Airways ordered?"),
    ("Museum in {B} returns {A} mask",
     "The national museum in {B} returned the {A} mask to its community of origin on Friday. "
     "Curator {P} said the mask had been held in storage for {m} years. "
     "A ceremony marked the handover.",
     "Which museum returned the {A} mask?"),
]


def _name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(_SYL) for _ in range(parts)).capitalize()


def synthesise(seed: int = 12) -> list[tuple[str, str, str, str]]:
    """(id, title, text, question) for N made-up articles."""
    rng = random.Random(seed)
    out, used = [], set()
    for i in range(N):
        title, text, q = TEMPLATES[i % len(TEMPLATES)]
        while True:
            v = {"A": _name(rng, 3), "B": _name(rng, 2), "P": f"{_name(rng)} {_name(rng, 3)}",
                 "n": rng.randrange(1_000, 90_000), "m": rng.randrange(3, 60),
                 "f": f"{rng.randrange(40, 79) / 10:.1f}"}
            if (v["A"], v["B"]) not in used:
                used.add((v["A"], v["B"]))
                break
        out.append((f"bench-add-{i:02d}", title.format(**v), text.format(**v), q.format(**v)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", help="a copy of a kept index (it is changed)")
    args = ap.parse_args()

    from rag.answering.retrieval import Retriever
    from rag.config import PACKAGED_EMBEDDER, Settings
    from rag.documents import make_article
    from rag.components.embedding import load_embedder
    from rag.assemble import offline, open_index
    from rag.index.faiss.snapshot import FaissSnapshot
    from rag.index.faiss.article_store import ArticleStore

    offline()
    settings = Settings(data_dir=Path(args.data_dir))
    embedder = load_embedder(PACKAGED_EMBEDDER)
    embedder.embed(["warm up"])
    # Only indexing and retrieval are measured: no verifier, no generator.
    index = open_index(settings, embedder)
    retriever = Retriever(index.snapshot, embedder)
    t = time.perf_counter()
    index.open()
    load_s = time.perf_counter() - t
    base_articles, base_chunks = index.snapshot().article_count, index.snapshot().chunk_count

    def found(store, aid: str, question: str) -> bool:
        snap = FaissSnapshot(store)
        return any(h.chunk.article_id == aid for h in retriever.search(snap, question, TOP_K))

    items = synthesise()
    adds, at_once = [], 0
    for aid, title, text, question in items:
        t = time.perf_counter()
        report = index.ingest([make_article(text, title=title, id=aid, published="2022-12-01")])
        adds.append(time.perf_counter() - t)
        assert report.count("added") == 1, report.to_dict()
        at_once += found(index.snapshot().store, aid, question)

    incremental = index.snapshot().store
    at_end = sum(found(incremental, aid, q) for aid, _, _, q in items)
    t = time.perf_counter()
    rebuilt = ArticleStore(incremental.embedder_name, incremental.dim, incremental.chunking,
                           dict(incremental.articles), dict(incremental.hashes),
                           list(incremental.chunks), np.array(incremental.vectors, dtype=np.float32))  # IvfRows: read back from FAISS
    rebuild_index_s = time.perf_counter() - t
    after_rebuild = sum(found(rebuilt, aid, q) for aid, _, _, q in items)
    # The same top 4 for every question, not only the new article among them.
    inc_snap, re_snap = FaissSnapshot(incremental), FaissSnapshot(rebuilt)
    same = sum([h.chunk.id for h in retriever.search(inc_snap, q, TOP_K)]
               == [h.chunk.id for h in retriever.search(re_snap, q, TOP_K)] for _, _, _, q in items)

    print(f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"base index: {base_articles:,} articles, {base_chunks:,} chunks (loaded in {load_s:.1f}s); "
          f"after: {len(incremental.articles):,} articles, {len(incremental.chunks):,} chunks, "
          f"{len(incremental.lexical.segments)} BM25 segments")
    print(f"new article in the top {TOP_K}, asked right after its add:   {at_once}/{N}")
    print(f"new article in the top {TOP_K}, all asked after the 50 adds: {at_end}/{N}")
    print(f"new article in the top {TOP_K}, after a full rebuild:        {after_rebuild}/{N}  "
          f"(re-indexing {len(rebuilt.chunks):,} chunks: {rebuild_index_s:.1f}s without embedding)")
    print(f"identical top {TOP_K} (incremental vs rebuilt): {same}/{N}")
    print(f"add one article (embed + index + save + publish): p50 {statistics.median(adds):.2f}s, "
          f"p90 {sorted(adds)[int(0.9 * N) - 1]:.2f}s, max {max(adds):.2f}s")
    return 0 if at_once == N and same >= N - 2 else 1  # issue #21: 50/50 at once, >= 48/50 as a rebuild


if __name__ == "__main__":
    sys.exit(main())
