"""The `rag` command. Errors print one line and exit non-zero; no stack traces."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap

from rag.cli.common import EXIT_BAD_INPUT, EXIT_ERROR, settings_of as _settings
from rag.cli.index_commands import add_parsers
from rag.answering.grounding import quotation
from rag.answering.tuning import Tuning
from rag.config import Settings
from rag.dates import check_iso
from rag.documents import load_paths
from rag.errors import BadInput, RagError
from rag.server.token_policy import token_problem
from rag.eval_data import load_eval_set
from rag.train.cli import add_parsers as add_train_parsers

# Imported by the commands that need them: the models' libraries (torch, transformers)
# take seconds to import, which `rag --help` or `rag articles list` should not wait for.


def cmd_ingest(args) -> int:
    from rag.assemble import build_index

    settings = _settings(args)
    result = load_paths(args.paths, max_bytes=settings.max_upload_bytes)
    report = build_index(settings).ingest(result.articles, [(r.source, r.reason) for r in result.rejected],
                                   show_progress=sys.stderr.isatty())
    for item in report.items:
        if item.status in ("rejected", "duplicate"):
            print(f"{item.status}: {item.id or ''} {item.reason or ''}".replace("  ", " "), file=sys.stderr)
    print(report.summary())
    return 0 if report.count("rejected") == 0 or report.count("added") + report.count("updated") + report.count("unchanged") else EXIT_BAD_INPUT


def cmd_ask(args) -> int:
    from rag.assemble import build, ensure_index

    settings = _settings(args)
    as_of = _as_of(args.as_of)  # checked before the models load
    index, pipeline, _ = build(settings)
    ensure_index(index)
    answer = pipeline.ask(args.question, args.top_k, as_of=as_of)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(textwrap.fill(answer.answer, 100))
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            print(f"[{c.n}] {c.title}" + (f" ({c.published})" if c.published else ""))
            print(textwrap.indent(textwrap.fill(quotation(c.quote), 96), "    "))
    elif answer.abstained and answer.passages:
        print("\nClosest passages:")
        for h in answer.passages[:3]:
            title = index.snapshot().articles([h.chunk.article_id])[h.chunk.article_id].title
            print(f"- {title}: {textwrap.shorten(h.chunk.text, 160)}")
    return 0


def _as_of(value: str | None, also: tuple[str, ...] = ()) -> str | None:
    """--as-of: a date YYYY-MM-DD (or one of ``also``), checked with a one-line error."""
    if value is None or value in also:
        return value
    try:
        check_iso(value, "--as-of")
    except ValueError as exc:
        raise BadInput(str(exc) + (f" or {' / '.join(also)}" if also else "")) from None
    return value


def cmd_eval(args) -> int:
    import rag.eval as ev_mod

    settings = _settings(args)
    as_of = _as_of(args.as_of, ("question_date",))
    if args.top_k is not None:
        settings = settings.model_copy(update={"top_k": args.top_k})
    if args.limit is not None and args.limit < 1:
        raise BadInput("--limit must be at least 1")
    if args.offset < 0:
        raise BadInput("--offset must be at least 0")
    tuning = Tuning().tuned(args.tune)  # checked before the models load
    ev = load_eval_set(args.dataset, args.corpus)
    pipeline = ev_mod.open_pipeline(settings, ev, args.index_dir, show_progress=sys.stderr.isatty(),
                                    tuning=tuning)

    def progress(i, n, r):
        if sys.stderr.isatty():
            print(f"\r{i}/{n}", end="", file=sys.stderr, flush=True)

    if args.replay:
        pipeline = pipeline.with_generator(ev_mod.RecordedGenerator(pipeline.generator, args.replay))
    if args.split and not any(i.split == args.split for i in ev.items):
        raise BadInput(f"no question of {args.dataset} is in split {args.split!r}")
    results = ev_mod.run(pipeline, ev, args.top_k, args.limit, progress, offset=args.offset,
                         split=args.split, as_of=as_of)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    report = ev_mod.report(ev, results, pipeline.settings)
    print(ev_mod.table(report["summary"], f"{ev.name} ({ev.format}, top_k={pipeline.settings.top_k})"))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(report, f, ensure_ascii=False, indent=2, default=str)
    return 0


def cmd_serve(args) -> int:
    import uvicorn

    from rag.server.app import create_app

    settings = _settings(args)
    if args.host:
        settings.host = args.host
    if args.port:
        settings.port = args.port
    check_bind(settings)
    uvicorn.run(create_app(settings=settings), host=settings.host, port=settings.port, log_level="info")
    return 0


def check_bind(settings: Settings) -> None:
    if problem := token_problem(settings.admin_token):
        raise BadInput(problem)
    if settings.host not in ("127.0.0.1", "localhost", "::1") and not settings.admin_token:
        raise BadInput(f"refusing to serve on {settings.host} without RAG_ADMIN_TOKEN: "
                       "anyone on the network could change the index")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rag", description="Offline cited question answering over news articles.")
    parser.add_argument("--data-dir", help="index and article store (default: $RAG_DATA_DIR or ./data)")
    parser.add_argument("--store", help="where the index lives: faiss (default: $RAG_STORE or faiss) "
                                        "or postgresql://user@host/db")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add articles from files or folders (.txt .md .html .json .jsonl)")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("ask", help="ask a question; prints the answer and its sources")
    p.add_argument("question")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--json", action="store_true", help="print the full response as JSON")
    p.add_argument("--as-of", help="the day the question is asked on, YYYY-MM-DD (default today)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="score answers on a question set (project, RealTimeQA or SQuAD 2.0 format)")
    p.add_argument("dataset", help="JSONL questions")
    p.add_argument("--corpus", help="articles to index for the questions (RealTimeQA: corpus_2022.jsonl)")
    p.add_argument("--index-dir", help="where to build the corpus index (default: DATA_DIR/eval/<corpus>)")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--limit", type=int, default=None, help="only the first N questions (after --offset)")
    p.add_argument("--offset", type=int, default=0, help="skip the first N questions")
    p.add_argument("--split", help="only the questions of this split, where the set names one (dev, heldout)")
    p.add_argument("--replay", metavar="FILE",
                   help="record the model's replies in FILE and replay those already there (threshold sweeps)")
    p.add_argument("--json", metavar="OUT", help="also write the full report as JSON")
    p.add_argument("--as-of", help="ask each question as of this day (YYYY-MM-DD), or "
                                   "'question_date': the day the set gives each (today where it gives none)")
    p.add_argument("--tune", action="append", default=[], metavar="NAME=VALUE",
                   help="override an internal knob of rag/answering/tuning.py for this run "
                        "(e.g. rrf_k=30, verifier_answerable=0); repeatable")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="serve the API and the web chat")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(func=cmd_serve)

    add_parsers(sub)  # rebuild, articles list|show|delete
    add_train_parsers(sub)  # train verifier

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.func(args)
    except BadInput as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RagError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
