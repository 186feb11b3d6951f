"""`kyoso reindex` beside a raw bulk add of the same documents to Meilisearch, in the same run: time and memory.

Loads N synthetic challenges (bench/search.py's generator) into a scratch SQLite database and starts a
Meilisearch, then:
  1. the `kyoso reindex` command as an operator runs it (a process of its own: rows read in batches, documents
     built and sent in batches, a new index swapped in; its progress lines show on stderr), timed, with the
     process's peak resident memory — beside the same command's peak on an empty database (Python, the app,
     its libraries), so the difference is what the documents cost it;
  2. a raw bulk add: every document already in this process's memory (Python's allocations for them printed too),
     sent to a fresh index in the same batch size, timed.
Prints the time ratio beside the issue's 2× limit, and the reindex's memory for documents beside all of them.

    .venv/bin/python bench/reindex.py [--n 10000|100000] [--json FILE]

Everything stays on this machine (loopback only) and every loop is bounded.
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
import tracemalloc
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from report import Row, write_rows  # noqa: E402  (bench/ is on sys.path)

from models.challenges.models import Challenge  # noqa: E402
from models.policy import VISITOR  # noqa: E402
from models.policy.challenges import challenge_filter  # noqa: E402
from search.meili import BATCH_SIZE, MeiliBackend  # noqa: E402
from search.sync import documents_for_reindex  # noqa: E402
from server.app import create_app  # noqa: E402
from server.cli import migrate_database  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.services import MeiliServer  # noqa: E402

TIME_LIMIT = 2.0  # issue 15: at most twice a raw bulk add of the same documents
MEMORY_LIMIT = 0.5  # ... and "no second copy of all documents in memory": well under one copy
MIB = 1024 * 1024


def _bench_search() -> Any:
    spec = importlib.util.spec_from_file_location("bench_search", Path(__file__).with_name("search.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_reindex(database_url: str, server: MeiliServer) -> tuple[float, float]:
    """`kyoso reindex` in a process of its own: seconds, and its peak resident memory in MiB."""
    env = dict(os.environ, KYOSO_ENV="dev", DATABASE_URL=database_url, MEILI_URL=server.url,
               MEILI_MASTER_KEY=server.master_key, SECRET_KEY="bench-" + "x" * 40)
    env.pop("REDIS_URL", None)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "server.cli", "reindex"], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, f"kyoso reindex exited {process.returncode}"
    return seconds, usage.ru_maxrss / 1024


async def main(args: argparse.Namespace) -> list[Row]:
    corpus = _bench_search()
    work = Path(tempfile.mkdtemp(prefix="kyoso-reindex-"))
    server = MeiliServer(work / "meili")
    server.start()
    empty_url, database_url = f"sqlite://{work / 'empty.sqlite3'}", f"sqlite://{work / 'bench.sqlite3'}"
    settings = Settings(database_url=database_url, meili_url=server.url,
                        meili_master_key=server.master_key, secret_key="bench-" + "x" * 40, base_url="http://bench")
    loads = [os.getloadavg()[0]]
    try:
        await migrate_database(settings.model_copy(update={"database_url": empty_url}))
        await migrate_database(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await Challenge.all().delete()
            await corpus.load(args.n)
            count = await Challenge.filter(challenge_filter(VISITOR)).count()

            # Meilisearch's first indexing after its start loads its tokenizers' dictionaries (seconds): not timed
            warm = MeiliBackend(server.url, server.master_key, index="warm_up")
            await warm.prepare(wait=True)
            await warm.upsert([{"id": 1, "title_ja": "窓口の待ち時間", "title_en": "Waiting times"}])
            await warm.close()

            empty_seconds, empty_peak = run_reindex(empty_url, server)
            print(f"kyoso reindex of an empty database: {empty_seconds:.1f} s, peak {empty_peak:.0f} MiB resident", flush=True)
            print(f"kyoso reindex of {count:,} documents (its own progress lines):", flush=True)
            reindex_seconds, reindex_peak = run_reindex(database_url, server)
            loads.append(os.getloadavg()[0])

            tracemalloc.start()  # what holding every document at once takes (Python's allocations; not timed)
            documents = [document async for document in documents_for_reindex()]
            all_documents = tracemalloc.get_traced_memory()[0] / MIB
            tracemalloc.stop()
            assert len(documents) == count

            raw = MeiliBackend(server.url, server.master_key, index="raw_bulk_add")
            await raw.prepare(wait=True)
            index = raw.client.index("raw_bulk_add")
            started = time.perf_counter()
            tasks = [(await index.add_documents(documents[i:i + BATCH_SIZE], primary_key="id")).task_uid
                     for i in range(0, len(documents), BATCH_SIZE)]
            for task in tasks:
                await raw._wait(task, 3_600_000)
            raw_seconds = time.perf_counter() - started
            loads.append(os.getloadavg()[0])
            await raw.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    for_documents = reindex_peak - empty_peak
    print(f"{count:,} public documents of {args.n:,} challenges (load average {min(loads):.1f}–{max(loads):.1f}):")
    print(f"  kyoso reindex (its own process)     {reindex_seconds:6.1f} s = {count / reindex_seconds:7,.0f} docs/s")
    print(f"  raw bulk add of the same documents  {raw_seconds:6.1f} s = {count / raw_seconds:7,.0f} docs/s")
    print(f"  time: reindex / raw = {reindex_seconds / raw_seconds:.2f}× (limit {TIME_LIMIT}×)")
    print(f"  memory: kyoso reindex peaked at {reindex_peak:.0f} MiB resident, {empty_peak:.0f} MiB on an empty database: "
          f"{for_documents:.0f} MiB for documents, against {all_documents:.0f} MiB to hold them all at once "
          f"({for_documents / max(all_documents, 1):.2f}×, limit {MEMORY_LIMIT}×: no second copy of all documents)")
    return [
        Row(f"kyoso reindex, {count:,} documents: time / a raw bulk add's", reindex_seconds / raw_seconds, "×",
            TIME_LIMIT, load=max(loads)),
        Row(f"kyoso reindex, {count:,} documents: memory for documents / all documents at once",
            for_documents / max(all_documents, 1), "×", MEMORY_LIMIT, load=max(loads)),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, choices=[1_000, 10_000, 100_000])
    parser.add_argument("--json", type=Path, help="also write the figures there, for bench/table.py")
    logging.basicConfig(level=logging.WARNING)
    arguments = parser.parse_args()
    write_rows(arguments.json, asyncio.run(main(arguments)))
