"""Fault drill: PostgreSQL restarted under load. The web process recovers by itself (no restart of its own),
`/readyz` says 503 while the database is away, and nothing it acknowledged is lost.

The drill runs its own throwaway PostgreSQL cluster (tests/services/postgres.py): the machine's shared one is
never restarted. Without PostgreSQL's server binaries it is skipped, saying so.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from server.devrun import free_port, wait_for_port
from tests.helpers import REPO_ROOT, complete_challenge
from tests.services.postgres import postgres_binaries, private_postgres

pytestmark = pytest.mark.skipif(postgres_binaries() is None,
                                reason="no PostgreSQL server binaries (/usr/lib/postgresql/*/bin) for a private cluster")


def _kyoso_env(env: dict[str, str], database_url: str) -> dict[str, str]:
    """The web process alone on the private database: no Redis, no search, no mail (they are other drills)."""
    values = {k: v for k, v in env.items() if k not in ("REDIS_URL", "MEILI_URL", "MEILI_MASTER_KEY", "SMTP_URL")}
    return values | {"DATABASE_URL": database_url}


class Load:
    """Writers creating challenge drafts and readers asking /readyz, all the time, noting every answer."""

    def __init__(self, client: httpx2.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.acknowledged: list[int] = []  # the drafts the server said it created (201)
        self.refused: list[int | str] = []  # the statuses (or transport errors) of the writes it could not do
        self.readiness: list[int] = []
        self.running = True

    async def write(self, n: int) -> None:
        while self.running:
            body = complete_challenge(title={"ja": f"負荷 {n}-{len(self.acknowledged)}", "en": "Load"})
            try:
                response = await self.client.post("/api/v1/challenges", json=body, headers=self.headers)
            except httpx2.TransportError as exc:  # no answer at all: the worst a client can get
                self.refused.append(type(exc).__name__)
                await asyncio.sleep(0.05)
                continue
            if response.status_code == 201:
                self.acknowledged.append(response.json()["id"])
            else:
                self.refused.append(response.status_code)
                await asyncio.sleep(0.05)

    async def ready(self) -> int:
        return (await self.client.get("/readyz")).status_code

    async def watch(self) -> None:
        while self.running:
            self.readiness.append(await self.ready())
            await asyncio.sleep(0.05)


async def _until(probe, expected: int, timeout: float) -> float:
    started = time.monotonic()
    while (status := await probe()) != expected:
        assert time.monotonic() - started < timeout, f"still {status} after {timeout:.0f}s (expected {expected})"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _drill_database(pg, settings, people) -> tuple[str, str]:
    """The private cluster's database, a copy of the tests' migrated one (seconds, where migrating takes half a
    minute), and a bearer token of an agency member made in it first."""
    from models.identity.orgs import Organisation

    member = await people.make(org=await Organisation.get(municipality_code="131041"))
    token = (await people.token(member))["Authorization"].removeprefix("Bearer ")
    return pg.copy_database(settings.database_url, "kyoso_drill"), token


async def test_the_web_process_rides_out_a_postgres_restart_under_load(env, settings, people, tmp_path: Path):
    if not settings.database_url.startswith("postgres"):
        pytest.skip("a PostgreSQL drill: it runs in the PostgreSQL pass of `make test`")
    with private_postgres() as pg:
        database_url, token = await _drill_database(pg, settings, people)
        kyoso_env = _kyoso_env(env, database_url)

        port = free_port()
        log_path = tmp_path / "web.log"
        with log_path.open("wb") as log:
            web = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], env=kyoso_env,
                                   cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, web, timeout=60)
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                load = Load(client, token)
                assert await load.ready() == 200
                tasks = [asyncio.create_task(load.write(n)) for n in range(3)] + [asyncio.create_task(load.watch())]
                try:
                    await asyncio.sleep(1.5)
                    assert load.acknowledged, "the load did not get going:\n" + log_path.read_text()[-2000:]

                    pg.stop("fast")  # every connection of the pool is cut
                    await _until(load.ready, 503, timeout=5)
                    await asyncio.sleep(1.5)  # the load goes on against the missing database
                    acknowledged_during = len(load.acknowledged)
                    assert load.refused, "writes succeeded without a database?"

                    pg.start()
                    recovered_in = await _until(load.ready, 200, timeout=15)
                    await asyncio.sleep(1.5)  # and the writes go through again
                    assert len(load.acknowledged) > acknowledged_during, log_path.read_text()[-3000:]
                finally:
                    load.running = False
                    await asyncio.gather(*tasks)

                assert web.poll() is None  # the same process, not restarted
                # Nothing acknowledged is lost: each draft the server said it made is there, once.
                assert len(set(load.acknowledged)) == len(load.acknowledged)
                for challenge_id in load.acknowledged:
                    found = await client.get(f"/api/v1/challenges/{challenge_id}", headers=load.headers)
                    assert found.status_code == 200, (challenge_id, found.status_code)
                mine = await client.get("/api/v1/challenges", params={"mine": "true", "per_page": 100},
                                        headers=load.headers)
                # While the database was away, the writes were refused plainly (503), not with a 500.
                assert set(load.refused) <= {503}, (sorted(map(str, set(load.refused))), log_path.read_text()[-3000:])
                assert 503 in load.readiness
                print(f"drill: {len(load.acknowledged)} drafts acknowledged, {len(load.refused)} writes refused, "
                      f"ready again {recovered_in:.1f}s after the restart; listing answered {mine.status_code}")
        finally:
            web.terminate()
            web.wait(timeout=30)
