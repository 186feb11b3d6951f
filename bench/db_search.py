"""Database search backend: trigram index (SQLite FTS5 / PostgreSQL pg_trgm) against the LIKE scan.

Loads N synthetic challenges (bench/search.py's generator, Japanese and English) into a scratch
database per engine, then times `DatabaseBackend.search` (the whole search: words, the visitor's
policy filter, facet counts, one page) over a mix of Japanese and English queries:
  - "trigram": the backend as shipped (terms of 3+ characters answered from the index);
  - "LIKE scan": the same search before issue #15 (SQLite: the backend with trigram=False;
    PostgreSQL: the same SQL with the trigram index dropped);
  - short terms (under 3 characters, no trigram): the LIKE path in both, shown apart.
It prints p50/p95 beside the issue's limit (p95 ≤ 30 ms) and the load average (`uptime`).

    .venv/bin/python bench/db_search.py [--n 10000] [--rounds 20] [--engines sqlite,postgres]

Everything stays on this machine; the scratch databases are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tortoise import connections, timezone  # noqa: E402

from models.challenges.models import Challenge  # noqa: E402
from search.backend import SearchQuery  # noqa: E402
from search.database import DatabaseBackend  # noqa: E402
from server.app import create_app  # noqa: E402
from server.cli import migrate_database  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.services import new_postgres_database_url  # noqa: E402

P95_LIMIT_MS = 30.0  # issue 15: the database backend's p95 at most 30 ms over 10k challenges
WORDS = ["子育て支援", "オンライン申請", "申請 オンライン", "見守り", "入園手続き",  # Japanese
         "online applications", "childcare", "disaster information", "bus", "case 4321"]  # English
SHORT = ["防災", "健診", "DX", "AI"]  # under 3 characters: no trigram, LIKE in both


def _bench_search() -> Any:
    """bench/search.py (its generator); named apart from the `search` package."""
    spec = importlib.util.spec_from_file_location("bench_search", Path(__file__).with_name("search.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def timed(backend: DatabaseBackend, queries: list[str], rounds: int) -> list[float]:
    now = timezone.now()
    for q in queries:  # warm up
        await backend.search(SearchQuery(q=q, now=now))
    timings = []
    for _ in range(rounds):
        for q in queries:
            started = time.perf_counter()
            await backend.search(SearchQuery(q=q, now=now))
            timings.append((time.perf_counter() - started) * 1000)
    return timings


async def same_answers(queries: list[str]) -> bool:
    """The index changes the speed, never the answer."""
    now = timezone.now()
    for q in queries:
        with_index = await DatabaseBackend().search(SearchQuery(q=q, now=now, per_page=50))
        scanned = await DatabaseBackend(trigram=False).search(SearchQuery(q=q, now=now, per_page=50))
        if (with_index.total, [h["id"] for h in with_index.hits]) != (scanned.total, [h["id"] for h in scanned.hits]):
            print(f"  DIFFERENT ANSWERS for {q!r}: {with_index.total} vs {scanned.total}")
            return False
    return True


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


async def run(engine: str, args: argparse.Namespace, work: Path) -> list[tuple[str, list[float], str]]:
    database_url = f"sqlite://{work / 'bench.sqlite3'}" if engine == "sqlite" else new_postgres_database_url()
    settings = Settings(database_url=database_url, secret_key="bench-" + "x" * 40, base_url="http://bench")
    rows: list[tuple[str, list[float], str]] = []
    try:
        await migrate_database(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await Challenge.all().delete()
            seconds = await _bench_search().load(args.n)
            print(f"{engine}: loaded {args.n:,} challenges in {seconds:.1f} s (trigram index kept in step while loading)")
            if engine == "sqlite":
                assert await same_answers(WORDS + SHORT), "the trigram path must answer as the LIKE scan does"
            rows.append(("trigram, 3+ characters", await timed(DatabaseBackend(), WORDS, args.rounds), uptime()))
            rows.append(("short terms (LIKE)", await timed(DatabaseBackend(), SHORT, args.rounds), uptime()))
            if engine == "postgres":
                client = connections.get("default")
                await client.execute_script("DROP INDEX challenge_search_trgm; ANALYZE challenge;")
            rows.append(("LIKE scan (before)", await timed(DatabaseBackend(trigram=False), WORDS, args.rounds), uptime()))
    finally:
        if engine == "postgres":
            await _drop(database_url)
    return rows


async def _drop(url: str) -> None:
    import asyncpg

    base, _, name = url.replace("postgres://", "postgresql://", 1).rpartition("/")
    connection = await asyncpg.connect(base + "/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def main(args: argparse.Namespace) -> None:
    engines = args.engines.split(",")
    if len(engines) > 1:  # Tortoise keeps per-model SQL of the first engine: one process per engine
        for engine in engines:
            subprocess.run([sys.executable, __file__, "--n", str(args.n), "--rounds", str(args.rounds),
                            "--engines", engine], check=True)
        return
    logging.disable(logging.WARNING)
    results = {}
    for engine in engines:
        work = Path(tempfile.mkdtemp(prefix="kyoso-db-search-"))
        try:
            results[engine] = await run(engine, args, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nDatabaseBackend.search over {args.n:,} challenges, {args.rounds} rounds of each query, cores {os.cpu_count()}:")
    for engine, rows in results.items():
        before = percentile(rows[-1][1], .95)
        for label, timings, load in rows:
            p95 = percentile(timings, .95)
            verdict = "ok" if p95 <= P95_LIMIT_MS else "OVER"
            print(f"  {engine:<8} {label:<24} p50 {percentile(timings, .5):7.1f} ms  p95 {p95:7.1f} ms  "
                  f"limit {P95_LIMIT_MS:.0f} ms {verdict:<4}  {before / p95:5.1f}× faster than the scan  n={len(timings)}")
            print(f"           {load}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--engines", default="sqlite,postgres")
    asyncio.run(main(parser.parse_args()))
