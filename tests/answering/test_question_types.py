import pytest

from rag.answering.question_types import QuestionType as T, classify


@pytest.mark.parametrize("question, kind", [
    ("Which multilateral organisation held the summit?", T.OPEN),
    ("Who did Sharif meet and where?", T.OPEN),
    ("Where was the summit?", T.OPEN),
    ("When is Sharif going to Russia?", T.OPEN),
    ("How many lychee trees will project KX82668R plant?", T.OPEN),
    ("How much money did Russia promise to invest in Pakistan?", T.OPEN),
    ("What did Sharif say about Russia's relations with India?", T.OPEN),
    ("What was Pakistan's relationship with Russia during the Cold War?", T.OPEN),
    ("Who is Pakistan's prime minister?", T.OPEN),
    ("Did Sharif meet Putin?", T.YESNO),
    ("Does the article say Sharif will visit Russia?", T.YESNO),
    ("Was the summit held in Beijing?", T.YESNO),
    ("Has Sharif accepted an invitation to Russia?", T.YESNO),
    ("So, is Putin the president of Russia?", T.YESNO),
    ("Is the summit in Tianjin or in Beijing?", T.OPEN),
    ("Summarize the meeting in two sentences.", T.SUMMARY),
    ("Give me the gist", T.SUMMARY),
    ("What's the story here?", T.SUMMARY),
    ("What happened at the summit?", T.SUMMARY),
    ("Tell me about the SCO summit", T.SUMMARY),
    ("What is the story about?", T.SUMMARY),
    ("Which regions did the two leaders discuss?", T.OPEN),
    ("What areas did Sharif want to expand ties in?", T.OPEN),
    ("List the sectors mentioned.", T.OPEN),
    ("What were the topics of the talks?", T.OPEN),
    ("Why did Sharif thank Putin?", T.OPEN),
    ("How was the meeting seen by observers?", T.OPEN),
    ("Explain the shift in Pakistan-Russia relations.", T.OPEN),
    ("How long did the talks last?", T.OPEN),
])
def test_question_types(question, kind):
    assert classify(question) is kind


@pytest.mark.parametrize("question, none", [
    ("Give me the gist", True), ("What's the story here?", True), ("Summarize", True),
    ("Give me the gist of the article.", True), ("Summarize this piece", True),
    ("Give me the gist of the Lisbon floods", False), ("Tell me about the summit", False),
])
def test_a_summary_request_may_name_no_topic(question, none):
    from rag.answering.question_types import topicless
    assert topicless(question) is none
