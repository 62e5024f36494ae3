// herald.js: the browser client for Herald's notification WebSocket (docs/protocol.md). An ES module with no
// dependencies: `import { HeraldClient } from "/herald.js"`.
//
// It keeps one socket open, resumes from the last notification it saw after every reconnect (so nothing is
// missed or doubled), acknowledges deliveries, and reconnects with exponential backoff and full jitter:
//   1001 (server going away)  reconnect at once and resume;
//   4401 (token rejected)     ask the page for a fresh token (options.getToken), never retry the old one;
//   4409 (replaced)           stop: a newer session of this user took the slot;
//   4410 (operator)           stop: an operator disconnected this session; do not come back on our own;
//   4429 (connection limit)   back off, starting at 5 s;
//   anything else             back off from options.minDelay.
//
// Events (an EventTarget; each event's payload is `event.detail`):
//   notification  {id, notification_type, data}  a stored notification, once, in id order
//   inbox         {unread_count, reason, ids, last_id}  the user's inbox changed (on any device)
//   count         {unread_count}                  the unread count to show as the badge (see below)
//   event         {event_type, data}              an ephemeral event
//   reset         {detail}                        too much was missed: refetch the inbox over REST
//   status        {state, code, reason, delay}    state: connecting | live | reconnecting | offline
//   connection    the server's `connection` frame
//   error         the server's `error` frame (the socket stays open)
//
// The unread count: the server pushes it when it changes in a way the client cannot see (a read, a delete, a
// collapse, an expiry, on any device), but not for each new notification, which the client adds itself. Every
// count says which notifications it includes (`last_id`: every id up to it), so the badge is that count plus
// the unread notifications received with larger ids, in whatever order the two arrive. After each connect and
// each `reset` the client asks `GET /api/v1/notifications/unread-count` (options.countURL) for a fresh one.

const DEFAULTS = {
  minDelay: 500,
  maxDelay: 30000,
  limitDelay: 5000,
  ackDelay: 200,
  refreshBefore: 60,
};

export class HeraldClient extends EventTarget {
  /**
   * @param {object} options
   * @param {string} [options.url]       ws(s)://host/api/v1/ws; defaults to this page's host
   * @param {string} [options.token]     the JWT to start with
   * @param {() => Promise<string>} [options.getToken]  asked for a fresh token on 4401 and before `exp`
   * @param {number} [options.since]     resume after this notification id (e.g. the newest one fetched over REST)
   * @param {boolean} [options.ack]      acknowledge deliveries (default true)
   * @param {string|null} [options.countURL]  where to fetch the unread count after each connect; defaults to
   *   /api/v1/notifications/unread-count on the socket's host; null keeps the count to what the page sets
   *   (setUnread) and the server pushes
   */
  constructor(options = {}) {
    super();
    this.options = { ...DEFAULTS, ack: true, ...options };
    this.url = options.url || defaultURL();
    this.token = options.token || null;
    this.lastId = Number(options.since || 0);
    this.state = "offline";
    this.attempt = 0;
    this.stats = { received: 0, duplicates: 0, reconnects: 0 };
    this.socket = null;
    this.stopped = true;
    this.timer = null;
    this.acks = [];
    this.ackTimer = null;
    this.refreshTimer = null;
    this.watchdog = null;
    this.heartbeat = 30;
    this.unread = null;
    this.counted = null;
    this.uncounted = new Set();
    this.onOnline = () => {
      if (!this.stopped && this.state === "reconnecting") this.reconnectNow();
    };
    // A page being left closes its socket at once, so the server frees the user's slot (the connection limit
    // counts sockets) instead of holding a dead one until the heartbeat gives up; a page restored from the
    // back/forward cache opens a new one and resumes.
    this.onPageHide = () => {
      if (this.stopped || !this.socket) return;
      this.flushAcks();
      clearTimeout(this.timer);
      clearInterval(this.watchdog);
      const socket = this.socket;
      this.socket = null;
      socket.close(1000, "page hidden");
      this.setState("offline", {});
    };
    this.onPageShow = (event) => {
      if (event.persisted && !this.stopped && !this.socket) this.open();
    };
  }

  /** Opens the socket (again, after `close()`). */
  connect() {
    this.stopped = false;
    if (typeof window !== "undefined") {
      window.addEventListener("online", this.onOnline);
      window.addEventListener("pagehide", this.onPageHide);
      window.addEventListener("pageshow", this.onPageShow);
    }
    this.open();
    return this;
  }

  /** Closes the socket and stops reconnecting. */
  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.refreshTimer);
    clearInterval(this.watchdog);
    this.flushAcks();
    if (typeof window !== "undefined") {
      window.removeEventListener("online", this.onOnline);
      window.removeEventListener("pagehide", this.onPageHide);
      window.removeEventListener("pageshow", this.onPageShow);
    }
    if (this.socket) this.socket.close(1000, "client closed");
    this.socket = null;
    this.setState("offline", {});
  }

  /** Records that the page already holds everything up to `id` (after refetching the inbox on `reset`). */
  setLastId(id) {
    this.lastId = Math.max(this.lastId, Number(id) || 0);
  }

  /** Sets the unread count from a `GET /notifications/unread-count` answer (`count`, `last_id`). An answer older
   *  than the count the client holds (a smaller `last_id`) is ignored. */
  setUnread(count, lastId) {
    if (this.counted && lastId < this.counted.lastId) return;
    this.applyCount(count, lastId, []);
  }

  /** Subscribes to ephemeral event types; with none, every event is delivered. */
  subscribe(...eventTypes) {
    return this.send({ type: "subscribe", event_types: eventTypes });
  }

  unsubscribe(...eventTypes) {
    return this.send({ type: "unsubscribe", event_types: eventTypes });
  }

  /** Sends a frame if the socket is open; returns whether it went. */
  send(frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  // -- connection ------------------------------------------------------------------------------------------------

  open() {
    if (this.stopped) return;
    if (!this.token) {
      this.askForToken(null);
      return;
    }
    this.setState(this.attempt === 0 && this.stats.reconnects === 0 ? "connecting" : "reconnecting", {});
    const params = new URLSearchParams({ token: this.token });
    // Resume from the last id seen; with `since` given, even 0, the first connect resumes too, so nothing
    // committed between the page's REST fetch and the socket opening is missed.
    if (this.lastId > 0 || this.options.since != null) params.set("since", String(this.lastId));
    const socket = new WebSocket(`${this.url}?${params}`);
    this.socket = socket;
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearInterval(this.watchdog);
      this.closed(close.code, close.reason);
    };
  }

  receive(text) {
    this.lastHeard = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    switch (frame.type) {
      case "connection":
        this.attempt = 0;
        this.heartbeat = Number(frame.heartbeat_interval) || 30;
        this.startWatchdog();
        this.scheduleRefresh();
        this.setState("live", {});
        this.emit("connection", frame);
        this.fetchCount();
        break;
      case "notification":
        // The server sends ids in increasing order and resumes after `lastId`; this guard only makes a
        // duplicate harmless if a server ever sent one, and counts it.
        if (frame.id <= this.lastId) {
          this.stats.duplicates += 1;
          break;
        }
        this.lastId = frame.id;
        this.stats.received += 1;
        this.emit("notification", frame);
        this.countNotification(frame);
        if (this.options.ack) this.queueAck(frame.id);
        break;
      case "inbox":
        this.emit("inbox", frame);
        // A count from a server that does not say `last_id` includes everything received so far.
        this.applyCount(
          Number(frame.unread_count) || 0,
          frame.last_id == null ? this.lastId : Number(frame.last_id),
          frame.reason === "read" || frame.reason === "deleted" ? frame.ids || [] : [],
        );
        break;
      case "event":
        this.emit("event", frame);
        break;
      case "reset":
        this.emit("reset", frame);
        this.fetchCount();
        break;
      case "error":
        this.emit("error", frame);
        break;
      case "auth_ok":
        this.scheduleRefresh();
        break;
      default:
        break;
    }
  }

  closed(code, reason) {
    this.flushAcks();
    if (this.stopped) return;
    switch (code) {
      case 4401:
        this.askForToken(reason);
        return;
      case 4409:
      case 4410:
        this.stopped = true;
        this.setState("offline", { code, reason });
        return;
      case 1001:
        // The server is going away: another instance can take us now. Only the first try is immediate.
        this.retry(code, reason, this.attempt === 0 ? 0 : this.backoff(this.options.minDelay));
        return;
      case 4429:
        this.retry(code, reason, this.backoff(this.options.limitDelay));
        return;
      default:
        this.retry(code, reason, this.backoff(this.options.minDelay));
    }
  }

  /** Full jitter: a random delay up to min(maxDelay, floor * 2^attempt). */
  backoff(floor) {
    const ceiling = Math.min(this.options.maxDelay, floor * 2 ** Math.min(this.attempt, 16));
    return Math.floor(Math.random() * ceiling);
  }

  retry(code, reason, delay) {
    this.attempt += 1;
    this.stats.reconnects += 1;
    this.setState("reconnecting", { code, reason, delay });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delay);
  }

  reconnectNow() {
    clearTimeout(this.timer);
    this.open();
  }

  /** On 4401: one request to the page for a new token. The rejected one is never sent again. */
  async askForToken(reason) {
    const rejected = this.token;
    this.token = null;
    this.setState("offline", { code: 4401, reason: reason || "token required" });
    if (!this.options.getToken) return;
    let fresh = null;
    try {
      fresh = await this.options.getToken();
    } catch {
      fresh = null;
    }
    if (this.stopped) return;
    if (!fresh || fresh === rejected) {
      this.setState("offline", { code: 4401, reason: "no fresh token" });
      return;
    }
    this.token = fresh;
    this.retry(4401, reason, this.attempt === 0 ? 0 : this.backoff(this.options.minDelay));
  }

  /** Refreshes the token in place (`auth` frame) shortly before it expires, if the page can supply one. */
  scheduleRefresh() {
    clearTimeout(this.refreshTimer);
    const exp = tokenExpiry(this.token);
    if (!exp || !this.options.getToken) return;
    const due = Math.max(1000, (exp - this.options.refreshBefore) * 1000 - Date.now());
    this.refreshTimer = setTimeout(async () => {
      try {
        const fresh = await this.options.getToken();
        if (fresh && fresh !== this.token && this.send({ type: "auth", token: fresh })) this.token = fresh;
      } catch {
        // The server closes with 4401 at `exp`, and that path asks again.
      }
    }, Math.min(due, 2 ** 31 - 1));
  }

  /** Browsers answer the server's pings but cannot see them, so the client pings too and gives up on a socket
   *  that has been silent for two heartbeat intervals (a half-open connection would otherwise look alive). */
  startWatchdog() {
    clearInterval(this.watchdog);
    const interval = this.heartbeat * 1000;
    this.watchdog = setInterval(() => {
      if (!this.socket) return;
      if (Date.now() - this.lastHeard > 2 * interval) {
        this.socket.close(4000, "heartbeat timeout");
        const socket = this.socket;
        this.socket = null;
        if (socket) this.closed(1006, "heartbeat timeout");
        return;
      }
      this.send({ type: "ping" });
    }, interval);
  }

  // -- the unread count ------------------------------------------------------------------------------------------

  /** A new notification the latest count does not include is one more unread, unless it arrived read (a replay
   *  of one read on another device). */
  countNotification(frame) {
    if (frame.data && frame.data.is_read === true) return;
    if (this.counted && frame.id <= this.counted.lastId) return;
    this.uncounted.add(frame.id);
    // A long-lived page that is never sent a count keeps a bounded set: the oldest id joins the count.
    if (this.uncounted.size > 1000) {
      const oldest = this.uncounted.values().next().value;
      this.uncounted.delete(oldest);
      if (this.counted) this.counted.count += 1;
    }
    this.emitCount();
  }

  /** Takes a count of every unread notification up to `lastId`; `gone` are ids read or deleted since, which
   *  leave the badge even if the count cannot say so (the newest notification deleted lowers `last_id`). */
  applyCount(count, lastId, gone) {
    const through = Math.max(lastId, this.counted ? this.counted.lastId : 0);
    this.counted = { count, lastId: through };
    for (const id of this.uncounted) if (id <= through) this.uncounted.delete(id);
    for (const id of gone) this.uncounted.delete(id);
    this.emitCount();
  }

  emitCount() {
    if (!this.counted) return;
    const unread = this.counted.count + this.uncounted.size;
    if (unread === this.unread) return;
    this.unread = unread;
    this.emit("count", { unread_count: unread });
  }

  countURL() {
    if (this.options.countURL !== undefined) return this.options.countURL;
    const url = new URL(this.url);
    url.protocol = url.protocol === "wss:" ? "https:" : "http:";
    url.pathname = url.pathname.replace(/\/ws\/?$/, "/notifications/unread-count");
    url.search = "";
    return url.toString();
  }

  async fetchCount() {
    const url = this.countURL();
    if (!url || typeof fetch !== "function" || !this.token) return;
    try {
      const response = await fetch(url, { headers: { Authorization: `Bearer ${this.token}` } });
      if (!response.ok) return;
      const body = await response.json();
      if (typeof body.count === "number") this.setUnread(body.count, Number(body.last_id) || 0);
    } catch {
      // The next count the server pushes, or the next connect, brings it.
    }
  }

  // -- acks ------------------------------------------------------------------------------------------------------

  queueAck(id) {
    this.acks.push(id);
    if (this.acks.length >= 100) return this.flushAcks();
    if (!this.ackTimer) this.ackTimer = setTimeout(() => this.flushAcks(), this.options.ackDelay);
  }

  flushAcks() {
    clearTimeout(this.ackTimer);
    this.ackTimer = null;
    if (this.acks.length === 0) return;
    if (this.send({ type: "ack", ids: this.acks })) this.acks = [];
  }

  // -- helpers ---------------------------------------------------------------------------------------------------

  setState(state, detail) {
    const changed = state !== this.state;
    this.state = state;
    if (changed || detail.code) this.emit("status", { state, ...detail });
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function defaultURL() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/api/v1/ws`;
}

/** The token's `exp` in seconds, or null; the signature is the server's business. */
export function tokenExpiry(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const exp = JSON.parse(atob(payload)).exp;
    return typeof exp === "number" ? exp : null;
  } catch {
    return null;
  }
}
