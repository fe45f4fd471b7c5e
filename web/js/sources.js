// Where a sentence comes from: the cited passage with the exact quote marked,
// and the whole article scrolled to it.

import { call } from "./api.js";
import { h, icon, formatDate, host, safeUrl } from "./dom.js";
import { openPanel } from "./panel.js";

const catalog = new Map(); // article id -> summary row from GET /articles
const fullText = new Map(); // article id -> promise of GET /articles/{id}

export async function refreshCatalog() {
  const rows = await call("GET", "/articles");
  catalog.clear();
  for (const a of rows) catalog.set(a.id, a);
  fullText.clear();
  return rows;
}

export function titleOf(id) { return catalog.get(id)?.title || id; }

function article(id) {
  if (!fullText.has(id)) {
    const p = call("GET", `/articles/${encodeURIComponent(id)}`);
    p.catch(() => fullText.delete(id));
    fullText.set(id, p);
  }
  return fullText.get(id);
}

// Text with [start, end) wrapped in <mark>; null when the offsets don't hold the quote.
function marked(text, start, end, quote) {
  if (start < 0 || end > text.length || (quote && text.slice(start, end) !== quote)) {
    const i = quote ? text.indexOf(quote) : -1;
    if (i < 0) return null;
    [start, end] = [i, i + quote.length];
  }
  const mark = h("mark", { class: "quote" }, text.slice(start, end));
  return { nodes: [text.slice(0, start), mark, text.slice(end)], mark };
}

function header(a) {
  const url = safeUrl(a.url);
  return h("header", { class: "source-head" },
    h("h3", { class: "source-article-title" }, a.title || a.article_id),
    h("div", { class: "source-meta" },
      a.published ? h("span", {}, formatDate(a.published)) : h("span", { class: "muted" }, "No date"),
      url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "ext" },
        host(url), icon("link")) : null));
}

export async function showCitation(result, n) {
  const c = (result.citations || []).find((x) => x.n === n);
  if (!c) return;
  const body = h("div", { class: "source-view", "data-testid": "source" }, header(c));
  const passage = h("blockquote", { class: "passage" }, c.quote);
  body.append(h("h4", { class: "section-label" }, "Passage"), passage,
    h("div", { class: "panel-actions" },
      h("button", { type: "button", class: "secondary", onclick: () => showArticle(c.article_id, c.start, c.end, c.quote, () => showCitation(result, n)) },
        icon("book"), "Open article")));
  openPanel("source", `Source ${n}`, body);
  let chunk = (result.passages || []).find((p) => p.chunk_id === c.chunk_id);
  if (!chunk) {
    try { chunk = (await article(c.article_id)).chunks.find((x) => x.id === c.chunk_id); } catch { chunk = null; }
  }
  const m = chunk && marked(chunk.text, c.start - chunk.start, c.end - chunk.start, c.quote);
  if (m) passage.replaceChildren(...m.nodes);
  else passage.replaceChildren(h("mark", { class: "quote" }, c.quote));
}

export function showPassage(result, i) {
  const p = (result.passages || [])[i];
  if (!p) return;
  const a = { ...(catalogRow(p.article_id)), article_id: p.article_id };
  const body = h("div", { class: "source-view", "data-testid": "source" }, header(a),
    h("h4", { class: "section-label" }, "Closest passage"),
    h("blockquote", { class: "passage" }, p.text),
    h("div", { class: "panel-actions" },
      h("button", { type: "button", class: "secondary", onclick: () => showArticle(p.article_id, p.start, p.end, p.text, () => showPassage(result, i)) },
        icon("book"), "Open article")));
  openPanel("source", "Closest passage", body);
}

function catalogRow(id) { return catalog.get(id) || { title: id }; }

// The full article, scrolled so the highlighted span is in view.
export async function showArticle(id, start, end, quote, back) {
  const body = h("div", { class: "source-view article-view", "data-testid": "article" }, h("p", { class: "muted" }, "Loading…"));
  openPanel("article", "Article", body, { back });
  let a;
  try { a = await article(id); }
  catch (err) { body.replaceChildren(h("div", { class: "callout error" }, icon("alert"), err.message)); return; }
  const text = h("div", { class: "article-text" });
  const m = start !== undefined ? marked(a.text, start, end, quote) : null;
  text.append(...(m ? m.nodes : [a.text]));
  body.replaceChildren(header(a), text);
  if (m) requestAnimationFrame(() => m.mark.scrollIntoView({ block: "center" }));
}
