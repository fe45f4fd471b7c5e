"""Loading and cleaning articles (rag/documents.py). Fast: no models, no network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.documents import (
    LoadResult,
    Rejected,
    article_from_record,
    clean_text,
    content_hash,
    load_paths,
    make_article,
    normalize_date,
    parse_bytes,
)
from rag.errors import BadInput, TooLarge
from rag.types import Article

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_aa16ac2f00cc6e6b.txt"
BODY = "The council approved the new bridge on Tuesday after a long debate."
BODY2 = "Construction will begin next spring, officials said."


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def only(result: LoadResult) -> Article:
    assert result.rejected == []
    assert len(result.articles) == 1
    return result.articles[0]


# ---------------------------------------------------------------- clean_text

def test_clean_text_whitespace_and_unicode():
    raw = ("  Caf\u0065\u0301  opens\t\ttoday \r\nin\u00a0town.\r\n\r\n\r\n\r\n"
           "It\u2019s \u201cbig\u201d\u200b news.  \n")
    assert clean_text(raw) == "Caf\u00e9 opens today\nin town.\n\nIt\u2019s \u201cbig\u201d news."


def test_clean_text_drops_whole_boilerplate_lines_only():
    raw = "\n".join([
        BODY, "", "Advertisement", "", "Share this article", "",
        "Sign up for our newsletter", "Click here to subscribe", "",
        "We use cookies to improve your experience. Accept all to continue.",
        "Read more: Why the bridge matters", "",
        "Critics said they would share this article with friends and sign up for our newsletter.",
        "", "Copyright 2022 Example News. All rights reserved.", "Facebook Twitter Email",
    ])
    assert clean_text(raw) == (
        BODY + "\n\n"
        "Critics said they would share this article with friends and sign up for our newsletter."
    )


def test_clean_text_drops_cnn_video_widget_lines():
    """CNN pages in ../shared/data/realtimeqa/corpus_2022.jsonl carry the video widget as one
    line of text (463 lines in 193 articles, all of this shape)."""
    widget = ("JUST WATCHED Covid-19 pushes the US health care system to the brink Replay More Videos ... "
              "MUST WATCH Covid-19 pushes the US health care system to the brink 02:05")
    said = "The critic said she had just watched the replay of the speech and wanted more videos like it."
    raw = "\n".join([BODY, "", widget, "", said, "", "JUST WATCHED Biden speech Replay More Videos ..."])
    assert clean_text(raw) == BODY + "\n\n" + said


def test_clean_text_removes_comment_footer_at_the_end():
    raw = (f"{BODY}\n\n{BODY2}\n\nLeave a Reply\n\nYour email address will not be published."
           " Required fields are marked *\n\nComment *\n\nName *\n\nPost Comment")
    assert clean_text(raw) == f"{BODY}\n\n{BODY2}"


def test_clean_text_keeps_leave_a_comment_line_followed_by_the_article():
    body = "\n\n".join([BODY] * 40)
    out = clean_text(f"{BODY2}\n\nLeave a comment\n\n{body}")
    assert out == f"{BODY2}\n\nLeave a comment\n\n{body}"


def test_clean_text_removes_trailing_related_list_but_not_a_paragraph_after_it():
    assert clean_text(f"{BODY}\n\nRelated Articles\nBridge opens\nRoad closed") == BODY
    long_para = "A " + "very " * 40 + "long paragraph that belongs to the article."
    assert clean_text(f"{BODY}\n\nRelated Articles\n\n{long_para}") == f"{BODY}\n\n{long_para}"


def test_clean_text_is_idempotent():
    once = clean_text(SEED.read_text(encoding="utf-8"))
    assert clean_text(once) == once


# ---------------------------------------------------------------- seed file

def test_seed_file_footer_removed_and_title_derived():
    a = only(load_paths([SEED]))
    assert a.text.startswith("In a significant diplomatic move")
    assert a.text.endswith("multipolar world.")
    assert "Leave a Reply" not in a.text and "Required fields" not in a.text
    assert "\n\n\n" not in a.text
    assert a.title == ("In a significant diplomatic move at the Shanghai Cooperation"
                       " Organisation (SCO)…")
    assert a.id == "a-" + content_hash(a.text)[:16] == "a-aa11c8aa9c0c5e5c"
    assert (a.url, a.published, a.source) == (None, None, None)


def test_seed_folder_loads_and_ids_are_stable():
    first = load_paths([SEED.parent])
    second = load_paths([str(SEED.parent)])
    assert [a.id for a in first.articles] == [a.id for a in second.articles]
    assert first.articles == second.articles


# ---------------------------------------------------------------- txt / md

def test_txt_markdown_heading_is_title(tmp_path):
    a = only(load_paths([write(tmp_path / "a.txt", f"# Bridge approved\n\n{BODY}\n\n{BODY2}\n")]))
    assert a.title == "Bridge approved"
    assert a.text == f"{BODY}\n\n{BODY2}"


def test_txt_short_first_line_followed_by_blank_is_title(tmp_path):
    a = only(load_paths([write(tmp_path / "a.txt", f"Bridge approved\n\n{BODY}")]))
    assert (a.title, a.text) == ("Bridge approved", BODY)


def test_txt_first_line_with_period_is_body(tmp_path):
    a = only(load_paths([write(tmp_path / "a.txt", f"Short sentence here.\n\n{BODY}")]))
    assert a.title == "Short sentence here"
    assert a.text == f"Short sentence here.\n\n{BODY}"


def test_txt_without_heading_derives_title_from_first_sentence(tmp_path):
    text = f"{BODY} {BODY2}"
    a = only(load_paths([write(tmp_path / "a.txt", text)]))
    assert a.title == BODY.rstrip(".")
    assert a.text == text


def test_md_setext_heading(tmp_path):
    a = only(load_paths([write(tmp_path / "a.md", f"Bridge approved\n===============\n\n{BODY}")]))
    assert (a.title, a.text) == ("Bridge approved", BODY)


@pytest.mark.parametrize("text, title", [
    ("In September a baby came into Dr. Mora's clinic in town. Then more.",
     "In September a baby came into Dr. Mora's clinic in town"),
    ("Washington CNN —\n\nThe Senate passed the bill on Monday night. It now goes on.",
     "The Senate passed the bill on Monday night"),
    ("The U.S. economy grew 3% in the quarter. Analysts were surprised.",
     "The U.S. economy grew 3% in the quarter"),
    ("Word " * 30, " ".join(["Word"] * 16) + "…"),
    ("Did the bridge open on time? Nobody knows yet.", "Did the bridge open on time?"),
    ("USA TODAY\n\nThe bridge opened on time today. More later.",
     "The bridge opened on time today"),
])
def test_derived_titles(text, title):
    assert make_article(text).title == title


# ---------------------------------------------------------------- html

HTML = """<html><head><title>Bridge approved - Example News</title>
<meta property="og:url" content="https://example.com/news/bridge">
<meta property="og:site_name" content="Example News">
<meta name="date" content="2022/06/16"></head>
<body><nav>Home | About | Contact</nav>
<article><h1>Bridge approved</h1><p>{body}</p><p>{body2}</p><p>Share this article</p></article>
<div id="comments"><h3>Leave a Reply</h3><p>Great article!</p></div>
<footer>Copyright 2022 Example News. All rights reserved</footer></body></html>
""".format(body=BODY, body2=BODY2)


def test_html_main_text_and_metadata(tmp_path):
    a = only(load_paths([write(tmp_path / "page.html", HTML)]))
    assert a.title == "Bridge approved"
    assert a.text == f"{BODY}\n\n{BODY2}"
    assert a.url == "https://example.com/news/bridge"
    assert a.published == "2022-06-16"
    assert a.source == "Example News"


def test_html_without_article_text_is_rejected():
    assert parse_bytes(b"<html><body></body></html>", "x.htm").rejected == [
        Rejected("x.htm", "no article text found in the HTML")]


# ---------------------------------------------------------------- json / jsonl

def test_json_object_with_aliases(tmp_path):
    rec = {"doc_id": " bbc-001 ", "body": f"  {BODY}\r\n\r\n\r\n{BODY2} ",
           "title": " Bridge  approved ",
           "publish_date": "2022/06/16", "url": "https://example.com/b", "source": "BBC News"}
    a = only(load_paths([write(tmp_path / "a.json", json.dumps(rec))]))
    assert a == Article(id="bbc-001", title="Bridge approved", text=f"{BODY}\n\n{BODY2}",
                        url="https://example.com/b", published="2022-06-16", source="BBC News")


def test_json_list(tmp_path):
    data = [{"id": "x1", "text": BODY}, {"id": 7, "content": BODY2, "date": "June 16, 2022"}, 5]
    r = load_paths([write(tmp_path / "list.json", json.dumps(data))])
    assert [(a.id, a.text, a.published) for a in r.articles] == [
        ("x1", BODY, None), ("7", BODY2, "2022-06-16")]
    assert r.rejected == [Rejected(f"{tmp_path / 'list.json'}[2]", "record is not a JSON object")]


def test_json_invalid_and_empty_list(tmp_path):
    r = load_paths([write(tmp_path / "bad.json", "{\"text\": "), write(tmp_path / "e.json", "[]")])
    assert [x.reason for x in r.rejected] == [
        "invalid JSON: Expecting value at line 1",
        "JSON must be an object or a non-empty list of objects"]


def test_jsonl_malformed_lines_are_rejected_with_line_numbers(tmp_path):
    lines = [
        json.dumps({"id": "a", "text": BODY, "published": "2022-06-16T10:00:00Z"}),
        "",
        '{"id": "b", "text": ',
        json.dumps({"doc_id": "c", "body": BODY2, "title": None}),
        "   ",
        "[1, 2]",
        json.dumps({"id": "d", "text": "too short"}),
        json.dumps({"id": "e"}),
        json.dumps({"id": "bad id!", "text": BODY}),
        json.dumps({"id": "f", "text": ["not", "a", "string"]}),
    ]
    path = write(tmp_path / "data.jsonl", "\n".join(lines) + "\n")
    r = load_paths([path])
    assert [(a.id, a.title, a.published) for a in r.articles] == [
        ("a", BODY.rstrip("."), "2022-06-16"), ("c", BODY2.rstrip("."), None)]
    assert [(x.source.rsplit(":", 1)[1], x.reason) for x in r.rejected] == [
        ("3", "invalid JSON: Expecting value"),
        ("6", "record is not a JSON object"),
        ("7", "record has no text"),
        ("8", "record has no text"),
        ("9", "invalid id 'bad id!': use 1-200 characters of letters, digits,"
              " '.', '_', ':' or '-', not only dots"),
        ("10", "field 'text' must be a string, not an array"),
    ]
    assert r.rejected[0].source == f"{path}:3"


def test_jsonl_crlf_and_bom(tmp_path):
    data = "\ufeff" + "\r\n".join(json.dumps({"id": i, "text": t})
                                   for i, t in [("a", BODY), ("b", BODY2)]) + "\r\n"
    r = parse_bytes(data.encode("utf-8"), "x.jsonl")
    assert [a.id for a in r.articles] == ["a", "b"] and r.rejected == []


# ---------------------------------------------------------------- records and ids

def test_article_from_record_errors():
    with pytest.raises(BadInput, match="record is not a JSON object"):
        article_from_record(["text"])  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="^record has no text$"):
        article_from_record({"title": "No body"})
    with pytest.raises(BadInput, match="^record has no text$"):
        article_from_record({"text": "   \n  short  "})
    with pytest.raises(BadInput, match="left after removing boilerplate"):
        article_from_record({"text": "Advertisement\n\nShare this article\n\nRelated Articles"})
    with pytest.raises(BadInput, match="field 'title' must be a string"):
        article_from_record({"text": BODY, "title": {"a": 1}})
    with pytest.raises(BadInput, match="invalid id"):
        article_from_record({"text": BODY, "id": "x" * 201})


def test_id_is_content_hash_and_duplicates_share_it():
    a = make_article(BODY)
    assert a.id == "a-" + content_hash(BODY)[:16]
    assert len(a.id) == 18
    assert make_article(f"  {BODY}\n\n", title="Other title").id == a.id
    assert make_article(BODY.upper()).id == a.id  # content_hash casefolds
    assert make_article(BODY2).id != a.id


def test_content_hash_normalises_case_and_whitespace():
    assert content_hash("Hello   World\n") == content_hash("hello world")
    assert content_hash("hello world") == (
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")


def test_null_title_is_derived_and_non_web_url_dropped():
    a = article_from_record({"text": BODY, "title": None, "url": "javascript:alert(1)"})
    assert a.title == BODY.rstrip(".") and a.url is None


@pytest.mark.parametrize("value, expected", [
    ("2022/06/16", "2022-06-16"),
    ("2022-6-1", "2022-06-01"),
    ("2022-06-16T10:00:00Z", "2022-06-16"),
    ("2022-06-16 10:00", "2022-06-16"),
    ("June 16, 2022", "2022-06-16"),
    ("16 Jun 2022", "2022-06-16"),
    ("Thu, 16 Jun 2022 10:00:00 GMT", "2022-06-16"),
    ("16/06/2022", "2022-06-16"),
    ("06/16/2022", "2022-06-16"),
    ("06/07/2022", "06/07/2022"),  # day and month ambiguous: kept as given
    ("2022/13/45", "2022/13/45"),
    ("last Tuesday", "last Tuesday"),
    ("  ", None),
    (None, None),
])
def test_normalize_date(value, expected):
    assert normalize_date(value) == expected


# ---------------------------------------------------------------- rejections and limits

@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"  \n\t\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (contains NUL bytes)"),
    ("caf\u00e9 au lait is a long enough text".encode("latin-1"),
     "not UTF-8 text (undecodable byte at offset 3)"),
    ("A long enough text in UTF-16.".encode("utf-16"), "binary file (contains NUL bytes)"),
])
@pytest.mark.parametrize("name", ["a.txt", "a.md", "a.html", "a.json", "a.jsonl"])
def test_bad_bytes_are_rejected(data, reason, name):
    assert parse_bytes(data, name) == LoadResult([], [Rejected(name, reason)])


def test_parse_bytes_filename_is_only_an_extension():
    assert parse_bytes(b"root:x:0:0:root:/root:/bin/bash", "../../etc/passwd").rejected == [
        Rejected("passwd", "unsupported file type")]
    # The data is parsed, never the named file.
    a = only(parse_bytes(BODY.encode(), "../../etc/hostname.TXT"))
    assert a.text == BODY


def test_parse_bytes_too_large():
    with pytest.raises(TooLarge):
        parse_bytes(BODY.encode(), "a.txt", max_bytes=10)
    assert only(parse_bytes(BODY.encode(), "a.txt", max_bytes=len(BODY))).text == BODY


def test_load_paths_folder_recursive_sorted_and_filtered(tmp_path):
    write(tmp_path / "b.txt", f"Second\n\n{BODY}")
    write(tmp_path / "a" / "z.md", f"# First\n\n{BODY2}")
    write(tmp_path / "c.csv", "not,loaded")
    write(tmp_path / ".hidden.txt", f"Hidden\n\n{BODY}")
    write(tmp_path / ".git" / "x.txt", f"Git\n\n{BODY}")
    big = write(tmp_path / "big.txt", "Big file\n\n" + BODY * 10)
    write(tmp_path / "empty.txt", "")
    r = load_paths([tmp_path, tmp_path / "b.txt"], max_bytes=500)
    assert [a.title for a in r.articles] == ["First", "Second"]
    assert r.rejected == [
        Rejected(str(big), f"too large ({big.stat().st_size} bytes; the limit is 500)"),
        Rejected(str(tmp_path / "empty.txt"), "empty"),
    ]


def test_load_paths_explicit_unsupported_file_and_missing_path(tmp_path):
    csv = write(tmp_path / "data.csv", "a,b")
    assert load_paths([csv]).rejected == [Rejected(str(csv), "unsupported file type")]
    missing = tmp_path / "nope.txt"
    with pytest.raises(BadInput, match=f"^no such file or directory: {missing}$"):
        load_paths([csv, missing])


# ---------------------------------------------------------------- issue #12: input holes

@pytest.mark.parametrize("field", ["text", "title", "url", "published", "source", "id"])
def test_a_lone_surrogate_rejects_only_its_record(field):
    # Valid JSON ("\ud800"), not valid Unicode: it used to abort saving the whole batch.
    bad = {"text": BODY, "id": "bad", field: BODY + "\ud800" if field == "text" else "x\ud800"}
    data = json.dumps([bad, {"text": BODY2, "id": "good"}]).encode()
    r = parse_bytes(data, "batch.json")
    assert [a.id for a in r.articles] == ["good"]
    assert len(r.rejected) == 1 and "lone UTF-16 surrogate" in r.rejected[0].reason
    assert field in r.rejected[0].reason


@pytest.mark.parametrize("value", [380376164024049105258074341376, 12.5, True, ["a"], {"a": 1}])
def test_a_number_is_never_article_text(value):
    with pytest.raises(BadInput, match="field 'text' must be a string"):
        article_from_record({"text": value})
    with pytest.raises(BadInput, match="field 'title' must be a string"):
        article_from_record({"text": BODY, "title": value})


def test_integer_ids_are_still_accepted_and_unknown_fields_ignored():
    a = article_from_record({"text": BODY, "id": 42, "authors": ["x"], "evil": 1})
    assert a.id == "42"
    assert article_from_record({"text": BODY, "id": 1000.0}).id == "1000"
    with pytest.raises(BadInput, match="integer id"):
        article_from_record({"text": BODY, "id": 2 ** 53 + 1})
    with pytest.raises(BadInput, match="must be a string"):
        article_from_record({"text": BODY, "id": 1.5})


@pytest.mark.parametrize("bad_id", [".", "..", "...", " .. "])
def test_ids_that_are_path_segments_are_rejected(bad_id):
    with pytest.raises(BadInput, match="invalid id"):
        article_from_record({"text": BODY, "id": bad_id})
    assert article_from_record({"text": BODY, "id": "v1.2"}).id == "v1.2"


def test_text_needs_letters_or_digits_not_only_characters():
    with pytest.raises(BadInput, match="record has no text"):
        article_from_record({"text": "-" * 40 + " !? " * 10})


def test_a_short_text_is_not_split_into_a_title_and_nothing():
    # What the API's schema allows (20 letters or digits) must be accepted.
    a = only(parse_bytes(b"0000000000\n\n0000000000", "x.txt"))
    assert a.text == "0000000000\n\n0000000000"
