from rag.chunking import chunk_article, split_sentences
from rag.types import Article


def texts(text):
    return [text[s.start:s.end] for s in split_sentences(text)]


def test_split_sentences_keeps_abbreviations_and_quotes():
    t = 'Mr. Smith met Dr. Jones in Washington. He said: “It went well.” Then U.S. troops left! Why?'
    assert texts(t) == ["Mr. Smith met Dr. Jones in Washington.", "He said: “It went well.”",
                        "Then U.S. troops left!", "Why?"]


def test_split_sentences_breaks_at_paragraphs_and_initials():
    t = "A headline without a period\n\nJ. K. Rowling wrote it. Done."
    assert texts(t) == ["A headline without a period", "J. K. Rowling wrote it.", "Done."]


def test_chunks_are_exact_slices_with_overlap():
    text = " ".join(f"Sentence number {i} is here." for i in range(7))
    a = Article("a1", "t", text)
    chunks = chunk_article(a, sentences=3, overlap=1, max_chars=1000)
    assert [c.id for c in chunks] == ["a1#0", "a1#1", "a1#2"]
    for c in chunks:
        assert text[c.start:c.end] == c.text
    assert chunks[0].text.endswith("number 2 is here.")
    assert chunks[1].text.startswith("Sentence number 2 ")  # one sentence of overlap
    assert chunks[-1].text.endswith("number 6 is here.")


def test_max_chars_closes_chunks_early_and_splits_long_sentences():
    text = "Short one. " + "word " * 300 + "end."
    chunks = chunk_article(Article("a", "t", text), sentences=3, overlap=0, max_chars=200)
    assert all(len(c.text) <= 200 for c in chunks)
    assert all(text[c.start:c.end] == c.text for c in chunks)
    assert chunks[-1].text.endswith("end.")


def test_empty_text_has_no_chunks():
    assert chunk_article(Article("a", "t", "   "), 3, 1, 500) == []
