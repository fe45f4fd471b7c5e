// The side panel: one drawer that shows either a source or the article manager.

import { $, clear, h, icon } from "./dom.js";

const panel = () => $("#panel");
let returnFocus = null;
let onCloseFn = null;

export function openPanel(kind, title, content, { back, onClose } = {}) {
  const p = panel();
  if (p.hidden) returnFocus = document.activeElement;
  if (onCloseFn && onCloseFn !== onClose) onCloseFn();
  onCloseFn = onClose || null;
  p.dataset.kind = kind;
  const head = clear($("#panel-head"));
  if (back) head.append(h("button", { type: "button", class: "icon-btn", "aria-label": "Back", onclick: back }, icon("back")));
  const heading = h("h2", { id: "panel-title", tabindex: "-1" }, title);
  head.append(heading,
    h("button", { type: "button", class: "icon-btn", "aria-label": "Close panel", onclick: closePanel }, icon("close")));
  clear($("#panel-body")).append(content);
  $("#panel-body").scrollTop = 0;
  p.hidden = false;
  document.body.classList.add("panel-open");
  heading.focus({ preventScroll: true }); // screen readers follow to what just opened
  return p;
}

export function closePanel() {
  const p = panel();
  if (p.hidden) return;
  p.hidden = true;
  document.body.classList.remove("panel-open");
  if (onCloseFn) { onCloseFn(); onCloseFn = null; }
  if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
}

export function panelKind() { return panel().hidden ? null : panel().dataset.kind; }

document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !panel().hidden && !document.querySelector("dialog[open]")) closePanel();
});
