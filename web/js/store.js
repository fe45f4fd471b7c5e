// Conversations live in localStorage so a reload (or a closed tab) loses nothing.

const KEY = "rag.chats.v1";
const MAX_CHATS = 50;
const HISTORY_TURNS = 10; // the server accepts 20; the last few are what follow-ups need

function load() {
  try {
    const data = JSON.parse(localStorage.getItem(KEY));
    if (data && Array.isArray(data.chats)) return data;
  } catch { /* a corrupt entry starts afresh rather than breaking the page */ }
  return { current: null, chats: [] };
}

const state = load();

export function save() {
  state.chats.sort((a, b) => b.updated - a.updated);
  state.chats.length = Math.min(state.chats.length, MAX_CHATS);
  for (;;) {
    try { localStorage.setItem(KEY, JSON.stringify(state)); return; }
    catch {
      // Storage full: drop the oldest conversation and try again.
      if (state.chats.length <= 1) return;
      state.chats.pop();
    }
  }
}

export function chats() { return state.chats; }

export function current() {
  return state.chats.find((c) => c.id === state.current) || null;
}

export function select(id) { state.current = id; save(); }

export function startNew() { state.current = null; save(); }

// A chat is created on its first question, so "New chat" leaves no empty entries.
export function ensureCurrent(firstQuestion) {
  let chat = current();
  if (!chat) {
    const id = `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    chat = { id, title: firstQuestion.slice(0, 80), created: Date.now(), updated: Date.now(), messages: [] };
    state.chats.unshift(chat);
    state.current = id;
  }
  return chat;
}

export function remove(id) {
  const i = state.chats.findIndex((c) => c.id === id);
  if (i >= 0) state.chats.splice(i, 1);
  if (state.current === id) state.current = null;
  save();
}

export function touch(chat) { chat.updated = Date.now(); save(); }

// Earlier turns for a follow-up: finished question/answer pairs only, oldest first.
export function history(chat, beforeIndex) {
  const turns = [];
  const msgs = chat.messages.slice(0, beforeIndex);
  for (let i = 0; i + 1 < msgs.length; i++) {
    const q = msgs[i], a = msgs[i + 1];
    if (q.role === "user" && a.role === "assistant" && a.status === "done") {
      turns.push({ role: "user", content: q.content }, { role: "assistant", content: a.content });
      i++;
    }
  }
  return turns.slice(-HISTORY_TURNS);
}
