import pytest

from rag.answering.question_types import QuestionType as T, classify


@pytest.mark.parametrize("question, kind", [
    ("Which multilateral organisation held the summit?", T.FACTOID),
    ("Who did Sharif meet and where?", T.FACTOID),
    ("Where was the summit?", T.FACTOID),
    ("When is Sharif going to Russia?", T.FACTOID),
    ("How many lychee trees will project KX82668R plant?", T.FACTOID),
    ("How much money did Russia promise to invest in Pakistan?", T.FACTOID),
    ("What did Sharif say about Russia's relations with India?", T.FACTOID),
    ("What was Pakistan's relationship with Russia during the Cold War?", T.FACTOID),
    ("Who is Pakistan's prime minister?", T.FACTOID),
    ("Did Sharif meet Putin?", T.YESNO),
    ("Does the article say Sharif will visit Russia?", T.YESNO),
    ("Was the summit held in Beijing?", T.YESNO),
    ("Has Sharif accepted an invitation to Russia?", T.YESNO),
    ("So, is Putin the president of Russia?", T.YESNO),
    ("Is the summit in Tianjin or in Beijing?", T.FACTOID),
    ("Summarize the meeting in two sentences.", T.SUMMARY),
    ("Give me the gist", T.SUMMARY),
    ("What's the story here?", T.SUMMARY),
    ("What happened at the summit?", T.SUMMARY),
    ("Tell me about the SCO summit", T.SUMMARY),
    ("What is this article about?", T.SUMMARY),
    ("Which regions did the two leaders discuss?", T.LIST),
    ("What areas did Sharif want to expand ties in?", T.LIST),
    ("List the sectors mentioned.", T.LIST),
    ("What were the topics of the talks?", T.LIST),
    ("Why did Sharif thank Putin?", T.EXPLAIN),
    ("How was the meeting seen by observers?", T.EXPLAIN),
    ("Explain the shift in Pakistan-Russia relations.", T.EXPLAIN),
    ("How long did the talks last?", T.FACTOID),
])
def test_question_types(question, kind):
    assert classify(question) is kind


@pytest.mark.parametrize("question, none", [
    ("Give me the gist", True), ("What's the story here?", True), ("Summarize this article.", True),
    ("Give me the gist of the Lisbon floods", False), ("Tell me about the summit", False),
])
def test_a_summary_request_may_name_no_topic(question, none):
    from rag.answering.question_types import topicless
    assert topicless(question) is none
