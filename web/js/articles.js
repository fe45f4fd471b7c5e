// The article manager: list and search, add by pasting or uploading, delete,
// and rebuild the index with a live progress bar.

import { call } from "./api.js";
import { $, clear, h, icon, formatDate, host, plural } from "./dom.js";
import { openPanel } from "./panel.js";
import { refreshCatalog, showArticle } from "./sources.js";

let rows = [];
let changed = () => {};
let poll = null;

export function onArticlesChanged(fn) { changed = fn; }

export async function showArticles() {
  const list = h("ul", { class: "article-list", "aria-label": "Articles", "data-testid": "article-list" });
  const count = h("span", { class: "count" });
  const search = h("input", { type: "search", placeholder: "Search titles and sources", "aria-label": "Search articles",
    oninput: () => renderList(list, count, search.value) });
  const results = h("div", { class: "results", "aria-live": "polite" });
  const body = h("div", { class: "articles-view" },
    h("div", { class: "search-row" }, icon("search"), search),
    addForm(results),
    results,
    h("div", { class: "list-head" }, h("h4", { class: "section-label" }, "In the index"), count),
    list,
    rebuildBox());
  openPanel("articles", "Articles", body, { onClose: stopPolling });
  await reload(list, count, search);
  checkStatus();
}

async function reload(list = $(".article-list"), count = $(".articles-view .count"), search = $(".articles-view input[type=search]")) {
  if (!list) return;
  try { rows = await refreshCatalog(); }
  catch (err) { clear(list).append(h("li", { class: "callout error" }, icon("alert"), err.message)); return; }
  const add = $("details.add");
  if (add && !rows.length) add.open = true; // nothing to browse: adding is the next step
  rows.sort((a, b) => (b.published || "").localeCompare(a.published || "") || a.title.localeCompare(b.title));
  renderList(list, count, search ? search.value : "");
}

function renderList(list, count, query) {
  const q = query.trim().toLowerCase();
  const shown = rows.filter((a) => !q || [a.title, a.source, a.url, a.id].some((s) => (s || "").toLowerCase().includes(q)));
  count.textContent = q ? `${shown.length} of ${rows.length}` : plural(rows.length, "article");
  clear(list);
  if (!shown.length) list.append(h("li", { class: "empty" }, rows.length ? "No article matches." : "No articles yet. Add one above."));
  for (const a of shown) list.append(row(a));
}

function row(a) {
  const actions = h("div", { class: "row-actions" });
  const li = h("li", { class: "article-row", "data-id": a.id },
    h("button", { type: "button", class: "article-open", title: "Read the article",
      onclick: () => showArticle(a.id, undefined, undefined, undefined, showArticles) },
      h("span", { class: "article-title" }, a.title),
      h("span", { class: "article-meta" }, [
        a.published ? formatDate(a.published) : "No date",
        a.url ? host(a.url) : a.source,
        plural(a.chunks, "chunk"),
      ].filter(Boolean).join(" · "))),
    actions);
  const idle = () => actions.replaceChildren(h("button", { type: "button", class: "icon-btn danger",
    "aria-label": `Delete ${a.title}`, onclick: confirm }, icon("trash")));
  // Asking in place, not with window.confirm: no modal, and the row shows what goes.
  const confirm = () => actions.replaceChildren(
    h("button", { type: "button", class: "danger small", onclick: remove }, "Delete"),
    h("button", { type: "button", class: "ghost small", onclick: idle }, "Keep"));
  const remove = async () => {
    li.classList.add("busy");
    try {
      await call("DELETE", `/articles/${encodeURIComponent(a.id)}`, { admin: true });
      li.remove();
      await reload();
      changed();
    } catch (err) {
      li.classList.remove("busy");
      idle();
      actions.prepend(h("span", { class: "inline-error", role: "alert" }, err.message));
    }
  };
  idle();
  return li;
}

function addForm(results) {
  const title = h("input", { name: "title", placeholder: "Title (optional)", "aria-label": "Title", maxlength: 300 });
  const url = h("input", { name: "url", type: "url", placeholder: "https://… (optional)", "aria-label": "Source URL" });
  const date = h("input", { name: "published", type: "date", "aria-label": "Publication date" });
  const text = h("textarea", { name: "text", rows: 6, required: true, placeholder: "Paste the article text", "aria-label": "Article text" });
  const file = h("input", { type: "file", name: "file", accept: ".txt,.md,.html,.htm,.json,.jsonl", "aria-label": "Article file" });
  const submit = h("button", { type: "submit", class: "primary" }, icon("plus"), "Add article");
  const upload = h("button", { type: "button", class: "secondary", onclick: () => file.click() }, icon("upload"), "Upload a file");
  const form = h("form", { class: "add-form", "aria-label": "Add an article" },
    text, h("div", { class: "field-row" }, title), h("div", { class: "field-row two" }, url, date),
    h("div", { class: "form-actions" }, upload, h("span", { class: "grow" }), submit),
    h("p", { class: "hint" }, ".txt, .md, .html, .json or .jsonl — one article per file, or many in JSON/JSONL"), file);
  file.hidden = true;
  const send = async (options, button) => {
    button.disabled = true;
    results.replaceChildren(h("p", { class: "muted" }, "Adding and indexing…"));
    try {
      const report = await call("POST", "/articles", { ...options, admin: true });
      showReport(results, report);
      if (report.items.some((i) => ["added", "updated"].includes(i.status))) form.reset();
      await reload();
      changed();
    } catch (err) {
      results.replaceChildren(h("div", { class: "callout error", role: "alert" }, icon("alert"), err.message));
    } finally { button.disabled = false; }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!text.value.trim()) { text.focus(); return; }
    const json = { title: title.value.trim() || undefined, text: text.value,
      url: url.value.trim() || undefined, published: date.value || undefined };
    send({ json }, submit);
  });
  file.addEventListener("change", () => {
    if (!file.files.length) return;
    const fd = new FormData();
    fd.append("file", file.files[0]);
    send({ body: fd }, upload).finally(() => { file.value = ""; });
  });
  return h("details", { class: "add" },
    h("summary", {}, icon("plus"), "Add an article"), form);
}

const STATUS_TEXT = { added: "Added", updated: "Updated", unchanged: "Already there", duplicate: "Duplicate", rejected: "Rejected" };

function showReport(box, report) {
  box.replaceChildren(h("ul", { class: "report", "data-testid": "report" }, report.items.map((i) =>
    h("li", { class: `status-${i.status}` },
      h("span", { class: "badge" }, STATUS_TEXT[i.status] || i.status),
      h("span", { class: "report-title" }, i.title || i.id || "(no id)"),
      i.reason ? h("span", { class: "report-reason" }, i.reason) : null))));
}

function rebuildBox() {
  const bar = h("div", { class: "bar", role: "progressbar", "aria-label": "Rebuild progress", "aria-valuemin": 0, "aria-valuemax": 100 }, h("span"));
  const status = h("span", { class: "rebuild-status", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "secondary", onclick: rebuild }, icon("refresh"), "Rebuild index");
  return h("section", { class: "rebuild", "aria-label": "Rebuild the index" },
    h("div", { class: "rebuild-row" }, button, status), bar);
}

async function rebuild() {
  const button = $(".rebuild button");
  button.disabled = true;
  try {
    await call("POST", "/index/rebuild", { admin: true });
    $(".rebuild").dataset.watched = "1"; // a job too quick to be seen running still reports done
    checkStatus();
  } catch (err) {
    button.disabled = false;
    $(".rebuild-status").textContent = err.status === 409 ? "A rebuild is already running." : err.message;
    if (err.status === 409) checkStatus();
  }
}

function stopPolling() { clearTimeout(poll); poll = null; }

// Polls while a rebuild runs; stops by itself when the panel closes or the job ends.
async function checkStatus() {
  stopPolling();
  const box = $(".rebuild");
  if (!box) return;
  let s;
  try { s = await call("GET", "/index/status"); } catch { return; }
  const running = s.state && !["idle", "done", "error", "failed", "ready"].includes(s.state);
  const pct = s.total ? Math.min(100, Math.round((100 * s.done) / s.total)) : running ? 0 : 100;
  box.classList.toggle("running", running);
  box.querySelector(".bar span").style.width = `${pct}%`;
  box.querySelector(".bar").setAttribute("aria-valuenow", pct);
  box.querySelector("button").disabled = running;
  const status = box.querySelector(".rebuild-status");
  if (running) {
    const eta = s.eta_s ? ` · about ${Math.ceil(s.eta_s)} s left` : "";
    status.textContent = s.total ? `Rebuilding… ${s.done} of ${s.total}${eta}` : "Rebuilding…";
    poll = setTimeout(checkStatus, 500);
  } else if (s.state === "error" || s.state === "failed") {
    status.textContent = `Rebuild failed: ${s.error || "unknown error"}`;
  } else if (box.dataset.watched) {
    status.textContent = "Index rebuilt.";
    reload().then(changed);
  }
  if (running) box.dataset.watched = "1";
  else delete box.dataset.watched;
}
