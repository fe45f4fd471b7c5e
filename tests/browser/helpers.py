"""What the browser tests do to the page, in the words a user would use."""

from __future__ import annotations

from playwright.sync_api import Page, expect

FINISHED = ".msg.assistant.done, .msg.assistant.error, .msg.assistant.stopped"
ANSWER_TIMEOUT_MS = 120_000  # one real-model answer on 2 shared cores, with room to spare

# Records every distinct text the streaming draft shows, to prove tokens arrived one by one.
WATCH_DRAFTS = """() => {
  window.__drafts = [];
  new MutationObserver(() => {
    for (const d of document.querySelectorAll('.msg.assistant .draft')) {
      const t = d.textContent;
      if (t && window.__drafts[window.__drafts.length - 1] !== t) window.__drafts.push(t);
    }
  }).observe(document.querySelector('#messages'), {subtree: true, childList: true, characterData: true});
}"""


def send(page: Page, question: str) -> None:
    page.get_by_label("Your question").fill(question)
    page.get_by_label("Your question").press("Enter")


def ask(page: Page, question: str):
    """Asks and waits for the answer to finish; returns the last assistant message."""
    before = page.locator(FINISHED).count()
    send(page, question)
    expect(page.locator(FINISHED)).to_have_count(before + 1, timeout=ANSWER_TIMEOUT_MS)
    return page.locator(".msg.assistant").last


def saved_turn(page: Page) -> dict:
    """The last assistant turn as the page saved it (the full /ask response in `result`)."""
    return page.evaluate("""() => {
      const s = JSON.parse(localStorage.getItem('rag.chats.v1'));
      const chat = s.chats.find(c => c.id === s.current);
      return chat.messages[chat.messages.length - 1];
    }""")


def open_articles(page: Page) -> None:
    page.get_by_role("button", name="Articles", exact=True).click()
    expect(page.get_by_test_id("article-list")).to_be_visible()


def add_article(page: Page, text: str, title: str = "", date: str = "") -> None:
    page.locator("details.add > summary").click() if not page.locator("details.add[open]").count() else None
    page.get_by_label("Article text").fill(text)
    if title:
        page.get_by_label("Title").fill(title)
    if date:
        page.get_by_label("Publication date").fill(date)
    page.get_by_role("button", name="Add article").click()


def enter_token_if_asked(page: Page, token: str) -> None:
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Admin token").fill(token)
    dialog.get_by_role("button", name="Save token").click()
