"""An article's date from each source, the user's dates, and date windows."""

import datetime as dt
import json

import pytest

from rag.dates import DateWindow, article_date, check_iso, dateline_date, parse_date, url_date
from rag.documents import load_paths, parse_bytes

BODY = ("The city council approved the new bridge on Tuesday after a long debate. "
        "Construction will start next spring and take two years.")


@pytest.mark.parametrize("field", ["published", "publish_date", "date", "pubDate", "published_at",
                                   "publishedAt", "datePublished"])
def test_a_record_date_field(tmp_path, field):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"text": BODY, field: "Fri, 02 Sep 2022 10:00:00 GMT"}))
    assert load_paths([path]).articles[0].published == "2022-09-02"


@pytest.mark.parametrize("value, expected", [
    ("2022/09/02", "2022-09-02"), ("2022-09-02T23:10:00+02:00", "2022-09-02"),
    ("September 2, 2022", "2022-09-02"), ("2 Sept. 2022", "2022-09-02"),
    ("Fri, 02 Sep 2022 10:00:00 GMT", "2022-09-02"), ("13.09.2022", "2022-09-13"),
    ("06/07/2022", None),  # June or July: not guessed
    ("last Tuesday", None), ("soon", None), ("", None), (None, None),
])
def test_parse_date(value, expected):
    assert parse_date(value) == expected


def test_html_meta_tag():
    page = (f'<html><head><meta property="article:published_time" content="2022-09-02T08:00:00Z">'
            f'</head><body><article><h1>Bridge</h1><p>{BODY}</p><p>{BODY}</p></article></body></html>')
    assert parse_bytes(page.encode(), "a.html").articles[0].published == "2022-09-02"


def test_url_date():
    assert url_date("https://edition.cnn.com/2022/09/02/politics/bridge/index.html") == "2022-09-02"
    assert url_date("https://www.usatoday.com/story/news/2012/10/11/cartels/1626383/") == "2012-10-11"
    assert url_date("https://example.com/news/bridge") is None
    assert url_date(None) is None


def test_html_page_dated_only_by_its_url():
    page = (f'<html><head><meta property="og:url" content="https://example.com/2021/03/04/bridge">'
            f'</head><body><article><h1>Bridge</h1><p>{BODY}</p><p>{BODY}</p></article></body></html>')
    assert parse_bytes(page.encode(), "a.html").articles[0].published == "2021-03-04"


def test_a_record_with_only_a_url_gets_its_date(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"text": BODY, "url": "https://example.com/2021/03/04/bridge.html"}))
    assert load_paths([path]).articles[0].published == "2021-03-04"


def test_dateline():
    assert dateline_date("Updated 10:12 AM EDT, Fri September 2, 2022\n\n" + BODY) == "2022-09-02"
    assert dateline_date("LONDON, 2 Sept 2022 (Reuters) - " + BODY) == "2022-09-02"
    assert dateline_date("LONDON, Sept 2 (Reuters) - " + BODY) is None  # no year
    assert dateline_date(BODY + " " * 400 + "On September 2, 2022 it opened.") is None  # too far in
    assert dateline_date("Story by A. Reporter | Photos by B. Lens | Dec. 10, 2015\n\n" + BODY) == "2015-12-10"


def test_a_date_the_story_tells_of_is_no_dateline():
    # Found on SQuAD paragraphs and RealTimeQA texts: the first date of the text was taken
    # as the publication date, dating a history paragraph 1755 and Capitol stories 2021-01-06.
    assert dateline_date("On 9 July 1755, General Braddock led his men. " + BODY) is None
    assert dateline_date("(CNN) The committee investigating the January 6, 2021, attack met. ") is None
    assert dateline_date("The service started on 1 September 1993 based on an idea. " + BODY) is None
    assert dateline_date("The Bretton Woods system ended on 15 August 1971. " + BODY) is None


def test_text_file_dated_by_its_dateline(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Bridge approved\n\nPublished September 2, 2022. " + BODY)
    assert load_paths([path]).articles[0].published == "2022-09-02"


def test_sources_in_order_and_none_when_nothing_says():
    url = "https://example.com/2021/03/04/x"
    assert article_date("2022-09-02", url, "May 5, 2020. " + BODY) == "2022-09-02"
    assert article_date("whenever", url, "May 5, 2020. " + BODY) == "2021-03-04"
    assert article_date(None, None, "May 5, 2020. " + BODY) == "2020-05-05"
    assert article_date(None, "https://example.com/x", BODY) is None


def test_check_iso():
    assert check_iso("2022-09-02", "as_of") == dt.date(2022, 9, 2)
    assert check_iso(None, "as_of") is None
    for bad in ("2022-9-2", "yesterday", "2022-02-30", "2022-09-02T10:00"):
        with pytest.raises(ValueError, match="as_of must be a date written YYYY-MM-DD"):
            check_iso(bad, "as_of")


def test_window_holds():
    w = DateWindow(dt.date(2022, 8, 26), dt.date(2022, 9, 2))
    assert w.holds("2022-08-26") and w.holds("2022-09-02") and not w.holds("2022-09-03")
    assert not w.holds(None) and not w.holds("06/07/2022")
    assert DateWindow(end=dt.date(2022, 9, 2)).holds("1999-01-01")
