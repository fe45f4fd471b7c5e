"""The v4 verifier's training data builders and its null-span reading, without models:
role swaps, restated questions, passage windows, null span targets, BoolQ /
SufficientFacts labels, and best_span's has_answer on hand-made logits."""

from __future__ import annotations

import gzip
import json
import random

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rag.components.runtime.span_reading import best_span  # noqa: E402
from rag.components.fake_verifier import FakeVerifier  # noqa: E402
from rag.train import passage_pairs as pp  # noqa: E402
from rag.train import role_swaps as rs  # noqa: E402
from rag.train import support_sets as ss  # noqa: E402
from rag.train import verifier_data as vd  # noqa: E402
from rag.train.verifier_eval import passage_figures  # noqa: E402
from rag.train.verifier_train import span_targets  # noqa: E402


class FakeEncoding(dict):
    """What best_span and span_targets read of a tokenised batch: word tokens of the
    second text after [CLS] q [SEP], with their character offsets."""

    def __init__(self, question_tokens: int, text: str):
        words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\S+", text)]
        self.seq = [None] + [0] * question_tokens + [None] + [1] * len(words) + [None]
        offsets = [(0, 0)] + [(0, 1)] * question_tokens + [(0, 0)] + words + [(0, 0)]
        super().__init__(offset_mapping=[offsets])

    def sequence_ids(self, row):
        return self.seq


# --- role swaps and restated questions ---------------------------------------------

def test_a_role_swap_trades_the_two_names():
    assert rs.role_swap("Napoleon invaded Russia in 1812.") == "Russia invaded Napoleon in 1812."
    assert (rs.role_swap("The Broncos defeated the Carolina Panthers to win.")
            == "The Carolina Panthers defeated the Broncos to win.")


@pytest.mark.parametrize("sentence", ["Putin and Xi met in Moscow.", "Sharif held talks with Putin.",
                                      "Paris, London and Rome voted."])
def test_names_joined_by_and_with_or_a_comma_are_not_swapped(sentence):
    assert rs.role_swap(sentence) is None


def test_self_reference_and_speaker_swaps():
    assert rs.self_reference("Napoleon invaded Russia in 1812.") == "Napoleon invaded Napoleon in 1812."
    rng = random.Random(0)
    said = rs.speaker_swap("Prime Minister Shehbaz Sharif said the summit was a success.", rng, [])
    assert said.split()[0] in {g.capitalize() for g in rs._GROUPS} | {"Many"}
    assert "Sharif" not in said
    back = rs.speaker_swap("Some observers said the visit mattered.", rng, ["Vladimir Putin"])
    assert back == "Some Vladimir Putin said the visit mattered."
    assert rs.speaker_swap("It rained all day.", rng, ["Putin"]) is None


def test_a_question_restated_without_its_answer():
    assert rs.restated("Which multilateral organisation held the summit?") == "The multilateral organisation held the summit."
    assert rs.restated("When was the treaty signed?") == "The treaty signed."
    assert rs.restated("Why?") is None


def _row(context, question, answer, impossible=False):
    return {"title": "T", "context": context, "question": question, "impossible": impossible,
            "answer": None if impossible else answer, "start": None if impossible else context.index(answer)}


CONTEXT = ("The summit was held in Tianjin. Napoleon invaded Russia in 1812. The army retreated in winter. "
           "Many soldiers died of cold. The emperor returned to Paris.")


def test_role_pairs_label_swaps_not_entailed_and_keep_the_original_entailed():
    rows = [_row(CONTEXT, "Who invaded Russia in 1812?", "Napoleon")]
    pairs = rs.role_pairs(rows, random.Random(1))
    swaps = [p for p in pairs if p.task == "support" and p.a == "Russia invaded Napoleon in 1812."]
    assert swaps and all(p.label == vd.NEUTRAL for p in swaps)
    assert any(p.task == "support" and p.label == vd.ENTAILED and p.a == "Napoleon invaded Russia in 1812."
               for p in pairs)
    assert all(p.label == 0 for p in pairs if p.task == "answer")


# --- passage windows -----------------------------------------------------------------

def test_windows_hold_or_leave_out_the_answer_sentence():
    sents = vd.sentences(CONTEXT)
    rng = random.Random(3)
    for size in (2, 3, 4):
        for k in range(len(sents)):
            lo, hi = pp.window_around(sents, k, size, rng)
            assert lo <= k <= hi and hi - lo + 1 == size
            w = pp.window_without(sents, k, size, rng)
            assert w is None or not w[0] <= k <= w[1]


def test_a_passage_positive_spans_its_answer_and_a_negative_lacks_it():
    r = _row(CONTEXT, "Who invaded Russia in 1812?", "Napoleon")
    sents = vd.sentences(CONTEXT)
    k = vd._answer_sentence(sents, r["start"])
    for seed in range(10):
        p = pp.passage_positive(r, sents, k, random.Random(seed))
        assert p.label == 1 and p.b[p.span[0]:p.span[1]] == "Napoleon"
        assert 2 <= len(vd.sentences(p.b)) <= 4
        n = pp.passage_negative(r, sents, k, random.Random(seed))
        assert n is None or (n.label == 0 and "Napoleon" not in n.b and n.span is None)


def test_squad11_gives_every_question_at_most_one_pair():
    rows = [_row(CONTEXT, f"Who invaded Russia in 1812, {i}?", "Napoleon") for i in range(50)]
    pairs = pp.squad11_pairs(rows, random.Random(0))
    assert 40 <= len(pairs) <= 50
    assert {p.label for p in pairs} == {0, 1}
    for p in pairs:
        assert p.task == "answer"
        if p.label == 1 and p.span:
            assert p.b[p.span[0]:p.span[1]] == "Napoleon"
        if p.label == 0:
            assert p.span is None


def test_negatives_target_the_null_span_and_support_pairs_no_span():
    text = "Napoleon invaded Russia in 1812."
    pairs = [vd.Pair("answer", "q", text, 1, (0, 8)), vd.Pair("answer", "q", text, 0),
             vd.Pair("support", "claim", text, vd.ENTAILED), vd.Pair("answer", "q", text, 1)]

    class Batch(dict):
        def __init__(self):
            self.one = FakeEncoding(2, text)
            super().__init__(offset_mapping=self.one["offset_mapping"] * 4)

        def sequence_ids(self, i):
            return self.one.seq

    assert span_targets(Batch(), pairs) == [(4, 4), (0, 0), (-1, -1), (-1, -1)]


# --- null-span reading ---------------------------------------------------------------

def _logits(enc, start, end, null):
    n = len(enc.seq)
    z = torch.full((n, 2), -5.0)
    z[start, 0], z[end, 1] = 4.0, 4.0
    z[0, 0] = z[0, 1] = null
    return z


def test_best_span_reads_the_answer_and_weighs_it_against_the_null():
    text = "The summit was held in Tianjin on Monday."
    enc = FakeEncoding(3, text)
    tianjin = 5 + text.split().index("Tianjin")  # [CLS] + 3 question tokens + [SEP]
    answered = best_span(enc, 0, _logits(enc, tianjin, tianjin, null=-3.0), text, null=True)
    assert answered.text == "Tianjin" and answered.has_answer > 0.99
    refused = best_span(enc, 0, _logits(enc, tianjin, tianjin, null=9.0), text, null=True)
    assert refused.text == "Tianjin" and refused.has_answer < 0.01
    even = best_span(enc, 0, _logits(enc, tianjin, tianjin, null=4.0), text, null=True)
    assert even.has_answer == pytest.approx(0.5)
    assert best_span(enc, 0, _logits(enc, tianjin, tianjin, null=9.0), text).has_answer is None


def test_the_fake_verifier_reads_has_answer_too():
    p, spans = FakeVerifier().read("Where was the summit held?", ["The summit was held in Tianjin.", "It rained."])
    assert spans[0].text == "Tianjin" and spans[0].has_answer == pytest.approx(p[0])
    assert spans[1] is None


def test_passage_figures_rank_has_answer():
    class Reader(FakeVerifier):
        span_null = True

    passages = [{"question": "Where was the summit held?", "text": "The summit was held in Tianjin.", "answer": "Tianjin"},
                {"question": "Where was the summit held?", "text": "Rain fell in Lisbon on Sunday.", "answer": None}]
    f = passage_figures(Reader(), passages)
    assert f["passage_span_exact"] == 1.0 and f["passage_no_answer_auc"] == 1.0


# --- support sets --------------------------------------------------------------------

def _write(path, rows):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(json.dumps(r) for r in rows) + "\n")


def test_boolq_yes_is_entailed_no_contradicted_and_another_passage_neutral():
    rows = [{"title": f"T{i}", "passage": f"Passage {i}.", "question": f"is it {i}", "answer": i % 2 == 0}
            for i in range(20)]
    pairs = ss.boolq_pairs(rows, random.Random(0), unrelated=1.0)
    own = [p for p in pairs if p.b == f"Passage {p.a.split()[-1].rstrip('?')}."]
    assert {(p.a, p.label) for p in own} == {(f"Is it {i}?", vd.ENTAILED if i % 2 == 0 else vd.CONTRADICTED)
                                             for i in range(20)}
    assert all(p.label == vd.NEUTRAL for p in pairs if p not in own)
    assert len(pairs) > len(own)


def test_sufficient_facts_cut_evidence_is_neutral_and_uncut_keeps_its_label(tmp_path):
    _write(tmp_path / "sufficient_facts.jsonl.gz", [
        {"claim": "A was released by B.", "evidence": "A was released in 1990.", "label": "NOT ENOUGH INFO",
         "evidence_original": "A was released in 1990 by C.", "label_original": "REFUTES"}])
    pairs = ss.sufficient_facts_pairs(tmp_path, random.Random(0))
    assert [(p.b, p.label) for p in pairs] == [("A was released in 1990.", vd.NEUTRAL),
                                               ("A was released in 1990 by C.", vd.CONTRADICTED)]


def test_nli_sets_keep_their_labels_and_caps(tmp_path):
    _write(tmp_path / "x.jsonl.gz", [{"premise": f"P{i}", "hypothesis": f"H{i}", "label": lab}
                                     for i, lab in enumerate(["entailment", "neutral", "contradiction"] * 10)])
    pairs = ss.nli_pairs(tmp_path, random.Random(0), {"x.jsonl.gz": 12})
    assert len(pairs) == 12
    labels = {"entailment": vd.ENTAILED, "neutral": vd.NEUTRAL, "contradiction": vd.CONTRADICTED}
    assert all(p.label == labels[["entailment", "neutral", "contradiction"][int(p.b[1:]) % 3]] for p in pairs)
    assert np.all([p.task == "support" for p in pairs])


def test_shares_of_the_seeded_order_follow_on_and_never_repeat():
    from rag.train.verifier_train import schedule

    lengths = [5 + i % 7 for i in range(640)]
    whole = schedule(lengths, 8, seed=13, epochs=1.0)
    first, second = schedule(lengths, 8, 13, 0.2), schedule(lengths, 8, 13, 0.2, start=0.2)
    assert first == whole[:16] and second == whole[16:32]  # 80 batches an epoch
    assert not {tuple(b) for b in first} & {tuple(b) for b in second}
    assert len(schedule(lengths, 8, 13, 1.5)) == 120 and schedule(lengths, 8, 13, 0.5, start=0.9)[:8] == whole[72:]
