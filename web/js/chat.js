// The conversation: sending a question, streaming the answer in, stopping it,
// and drawing the saved turns back after a reload.

import { askStream } from "./api.js";
import { $, clear, h, icon } from "./dom.js";
import { renderAssistant } from "./answer.js";
import { showCitation, showPassage, titleOf } from "./sources.js";
import * as store from "./store.js";

const open = { citation: showCitation, passage: showPassage, titleOf };
let running = null; // { controller, msg } while an answer streams
const views = new WeakMap(); // message -> its element; kept out of the saved JSON
let listeners = { busy: () => {}, chats: () => {} };

export function onChatEvents(fns) { listeners = { ...listeners, ...fns }; }
export function isBusy() { return running !== null; }

export function renderChat(welcome) {
  const box = clear($("#messages"));
  const chat = store.current();
  if (!chat || !chat.messages.length) { box.append(welcome()); return; }
  for (const msg of chat.messages) box.append(renderMessage(msg));
  scrollDown(true);
}

function renderMessage(msg) {
  if (msg.role === "user") {
    return h("article", { class: "msg user" }, h("div", { class: "bubble" }, msg.content));
  }
  const el = renderAssistant(msg, open);
  views.set(msg, el);
  return el;
}

function scrollDown(force = false) {
  const box = $("#scroller");
  // Follow the stream only while the reader is already at the bottom.
  if (force || box.scrollHeight - box.scrollTop - box.clientHeight < 120) box.scrollTop = box.scrollHeight;
}

export async function ask(question) {
  if (running || !question.trim()) return;
  const chat = store.ensureCurrent(question);
  const history = store.history(chat, chat.messages.length);
  const user = { role: "user", content: question };
  const msg = { role: "assistant", status: "pending", draft: "", content: "" };
  chat.messages.push(user, msg);
  store.touch(chat);
  listeners.chats();
  const box = $("#messages");
  if (chat.messages.length === 2) clear(box);
  box.append(renderMessage(user), renderMessage(msg));
  scrollDown(true);

  const controller = new AbortController();
  running = { controller, msg };
  listeners.busy(true);
  try {
    await askStream({ question, history: history.length ? history : undefined }, {
      token: (piece) => {
        msg.status = "streaming";
        msg.draft += piece;
        views.get(msg).update(msg.draft);
        scrollDown();
      },
      done: (result) => {
        msg.status = "done";
        msg.result = result;
        msg.content = result.answer;
      },
      error: (e) => { msg.status = "error"; msg.error = e.detail || "the answer failed"; },
    }, controller.signal);
    if (msg.status !== "done" && msg.status !== "error") {
      msg.status = "error";
      msg.error = "the connection closed before the answer was finished";
    }
  } catch (err) {
    if (err.name === "AbortError") msg.status = "stopped";
    else { msg.status = "error"; msg.error = err.message; }
  } finally {
    running = null;
    redraw(msg);
    store.touch(chat);
    listeners.busy(false);
    listeners.chats();
  }
}

function redraw(msg) {
  const old = views.get(msg);
  const el = renderMessage(msg);
  if (old && old.isConnected) old.replaceWith(el);
  scrollDown();
}

export function stop() {
  if (running) running.controller.abort();
}

// Turns left mid-answer by a reload are marked stopped, not shown spinning forever.
export function settleInterrupted() {
  for (const chat of store.chats()) {
    for (const m of chat.messages) {
      if (m.role === "assistant" && (m.status === "pending" || m.status === "streaming")) m.status = "stopped";
    }
  }
  store.save();
}

export function renderChatList(onPick) {
  const list = clear($("#chat-list"));
  const cur = store.current();
  if (!store.chats().length) list.append(h("li", { class: "empty" }, "Your conversations appear here."));
  for (const chat of store.chats()) {
    const active = cur && chat.id === cur.id;
    list.append(h("li", { class: active ? "active" : "" },
      h("button", { type: "button", class: "chat-link", "aria-current": active ? "page" : null,
        onclick: () => { if (!running) { store.select(chat.id); onPick(); } } }, icon("chat"), h("span", {}, chat.title)),
      h("button", { type: "button", class: "icon-btn small", "aria-label": `Delete conversation ${chat.title}`,
        onclick: () => { if (!(running && active)) { store.remove(chat.id); onPick(); } } }, icon("close"))));
  }
}
