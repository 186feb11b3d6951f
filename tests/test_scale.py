"""Two of everything: two real workers against the same database and Redis hand each outbox message over
once, and each cron moment runs once."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker

from models.core.mail import queue_mail
from models.core.outbox import OutboxMessage
from server import jobs
from server.devrun import free_port, wait_for_port
from tests.helpers import REPO_ROOT

CONTEXT = {"organisation_name": "Shibuya City", "inviter_name": "Hanako Yamada", "role": "admin",
           "expires_at": "2026-03-31T15:30:00+00:00", "token": "the-token"}
MAILS = 60


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_two_workers_send_each_queued_mail_exactly_once(app, migrated, env, smtp, tmp_path):
    batch = secrets.token_hex(4)
    addresses = [f"scale-{batch}-{n}@example.jp" for n in range(MAILS)]
    for n, to in enumerate(addresses):  # a few objects with several mails each: those go out in order
        await queue_mail("invitation", to=to, locale="en", context=CONTEXT, key=f"scale:{batch}:{n % 7}", secret=["token"])
    worker_env = dict(env, SMTP_URL=smtp.url)
    logs = [(tmp_path / f"worker{n}.log").open("wb") for n in range(2)]
    workers = [subprocess.Popen([sys.executable, "-m", "server.cli", "worker"], cwd=REPO_ROOT, env=worker_env,
                                stdout=log, stderr=subprocess.STDOUT) for log in logs]
    pool = await create_pool(RedisSettings.from_dsn(migrated.redis_url))
    try:
        # Besides the wake-up and each worker's drain at start, several drains at once, so that both work together.
        await jobs.wake(pool)
        for _ in range(6):
            await pool.enqueue_job("drain_outbox")
        deadline = time.monotonic() + 90
        while sum(1 for to in addresses if smtp.messages_to(to)) < MAILS:
            assert time.monotonic() < deadline, "not every mail went out:\n" + (tmp_path / "worker0.log").read_text()[-3000:]
            assert all(worker.poll() is None for worker in workers)
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # drains still running: nothing may go twice
        assert [len(smtp.messages_to(to)) for to in addresses] == [1] * MAILS
        rows = await OutboxMessage.filter(key__startswith=f"scale:{batch}:").order_by("id")
        assert all(row.processed_at is not None and row.claimed_by is None for row in rows)
        for key in {row.key for row in rows}:  # each object's mails were handed over in the order queued
            handed = [row.processed_at for row in rows if row.key == key]
            assert handed == sorted(handed), key
    finally:
        for worker in workers:
            _stop(worker)
        for log in logs:
            log.close()
        await pool.aclose()


async def test_each_cron_moment_runs_once_with_two_workers(migrated):
    """The worker's own cron jobs (unique, results kept), every second for the test, in two real arq workers."""
    redis_settings = RedisSettings.from_dsn(migrated.redis_url)
    queue = f"kyoso:test-cron:{secrets.token_hex(4)}"
    runs: list[str] = []

    def recorded(name: str) -> Any:
        async def run(ctx: dict[str, Any]) -> None:
            runs.append(ctx["job_id"])
            await asyncio.sleep(0.3)  # a little work, so that the two workers' polls overlap it

        run.__qualname__ = name
        return run

    def worker() -> Worker:
        crons = [dataclasses.replace(job, coroutine=recorded(job.name), second=set(range(60)), minute=None,
                                     run_at_startup=False)
                 for job in jobs.WorkerSettings.cron_jobs]
        return Worker(functions=[], cron_jobs=crons, redis_settings=redis_settings, queue_name=queue, poll_delay=0.1,
                      handle_signals=False, keep_result=jobs.WorkerSettings.keep_result)

    first, second = worker(), worker()
    tasks = [asyncio.create_task(w.main()) for w in (first, second)]
    await asyncio.sleep(6)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for w in (first, second):
        with contextlib.suppress(asyncio.CancelledError):  # a job stopped mid-run by the cancellation above
            await w.close()

    assert len(runs) >= 2 * len(jobs.WorkerSettings.cron_jobs), runs  # every job, every second (a loaded machine lags)
    assert len(runs) == len(set(runs)), sorted(runs)  # no moment twice, whichever worker took it

    # A worker late to a moment (a long pause, a clock behind) cannot queue it again once it has run.
    pool = await create_pool(redis_settings)
    try:
        for job_id in runs:
            assert await pool.enqueue_job(job_id.split(":")[0], _job_id=job_id, _queue_name=queue) is None, job_id
    finally:
        await pool.aclose()


def _children(pid: int) -> list[str]:
    commands = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                commands.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError, ValueError):
            continue
    return commands


async def test_kyoso_serve_runs_several_web_processes(migrated, env):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--workers", "2"],
                              cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, server, timeout=60)
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(4):
                assert (await client.get("/healthz")).status_code == 200
        assert len([c for c in _children(server.pid) if "spawn_main" in c]) == 2
    finally:
        _stop(server)
