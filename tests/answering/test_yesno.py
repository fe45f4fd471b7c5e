"""Yes/no decisions (rag/answering/yesno.py) on given support probabilities."""

import numpy as np

from rag.answering import yesno
from rag.answering.grounding import Ranked, SourceSentence
from rag.components.fake_verifier import FakeVerifier

SENTENCES = ["The ten percent obligation applies exclusively to the dollar.",
             "Conversions from the dollar will be subject to a 10% tax.",
             "Tourists will also pay the tax in Havana."]


class Reads(FakeVerifier):
    """Support probabilities (entailed, neutral, contradicted) given per sentence."""

    def __init__(self, probs):
        super().__init__()
        self.probs = np.array(probs, dtype=np.float32)

    def support(self, pairs):
        assert [e for _, e in pairs] == SENTENCES[:len(pairs)]
        return self.probs[:len(pairs)]


def _ranked():
    return [Ranked(SourceSentence(0, 100 * i, 100 * i + len(s), s), 0.9 - 0.1 * i, 0.9 - 0.1 * i)
            for i, s in enumerate(SENTENCES)]


def decide(question, probs, title="Cuba taxes the dollar"):
    return yesno.decide(question, _ranked(), Reads(probs), lambda r: title)


def test_a_contradiction_of_the_best_sentence_is_no():
    # Below the 0.5 a claim needs, above what tells a settled question (SETTLED).
    v = decide("Does the tax also apply to euros?", [[0.26, 0.29, 0.45], [0.2, 0.5, 0.3], [0.1, 0.8, 0.1]])
    assert v.answer == "No" and v.evidence.source.text == SENTENCES[0] and v.score == np.float32(0.45)


def test_no_quotes_the_most_contradicted_sentence():
    v = decide("Does the tax also apply to euros?", [[0.3, 0.3, 0.4], [0.1, 0.2, 0.7], [0.1, 0.8, 0.1]])
    assert v.answer == "No" and v.evidence.source.text == SENTENCES[1]


def test_nothing_entailed_or_contradicted_enough_is_neither():
    v = decide("Does the tax also apply to euros?", [[0.35, 0.4, 0.25], [0.3, 0.5, 0.2], [0.1, 0.8, 0.1]])
    assert v.answer is None and v.evidence.source.text == SENTENCES[0]


def test_yes_quotes_the_most_entailed_sentence_that_gives_every_name_and_figure():
    probs = [[0.5, 0.3, 0.2], [0.9, 0.05, 0.05], [0.6, 0.3, 0.1]]
    v = decide("Does Cuba tax conversions from the dollar at 10%?", probs)
    assert v.answer == "Yes" and v.evidence.source.text == SENTENCES[1]
    # "Havana" is only in the third sentence: the one quoted.
    assert decide("Does Cuba tax tourists in Havana?", probs).evidence.source.text == SENTENCES[2]
    # Nothing read names Madrid, or gives 20%: neither, not "Yes".
    assert decide("Does Madrid tax conversions from the dollar?", probs).answer is None
    assert decide("Is the tax on dollars 20%?", probs).answer is None


def test_the_best_ranked_sentence_decides_which_way():
    probs = [[0.45, 0.4, 0.15], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]]
    assert decide("Does the dollar obligation apply exclusively?", probs).answer == "Yes"
    probs = [[0.2, 0.3, 0.5], [0.9, 0.05, 0.05], [0.1, 0.8, 0.1]]
    assert decide("Does the dollar obligation apply exclusively?", probs).answer == "No"


def test_without_sentences_there_is_no_verdict():
    assert yesno.decide("Is it?", [], Reads([])) is None
