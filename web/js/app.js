// Start-up: wires the composer, sidebar, panels and the admin-token dialog.

import { call, onTokenNeeded } from "./api.js";
import { $, h, icon, plural } from "./dom.js";
import { ask, isBusy, onChatEvents, renderChat, renderChatList, settleInterrupted, stop } from "./chat.js";
import { onArticlesChanged, showArticles } from "./articles.js";
import { closePanel, panelKind } from "./panel.js";
import { refreshCatalog } from "./sources.js";
import * as store from "./store.js";

const input = $("#question");
const send = $("#send");
let health = null;

for (const el of document.querySelectorAll("[data-icon]")) el.prepend(icon(el.dataset.icon));

function welcome() {
  const n = health?.articles;
  return h("section", { class: "welcome" },
    h("div", { class: "welcome-mark", "aria-hidden": "true" }, icon("spark")),
    h("h2", {}, "Ask the news"),
    h("p", {}, "Answers come only from your articles, and every sentence links to the exact passage it comes from."),
    h("div", { class: "welcome-actions" },
      h("button", { type: "button", class: "secondary", onclick: showArticles }, icon("book"),
        n === undefined ? "Browse articles" : `Browse ${plural(n, "article")}`)));
}

function refresh() {
  renderChat(welcome);
  renderChatList(() => { refresh(); closeSidebar(); });
  $("#chat-title").textContent = store.current()?.title || "New chat";
}

function setBusy(busy) {
  send.replaceChildren(icon(busy ? "stop" : "send"));
  send.setAttribute("aria-label", busy ? "Stop answering" : "Send question");
  send.classList.toggle("stop", busy);
}

onChatEvents({ busy: setBusy, chats: () => { renderChatList(() => { refresh(); closeSidebar(); }); $("#chat-title").textContent = store.current()?.title || "New chat"; } });

function submit() {
  if (isBusy()) { stop(); return; }
  const q = input.value.trim();
  if (!q) { input.focus(); return; }
  input.value = "";
  autosize();
  ask(q);
}

$("#composer").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
input.addEventListener("keydown", (e) => {
  // Enter sends, Shift+Enter breaks the line; never send mid-IME composition.
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); if (!isBusy()) submit(); }
});
function autosize() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 200)}px`;
}
input.addEventListener("input", autosize);

function newChat() {
  if (isBusy()) stop();
  store.startNew();
  refresh();
  closeSidebar();
  input.focus();
}
$("#new-chat").addEventListener("click", newChat);
$("#new-chat-top").addEventListener("click", newChat);
$("#articles-btn").addEventListener("click", () => (panelKind() === "articles" ? closePanel() : showArticles()));

// Phone layout: the conversation list slides in over the chat.
function openSidebar() { document.body.classList.add("sidebar-open"); $("#scrim").hidden = false; }
function closeSidebar() { document.body.classList.remove("sidebar-open"); $("#scrim").hidden = true; }
$("#menu").addEventListener("click", openSidebar);
$("#close-sidebar").addEventListener("click", closeSidebar);
$("#scrim").addEventListener("click", () => { closeSidebar(); closePanel(); });

// Admin token: asked for when the server answers 401 to a change.
const dialog = $("#token-dialog");
onTokenNeeded((why) => new Promise((resolve) => {
  $("#token-why").textContent = why || "This server only lets people with the admin token change its articles.";
  $("#token-input").value = "";
  const done = (value) => { dialog.close(); resolve(value); };
  $("#token-cancel").onclick = () => done(null);
  dialog.onsubmit = (e) => { e.preventDefault(); done($("#token-input").value.trim() || null); };
  dialog.oncancel = () => resolve(null);
  dialog.showModal();
}));

async function checkHealth() {
  const info = $("#index-info");
  let ok = false;
  try {
    const res = await fetch("/health");
    const body = await res.json();
    ok = res.ok;
    if (ok) {
      health = body;
      info.replaceChildren(h("span", { class: "dot ok" }), `${plural(body.articles, "article")} · ${plural(body.chunks, "passage")}`,
        h("span", { class: "model" }, String(body.generator || "").replace(/^packaged:/, "")));
    } else {
      info.replaceChildren(h("span", { class: "dot wait" }), body.detail || "Loading models…");
    }
  } catch {
    info.replaceChildren(h("span", { class: "dot bad" }), "Server unreachable");
  }
  if (!ok) setTimeout(checkHealth, 2000);
  else refreshCatalog().catch(() => {});
  const w = $(".welcome");
  if (w && ok) w.replaceWith(welcome());
}

onArticlesChanged(checkHealth);
settleInterrupted();
refresh();
checkHealth();
input.focus();
