"""Grounding: which sentences answer the question, and is every answer sentence backed?

The verifier (rag/components/verifier.py, a cross-encoder the project trains) reads the question
against each sentence of the retrieved passages, and each answer sentence (a claim)
against the sentences it could rest on. Two plain checks stay beside it, because a
small model is weakest exactly there: a claim's figures must occur in its support with
the same unit ("$12 million" is not "12 million pounds"), and a name the claim adds must
occur in the support's passage ("Blebron James"). See evals/README.md for why these two
stayed and everything else went.

A supported claim is cited to the exact span that backs it; a claim citing the wrong
passage is re-cited; an unsupported or contradicted claim is removed and reported. The
answer is grounded when a supported claim answers the question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from babel import Locale
from babel.numbers import get_currency_name

from rag.answering.followup import REFERS
from rag.answering.question_types import QuestionType, classify
from rag.answering.wording import restates, self_referent, without_repeats
from rag.chunking import split_sentences
from rag.types import Article, Citation, Claim, Hit, ShortAnswer
from rag.components.verifier import CONTRADICTED, ENTAILED, NEUTRAL, Calibration, Span, Verifier

_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
WORD = re.compile(r"[\w’'-]+")
# "According to the sources, ..." credits the prompt's sources, not the world: left in, the
# support head reads the claim as about "the sources" and finds it neutral (0.02 entailed
# against 0.92 without it, on a RealTimeQA answer), so the sentence is checked and shown without it.
# (The forms the 0.5B model wrote in 1,293 recorded eval answers.)
# ("According to [1], ..." is "According to, ..." once its marker is taken out.)
_ATTRIBUTION = re.compile(r"^(?:based on|according to)(?:\s[^,]{0,60}?\b(?:sources?|passages?)\b[^,]{0,20})?\s*,\s*", re.I)


@dataclass(frozen=True)
class SourceSentence:
    hit: int  # 0-based index into the hits
    start: int  # offsets into the article text
    end: int
    text: str
    context: str = ""  # the sentence before, when this one refers back to it ("He said ...")
    context_start: int | None = None
    passage: str = ""  # the text of the retrieved chunk the sentence is in

    @property
    def window(self) -> str:
        return f"{self.context} {self.text}".strip()

    def quoted(self) -> "SourceSentence":
        """What to quote: the sentence, with the one it refers back to when there is one."""
        if self.context_start is None:
            return self
        return SourceSentence(self.hit, self.context_start, self.end, self.window, passage=self.passage)


@dataclass(frozen=True)
class Ranked:
    """A source sentence, the verifier's probability that it answers the question, and
    the score it is ranked by (that probability itself, or its logit read together with its
    passage's when calibration.passage_weight is set)."""
    source: SourceSentence
    answers: float
    rank: float
    # Its passage read by a null-option span head: probability that the passage answers,
    # and the short answer read there (None without such a head).
    passage_has: float | None = None
    passage_span: "Span | None" = None


@dataclass
class Grounded:
    answer: str
    claims: list[Claim]
    citations: list[Citation]
    grounded: bool
    short: ShortAnswer | None = None


def is_summary(question: str) -> bool:
    return classify(question) is QuestionType.SUMMARY


# -- the two plain checks ---------------------------------------------------------
@lru_cache(maxsize=1)
def _figure() -> tuple[re.Pattern, dict[str, str], dict[str, str]]:
    """The figure pattern, and the words of money and scale it reads, from CLDR's English
    data (babel): the currencies with a symbol of their own ("$", "£", "CN¥"), each known by
    its name's last word ("$", "dollars" -> "dollar"), and the compact number scales
    ("thousand", "K" ... "trillion", "T")."""
    en = Locale("en")
    money: dict[str, str] = {}
    for code, symbol in en.currency_symbols.items():
        if symbol != code:
            one, many = (get_currency_name(code, count=n, locale="en").split()[-1].lower() for n in (1, 2))
            money[symbol.lower()] = one
            money.update({w: one for w in (one, many) if w.isalpha()})
    scales: dict[str, str] = {}
    formats = en.compact_decimal_formats
    for size, long in formats["long"]["other"].items():
        word = long.pattern.strip("0 ").lower()  # "0 thousand"
        scales.update({word: word, formats["short"]["other"][size].pattern.strip("0 ").lower(): word})  # "0K"

    def alternatives(words) -> str:
        return "|".join(map(re.escape, sorted(words, key=len, reverse=True)))

    names, abbreviations = [w for w in scales if len(w) > 1], [w for w in scales if len(w) == 1]
    pattern = re.compile(
        rf"(?P<cur>{alternatives(w for w in money if not w.isalpha())})?\s?(?P<num>\d+(?:[.,]\d+)*)\s?"
        rf"(?P<scale>{alternatives(names)}|(?:{alternatives(abbreviations)})n?\b)?\s?"  # "bn", "mn": BBC style
        rf"(?P<unit>%|per ?cent|(?:{alternatives(w for w in money if w.isalpha())})\b|"
        r"km|kilomet\w*|miles?|kg|tonnes?|tons?)?", re.I)
    return pattern, money, scales


def figures(text: str) -> list[tuple[str, str, str]]:
    """(number, scale, unit) for every figure: "$12 million" -> ("12", "million", "dollar")."""
    pattern, money, scales = _figure()
    out = []
    for m in pattern.finditer(text.replace("’", "'")):
        num = m.group("num").replace(",", "")
        scale = (m.group("scale") or "").lower()
        scale = scales.get(scale) or scales.get(scale[:-1], scale)  # "bn" -> "billion"
        unit = (m.group("unit") or "").lower().replace(" ", "")
        if unit in money:
            unit = money[unit]
        elif unit.startswith("kilomet"):
            unit = "km"
        elif unit not in ("%", "percent"):
            unit = unit.rstrip("s")
        cur = money.get((m.group("cur") or "").lower(), "")
        out.append((num, scale, cur or ("%" if unit == "percent" else unit)))
    return out


def figures_match(claim: str, support: str) -> bool:
    """Every figure of the claim is in the support, with the same scale and unit where the
    claim gives one: "$12 million" is not backed by "12 million pounds" nor by "12"."""
    theirs = figures(support)
    for num, scale, unit in figures(claim):
        if not any(n == num and (not scale or s == scale) and (not unit or u == unit)
                   for n, s, u in theirs):
            return False
    return True


def added_names(claim: str, support: str) -> set[str]:
    """Capitalised words of the claim its support lacks. A sentence's first word is
    capitalised by position: it counts when the word after it is capitalised too
    ("Blebron James has agreed ...")."""
    words = WORD.findall(claim)
    hay = support.replace("’", "'").lower()
    out = set()
    for i, w in enumerate(words):
        w = w.strip("'-’")
        if not w[:1].isupper() or len(w) < 2:
            continue
        if i == 0 and not (len(words) > 1 and words[1][:1].isupper()):
            continue
        key = w.replace("’", "'").lower().removesuffix("'s")
        if key not in hay and not (w.isupper() and key in _initials(support)):
            out.add(key)
    return out


def _initials(text: str) -> set[str]:
    """Acronyms of the text's multi-word names: "sco" for "Shanghai Cooperation Organisation"."""
    out, run = set(), []
    for w in WORD.findall(text) + ["."]:
        if w[:1].isupper():
            run.append(w[0].lower())
        elif run and w in ("of", "the", "for", "and"):
            continue
        else:
            out.update("".join(run[i:]) for i in range(len(run) - 1))  # "The SCO ...": "tsco", "sco"
            run = []
    return out


def _other_figure(claim: str, support: str) -> bool:
    """The support gives a figure where the claim gives a different one."""
    return bool(figures(claim)) and bool(figures(support)) and not figures_match(claim, support)


# -- sentences and claims ----------------------------------------------------------
def split_claims(answer: str) -> list[tuple[str, tuple[int, ...]]]:
    """Sentences of the answer with the source numbers they cite; markers removed."""
    out = []
    for span in split_sentences(answer):
        raw = answer[span.start:span.end]
        cited = tuple(int(n) for m in _MARKER.finditer(raw) for n in re.split(r"[,;]\s*", m.group(1)))
        text = _MARKER.sub("", raw).strip()
        text = re.sub(r"\s+([.,;:!?])", r"\1", text)
        bare = _ATTRIBUTION.sub("", text)
        if bare != text and re.search(r"\w", bare):
            text = bare[0].upper() + bare[1:]
        if re.search(r"\w", text):
            out.append((text, cited))
        elif cited and out:  # a marker alone after the sentence belongs to it
            out[-1] = (out[-1][0], out[-1][1] + cited)
    return out


# A wire dateline opening a story's first sentence ("(CNN) ", "Salt Lake City (CNN) ",
# "WASHINGTON (AP) — "): the place and the agency in brackets, before the sentence's capital.
# Not quoted.
_WIRE = re.compile(r"(?P<place>[A-Z][\w.-]*(?:,? [A-Z][\w.-]*){0,3} )?\((?P<agency>[A-Z]\w*(?: [A-Z]\w*)?)\) *"
                   r"(?:[—–-] +)?(?=[A-Z“\"])")


def _wire(text: str, start: int, end: int) -> int | None:
    """Where the sentence starts after a wire dateline, if it opens with one (not an acronym
    spelled out before it: "Prime Minister (PM) Shehbaz Sharif")."""
    m = _WIRE.match(text, start, end)
    if m is None or (m["place"] and m["agency"] == "".join(w[0] for w in m["place"].split() if w[0].isupper())):
        return None
    return m.end()


def source_sentences(hits: list[Hit]) -> list[SourceSentence]:
    """Sentences of the retrieved chunks; a sentence shared by overlapping chunks is
    kept once, with the better-ranked chunk."""
    out, seen = [], set()
    for h, hit in enumerate(hits):
        c = hit.chunk
        prev = None
        for i, s in enumerate(split_sentences(c.text)):
            if c.start == 0 and i == 0 and (tag := _wire(c.text, s.start, s.end)):
                s = type(s)(tag, s.end)  # "(CNN) The chase ..." quotes from "The chase"
            key = (c.article_id, c.start + s.start, c.start + s.end)
            text = c.text[s.start:s.end]
            if key not in seen:
                seen.add(key)
                # (a sentence opening with a word that refers back speaks about something named before it)
                refers = prev is not None and REFERS.match(text)
                out.append(SourceSentence(h, key[1], key[2], text,
                                          c.text[prev.start:prev.end] if refers else "",
                                          c.start + prev.start if refers else None, c.text))
            prev = s
    return out


class Grounder:
    def __init__(self, verifier: Verifier, calibration: Calibration | None = None):
        self.verifier = verifier
        self._calibration = calibration

    @property
    def calibration(self) -> Calibration:
        """Given, or the verifier's own (calibrated with its weights)."""
        return self._calibration or self.verifier.calibration

    # -- before the model --------------------------------------------------------
    def rank(self, question: str, hits: list[Hit]) -> list[Ranked]:
        """Every sentence of the hits with its probability of answering, best first."""
        sources = source_sentences(hits)
        if not sources:
            return []
        w = self.calibration.passage_weight
        windows = [s.window for s in sources]
        # The sentence read alone misses what its passage says around it (who "the show"
        # is, which quake): the passage's own answer probability, in logits, is added.
        # One call: the verifier batches its inputs by length.
        # A null-option span head also reads each whole passage: does it answer, and where.
        # The short answers are read in the same pass (the verifier keeps them: the short
        # answer of the best sentence is then not read again, verifier_cache.py).
        null = self.verifier.span_null and (self.calibration.has_answer < 1.0 or self.calibration.has_weight > 0)
        texts = windows + ([h.chunk.text for h in hits] if w or null else [])
        both, spans = self.verifier.read(question, texts)
        reads = spans[len(windows):] if null else [None] * len(hits)
        p, passage = both[:len(windows)], both[len(windows):]
        score = logit(p) + w * logit(passage[[s.hit for s in sources]]) if w else p
        order = sorted(range(len(sources)), key=lambda j: (-score[j], j))
        return [Ranked(sources[j], float(p[j]), float(score[j]),
                       *_passage_read(reads[sources[j].hit])) for j in order]

    def rerank(self, ranked: list[Ranked], hits: list[Hit]) -> list[Ranked]:
        """The sentences of `hits` (a subset of the ranked ones' hits, reordered), with the
        scores already computed, best first."""
        score = {(s.text, s.start, s.end): r for r in ranked for s in (r.source,)}
        out = []
        for s in source_sentences(hits):  # (the same sentence, numbered by its new passage)
            r = score.get((s.text, s.start, s.end))
            out.append(replace(r, source=s) if r is not None else Ranked(s, 0.0, float("-inf")))
        return sorted(out, key=lambda r: -r.rank)

    def answerable(self, question: str, ranked: list[Ranked]) -> bool:
        """Some sentence answers (its own probability, calibrated alone), or a passage does
        (the null-option span head), or a summary is asked for."""
        cal = self.calibration
        return bool(ranked) and (is_summary(question) or best_answers(ranked) >= cal.answerable
                                 or best_passage(ranked) >= cal.has_answer)

    # -- after the model ---------------------------------------------------------
    def ground(self, answer: str, question: str, hits: list[Hit], articles: dict[str, Article],
               evidence: list[SourceSentence]) -> Grounded:
        """Check each claim of `answer` against the evidence sentences (what the model's
        [n] markers number): supported, unsupported or contradicted."""
        claims_in = [(without_repeats(t), c) for t, c in split_claims(answer)]
        if not claims_in or not evidence:
            return Grounded("", [], [], False)
        pairs = [(text, s.window) for text, _ in claims_in for s in evidence]
        summary = is_summary(question)
        # The claims are read against the question in the same pass (the verifier keeps
        # every pair's readings, verifier_cache.py: answers() below runs no model).
        asked = [] if summary else [(question, t) for t, _ in claims_in]
        probs = self.verifier.support(pairs + asked)[:len(pairs)].reshape(len(claims_in), len(evidence), 3)
        answers = (np.ones(len(claims_in)) if summary
                   else self.verifier.answers(question, [t for t, _ in claims_in]))
        claims: list[Claim] = []
        kept: list[tuple[str, int]] = []
        spans: list[tuple[SourceSentence, float]] = []
        answered = False
        for i, (text, cited) in enumerate(claims_in):
            status, j = self._judge(text, cited, probs[i], evidence)
            score = round(float(probs[i, j, ENTAILED]), 4) if j is not None else 0.0
            if status != "supported":
                claims.append(Claim(text, (), False, score, status))
                continue
            src = evidence[j].quoted()
            key = next((k for k, (s, _) in enumerate(spans) if (s.start, s.end, s.hit) == (src.start, src.end, src.hit)), None)
            if key is None:
                spans.append((src, score))
                key = len(spans) - 1
            kept.append((text, key))
            claims.append(Claim(text, (key + 1,), True, score, status))
            # (a claim that hands the question back answers nothing, whatever the head says)
            answered |= bool(answers[i] >= self.calibration.answerable) and not restates(question, text)
        if not answered:  # true, perhaps, but not an answer to this question
            claims = [Claim(c.text, (), False, c.score, "not_an_answer" if c.supported else c.status)
                      for c in claims]
            return Grounded("", claims, [], False)
        citations = [self.citation(n + 1, hits[s.hit], s, sc, articles) for n, (s, sc) in enumerate(spans)]
        text = " ".join(shown(t, spans[key][0].text, key + 1) for t, key in kept)
        return Grounded(text, claims, citations, grounded=True)

    @staticmethod
    def disagrees(g: Grounded) -> bool:
        """The short answer the span head reads in the cited best sentence shares no word
        with the supported claims: the answer and its own source answer differently."""
        if g.short is None:
            return False
        said = {w.casefold() for c in g.claims if c.supported for w in re.findall(r"\w+", c.text)}
        return not {w.casefold() for w in re.findall(r"\w+", g.short.text)} & said  # "second" in "second-most"

    def _judge(self, claim: str, cited: tuple[int, ...], probs: np.ndarray,
               evidence: list[SourceSentence]) -> tuple[str, int | None]:
        """supported (and by which evidence sentence), contradicted or unsupported. The
        cited sentence is preferred when it supports the claim; else the best one. A claim
        that copies an evidence sentence word for word (all of it, or nearly) is that
        sentence: supported by it, whatever the support head reads (it scored the seed
        article's own "balancing act" sentence 0.35 against itself, copied by the model)."""
        copied = [j for j in range(len(evidence)) if _copies(claim, evidence[j].text)]
        if copied:
            return "supported", next((j for j in copied if j + 1 in cited), copied[0])
        ok = [j for j in range(len(evidence))
              if probs[j, ENTAILED] >= self.calibration.supported
              and figures_match(claim, evidence[j].window)
              and not added_names(claim, evidence[j].passage or evidence[j].window)
              and not self_referent(claim, evidence[j].window)]
        if ok:
            cited_ok = [j for j in ok if j + 1 in cited]
            pool = cited_ok or ok
            return "supported", max(pool, key=lambda j: probs[j, ENTAILED])
        best = int(probs[:, ENTAILED].argmax())
        # Contradicted: a sentence that speaks to the claim (cited, or the least neutral
        # about it) says otherwise.
        look = [j - 1 for j in cited if 0 < j <= len(evidence)] + [int(probs[:, NEUTRAL].argmin())]
        if any(probs[j, CONTRADICTED] >= self.calibration.contradicted or _other_figure(claim, evidence[j].window) for j in look):
            return "contradicted", look[0]
        return "unsupported", best

    def extractive(self, question: str, ranked: list[Ranked], hits: list[Hit],
                   articles: dict[str, Article]) -> Grounded | None:
        """The sentence most likely to answer, quoted verbatim (with the sentence it refers
        back to) after the short answer read in it, when the verifier finds it answers;
        else None."""
        if not ranked or best_answers(ranked) < self.calibration.answerable:
            return None
        best = ranked[0].source
        src = best.quoted()
        cite = self.citation(1, hits[src.hit], src, ranked[0].answers, articles)
        short = self.short_answer(question, ranked[0], hits, articles, [cite])
        if short is not None and best.context_start is not None and short.end <= best.start:
            # The answer is in the sentence referred back to ("... the SCO summit in
            # Tianjin ..." before "This meeting, ..."): that sentence alone is the quote.
            before = SourceSentence(best.hit, best.context_start, best.context_start + len(best.context),
                                    best.context, passage=best.passage)
            cite = self.citation(1, hits[src.hit], before, ranked[0].answers, articles)
        return quoted_answer(cite, _lead(short, cite), short)

    def read_passage(self, ranked: list[Ranked], hits: list[Hit],
                     articles: dict[str, Article]) -> Grounded | None:
        """The passage reader's answer: the short answer the null-option span head reads in
        the passage most likely to answer, then the sentence it is in, quoted and cited;
        None when no passage reaches calibration.has_answer."""
        read = [r for r in ranked if r.passage_span is not None and r.passage_has is not None]
        if not read:
            return None
        best = max(read, key=lambda r: r.passage_has)
        if best.passage_has < self.calibration.has_answer:
            return None
        hit, span = hits[best.source.hit], best.passage_span
        a0, a1 = hit.chunk.start + span.start, hit.chunk.start + span.end
        src = next((s for s in source_sentences([hit]) if s.start <= a0 and a1 <= s.end), None)
        article = articles[hit.chunk.article_id]
        if src is None or article.text[a0:a1] != span.text:
            return None  # a span across sentences, or offsets that do not map back
        src = replace(src.quoted(), hit=best.source.hit)
        cite = self.citation(1, hit, src, best.passage_has, articles)
        short = ShortAnswer(span.text, article.id, a0, a1, 1, round(span.score, 4))
        return quoted_answer(cite, _lead(short, cite), short)

    def short_answer(self, question: str, best: Ranked, hits: list[Hit], articles: dict[str, Article],
                     citations: list[Citation]) -> ShortAnswer | None:
        """The span the verifier reads as the answer in the best sentence, at its exact
        offsets in the article, when one of `citations` quotes it."""
        src = best.source
        span = self.verifier.spans(question, [src.window])[0]
        if span is None or span.score < self.calibration.span:
            return None
        offset = len(src.context) + 1 if src.context else 0
        if span.start >= offset:
            a0, a1 = src.start + span.start - offset, src.start + span.end - offset
        elif span.end <= len(src.context) and src.context_start is not None:
            a0, a1 = src.context_start + span.start, src.context_start + span.end
        else:
            return None
        article_id = hits[src.hit].chunk.article_id
        text = articles[article_id].text[a0:a1]
        if text != span.text:
            return None
        cite = next((c for c in citations if c.article_id == article_id and c.start <= a0 and a1 <= c.end), None)
        if cite is None:
            return None
        return ShortAnswer(text, article_id, a0, a1, cite.n, round(span.score, 4))

    @staticmethod
    def citation(n: int, hit: Hit, src: SourceSentence, score: float,
                  articles: dict[str, Article]) -> Citation:
        a = articles[hit.chunk.article_id]
        return Citation(n=n, article_id=a.id, chunk_id=hit.chunk.id, title=a.title, url=a.url,
                        published=a.published, quote=a.text[src.start:src.end],
                        start=src.start, end=src.end, score=round(score, 4))


def quoted_answer(cite: Citation, lead: str = "", short: ShortAnswer | None = None) -> Grounded:
    """One quoted sentence as the answer, after `lead` when there is one: `Yes: “...” [1]`."""
    head = f"{lead}: " if lead else ""
    return Grounded(f"{head}{quotation(cite.quote)} [{cite.n}]", [Claim(cite.quote, (cite.n,), True, cite.score, "quoted")],
                    [cite], grounded=True, short=short)


def _lead(short: ShortAnswer | None, cite: Citation) -> str:
    """The short answer to lead a quote with, unless the quote opens with it."""
    return short.text if short and not _opens(cite.quote, short.text) else ""


def _opens(quote: str, short: str) -> bool:
    """The quote begins with the short answer (give or take "The"): leading with it would
    say it twice."""
    q, a = quote.casefold(), short.casefold()
    return q.startswith(a) or q.startswith(f"the {a}") or a.startswith(q)


def _passage_read(span) -> tuple[float | None, object]:
    if span is None or span.has_answer is None:
        return None, None
    return span.has_answer, span


def best_passage(ranked: list[Ranked]) -> float:
    """The highest probability that a passage answers (0 without a null-option span head)."""
    return max((r.passage_has for r in ranked if r.passage_has is not None), default=0.0)


def best_answers(ranked: list[Ranked]) -> float:
    """The highest probability that one sentence answers: the answerability figure."""
    return max((r.answers for r in ranked), default=0.0)


def logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


_QUOTE = "\"'“”‘’"
# A quotation opening inside a sentence: a quote mark at the start of a word (an apostrophe,
# "Sharif's", is inside one).
_OPENS_QUOTE = re.compile(r"(?:^|[\s(—–-])[\"“‘'](?=\w)")


def quotation(text: str) -> str:
    """The text in quotation marks, a quotation inside it in single ones: “‘We respect
    India,’ he said.” (not ““We respect India,” he said.”)."""
    return "“" + text.replace("“", "‘").replace("”", "’") + "”"


def cite(sentence: str, n: int) -> str:
    """Put the marker before the closing punctuation ("It was in Tianjin [1]."), or after a
    closing quotation mark: inside the quotation it would read as part of what was said
    ('He said, "We respect India." [1]', not '"We respect India [1]."')."""
    m = re.search(r"[.!?]+[\"'”’)]*$", sentence)
    if m and not any(ch in _QUOTE for ch in m.group()):
        return f"{sentence[:m.start()]} [{n}]{sentence[m.start():]}"
    return f"{sentence} [{n}]"


def shown(claim: str, source: str, n: int) -> str:
    """A claim as the answer says it, cited [n]. A claim that quotes someone and repeats its
    source word for word is the source's sentence: shown as a quotation, so that the inner
    quote reads as the speaker's ('“He stated, "We respect India."” [1]')."""
    if _OPENS_QUOTE.search(claim) and _words_in(claim, source):
        return f"{quotation(claim)} [{n}]"
    return cite(claim, n)


def _copies(claim: str, sentence: str, share: float = 0.8) -> bool:
    """The claim's words are a run of the sentence's words holding at least `share` of
    them: the sentence, copied (quote marks, case and punctuation aside)."""
    c, s = _words(claim), _words(sentence)
    return bool(c) and len(c) >= share * len(s) and _run_in(c, s)


def _words_in(claim: str, source: str) -> bool:
    """The claim's words are a run of the source's words (case, punctuation and the kind of
    quote marks aside)."""
    c = _words(claim)
    return bool(c) and _run_in(c, _words(source))


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _run_in(words: list[str], source: list[str]) -> bool:
    return f" {' '.join(words)} " in f" {' '.join(source)} "
