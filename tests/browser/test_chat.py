"""The web chat in a real browser against a real server with the real models."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from .helpers import (WATCH_DRAFTS, add_article, ask, enter_token_if_asked, open_articles,
                      saved_turn, send)

pytestmark = pytest.mark.browser

SEED_QUESTION = "Which multilateral organisation held the summit?"  # the README's; the model is asked (not a sure quote)

FESTIVAL_TITLE = "Wrenfield announces date of its Lantern Festival"
FESTIVAL = ("The small town of Wrenfield will hold its annual Lantern Festival on 14 June 2025. "
            "The festival takes place in the town square and starts at seven in the evening. "
            "Organisers expect about two thousand visitors to walk along the river with paper lanterns. "
            "Local bakers will sell honey cakes at stalls near the old bridge.")
FESTIVAL_QUESTION = "When is the Lantern Festival in Wrenfield?"


def test_streamed_answer_citation_quote_and_reload(page, server, shot, browser):
    page.goto("/")
    expect(page.get_by_role("heading", name="Ask the news")).to_be_visible()
    shot(page, "01-welcome-light")
    page.evaluate(WATCH_DRAFTS)
    msg = ask(page, SEED_QUESTION)

    # The model's raw text was shown live, growing as tokens came (how many updates
    # depends on how much the model writes before grounding takes over).
    drafts = page.evaluate("window.__drafts")
    assert drafts, "nothing was streamed before the final answer"
    assert all(b.startswith(a) for a, b in zip(drafts, drafts[1:])), drafts
    expect(msg.locator(".draft")).to_have_count(0)  # ... then replaced by the grounded answer
    turn = saved_turn(page)
    result = turn["result"]
    assert turn["status"] == "done" and not result["abstained"], result["answer"]
    answer = msg.get_by_test_id("answer")
    # The grounded answer replaced the raw stream, with its own citation chips.
    expect(answer).to_have_text(re.sub(r"\[(\d+)\]", r"\1", result["answer"]))
    expect(answer.locator(".chip")).to_have_count(len(re.findall(r"\[\d+\]", result["answer"])))
    assert re.search(r"Shanghai Cooperation Organi[sz]ation|SCO", result["answer"]), result["answer"]
    expect(msg.locator(".searched")).to_contain_text(result["query"])
    shot(page, "02-answer-light")

    # A chip opens the source with the exact quote highlighted inside its passage.
    chip = msg.locator(".chip").first
    n = int(chip.inner_text())
    cite = next(c for c in result["citations"] if c["n"] == n)
    chip.click()
    source = page.get_by_test_id("source")
    expect(source).to_be_visible()
    expect(source.locator(".source-article-title")).to_have_text(cite["title"])
    expect(source.locator("mark.quote")).to_have_text(cite["quote"])
    article = server.http.get(f"/articles/{cite['article_id']}").json()
    assert article["text"][cite["start"]:cite["end"]] == cite["quote"]
    passage = source.locator(".passage").inner_text()
    assert cite["quote"] in passage and len(passage) > len(cite["quote"])  # the quote in its context
    shot(page, "03-source-panel")

    # "Open article" shows the whole text, scrolled to the same highlight.
    page.get_by_role("button", name="Open article").click()
    full = page.get_by_test_id("article")
    expect(full.locator("mark.quote")).to_have_text(cite["quote"])
    expect(full.locator("mark.quote")).to_be_in_viewport()
    assert len(full.locator(".article-text").inner_text()) >= len(article["text"]) - 5
    shot(page, "04-full-article")

    # The conversation survives a reload.
    page.reload()
    expect(page.locator(".msg.user .bubble")).to_have_text(SEED_QUESTION)
    expect(page.get_by_test_id("answer")).to_have_count(1)
    expect(page.locator("#chat-list .chat-link")).to_have_text([SEED_QUESTION])

    # The same conversation in the dark theme and on a phone.
    state = page.context.storage_state()
    for name, options in (("05-answer-dark", {"color_scheme": "dark", "viewport": {"width": 1280, "height": 800}}),
                          ("06-phone-390-light", {"color_scheme": "light", "viewport": {"width": 390, "height": 844},
                                                  "is_mobile": True, "has_touch": True}),
                          ("07-phone-390-dark", {"color_scheme": "dark", "viewport": {"width": 390, "height": 844},
                                                 "is_mobile": True, "has_touch": True})):
        ctx = browser.new_context(base_url=server.url, storage_state=state, **options)
        other = ctx.new_page()
        other.goto("/")
        expect(other.get_by_test_id("answer")).to_be_visible()
        if "phone" in name:
            width = other.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
        shot(other, name)
        if name == "06-phone-390-light":
            other.locator(".chip").first.click()
            expect(other.get_by_test_id("source").locator("mark.quote")).to_be_visible()
            shot(other, "08-phone-390-source")
        ctx.close()


def test_add_article_ask_about_it_then_delete(page, server, shot):
    page.goto("/")
    open_articles(page)
    add_article(page, FESTIVAL, title=FESTIVAL_TITLE, date="2025-05-02")
    enter_token_if_asked(page, server.token)  # the server has an admin token: the page asks for it
    report = page.get_by_test_id("report")
    expect(report).to_contain_text("Added")
    expect(report).to_contain_text(FESTIVAL_TITLE)
    row = page.locator(".article-row", has_text=FESTIVAL_TITLE)
    expect(row).to_contain_text("chunk")
    new_id = row.get_attribute("data-id")
    assert new_id in server.article_ids()
    shot(page, "09-article-added")
    page.get_by_label("Close panel").click()

    msg = ask(page, FESTIVAL_QUESTION)
    result = saved_turn(page)["result"]
    assert not result["abstained"], result
    assert re.search(r"14 June|June 14", result["answer"]), result["answer"]  # either way of writing it
    cited = {c["article_id"] for c in result["citations"]}
    assert new_id in cited, result["citations"]
    expect(msg.locator(".source-title").first).to_have_text(FESTIVAL_TITLE)
    shot(page, "10-answer-new-article")

    open_articles(page)
    row = page.locator(".article-row", has_text=FESTIVAL_TITLE)
    row.get_by_role("button", name=f"Delete {FESTIVAL_TITLE}").click()
    row.get_by_role("button", name="Delete", exact=True).click()
    expect(page.locator(".article-row", has_text=FESTIVAL_TITLE)).to_have_count(0)
    assert new_id not in server.article_ids()


def test_hostile_title_stays_text_upload_and_rebuild(page, server, shot, tmp_path):
    hostile = "<img src=x onerror=alert(1)>"
    upload = tmp_path / "pelicans.md"
    upload.write_text(f"# {hostile}\n\nPelicans returned to the Ostrava reservoir this spring after a "
                      "decade away. Birdwatchers counted forty of them on the eastern shore.\n")
    page.add_init_script(f"localStorage.setItem('rag.adminToken', {server.token!r})")
    page.goto("/")
    open_articles(page)
    page.locator("details.add > summary").click()
    page.get_by_label("Article file").set_input_files(str(upload))
    expect(page.get_by_test_id("report")).to_contain_text(hostile)
    row = page.locator(".article-row", has_text=hostile)
    expect(row.locator(".article-title")).to_have_text(hostile)
    new_id = row.get_attribute("data-id")
    try:
        page.get_by_label("Search articles").fill("<img")
        expect(page.locator(".article-row")).to_have_count(1)
        row.locator(".article-open").click()
        expect(page.get_by_test_id("article").locator(".source-article-title")).to_have_text(hostile)
        shot(page, "11-hostile-title")
        assert page.locator("img").count() == 0
        assert page.dialogs == []

        # Rebuild re-embeds everything; the page follows the job to its end.
        page.get_by_label("Back").click()
        page.get_by_role("button", name="Rebuild index").click()
        expect(page.locator(".rebuild-status")).to_have_text("Index rebuilt.")
        assert server.http.get("/index/status").json()["state"] == "done"
    finally:
        server.http.delete(f"/articles/{new_id}", headers=server.admin()).raise_for_status()


def test_removed_claims_and_model_text_stay_visible_as_text(page, shot):
    """The page's side of the /ask/stream contract, with a fixed response: sentences
    grounding removed are shown struck out, and model text is never markup."""
    done = {"answer": "The festival is on 14 June [1].", "abstained": False, "reason": None,
            "grounded": True, "query": "When is the festival?",
            "citations": [{"n": 1, "article_id": "a1", "chunk_id": "a1#0", "title": "Town news",
                           "url": "javascript:alert(3)", "published": "2025-05-02",
                           "quote": "The festival is on 14 June.", "start": 4, "end": 31, "score": 0.9}],
            "claims": [{"text": "The festival is on 14 June.", "citations": [1], "supported": True, "score": 0.9},
                       {"text": "The mayor <b>Ann</b> opens it.", "citations": [], "supported": False, "score": 0.2,
                        "status": "contradicted"}],
            "passages": [{"article_id": "a1", "chunk_id": "a1#0", "text": "Yes. The festival is on 14 June. Come.",
                          "start": 0, "end": 38, "score": 0.03, "dense": 0.8}],
            "timings_ms": {"retrieve": 12.0, "generate": 900.0, "ground": 30.0, "total": 950.0}}
    events = [("token", "The festival is on 14 June [1]. "), ("token", "The mayor <b>Ann</b> opens it."),
              ("citations", done["citations"]), ("claims", done["claims"]), ("done", done)]
    body = "".join(f"event: {e}\r\ndata: {json.dumps(d)}\r\n\r\n" for e, d in events)
    page.route("**/ask/stream", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream"}, body=body))
    page.goto("/")
    msg = ask(page, "When is the festival?")
    expect(msg.get_by_test_id("answer")).to_have_text("The festival is on 14 June 1.")
    removed = msg.get_by_test_id("removed")
    expect(removed).to_contain_text("1 sentence removed")
    expect(removed.locator("del")).to_have_text("The mayor <b>Ann</b> opens it.")
    expect(removed.locator("li")).to_contain_text("the articles say otherwise")  # the verifier's verdict
    assert msg.locator("b").count() == 0
    expect(msg.get_by_test_id("source-date")).to_contain_text("2025")  # each source says when
    shot(page, "14-removed-claims")
    msg.locator(".chip").click()
    source = page.get_by_test_id("source")
    expect(source.locator("mark.quote")).to_have_text("The festival is on 14 June.")
    expect(source.locator(".passage")).to_have_text("Yes. The festival is on 14 June. Come.")
    assert source.locator("a").count() == 0  # a javascript: URL is not made a link


def ask_answered(page, question: str, done: dict):
    """Ask on the page, with /ask/stream answering only `done` (a fixed final event)."""
    body = f"event: done\r\ndata: {json.dumps(done)}\r\n\r\n"
    page.route("**/ask/stream", lambda route: route.fulfill(
        status=200, headers={"Content-Type": "text/event-stream"}, body=body))
    page.goto("/")
    return ask(page, question)


def test_a_true_sentence_that_answers_something_else_is_left_out_not_refuted(page):
    # Under the README's example the chat said "the articles don't back it" of the article's
    # own sentence, and then, beside it, "true, but not an answer to the question".
    done = {"answer": "SCO: “The summit of the SCO was held in Tianjin.” [1]", "abstained": False,
            "reason": None, "grounded": True, "query": "Which organisation held the summit?",
            "citations": [{"n": 1, "article_id": "a1", "chunk_id": "a1#0", "title": "Summit",
                           "url": None, "published": None, "quote": "The summit of the SCO was held in Tianjin.",
                           "start": 0, "end": 42, "score": 0.9}],
            "claims": [{"text": "Sharif met Putin.", "citations": [], "supported": False, "score": 0.9,
                        "status": "not_an_answer"},
                       {"text": "The summit of the SCO was held in Tianjin.", "citations": [1], "supported": True,
                        "score": 0.9, "status": "quoted"}],
            "passages": [], "timings_ms": {"total": 900.0}}
    msg = ask_answered(page, "Which organisation held the summit?", done)
    removed = msg.get_by_test_id("removed")
    expect(removed).to_contain_text("1 sentence left out")
    expect(removed).not_to_contain_text("don't back")
    expect(removed.locator("li")).to_contain_text("true, but not an answer to the question")


def test_stale_abstention_says_when_the_newest_article_is_from(page):
    done = {"answer": "The articles don't say: no article published 26 Aug–2 Sep 2022 answers this.",
            "abstained": True, "reason": "no_recent_articles", "as_of": "2022-09-02",
            "newest": "2022-06-14", "grounded": False, "query": "Who won this week?", "citations": [],
            "claims": [], "passages": [], "timings_ms": {"total": 50.0}}
    msg = ask_answered(page, "Who won this week?", done)
    expect(msg.get_by_test_id("abstain")).to_contain_text("No article from the time the question asks about")
    expect(msg.get_by_test_id("stale")).to_contain_text("The newest article on this is from")
    expect(msg.get_by_test_id("stale")).to_contain_text("2022")


def test_a_window_no_article_is_from_is_named_with_the_newest_article(page):
    done = {"answer": "No article is from this week (29 Nov–6 Dec 2026). The newest article is from 1 Sep 2025: "
                      "“Summit in Tianjin”.",
            "abstained": True, "reason": "no_recent_articles", "as_of": "2026-12-06", "newest": "2025-09-01",
            "grounded": False, "query": "What happened this week?", "citations": [], "claims": [],
            "passages": [], "timings_ms": {"total": 20.0}}
    msg = ask_answered(page, "What happened this week?", done)
    expect(msg.get_by_test_id("abstain")).to_contain_text("No article is from this week (29 Nov–6 Dec 2026)")
    expect(msg.get_by_test_id("abstain")).to_contain_text("Summit in Tianjin")
    expect(msg.get_by_test_id("stale")).to_have_count(0)  # the newest article is named once


def test_a_name_no_article_mentions_is_named_in_the_abstention(page):
    done = {"answer": "The articles don't say: none of the articles found mentions Narendra Modi. The closest "
                      "passages are listed below.",
            "abstained": True, "reason": "names_not_found", "grounded": False,
            "query": "What did Narendra Modi say?", "citations": [], "claims": [], "passages": [],
            "timings_ms": {"total": 16.0}}
    msg = ask_answered(page, "What did Narendra Modi say?", done)
    expect(msg.get_by_test_id("abstain")).to_contain_text("The articles don't say. None of the articles found mentions Narendra Modi")
    expect(msg.get_by_test_id("abstain")).not_to_contain_text("The articles don't say: none")  # said once


def test_abstains_offers_passages_and_stop_cancels(page, server, shot):
    page.goto("/")
    requests, aborted = [], []
    page.on("request", lambda r: requests.append(r.post_data_json) if r.url.endswith("/ask/stream") else None)
    page.on("requestfailed", lambda r: aborted.append(r.failure) if r.url.endswith("/ask/stream") else None)

    box = page.get_by_label("Your question")
    box.fill("first line")
    box.press("Shift+Enter")
    box.type("second line")
    expect(box).to_have_value("first line\nsecond line")  # Shift+Enter: a new line, not sent
    expect(page.locator(".msg")).to_have_count(0)
    msg = ask(page, "What is the recipe for a good sourdough bread?")
    expect(msg.get_by_test_id("abstain")).to_contain_text("The articles don't say")
    msg.locator(".passage-link").first.click()
    expect(page.get_by_test_id("source").locator(".passage")).not_to_be_empty()
    page.get_by_label("Close panel").click()
    shot(page, "12-abstained")

    # A follow-up sends the history. Stop is pressed at once, while the server is still
    # working, so the test does not race the model to the end of a short answer.
    send(page, "Who did Shehbaz Sharif meet at the summit?")  # goes to the model (verifier: 0.76)
    stop = page.get_by_role("button", name="Stop answering")
    stop.click()
    stopped = page.locator(".msg.assistant").last
    expect(stopped).to_have_class(re.compile(r"\bstopped\b"))
    expect(stopped).to_contain_text("Stopped")
    expect(page.get_by_role("button", name="Send question")).to_be_visible()
    # The connection was closed: that is what stops the model on the server.
    for _ in range(50):  # events reach Python a moment after the page sees them
        if aborted:
            break
        page.wait_for_timeout(100)
    assert aborted and "ABORTED" in aborted[-1].upper(), aborted
    assert requests[-1]["history"][0]["role"] == "user"
    assert requests[-1]["history"][0]["content"].startswith("What is the recipe")
    shot(page, "13-stopped")
    page.reload()
    expect(page.locator(".msg.assistant").last).to_have_class(re.compile(r"\bstopped\b"))
