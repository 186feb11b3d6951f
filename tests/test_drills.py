"""Fault drills with the real services: the background work rides out an outage and loses nothing."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from models.core.mail import queue_mail
from server import jobs
from server.devrun import free_port, start_embedded_redis, wait_for_port
from tests.helpers import REPO_ROOT
from tests.services import port_is_open

CONTEXT = {
    "organisation_name": "Shibuya City",
    "inviter_name": "Hanako Yamada",
    "role": "admin",
    "expires_at": "2026-03-31T15:30:00+00:00",
    "token": "the-token",
}


async def _queue(label: str) -> str:
    to = f"{label}-{secrets.token_hex(4)}@example.jp"
    await queue_mail("invitation", to=to, locale="en", context=CONTEXT, key=f"drill:{to}", secret=["token"])
    return to


async def _wait_for_mail(smtp, to: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not smtp.messages_to(to):
        assert time.monotonic() < deadline, f"no mail to {to} within {timeout:.0f}s"
        await asyncio.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_the_worker_rides_out_a_redis_outage_and_sends_what_was_queued_meanwhile(app, migrated, env, smtp, tmp_path):
    redis_port = free_port()
    redis = start_embedded_redis(tmp_path / "redis", redis_port)
    log_path = tmp_path / "worker.log"
    worker_env = dict(env, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", SMTP_URL=smtp.url)
    with log_path.open("wb") as log:
        worker = subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], env=worker_env, cwd=REPO_ROOT,
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        before = await _queue("before")
        await _wait_for_mail(smtp, before, timeout=60)  # the worker is up and draining

        _stop(redis)
        during = await _queue("during")  # the web process keeps writing to the outbox
        await asyncio.sleep(6)
        assert worker.poll() is None, "the worker died with Redis:\n" + log_path.read_text()[-3000:]

        redis = start_embedded_redis(tmp_path / "redis", redis_port)  # same port, same data
        await _wait_for_mail(smtp, during, timeout=60)
        await asyncio.sleep(4)  # a few more drains: nothing is sent twice
        assert len(smtp.messages_to(during)) == 1 and len(smtp.messages_to(before)) == 1
        assert worker.poll() is None
        assert "Redis" in log_path.read_text()  # the outage and the reconnection are logged
    finally:
        _stop(worker)
        _stop(redis)


async def test_two_outbox_drains_at_once_send_a_mail_once(app, migrated, smtp):
    # arq starts a cron drain every 3 seconds even while the last one still runs (a backlog, or
    # the queued drains after an outage): the worker's drains must not hand a message over twice.
    [drain] = [function for function in jobs.WorkerSettings.functions if function.__name__ == "drain_outbox"]
    jobs.register_consumers(migrated)
    to = await _queue("twice")
    await asyncio.gather(*(drain({}) for _ in range(4)))
    await jobs.drain_outbox({})
    assert len(smtp.messages_to(to)) == 1


def _children(pid: int) -> dict[int, str]:
    """The live child processes of `pid`, with their command lines."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            state = stat.rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and state != "Z":
            children[int(entry.name)] = command
    return children


def _worker_of(pid: int, timeout: float, other_than: int | None = None) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child, command in _children(pid).items():
            if command.rstrip().endswith("server.cli worker") and child != other_than:
                return child
        time.sleep(0.2)
    raise AssertionError(f"no worker under `kyoso run` within {timeout:.0f}s")


def test_kyoso_run_restarts_a_worker_killed_with_sigkill(env, tmp_path):
    run_env = {k: v for k, v in env.items() if k not in ("REDIS_URL", "MEILI_URL")}
    run_env.update(DATABASE_URL=f"sqlite://{tmp_path / 'run.sqlite3'}", PYTHONPATH=str(REPO_ROOT))
    web_port = free_port()
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "server.cli", "run", "--port", str(web_port)],
                                   cwd=tmp_path, env=run_env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(web_port, process, timeout=60)
        first = _worker_of(process.pid, timeout=30)
        os.kill(first, signal.SIGKILL)
        second = _worker_of(process.pid, timeout=30, other_than=first)
        time.sleep(2)
        assert second in _children(process.pid), "the new worker did not stay up:\n" + log_path.read_text()[-3000:]
        assert process.poll() is None and port_is_open(web_port)  # the rest went on serving
        assert re.search(r"worker .*exited .*restarting", log_path.read_text())
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert not port_is_open(web_port)
