"""`rag rebuild` and `rag articles list|show|delete`: the index-keeping commands.

Kept out of cli.py so that file stays a short table of commands; errors are still
turned into one-line messages and exit codes by cli.main.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time


def add_parsers(sub) -> None:
    p = sub.add_parser("rebuild", help="re-embed every stored article with the configured embedder "
                                       "and chunking (after changing either)")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("articles", help="list, show or delete indexed articles")
    acts = p.add_subparsers(dest="action", required=True)
    a = acts.add_parser("list", help="one line per article: id, date, title")
    a.add_argument("--json", action="store_true", help="one JSON object per line")
    a.set_defaults(func=cmd_articles_list)
    a = acts.add_parser("show", help="an article's metadata and text")
    a.add_argument("id")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_articles_show)
    a = acts.add_parser("delete", help="remove articles and their passages from the index")
    a.add_argument("ids", nargs="+", metavar="id")
    a.set_defaults(func=cmd_articles_delete)


def _settings(args):
    from rag.cli.main import _settings

    return _settings(args)


def _writer(settings, with_index: bool):
    """A pipeline that can change the index; the language model is never loaded."""
    from rag.cli.main import _no_generator
    from rag.assemble import build_pipeline

    return build_pipeline(settings, generator=_no_generator(), with_index=with_index)


def cmd_rebuild(args) -> int:
    from tqdm import tqdm

    from rag.index.handle import rebuild

    settings = _settings(args)
    pipeline = _writer(settings, with_index=False)  # the old index may not match the settings
    bar = tqdm(total=0, unit="chunk", desc="re-embedding", disable=not sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    pipeline.embedder.dim  # load the model first: the rate below is for the work itself
    t0 = time.perf_counter()
    try:
        store = rebuild(pipeline, progress=progress)
    finally:
        bar.close()
    took = time.perf_counter() - t0
    print(f"rebuilt {len(store.articles)} articles, {len(store.chunks)} chunks with "
          f"{store.embedder_name} in {took:.1f}s ({len(store.chunks) / max(took, 1e-9):.0f} chunks/s)")
    return 0


def cmd_articles_list(args) -> int:
    from rag.index.faiss_versions import load_articles

    articles, _, _ = load_articles(_settings(args).data_dir)
    for a in articles.values():
        if args.json:
            print(json.dumps({"id": a.id, "title": a.title, "published": a.published, "url": a.url,
                              "source": a.source, "chars": len(a.text)}, ensure_ascii=False))
        else:
            print(f"{a.id}\t{a.published or '-'}\t{a.title}")
    if not args.json:
        print(f"{len(articles)} articles", file=sys.stderr)
    return 0


def cmd_articles_show(args) -> int:
    from rag.errors import ArticleNotFound
    from rag.index.faiss_versions import load_articles

    articles, _, _ = load_articles(_settings(args).data_dir)
    a = articles.get(args.id)
    if a is None:
        raise ArticleNotFound(f"no article with id {args.id!r}")
    if args.json:
        print(json.dumps(a.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(a.title)
    for label, value in (("id", a.id), ("published", a.published), ("url", a.url), ("source", a.source)):
        if value:
            print(f"{label}: {value}")
    print()
    for para in a.text.split("\n"):
        print(textwrap.fill(para, 100) if para else "")
    return 0


def cmd_articles_delete(args) -> int:
    from rag.index.handle import delete_many

    report, missing = delete_many(_writer(_settings(args), with_index=True), args.ids)
    for article_id in missing:
        print(f"rag: error: no article with id {article_id!r}", file=sys.stderr)
    print(report.summary())
    return 2 if missing else 0
