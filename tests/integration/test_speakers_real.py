"""Whose words (rag/answering/speakers.py) on the real models: 'What did <Name> say about
X?' quotes that person, never someone else who spoke on the same topic."""

from rag.answering.speakers import attributed
from rag.documents import make_article

from .test_pipeline_real import _check_citations

# Invented: three people speak of a late mayor; only one of them of the town library.
ELLIS = ("Former mayor Ruth Ellis dies at 84\n\n"
         "Former Dunmore mayor Ruth Ellis died on Sunday at the age of 84. Her family said in a statement that "
         "she was a devoted mother and grandmother and described her as a woman of endless energy and warmth. "
         "Councillor Peter Hale, who served on the council under her, called Ellis \"the hardest-working mayor "
         "this town has ever had.\" Ellis served three terms and oversaw the building of the town library. "
         "Library director Sam Ortiz said the library was \"the heart of Dunmore\" and would close for a day "
         "in her honour.")


def _theirs(pipeline, answer, name):
    for c in answer.citations:
        article = pipeline.index.snapshot().store.articles[c.article_id]
        assert attributed(name, article, c.start), (name, c.quote)


def test_what_sharif_said_about_india_is_his_india_remark(real_pipeline):
    a = real_pipeline.ask("What did Sharif say about India?")
    assert not a.abstained and "respect your relations with India" in a.answer, a.answer
    _theirs(real_pipeline, a, "Sharif")
    _check_citations(real_pipeline, a)


def test_a_view_is_the_named_persons_and_none_when_they_gave_none(fresh_real_pipeline):
    p = fresh_real_pipeline
    p.index.ingest([make_article(ELLIS, title="Former mayor Ruth Ellis dies at 84", id="ellis")])
    a = p.ask("How did Peter Hale describe Ruth Ellis?")
    assert not a.abstained and "hardest-working" in a.answer and "energy" not in a.answer, a.answer
    _theirs(p, a, "Peter Hale")
    _check_citations(p, a)
    b = p.ask("What did Sam Ortiz say about the library?")
    assert not b.abstained and "heart of Dunmore" in b.answer, b.answer
    # Peter Hale said nothing of the library: not the library director's words in his name
    c = p.ask("What did Peter Hale say about the town library?")
    assert c.abstained and c.reason == "not_answered" and "Peter Hale" in c.answer, c.answer
    assert "heart of Dunmore" not in c.answer and c.citations == [], c.answer
