"""A real writer process for the SIGKILL tests: ingests or rebuilds with the real
embedder and reports each step on stdout, so the test can kill it at a chosen point.

    python tests/integration/lifecycle_worker.py ingest DATA_DIR A.jsonl [B.jsonl ...]
    python tests/integration/lifecycle_worker.py rebuild DATA_DIR

Lines printed: `progress DONE/TOTAL`, `fsync NAME` (the worker then pauses briefly,
giving the test time to kill it inside the save), `acked ID ID ...` once an ingest
call returned (its articles are on disk), `done`. Settings come from RAG_* variables;
LIFECYCLE_CHUNKING="SENTENCES,OVERLAP,MAX_CHARS" builds with another chunking than the
project's (rag/chunking.py).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rag.index import embed as embed_mod  # noqa: E402
from rag.index.faiss import versions as store_mod  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.documents import load_paths  # noqa: E402
from rag.assemble import build_index  # noqa: E402
from rag.index.protocols import Chunking  # noqa: E402

PAUSE_S = float(os.environ.get("LIFECYCLE_PAUSE_S", "0.5"))
CHUNKING = (Chunking(*map(int, os.environ["LIFECYCLE_CHUNKING"].split(",")))
            if os.environ.get("LIFECYCLE_CHUNKING") else Chunking())


def say(line: str) -> None:
    print(line, flush=True)


def main(op: str, data_dir: str, *paths: str) -> None:
    real_fsync = store_mod._fsync

    def reporting_fsync(path):
        real_fsync(path)
        if Path(path).is_dir():
            say(f"fsync {Path(path).name}")
            time.sleep(PAUSE_S)

    store_mod._fsync = reporting_fsync
    # Small embedding batches: several progress lines (kill points) from a small corpus.
    embed_mod.EMBED_BATCH = 32
    settings = Settings(data_dir=Path(data_dir))
    # The language model is not needed to write the index.
    index = build_index(settings, with_index=op == "ingest", chunking=CHUNKING)
    progress = lambda done, total: say(f"progress {done}/{total}")  # noqa: E731
    say("ready")
    if op == "ingest":
        for path in paths:
            report = index.ingest(load_paths([path]).articles, progress=progress)
            say("acked " + " ".join(i.id for i in report.items if i.status in ("added", "updated", "unchanged")))
    else:
        index.rebuild(progress=progress)
    say("done")


if __name__ == "__main__":
    main(*sys.argv[1:])
