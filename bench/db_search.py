"""Database search backend: trigram index (SQLite FTS5 / PostgreSQL pg_trgm) against the LIKE scan.

Loads N synthetic challenges (bench/search.py's generator, Japanese and English) into a scratch
database per engine, then times `DatabaseBackend.search` (the whole search: words, the visitor's
policy filter, facet counts, one page) over a mix of Japanese and English queries:
  - "trigram": the backend as shipped (terms of 3+ characters answered from the index);
  - "LIKE scan": words matched as before issue #15, by scanning every row's JSON text with LIKE (the
    backend with trigram=False; PostgreSQL also without the trigram index);
  - short terms (2 characters, no trigram of their own) and typos (nothing matches as typed, so one
    typo is forgiven: a second search), shown apart.
PostgreSQL is vacuumed after the load, as autovacuum would, so counting can read the index alone.
It prints p50/p95 beside the issue's limit (p95 ≤ 30 ms) and the load average (`uptime`).

Recall: the same challenges are indexed in a real Meilisearch (started here, as the tests do), and a
held-out set of realistic queries (RECALL_QUERIES: Japanese and English, with the variants and typos a
clerk types; written before measuring, never tuned to the backend) is sent to both. Of Meilisearch's top 5
for each query, the share the database backend's top 5 also finds, counted two ways:
  - same challenges: the very ids;
  - as relevant: a database hit counts for one of Meilisearch's top 5 when Meilisearch's own ranking
    score gives it at least that hit's score (exactly, and within 0.01: scores that close differ only in
    where in a field the word stands or the order of the tags). The synthetic challenges repeat a dozen
    topics, so hundreds tie for first place: both backends put the newest of them first, so the ids agree
    where the relevance does, but an equally relevant hit in another order counts as found only here.
The issue's goal: within 5 points of Meilisearch (which finds 100% of its own top 5), i.e. at least 95%.

    .venv/bin/python bench/db_search.py [--n 10000] [--rounds 20] [--engines sqlite,postgres] [--json FILE]
                                        [--no-recall] [--show-misses]

`--json FILE` writes each p95 and recall beside its limit (bench/report.py), for bench/table.py.

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

from report import Row, load_average, read_rows, write_rows  # noqa: E402  (bench/ is on sys.path)
from tortoise import connections, timezone  # noqa: E402

from models.challenges.models import Challenge  # noqa: E402
from search.backend import SearchQuery  # noqa: E402
from search.database import DatabaseBackend  # noqa: E402
from search.meili import MeiliBackend  # noqa: E402
from search.sync import rebuild_index  # noqa: E402
from server.app import create_app  # noqa: E402
from server.cli import migrate_database  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.services import MeiliServer, new_postgres_database_url  # noqa: E402

P95_LIMIT_MS = 30.0  # issue 15: the database backend's p95 at most 30 ms over 10k challenges
WORDS = ["子育て支援", "オンライン申請", "申請 オンライン", "見守り", "入園手続き",  # Japanese
         "online applications", "childcare", "disaster information", "bus", "case 4321"]  # English
SHORT = ["防災", "健診", "DX", "AI"]  # under 3 characters: no trigram of their own
TYPOS = ["aplications", "checkupp", "sortng", "tourst"]  # nothing matches as typed: one typo forgiven
RECALL_LIMIT = 95.0  # issue 15: within 5 points of Meilisearch's top 5
TOP = 5
CLOSE = 0.01  # Meilisearch ranking scores this close count as equally relevant (see above)
# Held out: what clerks type, in both languages, with variants and typos; not the timing queries above.
RECALL_QUERIES = [
    "保育園 入園", "高齢者 見守り", "防災情報", "窓口 待ち時間", "健診 予約", "ごみ 分別", "コミュニティバス",
    "観光案内", "文書管理", "子育て 申請", "スマートフォン", "紙の書類", "残業", "データ活用", "デジタル化",
    "八王子市", "学校 連絡", "ゴミ 分別", "ＤＸ", "効率化",
    "nursery admission", "elderly", "disaster information", "waiting times", "health checkup", "waste sorting",
    "community bus", "tourist information", "document management", "smartphone", "overtime", "Digitise",
    "chidlcare", "nursary", "disastr", "digitize", "bookings",
]


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


async def recall(meili: MeiliBackend, database: DatabaseBackend, show_misses: bool = False) -> dict[str, Any]:
    """Of Meilisearch's top 5 per query, the share the database's top 5 finds: the same ids, and as relevant
    by Meilisearch's own ranking score (see the module's docstring)."""
    now = timezone.now()
    wanted = same = as_relevant = close = 0
    misses = []
    for q in RECALL_QUERIES:
        request = meili._request(SearchQuery(q=q, per_page=10_000, now=now))  # the app's own request, scored
        request.update(attributesToRetrieve=["id"], showRankingScore=True, facets=[])
        for key in ("attributesToHighlight", "attributesToCrop"):
            request.pop(key, None)
        response = await meili.client.http_client.post("multi-search", json={"queries": [request]})
        response.raise_for_status()
        scores = {hit["id"]: hit["_rankingScore"] for hit in response.json()["results"][0]["hits"]}
        meili_top = [hit["id"] for hit in (await meili.search(SearchQuery(q=q, per_page=TOP, now=now))).hits]
        database_top = [hit["id"] for hit in (await database.search(SearchQuery(q=q, per_page=TOP, now=now))).hits]
        wanted += len(meili_top)
        same += len(set(meili_top) & set(database_top))
        theirs = sorted((scores[i] for i in meili_top), reverse=True)
        ours = sorted((scores.get(i, 0.0) for i in database_top), reverse=True) + [-1.0] * TOP
        equal = sum(1 for mine, best in zip(ours, theirs, strict=False) if mine >= best - 1e-9)
        as_relevant += equal
        if show_misses and equal < len(meili_top):
            print(f"  {q!r}: {equal}/{len(meili_top)} as relevant; Meilisearch's top scores "
                  f"{[round(score, 4) for score in theirs]}, the database's {[round(score, 4) for score in ours[:TOP]]}")
        found = sum(1 for mine, best in zip(ours, theirs, strict=False) if mine >= best - CLOSE)
        close += found
        if found < len(meili_top):
            misses.append(f"{q} ({found}/{len(meili_top)})")
    return {"wanted": wanted, "same": 100 * same / wanted, "as_relevant": 100 * as_relevant / wanted,
            "close": 100 * close / wanted, "misses": misses}


async def meili_recall(work: Path, show_misses: bool) -> dict[str, Any]:
    """Index the loaded challenges in a Meilisearch of our own and measure recall against it."""
    server = MeiliServer(work / "meili")
    server.start()
    meili = MeiliBackend(server.url, server.master_key, index="recall")
    try:
        count = await rebuild_index(meili)
        print(f"Meilisearch: {count:,} public challenges indexed; {len(RECALL_QUERIES)} held-out queries")
        return await recall(meili, DatabaseBackend(), show_misses)
    finally:
        await meili.close()
        server.stop()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


async def run(engine: str, args: argparse.Namespace, work: Path) -> tuple[list[tuple[str, list[float], str]], dict[str, Any]]:
    database_url = f"sqlite://{work / 'bench.sqlite3'}" if engine == "sqlite" else new_postgres_database_url()
    settings = Settings(database_url=database_url, secret_key="bench-" + "x" * 40, base_url="http://bench")
    rows: list[tuple[str, list[float], str]] = []
    found: dict[str, Any] = {}
    try:
        await migrate_database(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await Challenge.all().delete()
            seconds = await _bench_search().load(args.n)
            print(f"{engine}: loaded {args.n:,} challenges in {seconds:.1f} s (trigram index kept in step while loading)")
            if engine == "postgres":  # what autovacuum does after a bulk load, so counting can read the index alone
                await connections.get("default").execute_script("VACUUM ANALYZE challenge")
            if engine == "sqlite":
                assert await same_answers(WORDS + SHORT), "the trigram path must answer as the LIKE scan does"
            rows.append(("trigram, 3+ characters", await timed(DatabaseBackend(), WORDS, args.rounds), uptime()))
            rows.append(("short terms (2 characters)", await timed(DatabaseBackend(), SHORT, args.rounds), uptime()))
            rows.append(("typos (none as typed)", await timed(DatabaseBackend(), TYPOS, args.rounds), uptime()))
            if args.recall:
                found = await meili_recall(work, args.show_misses)
            if engine == "postgres":
                client = connections.get("default")
                await client.execute_script("DROP INDEX challenge_search_words; ANALYZE challenge;")
            rows.append(("LIKE scan (before)", await timed(DatabaseBackend(trigram=False), WORDS, args.rounds), uptime()))
    finally:
        if engine == "postgres":
            await _drop(database_url)
    return rows, found


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
        parts = []
        for engine in engines:
            part = Path(tempfile.mkstemp(prefix=f"kyoso-db-search-{engine}-", suffix=".json")[1])
            subprocess.run([sys.executable, __file__, "--n", str(args.n), "--rounds", str(args.rounds),
                            "--engines", engine, "--json", str(part), *([] if args.recall else ["--no-recall"]),
                            *(["--show-misses"] if args.show_misses else [])],
                           check=True)
            parts.extend(read_rows(part))
            part.unlink()
        write_rows(args.json, parts)
        return
    logging.disable(logging.WARNING)
    (engine,) = engines
    work = Path(tempfile.mkdtemp(prefix="kyoso-db-search-"))
    try:
        rows, found = await run(engine, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nDatabaseBackend.search over {args.n:,} challenges, {args.rounds} rounds of each query, cores {os.cpu_count()}:")
    figures = []
    before = percentile(rows[-1][1], .95)
    for label, timings, load in rows:
        p50, p95 = percentile(timings, .5), percentile(timings, .95)
        verdict = "ok" if p95 <= P95_LIMIT_MS else "OVER"
        print(f"  {engine:<8} {label:<26} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  limit {P95_LIMIT_MS:.0f} ms "
              f"ratio {p95 / P95_LIMIT_MS:4.2f} {verdict:<4}  {before / p95:5.1f}× faster than the scan  n={len(timings)}  "
              f"slowest {max(timings):.0f} ms")
        print(f"           {load}")
        if "before" not in label:
            figures.append(Row(f"database search {engine}, {args.n:,} challenges, {label}: p95", p95, "ms", P95_LIMIT_MS,
                               load=load_average()))
    if found:
        load = uptime()
        for key, label in (("close", f"as relevant, scores within {CLOSE}"), ("as_relevant", "as relevant, equal scores"),
                           ("same", "the same challenges")):
            figure = found[key]
            verdict = "ok" if figure >= RECALL_LIMIT else "UNDER"
            ratio = figure / RECALL_LIMIT  # an at-least limit: 1 or more meets it
            print(f"  {engine:<8} recall, top {TOP}, {label:<30} {figure:5.1f} %  limit ≥ {RECALL_LIMIT:.0f} %  "
                  f"ratio {ratio:4.2f} {verdict}  (of {found['wanted']} Meilisearch hits)")
            figures.append(Row(f"database search {engine}, recall of Meilisearch's top {TOP}, {label}", figure, "%",
                               RECALL_LIMIT, at_most=False, load=load_average()))
        print(f"           not all found within {CLOSE}: {', '.join(found['misses']) or 'none'}")
        print(f"           {load}")
    write_rows(args.json, figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--json", type=Path, help="also write the figures there, for bench/table.py")
    parser.add_argument("--no-recall", dest="recall", action="store_false", help="skip the Meilisearch recall check")
    parser.add_argument("--show-misses", action="store_true",
                        help="print each query whose database top 5 is not as relevant (equal scores) as Meilisearch's")
    asyncio.run(main(parser.parse_args()))
