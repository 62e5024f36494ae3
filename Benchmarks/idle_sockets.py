#!/usr/bin/env python3
"""Idle-socket memory: opens N authenticated WebSockets to a running Herald, waits for each `connection` frame,
holds them, and reports the server's RSS delta per socket (from /proc/PID/status) and the connect rate.

Usage: idle_sockets.py --pid PID --port PORT --secret SECRET [--sockets 10000] [--users 2000]
Raw asyncio streams, not a WebSocket library, so the client costs little and connects fast.
"""
import argparse, asyncio, base64, hashlib, hmac, json, os, time


def token(secret: str, sub: str, location: str) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": sub, "location_id": location, "exp": int(time.time()) + 3600}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def open_socket(port: int, tok: str, sockets: list):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /api/v1/ws?token={tok} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")
    head = await reader.readexactly(2)
    length = head[1] & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    frame = json.loads(await reader.readexactly(length))
    assert frame["type"] == "connection", frame
    sockets.append((reader, writer))


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--sockets", type=int, default=10000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--hold", type=float, default=5)
    args = parser.parse_args()
    tokens = [token(args.secret, f"idle-{u}", f"loc-{u % 50}") for u in range(args.users)]
    before = rss_kib(args.pid)
    sockets: list = []
    started = time.time()
    semaphore = asyncio.Semaphore(args.concurrency)

    async def one(i):
        async with semaphore:
            await open_socket(args.port, tokens[i % args.users], sockets)

    await asyncio.gather(*(one(i) for i in range(args.sockets)))
    elapsed = time.time() - started
    await asyncio.sleep(args.hold)
    after = rss_kib(args.pid)
    result = {"scenario": "idle", "sockets": len(sockets), "rss_before_kib": before, "rss_after_kib": after,
              "kib_per_socket": round((after - before) / len(sockets), 2),
              "connect_seconds": round(elapsed, 2), "connects_per_second": round(len(sockets) / elapsed)}
    print(json.dumps(result))
    for _, writer in sockets:
        writer.close()


asyncio.run(main())
