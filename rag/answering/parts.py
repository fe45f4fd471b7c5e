"""Questions that ask two things at once ("Who did Sharif meet and where?", "When and where
was the summit held?", "What did the minister announce, and why?"): split into their parts,
each part read on its own, and the answer gives both, or says which part the articles leave
open ("Why did the minister resign? The articles don't say.").

No list of question words: English asks its questions with the function words, and the
classifier's auxiliaries (question_types.auxiliary) mark where a question's clause begins.
A part is a function word standing where a question word stands:
- two of them before the clause: "When and where | was the summit held?";
- one alone after "and" at the end: "Who did Sharif meet and where?", which borrows the
  first part's clause ("Where did Sharif meet?");
- one after "and" opening a clause of its own: "Who won, and what did they get?".
The function words are the English stop list bm25s ships (NLTK's), which the index's own
tokenizer knows; "and" itself is the one word the rule names.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

from bm25s.stopwords import STOPWORDS_EN_PLUS

from rag.answering.grounding import WORD, Grounded, Grounder, Ranked, best_answers, quotation
from rag.answering.question_types import auxiliary
from rag.answering.subject import terms
from rag.types import Article, Citation, Claim, Hit, ShortAnswer

AND = "and"
_FUNCTION = frozenset(STOPWORDS_EN_PLUS)
# How far into a question its clause may begin: "How many people | did ...".
_PHRASE = 5
NOT_SAID = "{part} The articles don't say."


def is_function(word: str) -> bool:
    """A function word (the stop list) other than "and" and the auxiliaries: a question word
    where a question word stands."""
    w = word.lower()
    return w in _FUNCTION and w != AND and not auxiliary(w)


def tokens(text: str) -> list[str]:
    """The words of `text`, as the rules here read them."""
    return WORD.findall(text)


def split(question: str) -> list[str]:
    """The parts of a question that asks two things, each a question of its own; the
    question alone when it asks one."""
    q = question.strip().rstrip("?").strip()
    words = list(WORD.finditer(q))
    text = [w.group().lower() for w in words]
    if len(words) < 3 or not is_function(text[0]):
        return [question]
    # "When and where was the summit held?"
    if len(words) > 3 and text[1] == AND and is_function(text[2]):
        rest = q[words[2].end():]
        return [_ask(words[0].group() + rest), _ask(words[2].group() + rest)]
    for i in range(1, len(words) - 1):
        if text[i] != AND or not is_function(text[i + 1]):
            continue
        first = q[:words[i].start()].rstrip(" ,;")
        if i + 1 == len(words) - 1 and q[words[i + 1].end():].strip() == "":
            # "Who did Sharif meet and where?": the first part's clause, borrowed
            return [_ask(first), _ask(f"{words[i + 1].group()} {clause(first)}")]
        # "Who won, and what did they get?", "... and how many people were hurt?"
        head = next((j for j in range(i + 2, min(i + 2 + _PHRASE - 2, len(words))) if auxiliary(text[j])), None)
        if head is not None and not any(is_function(t) for t in text[i + 2:head]):
            return [_ask(first), _ask(q[words[i + 1].start():])]
    return [question]


def clause(part: str) -> str:
    """A question without its question word(s): from its first auxiliary when one opens the
    clause near the start ("Who | did Sharif meet"), else after its first word ("Who | met Putin")."""
    words = list(WORD.finditer(part))
    for w in words[1:_PHRASE]:
        if auxiliary(w.group()):
            return part[w.start():].strip()
    return part[words[0].end():].strip() if words else part


def _ask(text: str) -> str:
    text = text.strip().rstrip("?").strip()
    return f"{text[:1].upper()}{text[1:]}?"


def read(asked: list[str], rerank: Callable[[str], tuple[list[Hit], list[Ranked]]], grounder: Grounder,
         articles: dict[str, Article], passage_reader: bool, k: int,
         best: float) -> tuple[Grounded | None, list[Hit], float]:
    """Each part read on its own: the passage reader's answer (with `passage_reader`), else
    the sentence the verifier finds most likely to answer it, quoted after its short answer
    (Grounder.extractive). The answers together (`combine`), the passages to show (the cited
    ones first) and the best answerability seen (at least `best`)."""
    answers, seen = [], []
    for part in asked:
        hits, ranked = rerank(part)
        g = None
        if grounder.answerable(part, ranked):
            g = ((passage_reader and grounder.read_passage(ranked, hits, articles))
                 or grounder.extractive(part, ranked, hits, articles))
        answers.append(g)
        seen += hits
        best = max(best, best_answers(ranked))
    g = combine(asked, answers, articles)
    cited = {c.chunk_id for c in g.citations} if g else set()
    by_id = {h.chunk.id: h for h in seen}
    order = [i for i in by_id if i in cited] + [i for i in by_id if i not in cited]
    return g, [by_id[i] for i in order][:max(k, len(cited))], best


def combine(parts: list[str], answers: list[Grounded | None], articles: dict[str, Article]) -> Grounded | None:
    """One answer for a question of several parts: each part's short answer with its quote,
    cited, one quote shared by the parts it answers ("Vladimir Putin, in Tianjin: “…” [1]");
    a part no article answers is said so. None when no part is answered."""
    if not any(g is not None and g.grounded for g in answers):
        return None
    cites: list[Citation] = []
    groups: list[tuple[Citation | None, list[str]]] = []  # a quote and the short answers it gives
    short = None
    spans: set[tuple[str, int, int]] = set()
    for k, (part, g) in enumerate(zip(parts, answers)):
        if g is None or not g.grounded:
            groups.append((None, [NOT_SAID.format(part=part)]))
            continue
        c = g.citations[0]
        same = next((x for x in cites if (x.article_id, x.start, x.end) == (c.article_id, c.start, c.end)), None)
        if same is None:
            same = replace(c, n=len(cites) + 1)
            cites.append(same)
        if g.short:
            g = replace(g, short=_not_asked(g.short, part))
        lead = g.short.text if g.short else ""
        if g.short and (g.short.article_id, g.short.start, g.short.end) in spans:
            lead = ""  # one span read for two parts: said once
        if g.short:
            spans.add((g.short.article_id, g.short.start, g.short.end))
        if short is None and g.short is not None:
            short = replace(g.short, citation=same.n)
        if lead and any(c is not None and any(leads) for c, leads in groups):
            if before := word_before(articles[g.short.article_id].text, g.short.start):
                lead = f"{before} {lead}"  # "Vladimir Putin, in Tianjin": the word the article puts before it
        if groups and groups[-1][0] is same:
            groups[-1][1].append(lead)
        else:
            groups.append((same, [lead]))
    said = [leads[0] for c, leads in groups if c is None]
    if len(cites) == 1:
        head = ", ".join(x for c, leads in groups if c is not None for x in leads if x)
        quoted = f"{quotation(cites[0].quote)} [1]"
        pieces = [f"{head}: {quoted}" if head else quoted]
    else:  # the short answers first, each cited, then the quotes they come from
        head = ", ".join(f"{x} [{c.n}]" for c, leads in groups if c is not None for x in leads if x)
        quotes = " ".join(f"{quotation(c.quote)} [{c.n}]" for c in cites)
        pieces = [f"{head}. {quotes}" if head else quotes]
    claims = [Claim(c.quote, (c.n,), True, c.score, "quoted") for c in cites]
    return Grounded(" ".join(pieces + said), claims, cites, grounded=True, short=short)


def _not_asked(short: ShortAnswer, part: str) -> ShortAnswer:
    """Without a conjunct naming whom the part itself names (subject.terms): "Shehbaz Sharif
    and Vladimir Putin", read for "Who did Sharif meet?", is "Vladimir Putin"."""
    joins = [m for m in WORD.finditer(short.text) if m.group().lower() == AND]
    named = terms(part)
    if len(joins) != 1 or not named:
        return short
    m = joins[0]
    first = (0, len(short.text[:m.start()].rstrip(" ,")))
    second = (m.end() + len(short.text[m.end():]) - len(short.text[m.end():].lstrip()), len(short.text))
    for asked, other in ((first, second), (second, first)):
        said = {w.lower() for w in WORD.findall(short.text[asked[0]:asked[1]])}
        if said & named and not {w.lower() for w in WORD.findall(short.text[other[0]:other[1]])} & named:
            return replace(short, text=short.text[other[0]:other[1]], start=short.start + other[0],
                           end=short.start + other[1])
    return short


def word_before(text: str, start: int) -> str:
    """The function word the article puts right before an answer ("in" before "Tianjin"),
    or ""."""
    m = re.search(r"([\w’'-]+)\s+$", text[max(0, start - 40):start])
    return m.group(1) if m and is_function(m.group(1)) else ""
