"""Benchmark the open-data export: a 100,000-row dataset streamed by a real `kyoso serve`, its memory held flat.

Loads N public challenges into a scratch database, starts `kyoso serve` on it, downloads
/data/challenges.csv and .json over HTTP, and samples the server process's resident memory while it
streams. Prints the peak growth over the resident memory before the download, beside a limit.

Run: .venv/bin/python bench/export.py [--n 100000] [--database-url postgres://...] [--limit-mib 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx2
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tortoise import Tortoise, timezone  # noqa: E402

from models.challenges.models import Challenge  # noqa: E402
from models.database import tortoise_config  # noqa: E402
from models.identity.orgs import Organisation  # noqa: E402
from server.cli import migrate_database  # noqa: E402
from server.devrun import free_port  # noqa: E402
from server.settings import Settings  # noqa: E402

MIB = 1024 * 1024
INSERT_BATCH = 5000


async def load(settings: Settings, n: int) -> None:
    await migrate_database(settings)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        have = await Challenge.filter(status="published").count()
        agency = await Organisation.get(municipality_code="131016")
        now = timezone.now()
        started = time.perf_counter()
        for first in range(have, n, INSERT_BATCH):
            await Challenge.bulk_create([
                Challenge(owner_id=agency.id, status="published", published_at=now - timedelta(minutes=i),
                          title={"ja": f"書き出しの課題 {i}", "en": f"Export challenge {i}"},
                          summary={"ja": "住民サービスの改善に向けた実証。" * 4, "en": "A pilot to improve a service. " * 4},
                          budget_max_yen=1_000_000 + i)
                for i in range(first, min(n, first + INSERT_BATCH))
            ])
        if n > have:
            print(f"loaded {n - have:,} challenges in {time.perf_counter() - started:.1f} s")
    finally:
        await Tortoise.close_connections()


def serve(settings: Settings, port: int) -> subprocess.Popen:
    env = dict(os.environ, KYOSO_ENV="dev", DATABASE_URL=settings.database_url, SECRET_KEY=settings.secret_key or "",
               BASE_URL=f"http://127.0.0.1:{port}", REDIS_URL="", MEILI_URL="")
    process = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], env=env,
                               cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return process
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("kyoso serve did not start")
        time.sleep(0.2)


def rss(process: psutil.Process) -> int:
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)])


def download(base: str, path: str, server: psutil.Process) -> tuple[int, int, int, float]:
    """(rows, bytes, peak resident memory, seconds) of one streamed download."""
    peak, size, lines, tail = rss(server), 0, 0, b""
    marker = b"\r\n" if ".csv" in path else b'{"challenge_id"'  # one per row (plus the CSV header)
    started = time.perf_counter()
    with httpx2.stream("GET", base + path, timeout=600) as response:
        assert response.status_code == 200, response.status_code
        for chunk in response.iter_bytes():
            size += len(chunk)
            text = tail + chunk  # a marker split between two chunks is counted once
            lines += text.count(marker) - tail.count(marker)
            tail = text[-len(marker):]
            peak = max(peak, rss(server))
    return lines, size, peak, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--limit-mib", type=float, default=64.0, help="the most the server may grow while streaming")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kyoso-export-bench-"))
    settings = Settings(database_url=args.database_url or f"sqlite://{work / 'bench.sqlite3'}",
                        secret_key="bench-" + "x" * 40, base_url="http://bench")
    asyncio.run(load(settings, args.n))
    port = free_port()
    process = serve(settings, port)
    base = f"http://127.0.0.1:{port}"
    server = psutil.Process(process.pid)
    failed = False
    try:
        httpx2.get(base + "/data/figures.csv", timeout=60)  # warm up: imports, templates, connections
        print(f"Kyoso export benchmark: {args.n:,} public challenges, database {settings.database_url.split(':')[0]}")
        for path in ("/data/challenges.csv?bom=0", "/data/challenges.json"):
            before = rss(server)
            rows, size, peak, seconds = download(base, path, server)
            growth = (peak - before) / MIB
            verdict = "ok" if growth <= args.limit_mib else "OVER THE LIMIT"
            failed |= growth > args.limit_mib
            print(f"{path}: {rows:,} lines, {size / MIB:.1f} MiB in {seconds:.1f} s ({rows / seconds:,.0f} rows/s); "
                  f"server RSS {before / MIB:.0f} MiB before, peak growth {growth:.1f} MiB "
                  f"(limit {args.limit_mib:.0f} MiB): {verdict}")
    finally:
        process.terminate()
        process.wait(timeout=15)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
