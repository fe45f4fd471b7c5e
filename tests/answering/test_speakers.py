"""Whose words a sentence gives (rag/answering/speakers.py), on fakes: 'What did <Name>
say about X?' is answered from that person's sentences only."""

from rag.answering.speakers import attributed, carries_on, names, speaker
from rag.components.fake_verifier import FakeVerifier
from rag.components.verifier import Calibration
from rag.documents import make_article
from rag.types import Article

from ..conftest import make_pipeline

# Invented: a mayor's remark over two sentences (the second goes on with her quotation),
# then an engineer's on the same topic.
BRIDGE = ("The Harwick river bridge opened on Monday after four years of work. "
          "Mayor Ana Ortiz cut the ribbon at noon. "
          "She called it “a lifeline for the east side. "
          "Commutes across the river will be cut in half, bridge or no bridge.” "
          "Engineer Tom Reyes said commutes across the river would be cut by about a third. "
          "Traffic was light on the first day. "
          "It rained in the afternoon.")


def _at(text: str, sentence: str) -> int:
    return text.index(sentence)


def test_the_speaker_is_the_subject_named_before_the_verb():
    assert speaker("How did Paul Finebaum describe Mike Leach?") == "Paul Finebaum"
    assert speaker("What did Scottish Conservative leader David McLetchie say about the smoking ban?") == "David McLetchie"
    assert speaker("What did Jose Barrionuevo of Barclays Capital think of the tax?") == "Jose Barrionuevo"
    assert speaker("When will Sharif visit Russia?") == "Sharif"
    for q in ("What is the SCO?", "What did the leaders discuss?", "Which organisation held the summit?",
              "Did Sharif meet Putin?", "How many trees will project KX82668R in Dunmore plant?",
              # a possessor is not the subject: the tram network carries, Sharif's spokesman speaks
              "How many passengers did Porto's tram network carry in 1930?", "What did Sharif’s spokesman say?"):
        assert speaker(q) is None, q
    assert names("Paul Finebaum", "Finebaum’s praise") and not names("Paul Finebaum", "The Leach family said")


def test_a_sentence_that_carries_on_from_a_named_one_is_theirs_however_far_back_the_name_is():
    a = Article("b", "Bridge opens", BRIDGE)
    # two sentences after her name: "She called it “...", then the rest of her quotation
    assert attributed("Ana Ortiz", a, _at(BRIDGE, "Commutes across"))
    assert attributed("Ana Ortiz", a, _at(BRIDGE, "She called"))
    assert not attributed("Ana Ortiz", a, _at(BRIDGE, "Engineer Tom Reyes"))  # someone else's words
    assert attributed("Tom Reyes", a, _at(BRIDGE, "Engineer Tom Reyes"))
    assert not attributed("Tom Reyes", a, _at(BRIDGE, "Commutes across"))
    # "It rained" refers back to a sentence that names no one: nobody's words
    assert not attributed("Tom Reyes", a, _at(BRIDGE, "It rained"))


def test_a_quotation_left_open_carries_on_into_the_next_sentence():
    assert carries_on("Commutes will be cut.”", "She called it “a lifeline.")
    assert carries_on("More will come.", 'He said "we are ready.')
    assert carries_on("That is fine.", "Traffic was light.")  # a word that refers back
    assert not carries_on("Traffic was light.", "She called it “a lifeline.”")
    assert carries_on("However, this was replaced in 2005.", "Sky Travel ran until then.")  # after an opener


def test_the_sentences_are_left_as_ranked_when_the_best_is_theirs():
    from types import SimpleNamespace as NS
    from rag.answering.question_types import QuestionType
    from rag.answering.speakers import keep_theirs
    from rag.types import Chunk, Hit
    a = Article("b", "Bridge opens", BRIDGE)
    hits = [Hit(Chunk("b#0", "b", BRIDGE, 0, len(BRIDGE)), 1.0)]
    ranked = [NS(source=NS(hit=0, start=_at(BRIDGE, s))) for s in ("Mayor Ana Ortiz", "Engineer Tom", "Commutes")]
    q = "What did Ana Ortiz say about the bridge?"
    yes = lambda q, r: True
    assert keep_theirs(q, QuestionType.OPEN, ranked, hits, {"b": a}, yes) == (ranked, None)  # hers comes first
    mine, who = keep_theirs(q, QuestionType.OPEN, ranked[1:], hits, {"b": a}, yes)  # the engineer's first
    assert mine == [ranked[2]] and who == "Ana Ortiz"
    assert keep_theirs(q, QuestionType.YESNO, ranked[1:], hits, {"b": a}, yes) == (ranked[1:], None)


def test_the_name_can_be_in_the_chunk_before():
    # The "He said" sentence opens a chunk: the name is in the article, not in its chunk.
    text = "Coach Lee Park spoke after the match. He said the team had played its best game."
    a = Article("c", "Match", text)
    assert attributed("Lee Park", a, _at(text, "He said"))


def test_what_a_person_said_is_read_from_their_sentences_only(settings):
    p = make_pipeline(settings, ("Commutes across the river will be cut in half [1].",),
                      FakeVerifier(Calibration(answerable=0.3, supported=0.5)))
    p.index.ingest([make_article(BRIDGE, title="Harwick bridge opens", id="bridge")])
    a = p.ask("What did Ana Ortiz say about commutes across the river?")
    user = p.generator.prompts[-1].user
    # Her remark is two sentences after her name (a window of one sentence back misses it);
    # the engineer's sentence, as close to the question, is not hers.
    assert "cut in half" in user and "Reyes" not in user and "third" not in user, user
    assert not a.abstained and all("Reyes" not in c.quote for c in a.citations), a.answer


def test_when_the_person_says_nothing_on_it_the_articles_do_not_say(settings):
    p = make_pipeline(settings, ("Commutes across the river will be cut by a third [1].",),
                      FakeVerifier(Calibration(answerable=0.3, supported=0.5)))
    p.index.ingest([make_article(BRIDGE, title="Harwick bridge opens", id="bridge")])
    a = p.ask("What did Traffic Chief Dana Moss say about commutes across the river?")
    assert a.abstained, a.answer
    assert "Dana Moss" in a.answer or a.reason == "names_not_found", a.answer
    assert p.generator.prompts == []


def test_their_words_are_kept_when_another_speaks_on_it(settings):
    # (A person named in the article but not on the topic: the reply says whose words are missing.)
    p = make_pipeline(settings, ("Commutes across the river will be cut by a third [1].",),
                      FakeVerifier(Calibration(answerable=0.3, supported=0.5)))
    text = BRIDGE + " Dana Moss, the traffic chief, watched from the bank."
    p.index.ingest([make_article(text, title="Harwick bridge opens", id="bridge")])
    a = p.ask("What did Dana Moss say about commutes across the river?")
    assert a.abstained and a.reason == "not_answered" and "Dana Moss's" in a.answer, a.answer
    assert p.generator.prompts == []
