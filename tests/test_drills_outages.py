"""Fault drills with the real services: the SMTP server down, the worker killed mid-send, the attachments disk
full. Each ends with nothing acknowledged lost and nothing sent twice."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from tortoise import timezone

from models.challenges.models import Attachment
from models.core.mail import queue_mail
from models.core.outbox import OutboxMessage
from server import jobs
from server.auth.ratelimit import Limiter
from server.devrun import free_port, start_embedded_redis
from server.storage import FileStore
from tests.helpers import REPO_ROOT, _draft, browser, pdf
from tests.services import redis_server
from tests.services.smtp import smtp_server
from tests.web import csrf_token, post_form, sign_in_as


def _decision_context(n: int) -> dict:
    return {"challenge_title": "窓口の待ち時間", "challenge_id": 1, "proposal_title": f"提案 {n}", "proposal_id": n,
            "company_name": f"株式会社 {n}", "decision": "not_selected", "reason": "", "criteria_count": 0,
            "feedback_count": 0}


async def _queue_decisions(label: str, count: int) -> list[str]:
    """One decision e-mail to each of `count` companies, as closing a challenge queues them (keyed by address)."""
    run = secrets.token_hex(4)
    addresses = []
    for n in range(count):
        to = f"{label}-{run}-{n}@company{n}.example.jp"
        await queue_mail("decision", to=to, locale="ja", context=_decision_context(n), key=f"decision:{to}")
        addresses.append(to)
    return addresses


async def _mail_rows(addresses: list[str]) -> list[OutboxMessage]:
    return [await OutboxMessage.get(topic="mail", key=f"decision:{to}") for to in addresses]


# --- the SMTP server down for a while ----------------------------------------------------------------


async def test_mail_waits_in_the_outbox_while_smtp_is_down_and_goes_out_once_when_it_is_back(app, migrated):
    with smtp_server() as server:
        jobs.register_consumers(migrated.model_copy(update={"smtp_url": server.url}))
        try:
            server.stop()  # the SMTP server goes away
            addresses = await _queue_decisions("outage", 3)
            await jobs.drain_outbox({})
            rows = await _mail_rows(addresses)
            assert all(row.processed_at is None and row.attempts == 1 for row in rows)  # waiting in the outbox
            assert all("Connect" in row.last_error or "connect" in row.last_error for row in rows), rows[0].last_error
            # Backed off: a drain at once does not hammer the server again.
            assert all(row.available_at > timezone.now() for row in rows)
            await jobs.drain_outbox({})
            assert [row.attempts for row in await _mail_rows(addresses)] == [1, 1, 1]

            await _until_due(addresses)
            await jobs.drain_outbox({})  # still down: tried again, backing off longer
            rows = await _mail_rows(addresses)
            assert [row.attempts for row in rows] == [2, 2, 2]
            assert all(row.available_at - timezone.now() > timedelta(seconds=2) for row in rows)
            assert server.received == []

            server.start()  # back, on the same address
            await _until_due(addresses)
            for _ in range(3):  # the periodic drains that follow
                await jobs.drain_outbox({})
            assert [len(server.messages_to(to)) for to in addresses] == [1, 1, 1]
            assert all(row.processed_at is not None for row in await _mail_rows(addresses))
        finally:
            jobs.register_consumers(migrated)


async def _until_due(addresses: list[str], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while any(row.available_at > timezone.now() for row in await _mail_rows(addresses)):
        assert time.monotonic() < deadline, "the back-off did not end"
        await asyncio.sleep(0.2)


# --- the worker killed with SIGKILL while it sends decision e-mails ----------------------------------


def _start_worker(env: dict[str, str], redis_url: str, smtp_url: str, log_path: Path) -> subprocess.Popen:
    worker_env = dict(env, REDIS_URL=redis_url, SMTP_URL=smtp_url, OUTBOX_LEASE_SECONDS="2")
    with log_path.open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], env=worker_env, cwd=REPO_ROOT,
                                stdout=log, stderr=subprocess.STDOUT)


async def _until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f}s"
        await asyncio.sleep(0.05)


async def test_a_worker_killed_while_sending_decisions_leaves_each_company_exactly_one(app, migrated, env, tmp_path):
    # A slow SMTP server (a quarter of a second per recipient), so the kill lands in the middle of the batch;
    # a Redis of its own, so that the killed worker's job (in progress until arq's timeout) stays out of
    # the other tests' queue.
    with smtp_server(rcpt_delay=0.25) as server, redis_server(tmp_path / "redis") as redis_url:
        log_path = tmp_path / "worker.log"
        addresses = await _queue_decisions("killed", 12)
        worker = _start_worker(env, redis_url, server.url, log_path)
        try:
            await _until(lambda: sum(bool(server.messages_to(to)) for to in addresses) >= 3, 60,
                         "the worker sent no decisions")
            # The kill lands mid-mail, once the worker has recorded every mail the server accepted: not in the
            # instant between the two, where delivery is at least once (README).
            deadline = time.monotonic() + 20
            while await OutboxMessage.filter(topic="mail", key__in=[f"decision:{to}" for to in addresses],
                                             processed_at__isnull=False).count() < sum(
                                                 bool(server.messages_to(to)) for to in addresses):
                assert time.monotonic() < deadline, "the worker did not record the mails it sent"
                await asyncio.sleep(0.01)
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            sent_before = sum(bool(server.messages_to(to)) for to in addresses)
            assert sent_before < len(addresses), "the kill came too late to drill anything"

            worker = _start_worker(env, redis_url, server.url, log_path)  # what `kyoso run` (or systemd) does
            await _until(lambda: all(server.messages_to(to) for to in addresses), 60,
                         "the decisions left by the killed worker were not sent:\n" + log_path.read_text()[-2000:])
            await asyncio.sleep(3)  # more drains: nothing goes twice
            assert [len(server.messages_to(to)) for to in addresses] == [1] * len(addresses)
            assert all(row.processed_at is not None for row in await _mail_rows(addresses))
        finally:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=15)


# --- the attachments disk full -------------------------------------------------------------------


def _mount_small_disk(directory: Path, size: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "kyoso-drill", str(directory)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem for the attachments here: {result.stderr.strip()}")


def _files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file() and path.parent.name != ".locks"]


async def test_a_full_attachments_disk_is_a_clear_refusal_and_leaves_no_half_written_file(app, client, cast):
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    challenge = await _draft(client, cast)
    root = Path(app.state.settings.attachments_dir)
    store = FileStore(root)
    _mount_small_disk(root, "256k")  # over the real attachments directory, for the time of the drill
    try:
        small = pdf(b"% fits\n" + secrets.token_bytes(16 * 1024))
        fits = await client.post(f"/api/v1/challenges/{challenge['id']}/attachments",
                                 files={"file": ("fits.pdf", small, "application/pdf")}, headers=cast["agency"])
        assert fits.status_code == 201, fits.text

        large = pdf(b"% too large for what is left\n" + secrets.token_bytes(400 * 1024))
        before = set(_files_under(root))
        full = await client.post(f"/api/v1/challenges/{challenge['id']}/attachments",
                                 files={"file": ("large.pdf", large, "application/pdf")}, headers=cast["agency"])
        assert full.status_code == 507, full.text
        assert full.headers["content-type"].startswith("application/problem+json")
        assert "no room left" in full.json()["detail"]
        assert set(_files_under(root)) == before  # no half-written file, not even in .incoming
        assert not store.exists(hashlib.sha256(large).hexdigest())
        assert not await Attachment.filter(challenge_id=challenge["id"], filename="large.pdf").exists()

        # The page says it beside the file field, in the person's language.
        await sign_in_as(client, cast["users"]["agency"])
        form = {"csrftoken": await csrf_token(client, f"/challenges/{challenge['id']}")}
        page = await client.post(f"/challenges/{challenge['id']}/attachments?lang=ja", data=form,
                                 files={"file": ("大きい.pdf", large, "application/pdf")})
        assert page.status_code == 507
        assert "添付資料を保存する空き容量がありません" in page.text
        assert set(_files_under(root)) == before

        # What fits still goes in: the disk is full, not broken.
        other = pdf(b"% also fits\n" + secrets.token_bytes(8 * 1024))
        again = await client.post(f"/api/v1/challenges/{challenge['id']}/attachments",
                                  files={"file": ("other.pdf", other, "application/pdf")}, headers=cast["agency"])
        assert again.status_code == 201 and store.path_for(again.json()["sha256"]).read_bytes() == other
    finally:
        subprocess.run(["umount", str(root)], check=True)


# --- Redis down for the web process: rate limits fail closed, plainly; reading goes on --------------


async def test_with_redis_down_signing_in_is_refused_plainly_and_reading_goes_on(app, client, people, tmp_path):
    port = free_port()
    redis = start_embedded_redis(tmp_path / "redis", port)
    services = app.state.services
    original = services.limiter
    services.limiter = Limiter(f"redis://127.0.0.1:{port}/0")  # the web process's limits in a Redis of their own
    user = await people.make()
    try:
        async def sign_in(page):
            return await post_form(page, "/login", {"email": user.email, "password": "correct horse battery"},
                                   page="/login")

        async with browser(app) as page:
            assert (await sign_in(page)).status_code == 303  # Redis up: signing in works

        redis.terminate()
        redis.wait(timeout=15)
        async with browser(app) as page:
            refused = await sign_in(page)
            assert refused.status_code == 503, refused.text[-500:]  # fails closed: no sign-in without its limits…
            assert "a service it needs is unavailable" in refused.text or "必要なサービスが一時的に" in refused.text
            assert refused.headers["retry-after"]
            assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]
            assert (await page.get("/account")).status_code in (302, 303)  # …and no session came of it
        api = await client.post("/api/v1/organisations/1/invitations", json={"email": "x@example.jp"},
                                headers=await people.token(user))
        assert api.status_code in (403, 404, 503)  # never a 500
        for url in ("/", "/challenges", "/api/v1/challenges"):
            assert (await client.get(url)).status_code == 200, url  # reading needs no limits: it goes on

        redis = start_embedded_redis(tmp_path / "redis", port)  # back
        async with browser(app) as page:
            assert (await sign_in(page)).status_code == 303
    finally:
        services.limiter = original
        if redis.poll() is None:
            redis.terminate()
            redis.wait(timeout=15)
