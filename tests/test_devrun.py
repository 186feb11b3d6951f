from __future__ import annotations

import redis

from server.devrun import free_port, start_embedded_redis


def test_embedded_redis_keeps_an_append_only_file(tmp_path):
    port = free_port()
    process = start_embedded_redis(tmp_path / "redis", port)
    try:
        client = redis.Redis(port=port)
        assert client.ping()
        client.set("kyoso:test", "kept")
        assert client.config_get("appendonly")["appendonly"] == "yes"
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert any((tmp_path / "redis").rglob("*.aof*"))
    # Started again on the same directory, the data is still there.
    process = start_embedded_redis(tmp_path / "redis", port)
    try:
        client = redis.Redis(port=port)
        assert client.get("kyoso:test") == b"kept"
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_kyoso_run_stops_everything_it_started_on_sigterm(env, tmp_path):
    import re
    import signal
    import subprocess
    import sys
    import time

    from server.devrun import wait_for_port
    from tests.helpers import REPO_ROOT
    from tests.services import port_is_open

    run_env = {k: v for k, v in env.items() if k not in ("REDIS_URL", "MEILI_URL")}
    run_env.update(DATABASE_URL=f"sqlite://{tmp_path / 'run.sqlite3'}", PYTHONPATH=str(REPO_ROOT))
    web_port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "run", "--port", str(web_port)],
        cwd=tmp_path, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        first_line = process.stdout.readline()
        redis_port = int(re.search(r"127\.0\.0\.1:(\d+)", first_line).group(1))
        wait_for_port(web_port, process, timeout=60)
        assert port_is_open(redis_port)
        assert (tmp_path / "var" / "redis").is_dir()  # the embedded Redis keeps its data under ./var
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while (port_is_open(redis_port) or port_is_open(web_port)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_is_open(redis_port) and not port_is_open(web_port)
