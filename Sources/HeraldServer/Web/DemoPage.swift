/// `/demo`: a small inbox page built on ``HeraldClientScript`` (REST list, live arrivals, unread badge, mark read,
/// mark all read, delete, connection status). The token comes from `#token=...`, which browsers never send to a
/// server, so it stays out of access logs.
enum DemoPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <link rel="icon" href="data:,">
        <title>Herald inbox</title>
        <style>
          :root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2433; background: #f4f6fa; }
          body { margin: 0; }
          header { display: flex; align-items: center; gap: 12px; padding: 14px 24px; background: #1d2433; color: #fff; }
          header h1 { font-size: 18px; margin: 0; flex: 1; }
          #badge { min-width: 22px; padding: 2px 8px; border-radius: 11px; background: #e5484d; color: #fff;
                   font-weight: 600; text-align: center; }
          #badge[data-count="0"] { background: #5b6478; }
          #status { display: inline-flex; align-items: center; gap: 6px; padding: 4px 10px; border-radius: 14px;
                    font-size: 13px; background: #2c3447; }
          #status::before { content: ""; width: 10px; height: 10px; border-radius: 50%; background: var(--dot, #888); }
          #status[data-state="live"] { --dot: #30a46c; }
          #status[data-state="connecting"], #status[data-state="reconnecting"] { --dot: #f5a524; }
          #status[data-state="offline"] { --dot: #e5484d; }
          main { max-width: 760px; margin: 20px auto; padding: 0 16px; }
          .toolbar { display: flex; gap: 8px; margin-bottom: 12px; }
          button { font: inherit; font-size: 13px; padding: 5px 10px; border: 1px solid #c8cedb; border-radius: 6px;
                   background: #fff; cursor: pointer; }
          button:hover { background: #eef1f6; }
          ul { list-style: none; margin: 0; padding: 0; }
          li.item { display: flex; gap: 12px; padding: 12px 14px; margin-bottom: 8px; background: #fff; border-radius: 8px;
                    border-left: 4px solid #c8cedb; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
          li.item.unread { border-left-color: #3e63dd; }
          li.item.unread .title { font-weight: 600; }
          li.item .body { flex: 1; min-width: 0; }
          li.item .meta { font-size: 12px; color: #5b6478; margin-top: 4px; }
          li.item .actions { display: flex; flex-direction: column; gap: 4px; }
          li.item.fresh { animation: flash 1.2s ease-out; }
          @keyframes flash { from { background: #e6edfe; } to { background: #fff; } }
          #empty { color: #5b6478; text-align: center; padding: 40px 0; }
          #token-form { display: none; gap: 8px; margin-bottom: 16px; }
          #token-form.open { display: flex; }
          #token-form input { flex: 1; font: inherit; padding: 5px 8px; }
        </style>
        </head>
        <body>
        <header>
          <h1>Herald inbox</h1>
          <span>Unread <span id="badge" data-count="0">0</span></span>
          <span id="status" data-state="offline">offline</span>
        </header>
        <main>
          <form id="token-form">
            <input id="token-input" placeholder="Paste a token (herald token --sub USER)" autocomplete="off">
            <button type="submit">Connect</button>
          </form>
          <div class="toolbar">
            <button id="mark-all">Mark all read</button>
            <button id="refresh">Refresh</button>
          </div>
          <ul id="list"></ul>
          <p id="empty">No notifications.</p>
        </main>
        <script type="module" src="/demo.js"></script>
        </body>
        </html>
        """#

    static let script = #"""
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

        /** Loads the newest page over REST; returns the highest id, from which the socket resumes. */
        async function load() {
          const [page, unread] = await Promise.all([call("GET", `${api}?limit=100`), call("GET", `${api}/unread-count`)]);
          items.clear();
          for (const item of page) items.set(item.id, item);
          setBadge(unread.count);
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
            status.textContent = detail.state;
          });
          client.addEventListener("notification", ({ detail }) => {
            window.heraldDemo.received.push(detail.id);
            items.set(detail.id, { ...detail.data, fresh: true });
            render();
          });
          client.addEventListener("inbox", ({ detail }) => {
            setBadge(detail.unread_count);
            if (detail.reason === "read" || detail.reason === "unread") {
              for (const id of detail.ids) {
                const item = items.get(id);
                if (item) item.is_read = detail.reason === "read";
              }
              render();
            } else if (detail.reason === "deleted") {
              for (const id of detail.ids) items.delete(id);
              render();
            } else if (detail.reason === "cleared" || detail.reason === "read_all") {
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
        """#
}
