from __future__ import annotations

import time

import httpx2

from server.devrun import free_port
from tests.helpers import REPO_ROOT


async def test_healthz_says_the_process_is_alive(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"


async def test_readyz_reports_every_dependency_up(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"] == {"database": "up", "redis": "up", "search": "up"}
    assert body["search_backend"] == "meilisearch"


def test_readyz_is_503_when_the_database_is_down(env):
    import subprocess
    import sys

    port = free_port()
    bad_env = dict(env, DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere")
    server = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=bad_env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "down"
        assert httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=15)
