"""Request bodies are bounded in front of everything: 413 at once for a declared Content-Length over the
limit, and a chunked body cut off at the limit, without the server reading (or holding) the rest."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest

from server.devrun import free_port, wait_for_port
from server.limits import UPLOAD_ENVELOPE
from tests.helpers import REPO_ROOT, _draft

MB = 1024 * 1024
HUGE = 50 * MB
CHUNK = 64 * 1024
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MULTIPART = "multipart/form-data; boundary=kyoso-boundary"
# How each body starts (then "a" to 50 MB): a form field, a JSON string, a file part.
STARTS = {
    FORM: b"email=",
    JSON: b'{"title": "',
    MULTIPART: b'--kyoso-boundary\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
               b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\n",
}


def _piece(content_type: str, first: bool) -> bytes:
    start = STARTS[content_type] if first else b""
    return start + b"a" * (CHUNK - len(start))


async def _post_in_process(app, path: str, headers: dict[str, str], *, chunked: bool) -> tuple[int, dict[str, str], bytes, int]:
    """POST a 50 MB body straight into the ASGI app; returns the status, headers, body and how much
    of the body the app pulled."""
    pulled = 0

    async def receive() -> dict:
        nonlocal pulled
        if pulled >= HUGE:
            return {"type": "http.disconnect"}
        pulled += CHUNK
        return {"type": "http.request", "body": _piece(headers["content-type"], pulled == CHUNK), "more_body": pulled < HUGE}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    framing = {"transfer-encoding": "chunked"} if chunked else {"content-length": str(HUGE)}
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "server": ("testserver", 80), "client": ("127.0.0.1", 50000),
        "headers": [(k.lower().encode(), v.encode()) for k, v in {"host": "testserver", **headers, **framing}.items()],
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=20)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, body, pulled


@pytest.fixture
async def upload_path(client, cast) -> str:
    challenge = await _draft(client, cast)
    return f"/api/v1/challenges/{challenge['id']}/attachments"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_50_mb_body_is_refused_at_once_without_being_read(app, cast, upload_path, chunked):
    settings = app.state.settings
    cases = [
        ("/login", {"content-type": FORM, "accept-language": "en"}, settings.max_body_bytes),
        ("/api/v1/challenges", {"content-type": JSON, **cast["agency"]}, settings.max_body_bytes),
        (upload_path, {"content-type": MULTIPART, **cast["agency"]}, settings.max_upload_bytes + UPLOAD_ENVELOPE),
    ]
    for path, headers, limit in cases:
        started = time.monotonic()
        status, response_headers, body, pulled = await _post_in_process(app, path, headers, chunked=chunked)
        assert time.monotonic() - started < 1.0, path
        assert status == 413, (path, body[:300])
        assert pulled <= (limit + CHUNK if chunked else 0), path  # never more than the limit, nothing if declared
        assert "frame-ancestors 'none'" in response_headers["content-security-policy"]
        assert response_headers["x-content-type-options"] == "nosniff"
        assert response_headers["connection"] == "close"
        if path.startswith("/api/"):
            assert response_headers["content-type"].startswith("application/problem+json")
            assert b"The request body is larger than" in body
        else:
            assert response_headers["content-type"].startswith("text/html")
            assert b"What you sent is too large: at most 1 MB can be sent here." in body


async def test_bodies_within_the_limit_still_pass(client, cast):
    # Just under 1 MB of JSON reaches the route (and its validation), it is not cut off.
    padding = " " * (MB - 100)
    response = await client.post("/api/v1/challenges", content=b'{"title": 1' + padding.encode() + b"}",
                                 headers={**cast["agency"], "content-type": JSON})
    assert response.status_code == 422


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _post_over_the_wire(port: int, path: str, headers: dict[str, str], *, chunked: bool) -> tuple[int, float, int]:
    """Start sending a 50 MB body and read the answer meanwhile; returns its status, how long it took to
    come and how many bytes had been sent by the time the server hung up."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(15)
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(HUGE)}
    head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"127.0.0.1:{port}", **headers, **framing}.items())
    sent = 0
    stop = threading.Event()

    def send_body() -> None:
        nonlocal sent
        try:
            while sent < HUGE and not stop.is_set():
                piece = _piece(headers["Content-Type"], sent == 0)
                sock.sendall(f"{CHUNK:x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
                sent += CHUNK
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server hung up after its answer

    started = time.monotonic()
    sock.sendall(f"POST {path} HTTP/1.1\r\n{head}\r\n".encode())
    sender = threading.Thread(target=send_body)
    sender.start()
    answer = b""
    try:
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
        elapsed = time.monotonic() - started
        sender.join(timeout=15)
    finally:
        stop.set()
        sock.close()
        sender.join(timeout=15)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, elapsed, sent


async def test_a_live_server_refuses_50_mb_bodies_quickly_with_memory_flat(env, migrated, client, cast, upload_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.to_thread(wait_for_port, port, server, 60)
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as live:  # warm up what a request loads
            assert (await live.get("/login")).status_code == 200
            assert (await live.post("/api/v1/challenges", json={}, headers=cast["agency"])).status_code == 422
        before = _rss(server.pid)
        for chunked in (False, True):
            for path, headers in (
                ("/login", {"Content-Type": FORM}),
                ("/api/v1/challenges", {"Content-Type": JSON, **cast["agency"]}),
                (upload_path, {"Content-Type": MULTIPART, **cast["agency"]}),
            ):
                status, elapsed, sent = await asyncio.to_thread(_post_over_the_wire, port, path, headers, chunked=chunked)
                assert status == 413, (path, chunked)
                assert elapsed < 1.0, (path, chunked, elapsed)
                assert sent < HUGE, (path, chunked)  # the server hung up rather than read it all
        grown = _rss(server.pid) - before
        assert grown < 30 * MB, f"the server grew by {grown / MB:.0f} MB"
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=15)


async def test_the_limits_are_configurable(monkeypatch):
    from server.limits import BodyLimit
    from server.settings import Settings

    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "4096")
    settings = Settings()
    assert (settings.max_body_bytes, settings.max_upload_bytes) == (2048, 4096)

    async def echo(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(len(body)).encode()})

    limited = BodyLimit(echo, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes, dev=True)
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=limited), base_url="http://testserver") as c:
        assert (await c.post("/api/v1/x", content=b"a" * 2048)).text == "2048"
        assert (await c.post("/api/v1/x", content=b"a" * 2049)).status_code == 413
        assert (await c.post("/challenges/1/attachments", content=b"a" * (4096 + UPLOAD_ENVELOPE))).status_code == 200
        assert (await c.post("/challenges/1/attachments", content=b"a" * (4097 + UPLOAD_ENVELOPE))).status_code == 413
