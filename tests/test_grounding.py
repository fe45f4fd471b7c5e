import pytest

from rag.embedding import FakeEmbedder
from rag.grounding import Grounder, GroundingConfig, key_terms, split_claims
from rag.questions import coverage, has_kind, question_kind
from rag.types import Article, Chunk, Hit
from rag.retrieval import Retriever


def hits_for(p, q, k=2):
    return Retriever(p.embedder).search(p.store, q, k)


def test_split_claims_reads_markers():
    assert split_claims("It was in Tianjin [1]. Putin attended [2][1]. Lone [3, 4].") == [
        ("It was in Tianjin.", (1,)), ("Putin attended.", (2, 1)), ("Lone.", (3, 4))]


def test_key_terms_are_numbers_and_names():
    assert key_terms("The council closed 12 schools in Lisbon on Tuesday.") == {"12", "lisbon", "tuesday"}


def test_supported_claim_keeps_citation_with_exact_span(fake_pipeline):
    hits = hits_for(fake_pipeline, "Where was the summit held?")
    g = Grounder(FakeEmbedder()).ground("The summit was held in Tianjin [1].", hits, fake_pipeline.store.articles)
    assert g.grounded and g.answer == "The summit was held in Tianjin [1]."
    (c,) = g.citations
    art = fake_pipeline.store.articles[c.article_id]
    assert c.article_id == "summit"
    assert c.quote == "The summit of the Shanghai Cooperation Organisation was held in Tianjin."
    assert art.text[c.start:c.end] == c.quote
    assert g.claims[0].supported and g.claims[0].citations == (1,)


def test_wrong_citation_is_corrected(fake_pipeline):
    hits = hits_for(fake_pipeline, "summit Lisbon schools", 4)
    weather_n = next(i for i, h in enumerate(hits, 1) if h.chunk.article_id == "weather")
    summit_n = next(i for i, h in enumerate(hits, 1) if h.chunk.article_id == "summit")
    g = Grounder(FakeEmbedder()).ground(f"The city council closed 12 schools [{summit_n}].", hits,
                                        fake_pipeline.store.articles)
    assert weather_n != summit_n
    assert g.citations[0].article_id == "weather"
    assert g.citations[0].quote == "The city council closed 12 schools."


def test_invented_number_is_removed(fake_pipeline):
    hits = hits_for(fake_pipeline, "How many schools closed?", 4)
    g = Grounder(FakeEmbedder()).ground(
        "The city council closed 40 schools [1]. The summit was held in Tianjin [1].", hits,
        fake_pipeline.store.articles)
    assert [c.supported for c in g.claims] == [False, True]
    assert "40" not in g.answer and "Tianjin" in g.answer


def test_nothing_supported_is_not_grounded(fake_pipeline):
    hits = hits_for(fake_pipeline, "summit")
    g = Grounder(FakeEmbedder()).ground("Bananas are purple in Peru [1].", hits, fake_pipeline.store.articles)
    assert not g.grounded and g.answer == "" and g.citations == []


def test_extractive_fallback_quotes_verbatim(fake_pipeline):
    hits = hits_for(fake_pipeline, "Who did Sharif meet?")
    g = Grounder(FakeEmbedder(), GroundingConfig(min_evidence=0.3)).extractive(
        "Who did Sharif meet?", hits, fake_pipeline.store.articles)
    assert g is not None
    (c,) = g.citations
    assert c.quote == "Pakistan's prime minister Shehbaz Sharif met Russian president Vladimir Putin there."
    assert fake_pipeline.store.articles[c.article_id].text[c.start:c.end] == c.quote
    assert g.answer == f"“{c.quote}” [1]"


@pytest.mark.parametrize("question,kind", [
    ("How many people attended the parade?", "number"), ("How much did it cost?", "number"),
    ("What is the value of trade between them?", "number"), ("When will Sharif visit Russia?", "date"),
    ("In what year was it founded?", "date"), ("Who did Sharif meet?", "person"),
    ("Whose invitation did he accept?", "person"), ("Which organisation held the summit?", "name"),
    ("What did they discuss?", "other"),
    ("Where was the summit held?", "place")])
def test_question_kinds(question, kind):
    assert question_kind(question) == kind


def test_answer_must_hold_what_is_asked_for():
    q = "How many people attended the parade?"
    assert not has_kind("number", "The parade marked the 80th anniversary.", q)
    assert has_kind("number", "About 12,000 people attended.", q)
    assert has_kind("number", "Two hundred people came.", q)
    assert has_kind("date", "He will visit Russia in November.", "When will he visit Russia?")
    assert not has_kind("date", "He will visit Russia.", "When will he visit Russia?")
    assert has_kind("person", "Sharif met Vladimir Putin.", "Who did Sharif meet?")
    assert not has_kind("person", "Sharif met him there.", "Who did Sharif meet?")
    assert coverage("When did Putin invite Sharif?", "Sharif accepted Putin's invitation.") == 1.0


def test_supported_claim_that_does_not_answer_is_not_grounded(fake_pipeline):
    hits = hits_for(fake_pipeline, "How many schools closed in Lisbon?", 4)
    g = Grounder(FakeEmbedder()).ground("The summit was held in Tianjin [1].", hits,
                                        fake_pipeline.store.articles, question="How many schools closed in Lisbon?")
    assert not g.grounded and g.answer == "" and g.citations == []
    assert [c.supported for c in g.claims] == [False]


def test_extractive_refuses_an_answer_of_the_wrong_kind(fake_pipeline):
    hits = hits_for(fake_pipeline, "How many people attended the summit in Tianjin?")
    g = Grounder(FakeEmbedder(), GroundingConfig(min_evidence=0.0)).extractive(
        "How many people attended the summit in Tianjin?", hits, fake_pipeline.store.articles)
    assert g is None


def test_question_names_and_numbers_must_be_in_the_support(fake_pipeline):
    hits = hits_for(fake_pipeline, "Who did Sharif meet in Tianjin in 2019?", 4)
    gr = Grounder(FakeEmbedder(), GroundingConfig(min_evidence=0.0, min_coverage=0.0))
    assert gr.extractive("Who did Sharif meet in Tianjin in 2019?", hits, fake_pipeline.store.articles) is None
    assert gr.extractive("Who did Obama meet?", hits, fake_pipeline.store.articles) is None


def test_a_sentence_that_refers_back_is_quoted_with_the_one_before():
    text = "Sharif met Putin in Tianjin on Monday. He invited him to visit Moscow in November."
    art = Article(id="a", title="t", text=text)
    hit = Hit(Chunk("a#0", "a", text, 0, len(text)), score=1.0, dense=0.9)
    g = Grounder(FakeEmbedder(), GroundingConfig(min_evidence=0.0)).extractive(
        "When did Putin invite Sharif to visit Moscow?", [hit], {"a": art})
    assert g is not None and g.citations[0].quote == text
    assert (g.citations[0].start, g.citations[0].end) == (0, len(text))


def test_evidence_puts_sentences_that_can_answer_first(fake_pipeline):
    hits = hits_for(fake_pipeline, "When will Sharif visit Russia?", 4)
    ev = Grounder(FakeEmbedder(), GroundingConfig(min_coverage=0.6)).select_evidence(
        "When will Sharif visit Russia?", hits, 2)
    assert ev[0].text == "Sharif accepted an invitation to visit Russia in November."


def test_acronyms_are_found_in_full_names_but_not_required():
    from rag.questions import names
    assert "sco" in names("The Shanghai Cooperation Organisation met.", acronyms=True)
    assert "vp" not in names("What did Vladimir Putin say?")


# -- question/evidence alignment (evals/README.md: SQuAD 2.0 unanswerable questions) ----

def test_figures_must_match_exactly_ordinals_and_decades_included():
    from rag.questions import numbers_present
    assert not numbers_present("When was Warsaw ranked the 22nd most liveable city?", "ranked Warsaw as the 32nd")
    assert numbers_present("When was Warsaw ranked the 32nd most liveable city?", "ranked Warsaw as the 32nd.")
    assert not numbers_present("How much did it grow in the year 2000?", "it grew 10% in the 2000s")
    assert numbers_present("How many schools closed in 2024?", "In 2024, 12 schools closed.")
    assert numbers_present("Who won 1,200 votes?", "She won 1200 votes.")
    assert not numbers_present("What reached England in the second wave?", "The first wave reached England.")


def test_negated_or_opposite_question_does_not_match_its_text():
    from rag.questions import mismatch
    assert mismatch("What is not prevented from entering an organism?",
                    "Physical barriers prevent pathogens from entering the organism.") == "negation"
    assert mismatch("What was not covered?", "Nothing was covered, he said, not even costs.") is None
    assert mismatch("When the Rhine took a right turn what did it create?",
                    "The Rhine took a left turn, creating the Channel River.") == "opposite"
    assert mismatch("When did exports increase?", "Exports increased, then decrease followed.") is None
    assert mismatch("Where was the summit held?", "The summit was held in Tianjin.") is None


def test_where_questions_want_a_name_and_openers_are_not_names():
    from rag.questions import names
    assert question_kind("Where was the SCO summit held?") == "place"
    assert question_kind("In which city was the summit held?") == "place"
    assert not has_kind("place", "While challenges remain, the SCO summit is a testament.", "Where was the SCO summit held?")
    assert has_kind("place", "The SCO summit was held in Tianjin.", "Where was the SCO summit held?")
    assert "while" not in names("While it rained, Putin spoke.") and "putin" in names("While it rained, Putin spoke.")
    # "purpose"/"reason" only frame the question, like "kind" or "type"
    assert coverage("What is the purpose of the trip to Russia?", "The trip to Russia is for an SCO event.") == 1.0


def test_a_question_s_first_word_is_a_name_only_if_it_looks_like_one():
    from rag.questions import question_names
    # capitalised by position only: not names the evidence must hold
    assert question_names("Dozens of people were unaccounted for after flooding in which state?") == set()
    assert question_names("Primary voters in which state struck down an amendment?") == set()
    assert question_names("Grocery prices in the US rose. Which item rose most?") == {"us"}
    # a multi-word name, or a word capitalised again later, is still a name
    assert {"nancy", "pelos"} <= question_names("Nancy Pelosi visited which island?")
    assert "putin" in question_names("Putin met whom? Putin said what?")
    # weekdays date a news question, they are not what it asks about
    assert question_names("Who resigned on Thursday in India?") == {"india"}


def test_an_answer_that_restates_the_question_is_no_answer():
    from rag.questions import echoes
    q = "A wildfire forced thousands to evacuate near which national park?"
    assert echoes(q, "California wildfires forced thousands to evacuate near which national park.")
    assert echoes(q, "Was it Yosemite?")
    assert not echoes(q, "Thousands were evacuated near Yosemite, which is in California.")


def test_the_first_word_of_a_claim_is_checked_unless_it_is_a_function_word():
    assert "blebron" in key_terms("Blebron James signed a deal.")
    assert key_terms("While it rained, Putin spoke.") == {"putin"}


def test_a_long_question_is_covered_by_enough_shared_words():
    from rag.grounding import SourceSentence
    q = "Which product remains difficult to find in many US stores due to a nationwide shortage of baby food?"
    s = "The nationwide shortage of baby formula has left US stores short."
    src = SourceSentence(0, 0, len(s), s, passage=s)
    assert coverage(q, s) < 0.5
    assert Grounder(None, GroundingConfig(min_covered_words=5)).fits(q, "Baby formula.", src)
    assert not Grounder(None, GroundingConfig(min_covered_words=0)).fits(q, "Baby formula.", src)


def _sentence(text, passage):
    from rag.grounding import SourceSentence
    return SourceSentence(0, 0, len(text), text, passage=passage)


def test_names_may_come_from_the_passage_only_for_a_sentence_naming_nothing_else():
    g = Grounder(FakeEmbedder(), GroundingConfig(min_coverage=0.3))
    passage = ("Jacksonville grew as a winter resort. The city's tourism was dealt major blows in the "
               "late 19th century by yellow fever outbreaks.")
    q = "What dealt blows to Jacksonville's tourism in the 19th century?"
    s = _sentence("The city's tourism was dealt major blows in the late 19th century by yellow fever outbreaks.", passage)
    assert g.fits(q, s.text, s)
    assert not Grounder(FakeEmbedder(), GroundingConfig(min_coverage=0.3, names_in_passage=False)).fits(q, s.text, s)
    # A sentence about someone else does not borrow the passage's names.
    passage = "Sharif respects Moscow's ties with India. The Pakistani prime minister thanked Putin."
    s = _sentence("The Pakistani prime minister thanked Putin.", passage)
    assert not g.fits("Who is the prime minister of India?", s.text, s)


def test_negated_question_is_not_answered_by_a_positive_sentence():
    g = Grounder(FakeEmbedder())
    s = _sentence("Physical barriers prevent pathogens from entering the organism.", "")
    assert g.fits("What prevents pathogens from entering the organism?", s.text, s)
    assert not g.fits("What does not prevent pathogens from entering the organism?", s.text, s)


def test_a_figure_the_question_gives_may_be_anywhere_in_the_passage():
    from rag.grounding import SourceSentence
    passage = "Gas prices have fallen for more than 50 days. The record gas price was $5.02 in June."
    s = "The record gas price was $5.02 in June."
    src = SourceSentence(0, 0, len(s), s, passage=passage)
    g = Grounder(None, GroundingConfig())
    assert g.fits("After falling for 50 days, what was the record gas price?", "It was $5.02.", src)
    # a figure found nowhere in the passage makes it a different question
    assert not g.fits("After falling for 60 days, what was the record gas price?", "It was $5.02.", src)


def test_an_office_given_to_another_country_is_a_different_question_and_claim():
    from rag.grounding import SourceSentence
    from rag.questions import mismatch, roles
    text = "Pakistan’s Prime Minister Shehbaz Sharif met Russian President Vladimir Putin."
    assert roles(text) == {"prime minister": {"pakis"}, "president": {"russi"}}
    assert roles("the Pakistani prime minister") == {"prime minister": {"pakis"}}
    assert roles("US President Joe Biden") == roles("the President of the United States") == {"president": {"us"}}
    assert roles("Former President Trump and Vice President Harris") == {}
    assert mismatch("Who is the prime minister of India?", text) == "role"
    assert mismatch("Who is the prime minister of Pakistan?", text) is None
    # a claim that hands the office to the wrong country is not supported
    g = Grounder(None, GroundingConfig())
    src = SourceSentence(0, 0, len(text), text, passage=text)
    assert g._with_terms("The prime minister of India is Shehbaz Sharif.", src, [src], []) is None
    assert g._with_terms("Pakistan's prime minister is Shehbaz Sharif.", src, [src], []) is src


def test_a_question_about_something_with_a_name_wants_that_name():
    assert question_kind("Which wildly popular show was green lit for a new season?") == "name"
    assert not has_kind("name", "The wildly popular show is green lit again.", "Which show was green lit?")
    assert has_kind("name", "Netflix green lit Squid Game for a second season.", "Which show did Netflix green light?")
    # the wh-phrase may stand mid-question
    assert question_kind("Primary voters in which state struck down an amendment?") == "place"
    assert question_kind("What group of people met?") == "other"


def test_number_words_bound_into_a_name_must_match():
    from rag.questions import numbers_present
    assert not numbers_present("What happened in the Seven-Day War?", "Israel won the Six-Day War.")
    assert numbers_present("What happened in the Six-Day War?", "Israel won the Six-Day War.")
    assert numbers_present("What two countries met?", "Pakistan and Russia met.")  # a free number word is not required


def test_a_claim_the_support_contradicts_is_unsupported():
    from rag.grounding import SourceSentence
    text = "The 2007 report said temperatures and sea levels had been increasing."
    src = SourceSentence(0, 0, len(text), text, passage=text)
    g = Grounder(None, GroundingConfig())
    assert g._with_terms("The 2007 report said sea levels had been decreasing.", src, [src], []) is None
    assert g._with_terms("The report said sea levels had not been increasing.", src, [src], []) is None
    assert g._with_terms("The 2007 report said sea levels had been increasing.", src, [src], []) is src
