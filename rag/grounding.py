"""Grounding: every sentence of an answer must be backed by a retrieved passage.

The model's `[n]` markers are a hint, not a fact. Each answer sentence (a claim) is
compared with every sentence of the retrieved passages (embedding similarity plus
word overlap); numbers and names in the claim must occur in the supporting text.
A supported claim is cited to the exact span that supports it; a claim citing the
wrong passage is re-cited; an unsupported claim is removed and reported.

Support is not enough: the answer must also answer the question (see questions.py).
An answer is grounded when at least one supported claim does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .chunking import split_sentences
from .embedding import Embedder
from .questions import (OPENERS, content_stems, coverage, echoes, has_kind, mismatch, names, numbers_present,
                        question_kind, question_names)
from .types import Article, Citation, Claim, Hit

_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_WORD = re.compile(r"[\w’'-]+")
_STOP = set("""a an the of to in on at for by with from and or but is are was were be been being
that this these those it its as into than then there their they them he she his her him we our
you your i not no do does did has have had will would can could may might should also about over
after before during which who whom what when where why how said says according""".split())
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A sentence opening with one of these speaks about something named before it.
_ANAPHOR = re.compile(r"^(he|she|they|it|this|these|that|those|his|her|their|its|such|there)\b", re.I)


@dataclass(frozen=True)
class GroundingConfig:
    min_support: float = 0.55  # combined score a claim needs to count as supported
    lexical_weight: float = 0.35  # share of the score from content-word overlap
    min_evidence: float = 0.55  # best question-to-sentence score for an extractive answer
    min_coverage: float = 0.5  # share of the question's content words the support must hold
    min_name_coverage: float = 0.5  # share of the names in the question the support must hold
    # ... or this many of its content words, however long the question (0: share only)
    min_covered_words: int = 5
    # Names may be found in the whole passage the support sentence comes from ("The city's
    # tourism ..." in a passage about Jacksonville), not only in the sentence itself.
    names_in_passage: bool = True


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


@dataclass
class Grounded:
    answer: str
    claims: list[Claim]
    citations: list[Citation]
    grounded: bool


def _norm(text: str) -> str:
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').lower()


def content_words(text: str) -> set[str]:
    return {w.strip("'-") for w in _WORD.findall(_norm(text))
            if w.strip("'-") and w not in _STOP and len(w) > 1}


def key_terms(text: str) -> set[str]:
    """Numbers and capitalised names: what a claim must not invent. The first word counts
    unless it is a function word: a claim opening "Blebron James has agreed ..." names
    someone no source does."""
    terms = set(_NUMBER.findall(text))
    words = _WORD.findall(text)
    for i, w in enumerate(words):
        if w[:1].isupper() and w.lower() not in _STOP and (i > 0 or w.lower() not in OPENERS):
            terms.add(_norm(w).removesuffix("'s"))
    return terms


def _missing_terms(claim: str, support: str) -> set[str]:
    """Names and numbers of the claim the support lacks; a claim the support contradicts
    counts as lacking too (`mismatch`: "decreasing" where the support says "increasing",
    a negation the support lacks, "the prime minister of India is Sharif" against
    "Pakistan's Prime Minister Sharif")."""
    hay = _norm(support)
    missing = {t for t in key_terms(claim) if t not in hay}
    why = mismatch(claim, support)
    if why is not None:
        missing.add(why)
    return missing


def split_claims(answer: str) -> list[tuple[str, tuple[int, ...]]]:
    """Sentences of the answer with the source numbers they cite; markers removed."""
    out = []
    for span in split_sentences(answer):
        raw = answer[span.start:span.end]
        cited = tuple(int(n) for m in _MARKER.finditer(raw) for n in re.split(r"[,;]\s*", m.group(1)))
        text = _MARKER.sub("", raw).strip()
        text = re.sub(r"\s+([.,;:!?])", r"\1", text)
        if re.search(r"\w", text):
            out.append((text, cited))
        elif cited and out:  # a marker alone after the sentence belongs to it
            out[-1] = (out[-1][0], out[-1][1] + cited)
    return out


def source_sentences(hits: list[Hit]) -> list[SourceSentence]:
    """Sentences of the retrieved chunks; a sentence shared by overlapping chunks is
    kept once, with the better-ranked chunk."""
    out, seen = [], set()
    for h, hit in enumerate(hits):
        c = hit.chunk
        prev = None
        for s in split_sentences(c.text):
            key = (c.article_id, c.start + s.start, c.start + s.end)
            text = c.text[s.start:s.end]
            if key not in seen:
                seen.add(key)
                refers = prev is not None and _ANAPHOR.match(text)
                out.append(SourceSentence(h, key[1], key[2], text,
                                          c.text[prev.start:prev.end] if refers else "",
                                          c.start + prev.start if refers else None, c.text))
            prev = s
    return out


class Grounder:
    def __init__(self, embedder: Embedder, config: GroundingConfig = GroundingConfig()):
        self.embedder = embedder
        self.config = config

    def scores(self, texts: list[str], sources: list[SourceSentence]) -> np.ndarray:
        """(len(texts), len(sources)) support scores in [0, 1]."""
        if not texts or not sources:
            return np.zeros((len(texts), len(sources)))
        vecs = self.embedder.embed(texts + [s.text for s in sources])
        cos = vecs[: len(texts)] @ vecs[len(texts):].T
        words = [content_words(s.text) for s in sources]
        lex = np.zeros_like(cos)
        for i, t in enumerate(texts):
            cw = content_words(t)
            if cw:
                lex[i] = [len(cw & w) / len(cw) for w in words]
        w = self.config.lexical_weight
        return (1 - w) * np.clip(cos, 0, 1) + w * lex

    def fits(self, question: str, answer: str, support: SourceSentence) -> bool:
        """Does `answer`, backed by `support`, answer the question? The support (with the
        sentence it refers back to) must be about what the question asks and hold every
        figure it names; the answer must add something, of the kind asked for."""
        window = support.window
        asked = question_names(question)
        found = names(window, acronyms=True)
        # A sentence that names nothing else speaks of what its passage is about ("The
        # city's tourism ..." in a passage about Jacksonville): the passage's names count.
        # One that names others ("The Pakistani prime minister ...") does not borrow them.
        if asked and self.config.names_in_passage and support.passage and not names(window) - asked:
            found |= names(support.passage, acronyms=True)
        # Figures the question gives as context ("more than 50 days") may be stated
        # anywhere in the passage (which holds the window); a figure found nowhere is a
        # different question.
        return (numbers_present(question, support.passage or window)
                and mismatch(question, window) is None
                and self._covers(question, window)
                and (not asked or len(asked & found) >= self.config.min_name_coverage * len(asked))
                and bool(content_stems(answer) - content_stems(question))
                and not echoes(question, answer)
                and has_kind(question_kind(question), answer, question))

    def _covers(self, question: str, window: str) -> bool:
        """The support holds enough of the question's content words: a share of them, or,
        for a long question, a number of them. News quiz questions carry framing the
        answering sentence paraphrases ("Broadway's biggest stars were recognized at which
        awards show?"): five shared words say it is about the same thing."""
        if coverage(question, window) >= self.config.min_coverage:
            return True
        n = self.config.min_covered_words
        return n > 0 and len(content_stems(question) & content_stems(window)) >= n

    def select_evidence(self, question: str, hits: list[Hit], n: int) -> list[SourceSentence]:
        """The n source sentences most likely to answer the question, best first: those
        that could answer it (see `fits`) before those that cannot, then by score."""
        sources = source_sentences(hits)
        if not sources:
            return []
        row = self.scores([question], sources)[0]
        order = sorted(range(len(sources)),
                       key=lambda j: (not self.fits(question, sources[j].text, sources[j]), -row[j]))
        return [sources[j] for j in order[:n]]

    def can_answer(self, question: str, evidence: list[SourceSentence]) -> bool:
        return any(self.fits(question, s.text, s) for s in evidence)

    def ground(self, answer: str, hits: list[Hit], articles: dict[str, Article],
               evidence: list[SourceSentence] | None = None, question: str | None = None) -> Grounded:
        """`evidence`: what the model's [n] markers number; else they number the hits.
        With `question`, the answer is grounded only if a supported claim answers it."""
        sources = source_sentences(hits)
        claims_in = split_claims(answer)
        if evidence is not None:
            claims_in = [(t, tuple(evidence[n - 1].hit + 1 for n in cited if 0 < n <= len(evidence)))
                         for t, cited in claims_in]
        scores = self.scores([c for c, _ in claims_in], sources)
        found = [self._best_support(text, cited, scores[i], sources, hits)
                 for i, (text, cited) in enumerate(claims_in)]
        answers = question is None or any(
            b is not None and self.fits(question, text, b[0]) for (text, _), b in zip(claims_in, found))
        claims: list[Claim] = []
        kept: list[tuple[str, int]] = []  # claim text, index into `spans`
        spans: list[tuple[SourceSentence, float]] = []
        for i, ((text, _), best) in enumerate(zip(claims_in, found)):
            if best is None or not answers:
                claims.append(Claim(text, (), False, round(float(scores[i].max(initial=0)), 4)))
                continue
            src, score = best
            key = next((k for k, (s, _) in enumerate(spans) if (s.start, s.end, s.hit) == (src.start, src.end, src.hit)), None)
            if key is None:
                spans.append((src, score))
                key = len(spans) - 1
            kept.append((text, key))
            claims.append(Claim(text, (key + 1,), True, round(score, 4)))
        citations = [self._citation(n + 1, hits[s.hit], s, sc, articles) for n, (s, sc) in enumerate(spans)]
        text = " ".join(_cite(t, key + 1) for t, key in kept)
        return Grounded(text, claims, citations, grounded=bool(kept))

    def _best_support(self, text, cited, row, sources, hits) -> tuple[SourceSentence, float] | None:
        """The cited passage's best sentence if it supports the claim, else the best
        supporting sentence anywhere, else None."""
        order = np.argsort(-row)
        cited_hits = {n - 1 for n in cited}
        for prefer_cited in (True, False):
            for j in order:
                if row[j] < self.config.min_support:
                    break
                src = sources[j]
                if prefer_cited and src.hit not in cited_hits:
                    continue
                support = self._with_terms(text, src, sources, hits)
                if support is not None:
                    return support, float(row[j])
        return None

    def _with_terms(self, claim: str, src: SourceSentence, sources: list[SourceSentence],
                    hits: list[Hit]):
        """The sentence itself if it holds the claim's numbers and names, else the
        sentence joined with its neighbours in the same passage when they do."""
        if not _missing_terms(claim, src.text):
            return src
        same = [s for s in sources if s.hit == src.hit]
        k = same.index(src)
        for lo, hi in ((k - 1, k), (k, k + 1), (k - 1, k + 1)):
            if lo < 0 or hi >= len(same):
                continue
            a, b = same[lo], same[hi]
            chunk = hits[src.hit].chunk
            joined = SourceSentence(src.hit, a.start, b.end,
                                    chunk.text[a.start - chunk.start:b.end - chunk.start], passage=chunk.text)
            if not _missing_terms(claim, joined.text):
                return joined
        return None

    @staticmethod
    def _citation(n: int, hit: Hit, src: SourceSentence, score: float,
                  articles: dict[str, Article]) -> Citation:
        a = articles[hit.chunk.article_id]
        return Citation(n=n, article_id=a.id, chunk_id=hit.chunk.id, title=a.title, url=a.url,
                        published=a.published, quote=a.text[src.start:src.end],
                        start=src.start, end=src.end, score=round(score, 4))

    def extractive(self, question: str, hits: list[Hit], articles: dict[str, Article]) -> Grounded | None:
        """The best source sentence that answers the question, quoted verbatim (with the
        sentence it refers back to), if it is strong enough; else None."""
        sources = source_sentences(hits)
        if not sources:
            return None
        row = self.scores([question], sources)[0]
        # Similarity alone favours sentences that echo the question; the one that holds
        # most of what it asks about ("invitation", "Putin", "Sharif") is the better quote.
        rank = row + np.array([coverage(question, s.window) + coverage(question, s.window, names_too=False)
                               for s in sources])
        for j in np.argsort(-rank):
            src = sources[j]
            if row[j] >= self.config.min_evidence and self.fits(question, src.text, src):
                if src.context_start is not None:
                    src = SourceSentence(src.hit, src.context_start, src.end, src.window)
                cite = self._citation(1, hits[src.hit], src, float(row[j]), articles)
                return Grounded(f"“{cite.quote}” [1]", [Claim(cite.quote, (1,), True, cite.score)],
                                [cite], grounded=True)
        return None


def _cite(sentence: str, n: int) -> str:
    """Put the marker before the closing punctuation: "It was in Tianjin [1]." """
    m = re.search(r"[.!?]+[\"'”’)]*$", sentence)
    if m:
        return f"{sentence[:m.start()]} [{n}]{sentence[m.start():]}"
    return f"{sentence} [{n}]"
