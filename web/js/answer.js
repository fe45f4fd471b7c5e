// One assistant turn: the streamed draft, then the grounded answer with citation
// chips, the sentences grounding removed, sources, and what was searched for.

import { append, h, icon, formatDate, formatMs, host, plural } from "./dom.js";

const MARKER = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
const REASONS = {
  no_relevant_passages: "Nothing in the articles is about this question.",
  not_answered: "The closest passages are about this, but none of them answers it.",
  unsupported_answer: "The passages found don't support an answer.",
  no_recent_articles: "No article from the time the question asks about answers it.",
  names_not_found: "None of the articles found mentions what the question names.",
};

// `open` is { citation(result, n), passage(result, i) }: they show the side panel.
export function renderAssistant(msg, open) {
  const body = h("div", { class: "bubble-body" });
  const el = h("article", { class: `msg assistant ${msg.status}`, "aria-busy": msg.status === "streaming" ? "true" : "false" },
    h("div", { class: "avatar", "aria-hidden": "true" }, icon("spark")), body);
  if (msg.status === "pending" || msg.status === "streaming") {
    const draft = h("p", { class: "draft" }, msg.draft || "");
    const status = h("div", { class: "thinking" }, h("span", { class: "dots" }, h("i"), h("i"), h("i")),
      msg.draft ? "Writing — checking each sentence against the articles when done" : "Searching the articles…");
    body.append(draft, status);
    el.update = (text) => {
      el.classList.replace("pending", "streaming");
      draft.textContent = text;
      status.lastChild.textContent = "Writing — each sentence is checked against the articles when done";
    };
    return el;
  }
  if (msg.status === "error") {
    body.append(h("div", { class: "callout error", role: "alert" }, icon("alert"),
      h("div", {}, h("strong", {}, "Something went wrong. "), msg.error || "")));
    if (msg.draft) body.append(h("p", { class: "draft stopped" }, msg.draft));
    return el;
  }
  if (msg.status === "stopped") {
    append(body, [msg.draft ? h("p", { class: "draft stopped" }, msg.draft) : null,
      h("div", { class: "stopped-note" }, icon("stop"),
        msg.draft ? "Stopped — this draft was not checked against the articles." : "Stopped before the answer was written.")]);
    return el;
  }
  const r = msg.result || {};
  append(body, [r.abstained ? abstention(r, open) : answerText(r, open), removed(r), sources(r, open), meta(r, msg)]);
  return el;
}

function answerText(r, open) {
  const p = h("div", { class: "answer", "data-testid": "answer" });
  // A quoted answer leads with the short answer the verifier read in the quote.
  const short = r.short_answer && r.short_answer.text;
  const lead = short && (r.answer || "").startsWith(`${short}: `) ? short : null;
  for (const [i, para] of (r.answer || "").split(/\n{2,}/).entries()) {
    const out = h("p");
    let last = 0;
    if (i === 0 && lead) {
      out.append(h("strong", { class: "short-answer", "data-testid": "short-answer" }, lead), ": ");
      last = lead.length + 2;
    }
    for (const m of para.matchAll(MARKER)) {
      out.append(para.slice(last, m.index));
      for (const n of m[1].split(/\s*,\s*/).map(Number)) out.append(chip(r, n, open));
      last = m.index + m[0].length;
    }
    out.append(para.slice(last));
    p.append(out);
  }
  return p;
}

function chip(r, n, open) {
  const c = (r.citations || []).find((x) => x.n === n);
  if (!c) return h("sup", { class: "chip missing", title: "no such source" }, n);
  return h("button", { class: "chip", type: "button", "data-n": n,
    "aria-label": `Source ${n}: ${c.title}`, title: c.title, onclick: () => open.citation(r, n) }, n);
}

function abstention(r, open) {
  // A window no article is from: the server names the window and the newest article itself.
  const empty = r.reason === "no_recent_articles" && (r.answer || "").startsWith("No article is from");
  const box = h("div", { class: "callout abstain", "data-testid": "abstain" }, icon("search"),
    h("div", {}, h("strong", {}, "The articles don't say."), " ",
      empty ? r.answer
        : r.reason === "names_not_found" && r.answer ? sentence(r.answer.replace(/^The articles don't say:\s*/, ""))
        : REASONS[r.reason] || "No supported answer was found.",
      r.reason === "no_recent_articles" && !empty ? staleNote(r) : null));
  const wrap = h("div", {}, box);
  const passages = r.passages || [];
  if (passages.length) {
    wrap.append(h("h4", { class: "section-label" }, "Closest passages"),
      h("ul", { class: "passages" }, passages.slice(0, 3).map((p, i) =>
        h("li", {}, h("button", { type: "button", class: "passage-link", onclick: () => open.passage(r, i) },
          h("span", { class: "passage-title" }, open.titleOf(p.article_id)),
          h("span", { class: "passage-snippet" }, shorten(p.text, 180)))))));
  }
  return wrap;
}

// The rest of a sentence, as a sentence of its own ("none of ..." -> "None of ...").
function sentence(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Stale is not an answer: when the newest article on the question is from.
function staleNote(r) {
  return h("span", { class: "stale", "data-testid": "stale" }, r.newest
    ? ` The newest article on this is from ${formatDate(r.newest)}${r.as_of ? ` (asked as of ${formatDate(r.as_of)})` : ""}.`
    : " No dated article on this was found.");
}

// Sentences the model wrote that no passage supports: shown struck out, not hidden,
// each with why (the verifier's verdict).
const WHY = {
  contradicted: "the articles say otherwise",
  unsupported: "not backed by the passage it cites",
  not_an_answer: "true, but not an answer to the question",
  disagrees: "its own source answers otherwise",
};

function removed(r) {
  const gone = (r.claims || []).filter((c) => !c.supported);
  if (!gone.length) return null;
  // (a sentence that is true but answers something else is left out, not refuted)
  const unbacked = gone.some((c) => c.status !== "not_an_answer");
  const lead = r.abstained ? "The model's draft, which the articles don't support:"
    : unbacked ? `${plural(gone.length, "sentence")} removed — the articles don't back ${gone.length === 1 ? "it" : "them"}:`
    : `${plural(gone.length, "sentence")} left out:`;
  return h("div", { class: "removed", "data-testid": "removed" },
    h("div", { class: "removed-lead" }, icon("alert"), lead),
    h("ul", {}, gone.map((c) => h("li", { "data-status": c.status || "unsupported" }, h("del", {}, c.text),
      WHY[c.status] ? h("span", { class: "removed-why" }, ` — ${WHY[c.status]}`) : null))));
}

function sources(r, open) {
  const cites = r.citations || [];
  if (!cites.length) return null;
  return h("div", { class: "sources" },
    h("h4", { class: "section-label" }, "Sources"),
    h("ol", { class: "source-cards" }, cites.map((c) =>
      h("li", {}, h("button", { type: "button", class: "source-card", onclick: () => open.citation(r, c.n) },
        h("span", { class: "source-n" }, c.n),
        h("span", { class: "source-main" },
          h("span", { class: "source-title" }, c.title),
          h("span", { class: "source-quote" }, quoted(shorten(c.quote, 140))),
          sourceLine(c)))))));
}

// "cnn.com · 2 Sep 2022": where and when a source was published, as far as is known.
function sourceLine(c) {
  const parts = [c.url ? host(c.url) : null, c.published ? formatDate(c.published) : null].filter(Boolean);
  return parts.length ? h("span", { class: "source-date", "data-testid": "source-date" }, parts.join(" · ")) : null;
}

function meta(r, msg) {
  const t = r.timings_ms || {};
  const copy = h("button", { type: "button", class: "ghost small", "aria-label": "Copy answer",
    onclick: () => copyText(plainAnswer(r), copy) }, icon("copy"), h("span", {}, "Copy"));
  // Known stages in pipeline order, then any the server adds later.
  const order = ["rewrite", "retrieve", "generate", "prefill", "decode", "ground"];
  const stages = [...order.filter((k) => t[k] !== undefined),
    ...Object.keys(t).filter((k) => k !== "total" && !order.includes(k))];
  return h("div", { class: "meta" },
    r.query ? h("span", { class: "searched", title: "What was searched for" }, icon("search"), `“${r.query}”`) : null,
    t.total !== undefined ? h("details", { class: "timings" },
      h("summary", { title: "Time taken; click for each stage" }, icon("clock"), formatMs(t.total)),
      h("dl", {}, stages.map((k) => [h("dt", {}, k), h("dd", {}, formatMs(t[k]))]))) : null,
    copy);
}

function plainAnswer(r) {
  const lines = [r.answer || ""];
  if ((r.citations || []).length) {
    lines.push("", "Sources:");
    for (const c of r.citations) lines.push(`[${c.n}] ${c.title}${c.url ? ` <${c.url}>` : ""}: ${quoted(c.quote)}`);
  }
  return lines.join("\n");
}

async function copyText(text, button) {
  try { await navigator.clipboard.writeText(text); }
  catch {
    // Clipboard API needs a secure context; a hidden textarea works everywhere else.
    const ta = h("textarea", { class: "offscreen" });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
  button.lastChild.textContent = "Copied";
  setTimeout(() => { button.lastChild.textContent = "Copy"; }, 1500);
}

export function shorten(text, n) {
  text = (text || "").replace(/\s+/g, " ").trim();
  return text.length <= n ? text : `${text.slice(0, n - 1).replace(/\s+\S*$/, "")}…`;
}

// A quote in quotation marks, a quotation inside it in single ones (as the server writes them).
function quoted(text) {
  return `“${text.replace(/“/g, "‘").replace(/”/g, "’")}”`;
}
