// The demo inbox: the REST inbox for the list, herald.js for live arrivals and unread counts.
import { HeraldClient } from "/herald.js";

const api = "/api/v1/notifications";
const items = new Map();
const list = document.getElementById("list");
const badge = document.getElementById("badge");
const status = document.getElementById("status");
const form = document.getElementById("token-form");
const input = document.getElementById("token-input");
let token = new URLSearchParams(location.hash.slice(1)).get("token") || sessionStorage.getItem("herald-token");
let client = null;
let waitingForToken = null;

// What the end-to-end test reads: every notification id the socket delivered, in order.
window.heraldDemo = { received: [], get client() { return client; }, ids: () => [...items.keys()] };

async function call(method, path) {
  const response = await fetch(path, { method, headers: { Authorization: `Bearer ${token}` } });
  if (response.status === 401) throw new Error("unauthorized");
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
  return response.json();
}

function setBadge(count) {
  badge.textContent = String(count);
  badge.dataset.count = String(count);
}

function render() {
  const ordered = [...items.values()].sort((a, b) => b.id - a.id);
  list.replaceChildren(...ordered.map(row));
  document.getElementById("empty").style.display = ordered.length ? "none" : "";
}

function row(item) {
  const li = document.createElement("li");
  li.className = `item${item.is_read ? "" : " unread"}${item.fresh ? " fresh" : ""}`;
  li.dataset.id = String(item.id);
  const body = document.createElement("div");
  body.className = "body";
  const title = document.createElement("div");
  title.className = "title";
  title.textContent = item.title;
  const message = document.createElement("div");
  message.textContent = item.message;
  const meta = document.createElement("div");
  meta.className = "meta";
  const where = item.location_id ? ` · location ${item.location_id}` : "";
  meta.textContent = `#${item.id} · ${item.type} · ${item.priority}${where} · ${new Date(item.created_at).toLocaleString()}`;
  body.append(title, message, meta);
  const actions = document.createElement("div");
  actions.className = "actions";
  // The state to set is fixed at the click: the server's `inbox` frame may arrive before the response.
  const read = !item.is_read;
  const toggle = button(read ? "Mark read" : "Mark unread", () =>
    call("PUT", `${api}/${item.id}/${read ? "read" : "unread"}`).then(() => {
      item.is_read = read;
      render();
    }));
  const remove = button("Delete", () => call("DELETE", `${api}/${item.id}`).then(() => {
    items.delete(item.id);
    render();
  }));
  actions.append(toggle, remove);
  li.append(body, actions);
  item.fresh = false;
  return li;
}

function button(text, action) {
  const element = document.createElement("button");
  element.textContent = text;
  element.addEventListener("click", () => action().catch(report));
  return element;
}

function report(error) {
  console.warn(error);
  if (String(error.message) === "unauthorized") askForToken();
}

/** Loads the newest page over REST; returns the highest id, from which the socket resumes. The badge is
 *  herald.js's count, which fetches its own and follows the socket. */
async function load() {
  const page = await call("GET", `${api}?limit=100`);
  items.clear();
  for (const item of page) items.set(item.id, item);
  render();
  return page.reduce((max, item) => Math.max(max, item.id), 0);
}

function askForToken() {
  form.classList.add("open");
  input.focus();
  if (!waitingForToken) {
    waitingForToken = new Promise((resolve) => {
      form.onsubmit = (event) => {
        event.preventDefault();
        const fresh = input.value.trim();
        if (!fresh) return;
        form.classList.remove("open");
        input.value = "";
        waitingForToken = null;
        useToken(fresh);
        resolve(fresh);
      };
    });
  }
  return waitingForToken;
}

function useToken(fresh) {
  token = fresh;
  sessionStorage.setItem("herald-token", fresh);
  history.replaceState(null, "", location.pathname);
}

async function start() {
  if (!token) token = await askForToken();
  useToken(token);
  const newest = await load();
  client = new HeraldClient({ token, since: newest, getToken: askForToken });
  client.addEventListener("status", ({ detail }) => {
    status.dataset.state = detail.state;
    status.dataset.code = detail.code ?? "";
    // Offline for a reason the user should know (replaced by a newer tab, disconnected by an operator).
    status.textContent = detail.reason ? `${detail.state}: ${detail.reason}` : detail.state;
  });
  client.addEventListener("notification", ({ detail }) => {
    window.heraldDemo.received.push(detail.id);
    items.set(detail.id, { ...detail.data, fresh: true });
    render();
  });
  client.addEventListener("count", ({ detail }) => setBadge(detail.unread_count));
  client.addEventListener("inbox", ({ detail }) => {
    if (detail.reason === "read" || detail.reason === "unread") {
      for (const id of detail.ids) {
        const item = items.get(id);
        if (item) item.is_read = detail.reason === "read";
      }
      render();
    } else if (detail.reason === "deleted") {
      // Deleted on some device, or expired.
      for (const id of detail.ids) items.delete(id);
      render();
    } else if (detail.reason === "cleared" || detail.reason === "read_all" || detail.ids.length > 0) {
      // Marks moved, or a new notification replaced others (a collapse): the list is the server's again.
      load().catch(report);
    }
  });
  client.addEventListener("reset", () => load().then((newest) => client.setLastId(newest)).catch(report));
  client.connect();
}

document.getElementById("mark-all").addEventListener("click", () =>
  call("PUT", `${api}/read-all`).then(() => load()).catch(report));
document.getElementById("refresh").addEventListener("click", () => load().catch(report));
start().catch(report);
