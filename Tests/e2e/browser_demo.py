#!/usr/bin/env python3
"""Browser end to end (issue 4): nginx with TLS in front of two Herald instances, and Debian's Chromium
(headless, through chromedriver) on https://localhost/demo.

1. The page connects over wss and shows a notification published over REST.
2. The instance holding the page's socket is killed with SIGKILL. The page reconnects through nginx to the
   other one and shows every notification published during the gap: nothing missing, nothing doubled.
3. The killed instance comes back; the one now holding the socket gets SIGTERM. The page gets 1001 and is
   live again at once, again with nothing missing or doubled.
4. A token that expires closes the socket with 4401. The page asks for a fresh token, does not retry the old
   one, and is live again once it has one.
5. A screenshot is saved to .ci/artifacts/demo.png and checked: the status pill is green and the list shows
   the notifications.
6. No token appears in any log line of either instance or of any file nginx writes.
7. The edge (issue 15): a socket URL over plain HTTP on port 80 is refused with 426, not redirected, and its
   token is echoed nowhere; /metrics is closed with and without a trailing slash; /api/v1/ws/ goes to the
   socket location like /api/v1/ws.

Usage: Tests/e2e/browser_demo.py  (after `swift build`; PostgreSQL from .ci/postgres.sh on port 5433)
"""
import glob
from http import client as httpclient
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERALD = os.environ.get("HERALD_BIN", os.path.join(ROOT, ".build", "debug", "herald"))
PG_PORT = os.environ.get("HERALD_PG_PORT", "5433")
DATABASE = "herald_e2e"
DATABASE_URL = f"postgres://herald@127.0.0.1:{PG_PORT}/{DATABASE}"
SECRET = "e2e-secret-0123456789abcdef-0123456789"
WORK = os.path.join(ROOT, ".data", "e2e")
ARTIFACTS = os.path.join(ROOT, ".ci", "artifacts")
PORTS = [8001, 8002]
EDGE = "https://localhost"
TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE
tokens_seen = []
DRIVER = []  # the browser, for failure reports


def log(message):
    print(f"[e2e {time.strftime('%H:%M:%S')}] {message}", flush=True)


def fail(message):
    log("FAILED: " + message)
    if DRIVER:
        try:
            log(f"page: {page_state(DRIVER[0])}")
            for entry in DRIVER[0].get_log("browser"):
                log(f"console: {entry['message'][:300]}")
        except Exception as error:  # noqa: BLE001 - the report must not hide the failure
            log(f"could not read the page: {error}")
    raise SystemExit(1)


def check(condition, message):
    if not condition:
        fail(message)
    log("ok: " + message)


def wait_for(what, predicate, timeout=20.0, interval=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except Exception as error:  # noqa: BLE001 - anything short of success means "not yet"
            last = error
        time.sleep(interval)
    fail(f"timed out after {timeout}s waiting for {what} (last: {str(last)[:300]})")


def http(method, url, token=None, body=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=TLS if url.startswith("https") else None) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text or b"null")
        except ValueError:
            return error.code, text.decode(errors="replace")


def psql(sql, database="postgres"):
    subprocess.run(["psql", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "herald", "-d", database, "-qAtc", sql],
                   check=True, capture_output=True)


def mint(sub, ttl=900, role="user", location=None):
    command = [HERALD, "token", "--sub", sub, "--role", role, "--ttl", str(ttl)]
    if location:
        command += ["--location", location]
    token = subprocess.run(command, check=True, capture_output=True, text=True,
                           env=dict(os.environ, JWT_SECRET=SECRET)).stdout.strip()
    tokens_seen.append(token)
    return token


class Instance:
    def __init__(self, index):
        self.index = index
        self.port = PORTS[index]
        self.logs = []  # one file per start, so a SIGKILL's cut line never runs into the next run's first
        self.process = None

    def start(self):
        env = dict(os.environ, DATABASE_URL=DATABASE_URL, JWT_SECRET=SECRET, PORT=str(self.port),
                   INSTANCE_ID=f"e2e-{self.index + 1}", LOG_FORMAT="json", LOG_LEVEL="trace",
                   TRUSTED_PROXIES="127.0.0.1", MIGRATIONS_DIR=os.path.join(ROOT, "Migrations"))
        self.logs.append(os.path.join(WORK, f"herald-{self.index + 1}-{len(self.logs) + 1}.log"))
        output = open(self.logs[-1], "a")
        self.process = subprocess.Popen([HERALD, "serve"], env=env, stdout=output, stderr=output)
        wait_for(f"instance {self.index + 1} ready",
                 lambda: http("GET", f"http://127.0.0.1:{self.port}/health/ready")[0] == 200)

    def connections(self):
        if self.process is None or self.process.poll() is not None:
            return 0
        # This instance's own sockets; the status totals are the whole cluster's.
        return http("GET", f"http://127.0.0.1:{self.port}/api/v1/ws/status")[1]["instance"]["connections"]

    def stop(self, sig):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            code = self.process.wait(timeout=20)
            self.process = None
            return code
        return None


def publish(admin, body):
    """Publishes as a backend service would: with an idempotency key, retrying 502/503 (an instance going
    away), which stores nothing twice."""
    publish.count = getattr(publish, "count", 0) + 1
    body = dict(body, idempotency_key=f"e2e-{os.getpid()}-{publish.count}")
    for attempt in range(5):
        status, answer = http("POST", f"{EDGE}/api/v1/notifications", admin, body)
        if status == 201:
            return answer["ids"]
        if status not in (502, 503) or attempt == 4:
            fail(f"publish answered {status}: {answer}")
        log(f"publish answered {status}; retrying with the same idempotency key")
        time.sleep(0.2 * (attempt + 1))


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--ignore-certificate-errors",
                     "--window-size=1000,800", "--disable-gpu", "--force-device-scale-factor=1"]:
        options.add_argument(argument)
    options.set_capability("acceptInsecureCerts", True)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)


def page_state(driver):
    return driver.execute_script(
        "const s = document.getElementById('status');"
        "const c = window.heraldDemo && window.heraldDemo.client;"
        "return {state: s.dataset.state, received: window.heraldDemo ? window.heraldDemo.received : [],"
        " ids: [...document.querySelectorAll('li.item')].map(li => Number(li.dataset.id)),"
        " badge: Number(document.getElementById('badge').textContent),"
        " duplicates: c ? c.stats.duplicates : -1, reconnects: c ? c.stats.reconnects : -1,"
        " form: document.getElementById('token-form').classList.contains('open')};")


def expect_delivered(driver, ids, before, what):
    """Every id in `ids` is on the page and was delivered by the socket exactly once, in increasing order."""
    state = wait_for(f"{what}: ids {ids} on the page",
                     lambda: (lambda s: s if set(ids) <= set(s["ids"]) and set(ids) <= set(s["received"]) else None)(
                         page_state(driver)), timeout=30)
    received = state["received"][before:]
    check(sorted(set(received)) == received, f"{what}: socket delivered ids in order and none twice ({received})")
    check(set(ids) <= set(received), f"{what}: all {len(ids)} notifications arrived")
    check(state["duplicates"] == 0, f"{what}: the client dropped no duplicate (server sent none)")
    check(len(state["ids"]) == len(set(state["ids"])), f"{what}: the list shows each notification once")
    return state


def holder(instances):
    counts = [instance.connections() for instance in instances]
    live = [instance for instance, count in zip(instances, counts) if count > 0]
    return live[0] if len(live) == 1 else None


def check_screenshot(path, driver):
    from PIL import Image

    image = Image.open(path).convert("RGB")
    check(image.size[0] >= 900 and image.size[1] >= 600, f"screenshot is {image.size[0]}x{image.size[1]}")
    rect = driver.execute_script(
        "const r = document.getElementById('status').getBoundingClientRect(); return [r.left, r.top, r.height];")
    dot = (int(rect[0] + 10 + 5), int(rect[1] + rect[2] / 2))
    pixel = image.getpixel(dot)
    check(pixel[1] > 130 and pixel[0] < 110 and pixel[2] < 150, f"status dot is green in the screenshot {pixel}")
    items = driver.execute_script(
        "return [...document.querySelectorAll('li.item')].slice(0, 3).map(li => {"
        "const r = li.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; });")
    check(len(items) == 3, "the list shows notifications")
    for left, top, width, height in items:
        box = image.crop((int(left) + 12, int(top) + 6, int(left + width / 2), int(top + height - 6)))
        dark = sum(1 for p in box.get_flattened_data() if sum(p) < 300)
        check(dark > 50, f"a notification row shows text ({dark} dark pixels)")


def raw_request(scheme, path, headers=None):
    """One request without following redirects: (status, headers, body)."""
    if scheme == "https":
        connection = httpclient.HTTPSConnection("localhost", 443, timeout=10, context=TLS)
    else:
        connection = httpclient.HTTPConnection("localhost", 80, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode(errors="replace")
    finally:
        connection.close()


def edge_checks(token):
    """The shipped nginx on the shapes users hit: plain HTTP on port 80, trailing slashes."""
    status, headers, body = raw_request("http", f"/api/v1/ws?token={token}")
    check(status == 426, f"a socket URL over plain HTTP is refused with 426 ({status})")
    check("Location" not in headers and "location" not in headers, "and not redirected")
    check(token not in body and token not in json.dumps(headers), "and its token is echoed nowhere")
    status, headers, _ = raw_request("http", f"/api/v1/ws/?token={token}")
    check(status == 426, f"the same with a trailing slash ({status})")
    status, headers, _ = raw_request("http", "/api/v1/notifications")
    location = headers.get("Location") or headers.get("location") or ""
    check(status == 308 and location.startswith("https://"), f"other plain-HTTP requests go to https ({status})")
    for path in ["/metrics", "/metrics/", "/api/v1/metrics", "/api/v1/metrics/"]:
        status, _, body = raw_request("https", path)
        check(status == 404 and "herald_" not in body, f"{path} is closed through nginx ({status})")
    # A plain GET (no upgrade) to the socket path with a trailing slash: the access log names the upstream.
    raw_request("https", f"/api/v1/ws/?token={token}")
    access = os.path.join(ROOT, ".data", "nginx", "logs", "access.log")

    def routed():
        with open(access, errors="replace") as handle:
            # Not the plain-HTTP 426 above, whose line may be the only one written yet.
            return [line for line in handle if "/api/v1/ws/ " in line and '" 426 ' not in line]
    lines = wait_for("the /api/v1/ws/ request in nginx's access log", routed, timeout=5)
    check("herald_sockets" in lines[-1], "/api/v1/ws/ goes to the socket location, as /api/v1/ws does")


def nginx_logs():
    """Every file nginx writes: its logs under .data/ and any default log the package's nginx keeps."""
    return sorted(set(glob.glob(os.path.join(ROOT, ".data", "nginx", "logs", "*"))
                      + glob.glob("/var/log/nginx/*")))


def main():
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(ARTIFACTS, exist_ok=True)
    for folder in [WORK, os.path.join(ROOT, ".data", "nginx", "logs")]:
        for name in os.listdir(folder) if os.path.isdir(folder) else []:
            os.remove(os.path.join(folder, name))
    psql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{DATABASE}"')
    subprocess.run([HERALD, "migrate"], check=True, env=dict(os.environ, DATABASE_URL=DATABASE_URL,
                                                             MIGRATIONS_DIR=os.path.join(ROOT, "Migrations")))
    instances = [Instance(0), Instance(1)]
    driver = None
    try:
        for instance in instances:
            instance.start()
        subprocess.run([os.path.join(ROOT, "nginx", "run.sh")], check=True)
        wait_for("nginx", lambda: http("GET", f"{EDGE}/health/ready")[0] == 200)
        admin = mint("e2e-admin", role="admin")
        user = mint("e2e-user", location="loc-e2e")
        edge_checks(user)

        # 1. Live delivery through nginx over wss.
        publish(admin, {"user_id": "e2e-user", "type": "system", "title": "Welcome", "message": "Before the page"})
        driver = browser()
        DRIVER.append(driver)
        driver.get(f"{EDGE}/demo#token={user}")
        wait_for("the page to go live", lambda: page_state(driver)["state"] == "live", timeout=30)
        check(driver.execute_script("return location.protocol") == "https:", "the page came over https")
        # Chromium offers permessage-deflate; through nginx it must be agreed, so the notifications below (each
        # over 256 bytes of JSON) reach the page compressed.
        extensions = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const ws = new WebSocket(`wss://${location.host}/api/v1/ws?token=${arguments[0]}`);
            ws.onopen = () => { const agreed = ws.extensions; ws.close(); done(agreed); };
            ws.onerror = () => done('error');
        """, user)
        check(extensions.startswith("permessage-deflate") and "client_no_context_takeover" in extensions,
              f"Chromium agreed to permessage-deflate through nginx ({extensions})")
        first = publish(admin, {"user_id": "e2e-user", "type": "appointment", "title": "Haircut at 10:00",
                                "message": "Chair 3, with Sam", "priority": "high"})
        state = expect_delivered(driver, first, 0, "live over wss")
        check(len(state["ids"]) == 2, "the REST list and the live arrival make two rows")
        check(state["badge"] == 2, "the unread badge counts both")

        # 2. kill -9 of the instance holding the socket; notifications published during the gap.
        victim = wait_for("one instance to hold the socket", lambda: holder(instances))
        before = len(page_state(driver)["received"])
        log(f"killing instance {victim.index + 1} (port {victim.port}) with SIGKILL")
        victim.stop(signal.SIGKILL)
        gap = []
        for index in range(6):
            target = {"user_id": "e2e-user"} if index % 2 == 0 else {"location_id": "loc-e2e"}
            gap += publish(admin, dict(target, type="team_update", title=f"During the gap {index + 1}",
                                       message="Published while an instance was down"))
            time.sleep(0.15)
        expect_delivered(driver, gap, before, "after kill -9")
        survivor = instances[1 - victim.index]
        check(survivor.connections() == 1, "the page reconnected to the surviving instance")

        # 3. The killed instance returns; SIGTERM the survivor: 1001, and the page is back at once.
        victim.start()
        # As in a rolling restart: nginx takes an instance back once its fail_timeout (3 s) has passed.
        time.sleep(3.5)
        before_state = page_state(driver)
        before = len(before_state["received"])
        log(f"sending SIGTERM to instance {survivor.index + 1}")
        started = time.time()
        survivor.process.send_signal(signal.SIGTERM)
        wait_for("live after 1001", lambda: page_state(driver)["state"] == "live"
                 and victim.connections() == 1, timeout=10, interval=0.05)
        back = time.time() - started
        check(back < 2, f"the page was live again {back:.2f}s after SIGTERM (reconnects at once on 1001)")
        check(survivor.process.wait(timeout=20) == 0, "the drained instance exited 0")
        survivor.process = None
        drained = publish(admin, {"broadcast": True, "type": "system", "title": "After the drain",
                                  "message": "Served by the other instance"})
        expect_delivered(driver, drained, before, "after SIGTERM")
        survivor.start()
        # The badge counted every arrival itself (the server sends no count for a plain new notification) across
        # a kill -9 and a drain: Welcome, the first, six during the gap, one after the drain.
        server_count = lambda: http("GET", f"{EDGE}/api/v1/notifications/unread-count", user)[1]["count"]
        wait_for("a badge of 9, the server's count", lambda: page_state(driver)["badge"] == 9 == server_count())
        log("ok: the badge counted nine arrivals across two reconnects, as the server does")

        # 5. Screenshot, while everything is live.
        time.sleep(1.3)  # let the arrival highlight fade
        shot = os.path.join(ARTIFACTS, "demo.png")
        driver.save_screenshot(shot)
        log(f"screenshot saved to {shot}")
        check_screenshot(shot, driver)

        # The inbox controls: mark read, delete, mark all read; the badge follows the server's inbox frames.
        state = page_state(driver)
        top, second = state["ids"][0], state["ids"][1]
        badge = state["badge"]
        driver.find_element("css selector", f'li[data-id="{top}"] button').click()
        wait_for(f"mark read of {top} (badge {badge})", lambda: page_state(driver)["badge"] == badge - 1 and driver.execute_script(
            f"return !document.querySelector('li[data-id=\"{top}\"]').classList.contains('unread')"))
        log("ok: mark read turned the row read and the badge down by one")
        driver.find_elements("css selector", f'li[data-id="{second}"] button')[1].click()
        wait_for("delete", lambda: second not in page_state(driver)["ids"] and page_state(driver)["badge"] == badge - 2)
        log("ok: delete removed the row and the badge followed")
        driver.find_element("id", "mark-all").click()
        wait_for("mark all read", lambda: page_state(driver)["badge"] == 0 and driver.execute_script(
            "return document.querySelectorAll('li.item.unread').length === 0"))
        log("ok: mark all read cleared the badge and every row")
        status, count = http("GET", f"{EDGE}/api/v1/notifications/unread-count", user)
        check(status == 200 and count["count"] == 0, "the server agrees: no unread notifications")

        # A collapse: "3 new messages" replaces "2 new messages"; the badge stays at one and so does the list.
        older = publish(admin, {"user_id": "e2e-user", "type": "client", "title": "2 new messages",
                                "message": "From Sam", "collapse_key": "e2e-messages"})[0]
        wait_for("the first message counted", lambda: page_state(driver)["badge"] == 1)
        newer = publish(admin, {"user_id": "e2e-user", "type": "client", "title": "3 new messages",
                                "message": "From Sam", "collapse_key": "e2e-messages"})[0]
        wait_for("the collapse on the page", lambda: (lambda s: newer in s["ids"] and older not in s["ids"])(
            page_state(driver)))
        time.sleep(0.5)
        check(page_state(driver)["badge"] == 1 == server_count(), "a collapse left the badge at one, as the server")
        # An expiry: counted while it lives, gone from the badge and the list once it has expired.
        expires = time.time() + 4
        brief = publish(admin, {"user_id": "e2e-user", "type": "system", "title": "Flash sale", "message": "4 s",
                                "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))})[0]
        wait_for("the expiring notification counted", lambda: page_state(driver)["badge"] == 2)
        wait_for("the expiry on the page", lambda: (lambda s: s["badge"] == 1 and brief not in s["ids"])(
            page_state(driver)), timeout=15)
        check(time.time() >= int(expires), "and not before it expired")
        check(server_count() == 1, "the server agrees: one unread")
        log("ok: a collapse and an expiry kept the badge exact")

        # 4. 4401: a token that expires. The page asks for a new one and does not hammer the server.
        short = mint("e2e-user", ttl=4, location="loc-e2e")
        driver.get("about:blank")  # a new hash alone would not reload the page
        driver.get(f"{EDGE}/demo#token={short}")
        wait_for("the short-token page to go live", lambda: page_state(driver)["state"] == "live", timeout=20)
        wait_for("the token form after 4401", lambda: page_state(driver)["form"], timeout=15)
        wait_for("offline after 4401", lambda: page_state(driver)["state"] == "offline", timeout=15)
        refused_before = sum(unauthorized(i) for i in instances)
        time.sleep(3)
        refused_after = sum(unauthorized(i) for i in instances)
        check(refused_after == refused_before, "no reconnect with the expired token while the page waits")
        check(page_state(driver)["state"] == "offline", "status shows offline while there is no token")
        fresh = mint("e2e-user", location="loc-e2e")
        driver.find_element("id", "token-input").send_keys(fresh)
        driver.find_element("css selector", "#token-form button").click()
        wait_for("live with the fresh token", lambda: page_state(driver)["state"] == "live", timeout=15)
        log("ok: live again after the page supplied a fresh token")

        # 7. An operator sees the page's one socket, and disconnects the user everywhere: 4410, offline with the
        # reason, and no reconnect. (The sockets of earlier pages are gone from the list once their close is
        # recorded, a few milliseconds after it.)
        def one_listed():
            sessions = http("GET", f"{EDGE}/api/v1/ws/sessions?user_id=e2e-user", admin)[1]["sessions"]
            if len(sessions) != 1:
                raise AssertionError(f"listed: {[(s['instance'], s['connected_at']) for s in sessions]}, "
                                     f"sockets per instance: {[i.connections() for i in instances]}")
            return sessions[0]
        session = wait_for("the page's socket alone listed", one_listed, timeout=10)
        check(session["instance"] in ("e2e-1", "e2e-2") and session["user_agent"].find("Chrome") >= 0
              and session["client_address"] == "::1", f"the session shows where it is and who holds it ({session})")
        status, answer = http("DELETE", f"{EDGE}/api/v1/users/e2e-user/sessions", admin)
        check(status == 202 and answer["closing"] == 1, f"disconnect-all answered {status} {answer}")
        wait_for("offline after 4410", lambda: page_state(driver)["state"] == "offline", timeout=10)
        shown = driver.execute_script("return [document.getElementById('status').textContent,"
                                      " document.getElementById('status').dataset.code]")
        check(shown == ["offline: disconnected by an operator", "4410"], f"the page says why ({shown})")
        time.sleep(3)
        check(sum(instance.connections() for instance in instances) == 0, "the page did not reconnect on its own")
        check(page_state(driver)["state"] == "offline", "still offline three seconds later")
        log("ok: an operator's disconnect left the page offline, saying why")
    finally:
        if driver:
            driver.quit()
        subprocess.run([os.path.join(ROOT, "nginx", "run.sh"), "stop"])
        for instance in instances:
            instance.stop(signal.SIGTERM)

    # 6. No token in any log line of either instance or of any file nginx writes.
    herald_logs = [path for instance in instances for path in instance.logs]
    logs = herald_logs + nginx_logs()
    check(os.path.join(ROOT, ".data", "nginx", "logs", "access.log") in logs, "nginx's access log is scanned")
    lines = 0
    for path in logs:
        with open(path, errors="replace") as handle:
            for line in handle:
                lines += 1
                for token in tokens_seen:
                    if token in line or token.split(".")[2] in line:
                        fail(f"a token appears in {os.path.basename(path)}: {line[:200]}")
    check(lines > 100, f"no token in {lines} log lines of both instances and nginx ({len(logs)} files)")
    clients, request_ids = set(), set()
    for path in herald_logs:
        with open(path) as handle:
            for line in handle:
                if not line.endswith("\n"):
                    continue  # cut by the process exiting mid-write (another thread's last line); never mid-file
                entry = json.loads(line)
                if entry.get("msg") == "request" and entry.get("path") == "/demo":
                    clients.add(entry.get("client"))
                    request_ids.add(entry.get("request-id"))
    check(clients == {"::1"}, f"Herald logs the browser's address from X-Forwarded-For ({clients})")
    check(all(len(i) == 32 for i in request_ids), "Herald logs nginx's request id")
    log("PASSED")


def unauthorized(instance):
    if instance.process is None:
        return 0
    request = urllib.request.Request(f"http://127.0.0.1:{instance.port}/metrics")
    with urllib.request.urlopen(request, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith('herald_connects_total{result="unauthorized"}'):
                return float(line.split()[-1])
    return 0


if __name__ == "__main__":
    main()
