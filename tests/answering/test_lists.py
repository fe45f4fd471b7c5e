"""Questions that ask for several things (rag/answering/lists.py), with fakes."""

import pytest

from rag.answering.lists import several
from rag.documents import make_article

from ..conftest import make_pipeline


@pytest.mark.parametrize("question, many", [
    ("Which regions did the two leaders discuss?", True),
    ("What areas did Sharif want to expand ties in?", True),
    ("In which states were the tickets sold?", True),
    ("Which countries' football associations refused?", True),
    ("Which news agencies reported it?", True),
    ("Who did Sharif meet?", False),
    ("What has put a strain on Cuba's economy?", False),  # "has": an auxiliary, not a plural
    ("What is Sharif's plan?", False),
    ("How many trees will be planted?", False),
    ("Which class won?", False),
    ("Which Pakistani leader went?", False),
])
def test_a_plural_noun_after_the_question_word_asks_for_several(question, many):
    assert several(question) is many


TICKETS = ("Winning tickets were sold in California. Other winning tickets were sold in Arizona, "
           "Florida and Iowa. Lottery officials said the jackpot was large.")


def test_several_answering_sentences_are_quoted_each_cited_without_the_model(settings):
    p = make_pipeline(settings, ("The tickets were sold in California [1].",))
    p.index.ingest([make_article(TICKETS, title="Lottery tickets", id="t")])
    a = p.ask("Which states were winning tickets sold in?")
    assert not a.abstained, a.answer
    assert [c.n for c in a.citations] == [1, 2] and p.generator.prompts == []
    assert {c.quote for c in a.citations} == {"Winning tickets were sold in California.",
                                              "Other winning tickets were sold in Arizona, Florida and Iowa."}
    assert a.answer == " ".join(f"“{c.quote}” [{c.n}]" for c in a.citations)
    assert all(c.status == "quoted" for c in a.claims)


def test_one_answering_sentence_goes_the_usual_way(settings):
    p = make_pipeline(settings, ("Lottery officials said the jackpot was large [1].",))
    p.index.ingest([make_article(TICKETS, title="Lottery tickets", id="t")])
    a = p.ask("What did lottery officials say about the jackpot?")  # not plural: the model answers
    assert p.generator.prompts and not a.abstained
