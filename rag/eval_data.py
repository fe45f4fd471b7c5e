"""Evaluation sets: reading the three formats `rag eval` understands into one shape.

- project format, one JSON object a line: {"question", "answers"? (or "answer"), "answerable"?,
  "evidence"?, "gold_ids"?, "question_date"? (or "date")} (answers and evidence: a string
  or a list); asked against the current index (or --corpus).
- RealTimeQA (qa_dev.jsonl): {"question", "answer", "evidence", "gold_doc_ids"}; its
  articles live in a separate corpus file (corpus_2022.jsonl beside it).
- SQuAD 2.0 ({"context", "question", "answers", "is_impossible"}): the contexts are
  the corpus, each one an article.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.dates import parse_date
from rag.documents import load_paths, make_article
from rag.errors import BadInput
from rag.types import Article


@dataclass(frozen=True)
class EvalItem:
    question: str
    answers: tuple[str, ...] = ()
    answerable: bool = True
    evidence: tuple[str, ...] = ()  # texts a correct citation quotes (or is quoted by)
    gold_ids: tuple[str, ...] = ()  # articles that hold the answer
    kind: str = ""  # the question's type, where the set gives one (factoid, yesno, list, ...)
    split: str = ""  # dev or heldout, where the set gives one
    date: str | None = None  # the day the question was asked (ISO), if the set says


@dataclass
class EvalSet:
    name: str
    format: str  # project | realtimeqa | squad
    items: list[EvalItem]
    articles: list[Article] = field(default_factory=list)  # corpus to index, if the set brings one
    corpus_path: Path | None = None


def _records(path: Path) -> list[dict]:
    if not path.is_file():
        raise BadInput(f"no such file: {path}")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("question"), str) or not rec["question"].strip():
            raise BadInput(f"{path}:{n}: each line needs a JSON object with a non-empty \"question\"")
        out.append(rec)
    if not out:
        raise BadInput(f"{path}: no questions")
    return out


def _strings(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, dict):  # SQuAD as published: {"text": [...], "answer_start": [...]}
        value = value.get("text", [])
    return tuple(dict.fromkeys(str(v) for v in value if str(v).strip()))


def load_eval_set(path: str | Path, corpus: str | Path | None = None) -> EvalSet:
    """Read a question file, recognising its format by its fields."""
    path = Path(path)
    recs = _records(path)
    first = recs[0]
    if "context" in first:
        return _squad(path, recs)
    if "gold_doc_ids" in first:
        return _realtimeqa(path, recs, corpus)
    items = [EvalItem(r["question"].strip(), _strings(r.get("answers", r.get("answer"))),
                      bool(r.get("answerable", True)), _strings(r.get("evidence")),
                      _strings(r.get("gold_ids")), date=_date(r), kind=str(r.get("type", "")),
                      split=str(r.get("split", ""))) for r in recs]
    ev = EvalSet(path.stem, "project", items)
    if corpus is not None:
        ev.articles, ev.corpus_path = _corpus(Path(corpus)), Path(corpus)
    return ev


def _squad(path: Path, recs: list[dict]) -> EvalSet:
    articles: dict[str, Article] = {}
    items = []
    for r in recs:
        a = make_article(r["context"])  # the id is a hash of the text: shared contexts meet once
        articles.setdefault(a.id, a)
        answers = _strings(r.get("answers"))
        answerable = not r.get("is_impossible", not answers)
        items.append(EvalItem(r["question"].strip(), answers if answerable else (), answerable,
                              (), (a.id,)))
    return EvalSet(path.stem, "squad", items, list(articles.values()), path)


def _realtimeqa(path: Path, recs: list[dict], corpus: str | Path | None) -> EvalSet:
    if corpus is None:
        found = sorted(path.parent.glob("corpus*.jsonl"))
        if len(found) != 1:
            raise BadInput(f"{path.name} holds questions only: pass the articles with --corpus")
        corpus = found[0]
    # Its "evidence" is the quiz's own summary, not text of the articles (its first 60
    # characters occur in the gold article for 12 of 85 dev questions), so citations are
    # not scored against it: citation precision would be a meaningless 0%.
    items = [EvalItem(r["question"].strip(), _strings(r.get("answer")), True, (),
                      _strings(r.get("gold_doc_ids")), date=_date(r)) for r in recs]
    return EvalSet(path.stem, "realtimeqa", items, _corpus(Path(corpus)), Path(corpus))


def _date(rec: dict) -> str | None:
    """The day a question was asked: RealTimeQA's "question_date" ("2022/09/02"), or "date"."""
    return parse_date(rec.get("question_date") or rec.get("date"))


def _corpus(path: Path) -> list[Article]:
    if not path.exists():
        raise BadInput(f"no such corpus: {path}")
    result = load_paths([path])  # no size limit: a local file named by the user
    if not result.articles:
        raise BadInput(f"{path}: no articles could be read")
    return result.articles
