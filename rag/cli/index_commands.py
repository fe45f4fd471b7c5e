"""`rag rebuild` and `rag articles list|show|delete`: the index-keeping commands.

Kept out of main.py so that file stays a short table of commands; errors are still
turned into one-line messages and exit codes by main.main.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time

from tqdm import tqdm

from rag.cli.common import settings_of as _settings
from rag.errors import ArticleNotFound, IndexUnavailable
from rag.index.backends import open_backend
from rag.index.handle import layout_of
from rag.index.protocols import Backend


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


def _writer(settings, with_index: bool):
    """The Index, which alone changes the index; the language model is never loaded."""
    from rag.assemble import build_index  # heavy: the embedder's libraries

    return build_index(settings, with_index=with_index)


class _NoEmbedder:
    """Listing stored articles needs no model: the backend's layout is never used."""
    name, dim = "", 0


def _reader(settings) -> Backend:
    return open_backend(settings.store, settings.data_dir, layout_of(_NoEmbedder()))


def cmd_rebuild(args) -> int:
    settings = _settings(args)
    index = _writer(settings, with_index=False)  # the old index may not match the settings
    bar = tqdm(total=0, unit="chunk", desc="re-embedding", disable=not sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    index.embedder.dim  # load the model first: the rate below is for the work itself
    t0 = time.perf_counter()
    try:
        snap = index.rebuild(progress=progress)
    finally:
        bar.close()
    took = time.perf_counter() - t0
    print(f"rebuilt {snap.article_count} articles, {snap.chunk_count} chunks with "
          f"{snap.layout.embedder} in {took:.1f}s ({snap.chunk_count / max(took, 1e-9):.0f} chunks/s)")
    return 0


def _stored(args) -> list:
    settings = _settings(args)
    backend = _reader(settings)
    try:
        if not backend.exists():
            where = settings.data_dir if settings.store == "faiss" else "the database"
            raise IndexUnavailable(f"no index in {where}: run `rag ingest seeds/` first")
        return [a for a, _ in backend.stored_articles()[0]]
    finally:
        backend.close()


def cmd_articles_list(args) -> int:
    articles = _stored(args)
    for a in articles:
        if args.json:
            print(json.dumps({"id": a.id, "title": a.title, "published": a.published, "url": a.url,
                              "source": a.source, "chars": len(a.text)}, ensure_ascii=False))
        else:
            print(f"{a.id}\t{a.published or '-'}\t{a.title}")
    if not args.json:
        print(f"{len(articles)} articles", file=sys.stderr)
    return 0


def cmd_articles_show(args) -> int:
    a = next((a for a in _stored(args) if a.id == args.id), None)
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
    report, missing = _writer(_settings(args), with_index=True).delete_many(args.ids)
    for article_id in missing:
        print(f"rag: error: no article with id {article_id!r}", file=sys.stderr)
    print(report.summary())
    return 2 if missing else 0
