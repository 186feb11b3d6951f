"""Search benchmark: indexing throughput, commit-to-searchable time, and query latency.

Loads N synthetic challenges (Japanese and English) into a scratch database and a Meilisearch it
starts itself, then prints:
  - indexing throughput of `kyoso reindex`'s code (read from the database, build, swap), docs/s;
  - commit to searchable: one change committed with its outbox message, drained by the outbox
    consumer, until Meilisearch finds it (p50/p95);
  - search latency p50/p95/p99 over a fixed mix of queries (plain, typo, Japanese, filtered, sorted):
    Meilisearch and the database backend through Kyoso's API (in-process ASGI), the database backend
    called directly, and the same requests sent straight to Meilisearch; and the ratios.

    .venv/bin/python bench/search.py [--n 1000|10000|100000] [--database-url postgres://...]

Everything stays on this machine (loopback only) and every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import httpx2  # noqa: E402
from tortoise import timezone  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

from models.challenges.models import Challenge  # noqa: E402
from models.core import outbox  # noqa: E402
from models.identity.orgs import Category, Organisation, OrgKind  # noqa: E402
from search.backend import FallbackBackend  # noqa: E402
from search.database import DatabaseBackend  # noqa: E402
from search.meili import MeiliBackend  # noqa: E402
from search.sync import TOPIC, consumer, rebuild_index  # noqa: E402
from server.app import create_app  # noqa: E402
from server.cli import migrate_database  # noqa: E402
from server.schemas.discovery import ChallengeSearchQuery  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.services import MeiliServer  # noqa: E402

TOPICS = [  # (category, ja, en)
    ("childcare", "子育て支援の申請", "childcare support applications"),
    ("childcare", "保育園の入園手続き", "nursery admission procedures"),
    ("elderly-care", "高齢者の見守り", "watching over elderly residents"),
    ("disaster-prevention", "防災情報の配信", "disaster information delivery"),
    ("administrative-procedures", "窓口の待ち時間", "waiting times at the counter"),
    ("administrative-procedures", "オンライン申請", "online applications"),
    ("health", "健診の予約", "health checkup booking"),
    ("education", "学校との連絡", "school communications"),
    ("environment", "ごみの分別", "waste sorting"),
    ("mobility", "コミュニティバスの運行", "community bus routes"),
    ("tourism", "観光案内", "tourist information"),
    ("internal-operations", "庁内の文書管理", "internal document management"),
]
AIMS = [("を改善したい", "Improve"), ("を効率化したい", "Streamline"), ("をデジタル化したい", "Digitise"),
        ("を分かりやすくしたい", "Simplify")]
SITUATIONS = [
    ("紙の書類が多く、処理に時間がかかっている。", "Paper forms slow down processing."),
    ("スマートフォンでの操作が難しいという声が多い。", "Residents say it is hard to use on a smartphone."),
    ("職員の負担が大きく、繁忙期には残業が続く。", "Staff workload is heavy and overtime is common in busy seasons."),
    ("利用者データが活用されていない。", "User data is not being used."),
]
STATUSES = ["published"] * 6 + ["closed"] * 2 + ["decided"] + ["draft", "in_review", "cancelled"]
TAGS = ["子育て", "オンライン申請", "DX", "防災", "高齢者", "AI", "データ活用", "窓口", "交通", "観光"]

QUERY_MIX: list[tuple[str, dict[str, Any]]] = [
    ("plain en", {"q": "online applications"}),
    ("plain ja", {"q": "子育て支援"}),
    ("ja two words", {"q": "申請 オンライン"}),
    ("ja kanji only", {"q": "防災"}),
    ("typo en", {"q": "chidlcare"}),
    ("typo en 2", {"q": "disastr information"}),
    ("filtered", {"category": "childcare", "municipality_type": "ward"}),
    ("words+filters", {"q": "予約", "status": "published", "budget_min": "1000000"}),
    ("sorted deadline", {"sort": "deadline"}),
    ("words+sorted", {"q": "bus", "sort": "budget"}),
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values_ms: list[float]) -> str:
    return (f"p50 {percentile(values_ms, .5):7.1f} ms  p95 {percentile(values_ms, .95):7.1f} ms  "
            f"p99 {percentile(values_ms, .99):7.1f} ms  (n={len(values_ms)})")


async def load(n: int, seed: int = 7) -> float:
    """N synthetic challenges, bulk-inserted; returns the seconds it took."""
    rng = random.Random(seed)
    agencies = await Organisation.filter(kind=OrgKind.AGENCY.value).filter(municipality_code__isnull=False)
    categories = {c.slug: c for c in await Category.all()}
    now = timezone.now()
    started = time.perf_counter()
    batch: list[Challenge] = []
    for i in range(n):
        slug, topic_ja, topic_en = rng.choice(TOPICS)
        aim_ja, aim_en = rng.choice(AIMS)
        situation_ja, situation_en = rng.choice(SITUATIONS)
        languages = rng.choices([("ja", "en"), ("ja",), ("en",)], weights=[7, 2, 1])[0]

        def text(ja: str, en: str, languages: tuple[str, ...] = languages) -> dict[str, str]:
            return {lang: value for lang, value in (("ja", ja), ("en", en)) if lang in languages}

        status = rng.choice(STATUSES)
        budget_min = rng.choice([None, 500_000, 1_000_000, 3_000_000, 5_000_000])
        batch.append(Challenge(
            owner_id=rng.choice(agencies).id, category_id=categories[slug].id, status=status,
            title=text(f"{topic_ja}{aim_ja}（案件{i}）", f"{aim_en} {topic_en} (case {i})"),
            summary=text(f"{topic_ja}について、{situation_ja}", f"About {topic_en}: {situation_en}"),
            situation=text(situation_ja, situation_en),
            problem=text(f"{topic_ja}の手続きが複雑で、住民の満足度が低い。", f"The {topic_en} process is complex."),
            outcome=text("10分以内の完了率を60%以上にする。", "At least 60% complete it within 10 minutes."),
            tags=rng.sample(TAGS, k=rng.randint(0, 3)), languages=list(languages),
            budget_min_yen=budget_min,
            budget_max_yen=budget_min * rng.choice([2, 3, 5]) if budget_min else None,
            proposals_deadline=now + timedelta(days=rng.randint(-90, 120), hours=rng.randint(0, 23)),
            published_at=None if status in ("draft", "in_review", "cancelled") else now - timedelta(days=rng.randint(0, 700), minutes=i),
        ))
        if len(batch) == 1000:
            await Challenge.bulk_create(batch)
            batch = []
    if batch:
        await Challenge.bulk_create(batch)
    return time.perf_counter() - started


async def timed(repeat: int, call: Callable[[dict[str, Any]], Awaitable[None]]) -> list[float]:
    timings: list[float] = []
    for _ in range(repeat):
        for _name, params in QUERY_MIX:
            started = time.perf_counter()
            await call(params)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


async def commit_to_searchable(meili: MeiliBackend, direct: httpx2.AsyncClient, samples: int) -> list[float]:
    consume = consumer(meili)
    owner = await Organisation.get(municipality_code="131016")
    category = await Category.get(slug="childcare")
    timings = []
    for _ in range(samples):
        word = "".join(random.choices("abcdefghijklmnopqrstuvwxyz", k=12))
        async with in_transaction():
            challenge = await Challenge.create(
                owner=owner, category=category, status="published", title={"ja": f"新しい課題 {word}", "en": f"New challenge {word}"},
                summary={"en": "Just published."}, tags=[], published_at=timezone.now(),
            )
            await outbox.enqueue(TOPIC, f"challenge:{challenge.id}", {"kind": "challenge", "id": challenge.id})
        started = time.perf_counter()
        await outbox.drain({TOPIC: consume})
        deadline = started + 30
        while time.perf_counter() < deadline:
            response = await direct.post(f"indexes/{meili.index_uid}/search", json={"q": word, "limit": 1})
            if response.json()["hits"]:
                break
            await asyncio.sleep(0.002)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="kyoso-bench-"))
    database_url = args.database_url or f"sqlite://{work / 'bench.sqlite3'}"
    server = MeiliServer(work / "meili")
    server.start()
    settings = Settings(database_url=database_url, meili_url=server.url, meili_master_key=server.master_key,
                        secret_key="bench-" + "x" * 40, base_url="http://bench")
    try:
        await migrate_database(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            print(f"Kyoso search benchmark: {args.n} challenges, database {database_url.split(':')[0]}, "
                  f"Meilisearch {server.url}")
            await Challenge.all().delete()
            seconds = await load(args.n)
            public = await Challenge.filter(status__in=["published", "closed", "decided"]).count()
            print(f"loaded {args.n} challenges ({public} public) into the database in {seconds:.1f} s "
                  f"({args.n / seconds:,.0f} rows/s)")

            service = app.state.services.search
            assert isinstance(service, FallbackBackend) and isinstance(service.primary, MeiliBackend)
            meili = service.primary
            started = time.perf_counter()
            count = await rebuild_index(meili)
            seconds = time.perf_counter() - started
            print(f"\nindexing (kyoso reindex: read, build a new index, swap): {count} documents in {seconds:.1f} s "
                  f"= {count / seconds:,.0f} docs/s")

            # the same headers as Kyoso's client (no compression, see search.meili)
            direct = httpx2.AsyncClient(base_url=server.url, headers=dict(meili.client.http_client.headers), timeout=30)
            timings = await commit_to_searchable(meili, direct, args.samples)
            print(f"commit to searchable (outbox consumer, one change at a time): p50 {percentile(timings, .5):.0f} ms"
                  f"  p95 {percentile(timings, .95):.0f} ms  (n={len(timings)}; in production add the drain delay:"
                  f" the cron drains every 10 s)")

            api = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://bench")
            database = DatabaseBackend()

            async def via_api(params: dict[str, Any]) -> None:
                response = await api.get("/api/v1/challenges?" + urlencode(params))
                assert response.status_code == 200 and not response.json()["degraded"], response.text

            async def meili_direct(params: dict[str, Any]) -> None:
                query = ChallengeSearchQuery.model_validate(params).to_search_query()
                own = [facet for facet in ("category", "agency", "municipality_type", "status") if query.facet_values(facet)]
                queries = [meili._request(query), *(meili._facet_request(query, facet) for facet in own)]
                response = await direct.post("multi-search", json={"queries": queries})
                response.raise_for_status()

            async def database_direct(params: dict[str, Any]) -> None:
                await database.search(ChallengeSearchQuery.model_validate(params).to_search_query())

            for call in (via_api, meili_direct):  # warm up caches and connections
                await timed(1, call)
            print(f"\nsearch latency over {len(QUERY_MIX)} queries × {args.rounds} rounds "
                  f"({', '.join(name for name, _ in QUERY_MIX)}):")
            results = {}
            results["meili direct"] = await timed(args.rounds, meili_direct)
            results["meili via API"] = await timed(args.rounds, via_api)
            app.state.services.search = database
            db_rounds = max(3, args.rounds // 4) if args.n > 20_000 else args.rounds
            results["database via API"] = await timed(db_rounds, via_api)
            results["database direct"] = await timed(db_rounds, database_direct)
            app.state.services.search = service
            for name, values in results.items():
                print(f"  {name:<18} {summary(values)}")
            p50 = {name: percentile(values, .5) for name, values in results.items()}
            print(f"ratios (p50): Kyoso API / Meilisearch direct = {p50['meili via API'] / p50['meili direct']:.1f}×; "
                  f"database / Meilisearch via the API = {p50['database via API'] / p50['meili via API']:.1f}×")
            per_query = []
            for name, params in QUERY_MIX:
                one = [await _time(via_api, params) for _ in range(5)]
                app.state.services.search = database
                db = [await _time(via_api, params) for _ in range(3)]
                app.state.services.search = service
                per_query.append(f"  {name:<16} meili via API {percentile(one, .5):6.1f} ms   database via API {percentile(db, .5):7.1f} ms")
            print("per query (p50):")
            print("\n".join(per_query))
            await api.aclose()
            await direct.aclose()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        if args.database_url:
            print(f"(the scratch database {args.database_url} is left in place)")


async def _time(call: Callable[[dict[str, Any]], Awaitable[None]], params: dict[str, Any]) -> float:
    started = time.perf_counter()
    await call(params)
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, choices=[1_000, 10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the query mix")
    parser.add_argument("--samples", type=int, default=30, help="single changes timed from commit to searchable")
    parser.add_argument("--database-url", help="a scratch database (default: a new SQLite file)")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))
