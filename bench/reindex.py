"""`kyoso reindex` beside a raw bulk add of the same documents to Meilisearch, in the same run: time and memory.

Loads N synthetic challenges (bench/search.py's generator) into a scratch SQLite database and starts a
Meilisearch, then:
  1. Kyoso's reindex (search.sync.rebuild_index: rows read in batches, documents built and sent in batches, a
     new index swapped in), with its progress reporter, timed, and the peak of Python's allocations during it
     (tracemalloc) beside the size of all the documents held at once;
  2. a raw bulk add: every document already in memory, sent to a fresh index in the same batch size, timed.
Prints the time ratio beside the issue's 2× limit, and the memory peak beside all documents at once.

    .venv/bin/python bench/reindex.py [--n 10000|100000]

Everything stays on this machine (loopback only) and every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from models.challenges.models import Challenge  # noqa: E402
from search.backend import FallbackBackend  # noqa: E402
from search.meili import BATCH_SIZE, MeiliBackend  # noqa: E402
from search.sync import documents_for_reindex, rebuild_index  # noqa: E402
from server.app import create_app  # noqa: E402
from server.cli import ReindexProgress, migrate_database  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.services import MeiliServer  # noqa: E402

TIME_LIMIT = 2.0  # issue 15: at most twice a raw bulk add of the same documents


def _bench_search() -> Any:
    spec = importlib.util.spec_from_file_location("bench_search", Path(__file__).with_name("search.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def main(args: argparse.Namespace) -> None:
    corpus = _bench_search()
    work = Path(tempfile.mkdtemp(prefix="kyoso-reindex-"))
    server = MeiliServer(work / "meili")
    server.start()
    settings = Settings(database_url=f"sqlite://{work / 'bench.sqlite3'}", meili_url=server.url,
                        meili_master_key=server.master_key, secret_key="bench-" + "x" * 40, base_url="http://bench")
    loads = [os.getloadavg()[0]]
    try:
        await migrate_database(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await Challenge.all().delete()
            await corpus.load(args.n)
            service = app.state.services.search
            assert isinstance(service, FallbackBackend) and isinstance(service.primary, MeiliBackend)
            meili = service.primary

            # Meilisearch's first indexing after its start loads its tokenizers' dictionaries (seconds): not timed
            warm = MeiliBackend(server.url, server.master_key, index="warm_up")
            await warm.prepare(wait=True)
            await warm.upsert([{"id": 1, "title_ja": "窓口の待ち時間", "title_en": "Waiting times"}])
            await warm.close()

            started = time.perf_counter()
            count = await rebuild_index(meili, progress=ReindexProgress(sys.stdout))
            reindex_seconds = time.perf_counter() - started
            loads.append(os.getloadavg()[0])
            tracemalloc.start()  # a second reindex, for its memory (tracemalloc slows Python several times over)
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            await rebuild_index(meili)
            reindex_peak = tracemalloc.get_traced_memory()[1] - base

            before = tracemalloc.get_traced_memory()[0]
            documents = [document async for document in documents_for_reindex()]
            all_documents = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()

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

    mib = 1024 * 1024
    print(f"{count:,} public documents of {args.n:,} challenges (load average {min(loads):.1f}–{max(loads):.1f}):")
    print(f"  kyoso reindex (read in batches, build, add, swap)  {reindex_seconds:6.1f} s = {count / reindex_seconds:7,.0f} docs/s")
    print(f"  raw bulk add of the same documents                 {raw_seconds:6.1f} s = {count / raw_seconds:7,.0f} docs/s")
    print(f"  time: reindex / raw = {reindex_seconds / raw_seconds:.2f}× (limit {TIME_LIMIT}×)")
    print(f"  memory: reindex's peak Python allocations {reindex_peak / mib:.1f} MiB, all documents at once "
          f"{all_documents / mib:.1f} MiB: {reindex_peak / max(all_documents, 1):.2f}× (it holds one batch of {BATCH_SIZE:,} documents, so the peak stays put as N grows)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, choices=[1_000, 10_000, 100_000])
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))
