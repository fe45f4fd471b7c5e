// Talking to the server: JSON calls, the admin token, and SSE over a POST body
// (EventSource only does GET, so the stream is read from fetch and parsed here).

const TOKEN_KEY = "rag.adminToken";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `request failed (HTTP ${status})`);
    this.status = status;
  }
}

export const adminToken = {
  get: () => localStorage.getItem(TOKEN_KEY) || "",
  set: (t) => (t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY)),
};

// Set by the app: shows the token dialog and resolves to the token, or null if cancelled.
let askForToken = async () => null;
export function onTokenNeeded(fn) { askForToken = fn; }

async function detailOf(res) {
  try {
    const body = await res.json();
    if (typeof body.detail === "string") return body.detail;
    return JSON.stringify(body.detail ?? body);
  } catch { return res.statusText; }
}

function headers(extra = {}, auth = false) {
  const out = { ...extra };
  const t = auth && adminToken.get();
  if (t) out.Authorization = `Bearer ${t}`;
  return out;
}

// GET/POST/DELETE returning parsed JSON. `admin` requests retry once after a 401
// with a token from the user, and remember it.
export async function call(method, path, { json, body, admin = false } = {}) {
  for (let attempt = 0; ; attempt++) {
    const init = { method, headers: headers(json !== undefined ? { "Content-Type": "application/json" } : {}, admin) };
    if (json !== undefined) init.body = JSON.stringify(json);
    else if (body !== undefined) init.body = body;
    let res;
    try { res = await fetch(path, init); }
    catch { throw new ApiError(0, "cannot reach the server; is it running?"); }
    if (res.status === 401 && admin && attempt === 0) {
      const had = adminToken.get();
      const token = await askForToken(had ? "That admin token was not accepted." : "");
      if (!token) throw new ApiError(401, "an admin token is needed to change articles");
      adminToken.set(token);
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, await detailOf(res));
    return res.status === 204 ? null : res.json();
  }
}

// Streams /ask/stream. `on` maps event names (token, citations, claims, done, error)
// to handlers. Aborting `signal` closes the connection, which stops the model.
export async function askStream(payload, on, signal) {
  let res;
  try {
    res = await fetch("/ask/stream", {
      method: "POST", signal,
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(payload),
    });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "cannot reach the server; is it running?");
  }
  if (!res.ok) throw new ApiError(res.status, await detailOf(res));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    const blocks = buffer.split(/\r\n\r\n|\n\n|\r\r/);
    buffer = blocks.pop();
    for (const block of blocks) dispatch(block, on);
  }
  if (buffer.trim()) dispatch(buffer, on);
}

function dispatch(block, on) {
  let event = "message";
  const data = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (!line || line.startsWith(":")) continue; // comments are keep-alive pings
    const i = line.indexOf(":");
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (!data.length || !on[event]) return;
  let parsed;
  try { parsed = JSON.parse(data.join("\n")); } catch { parsed = data.join("\n"); }
  on[event](parsed);
}
