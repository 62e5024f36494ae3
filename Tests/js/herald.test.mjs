// Unit tests of herald.js with Node's built-in runner and a fake WebSocket: `node --test Tests/js/`.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";

/** Stands in for the browser's WebSocket: records what the client sends, and lets a test play the server. */
class FakeWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;
  static instances = [];

  constructor(url) {
    this.url = new URL(url);
    this.readyState = FakeWebSocket.OPEN;
    this.sent = [];
    this.closedWith = null;
    FakeWebSocket.instances.push(this);
  }

  send(text) {
    this.sent.push(JSON.parse(text));
  }

  close(code, reason) {
    this.closedWith = { code, reason };
    this.readyState = FakeWebSocket.CLOSED;
  }

  /** The server sends `frame`. */
  message(frame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The server closes with `code`. */
  serverClose(code, reason = "") {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code, reason });
  }

  static get last() {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  }
}

globalThis.WebSocket = FakeWebSocket;
const { HeraldClient, tokenExpiry } = await import("../../Sources/HeraldServer/Resources/herald.js");

/** A token whose payload says `exp` (the client never checks a signature). */
function token(name, exp = Math.floor(Date.now() / 1000) + 3600) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "HS256" })}.${encode({ sub: name, exp })}.signature`;
}

function client(options = {}) {
  // No count fetch unless a test asks for one (countURL: undefined), so no test reaches for the network.
  const created = new HeraldClient({
    url: "ws://herald.test/api/v1/ws", token: token("u"), countURL: null, ...options,
  });
  const statuses = [];
  created.addEventListener("status", (event) => statuses.push(event.detail));
  created.statuses = statuses;
  return created;
}

/** Lets pending promise callbacks run (setImmediate is not among the mocked timers). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function live(socket, heartbeat = 30) {
  socket.message({ type: "connection", status: "connected", heartbeat_interval: heartbeat });
}

describe("herald.js", () => {
  beforeEach(() => {
    FakeWebSocket.instances = [];
    mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_800_000_000_000 });
  });
  afterEach(() => {
    mock.timers.reset();
    mock.restoreAll();
  });

  test("reconnects with exponential backoff and full jitter, capped at maxDelay", () => {
    mock.method(Math, "random", () => 0.999);
    const herald = client({ minDelay: 100, maxDelay: 1000 }).connect();
    const delays = [];
    for (let attempt = 0; attempt < 6; attempt += 1) {
      FakeWebSocket.last.serverClose(1006);
      delays.push(herald.statuses.at(-1).delay);
      mock.timers.tick(delays.at(-1));
    }
    assert.deepEqual(delays, [99, 199, 399, 799, 999, 999]);
    mock.method(Math, "random", () => 0);
    FakeWebSocket.last.serverClose(1006);
    assert.equal(herald.statuses.at(-1).delay, 0, "full jitter reaches down to zero");
    assert.equal(FakeWebSocket.instances.length, 7);
  });

  test("1001 reconnects at once and resumes from the last id", () => {
    const herald = client().connect();
    live(FakeWebSocket.last);
    FakeWebSocket.last.message({ type: "notification", id: 41, notification_type: "system", data: {} });
    FakeWebSocket.last.message({ type: "notification", id: 42, notification_type: "system", data: {} });
    FakeWebSocket.last.serverClose(1001, "server is shutting down");
    assert.equal(herald.statuses.at(-1).delay, 0);
    mock.timers.tick(0);
    assert.equal(FakeWebSocket.instances.length, 2);
    assert.equal(FakeWebSocket.last.url.searchParams.get("since"), "42");
  });

  test("a notification at or below the last id is dropped and counted, never shown twice", () => {
    const herald = client({ since: 10 }).connect();
    assert.equal(FakeWebSocket.last.url.searchParams.get("since"), "10");
    const shown = [];
    herald.addEventListener("notification", (event) => shown.push(event.detail.id));
    live(FakeWebSocket.last);
    for (const id of [11, 11, 9, 12]) FakeWebSocket.last.message({ type: "notification", id, data: {} });
    assert.deepEqual(shown, [11, 12]);
    assert.equal(herald.stats.duplicates, 2);
  });

  test("4401 asks the page for a token once and never sends the rejected one again", async () => {
    const rejected = token("old");
    const fresh = token("new");
    let asked = 0;
    const herald = client({ token: rejected, getToken: async () => { asked += 1; return fresh; } }).connect();
    FakeWebSocket.last.serverClose(4401, "token expired");
    await settle();
    mock.timers.tick(0);
    assert.equal(asked, 1);
    assert.equal(FakeWebSocket.instances.length, 2);
    assert.equal(FakeWebSocket.last.url.searchParams.get("token"), fresh);
    // The page has nothing better: the client stays offline rather than retry the token it was refused.
    herald.options.getToken = async () => fresh;
    FakeWebSocket.last.serverClose(4401, "token revoked");
    await settle();
    mock.timers.tick(60_000);
    assert.equal(FakeWebSocket.instances.length, 2);
    assert.equal(herald.state, "offline");
  });

  test("leaving the page closes the socket with 1000; coming back from the cache resumes", () => {
    globalThis.window = new EventTarget();
    try {
      const herald = client().connect();
      live(FakeWebSocket.last);
      FakeWebSocket.last.message({ type: "notification", id: 7, notification_type: "system", data: {} });
      const left = FakeWebSocket.last;
      window.dispatchEvent(new Event("pagehide"));
      assert.deepEqual(left.closedWith, { code: 1000, reason: "page hidden" });
      assert.equal(left.sent.at(-1).type, "ack", "what arrived is acknowledged before leaving");
      left.serverClose(1000, "page hidden");
      mock.timers.tick(60_000);
      assert.equal(FakeWebSocket.instances.length, 1, "no reconnect while the page is hidden");
      assert.equal(herald.state, "offline");
      const shown = new Event("pageshow");
      shown.persisted = true;
      window.dispatchEvent(shown);
      assert.equal(FakeWebSocket.instances.length, 2);
      assert.equal(FakeWebSocket.last.url.searchParams.get("since"), "7");
      herald.close();
      window.dispatchEvent(shown);
      assert.equal(FakeWebSocket.instances.length, 2, "a closed client stays closed");
    } finally {
      delete globalThis.window;
    }
  });

  test("4409 and 4410 stop: no reconnect, offline with the reason", () => {
    for (const [code, reason] of [[4409, "replaced by a newer session"], [4410, "disconnected by an operator"]]) {
      FakeWebSocket.instances = [];
      const herald = client().connect();
      live(FakeWebSocket.last);
      FakeWebSocket.last.serverClose(code, reason);
      mock.timers.tick(120_000);
      assert.equal(FakeWebSocket.instances.length, 1, `${code} must not reconnect`);
      assert.deepEqual(herald.statuses.at(-1), { state: "offline", code, reason });
    }
  });

  test("4429 waits from limitDelay, not from minDelay", () => {
    mock.method(Math, "random", () => 0.5);
    const herald = client({ minDelay: 100, limitDelay: 5000 }).connect();
    FakeWebSocket.last.serverClose(4429, "connection limit reached");
    assert.equal(herald.statuses.at(-1).delay, 2500);
    mock.timers.tick(2499);
    assert.equal(FakeWebSocket.instances.length, 1);
    mock.timers.tick(1);
    assert.equal(FakeWebSocket.instances.length, 2);
  });

  test("deliveries are acknowledged in one frame after ackDelay", () => {
    client({ ackDelay: 200 }).connect();
    const socket = FakeWebSocket.last;
    live(socket);
    for (const id of [1, 2, 3]) socket.message({ type: "notification", id, data: {} });
    assert.equal(socket.sent.filter((frame) => frame.type === "ack").length, 0);
    mock.timers.tick(200);
    assert.deepEqual(socket.sent.filter((frame) => frame.type === "ack"), [{ type: "ack", ids: [1, 2, 3] }]);
  });

  test("the token is refreshed in place shortly before exp", async () => {
    const now = Math.floor(Date.now() / 1000);
    const fresh = token("u", now + 7200);
    client({ token: token("u", now + 600), refreshBefore: 60, getToken: async () => fresh }).connect();
    const socket = FakeWebSocket.last;
    live(socket, 100_000); // a heartbeat longer than the test, so the watchdog stays out of it
    mock.timers.tick(539_000);
    await settle();
    assert.equal(socket.sent.filter((frame) => frame.type === "auth").length, 0);
    mock.timers.tick(1_000);
    await settle();
    assert.deepEqual(socket.sent.filter((frame) => frame.type === "auth"), [{ type: "auth", token: fresh }]);
    assert.equal(tokenExpiry(fresh), now + 7200);
  });

  test("the badge is the last count plus the unread notifications it does not include, in either order", () => {
    const herald = client().connect();
    const socket = FakeWebSocket.last;
    const badges = [];
    herald.addEventListener("count", (event) => badges.push(event.detail.unread_count));
    live(socket);
    const notify = (id, data = {}) => socket.message({ type: "notification", id, notification_type: "x", data });
    notify(5);
    assert.deepEqual(badges, [], "no badge before any count");
    herald.setUnread(3, 4);
    assert.equal(herald.unread, 4, "5 arrived before the count that does not include it");
    notify(6);
    notify(7, { is_read: true });
    assert.equal(herald.unread, 5, "a replay of one read elsewhere is not unread");
    socket.message({ type: "inbox", unread_count: 4, reason: "read", ids: [2], last_id: 6 });
    assert.equal(herald.unread, 4, "a count that includes 5 and 6 replaces them");
    notify(8);
    assert.equal(herald.unread, 5);
    // 8, the newest notification, deleted: the count's last_id falls below it, and its id takes it out.
    socket.message({ type: "inbox", unread_count: 4, reason: "deleted", ids: [8], last_id: 7 });
    assert.equal(herald.unread, 4);
    herald.setUnread(9, 3);
    assert.equal(herald.unread, 4, "an answer older than the count held is ignored");
    notify(9);
    socket.message({ type: "inbox", unread_count: 2, reason: "created", ids: [], last_id: 9 });
    assert.equal(herald.unread, 2, "a recount (a collapse, a gap) replaces everything it includes");
    assert.deepEqual(badges, [4, 5, 4, 5, 4, 5, 2]);
  });

  test("after each connect the count is fetched with the token, and arrivals meanwhile still count", async () => {
    const requests = [];
    let answer;
    mock.method(globalThis, "fetch", (url, init) => {
      requests.push({ url, authorization: init.headers.Authorization });
      return new Promise((resolve) => { answer = resolve; });
    });
    const herald = client({ url: "wss://herald.test/api/v1/ws", countURL: undefined }).connect();
    const socket = FakeWebSocket.last;
    live(socket);
    assert.deepEqual(requests, [{
      url: "https://herald.test/api/v1/notifications/unread-count", authorization: `Bearer ${herald.token}`,
    }]);
    socket.message({ type: "notification", id: 10, data: {} });
    socket.message({ type: "notification", id: 11, data: {} });
    answer({ ok: true, json: async () => ({ count: 2, last_id: 10 }) });
    await settle();
    await settle();
    assert.equal(herald.unread, 3, "10 is in the count, 11 is not");
    socket.message({ type: "reset", detail: "refetch" });
    assert.equal(requests.length, 2, "a reset asks again");
  });

  test("a socket silent for two heartbeat intervals is dropped and replaced", () => {
    mock.method(Math, "random", () => 0);
    const herald = client().connect();
    const socket = FakeWebSocket.last;
    live(socket, 10);
    mock.timers.tick(10_000);
    assert.deepEqual(socket.sent.at(-1), { type: "ping" });
    mock.timers.tick(20_000);
    assert.equal(socket.closedWith?.code, 4000);
    assert.equal(herald.state, "reconnecting");
    mock.timers.tick(0);
    assert.equal(FakeWebSocket.instances.length, 2);
  });
});
