"""Search through Kyoso's API against the same searches sent straight to Meilisearch, in the same run.

Loads N synthetic challenges (bench/search.py's generator) into a scratch SQLite database and a Meilisearch it
starts itself, starts `kyoso serve` (KYOSO_ENV=production, as deployed) on a loopback port, then times the query
mix of bench/search.py, interleaving one request to Kyoso's API with the same multi-search sent straight to
Meilisearch, both over HTTP with kept-alive connections. Prints p50/p95 of both, the p95 ratio beside its 1.3×
limit and the API's p95 beside its 12 ms limit (issue 15). `--via asgi` calls the app in this process instead (no HTTP server;
with `--profile`, where its time goes).

    .venv/bin/python bench/search_api.py [--n 10000] [--rounds 30] [--via http|asgi [--profile]]

Everything stays on this machine (loopback only) and every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import logging
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import httpx2  # noqa: E402
from report import Row, write_rows  # noqa: E402  (bench/ is on sys.path)

from models.challenges.models import Challenge  # noqa: E402
from search.backend import FallbackBackend  # noqa: E402
from search.meili import MeiliBackend  # noqa: E402
from search.sync import rebuild_index  # noqa: E402
from server.app import create_app  # noqa: E402
from server.cli import migrate_database  # noqa: E402
from server.devrun import free_port, wait_for_port  # noqa: E402
from server.schemas.discovery import ChallengeSearchQuery  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.services import MeiliServer  # noqa: E402

RATIO_LIMIT = 1.3  # issue 15: the API's p95 at most 1.3× Meilisearch's own
P95_LIMIT_MS = 12.0  # ... and at most 12 ms


def _bench_search() -> Any:
    """bench/search.py (its generator and query mix); named apart from the `search` package."""
    spec = importlib.util.spec_from_file_location("bench_search", Path(__file__).with_name("search.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def main(args: argparse.Namespace) -> None:
    corpus = _bench_search()
    work = Path(tempfile.mkdtemp(prefix="kyoso-search-api-"))
    server = MeiliServer(work / "meili")
    server.start()
    settings = Settings(database_url=f"sqlite://{work / 'bench.sqlite3'}", meili_url=server.url,
                        meili_master_key=server.master_key, secret_key="bench-" + "x" * 40, base_url="http://bench")
    try:
        await migrate_database(settings)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            await Challenge.all().delete()
            await corpus.load(args.n)
            service = app.state.services.search
            assert isinstance(service, FallbackBackend) and isinstance(service.primary, MeiliBackend)
            meili = service.primary
            count = await rebuild_index(meili)
            print(f"{args.n} challenges, {count} public in Meilisearch ({server.url})")

            # the same headers as Kyoso's own client, so that both pay the same for the connection
            direct = httpx2.AsyncClient(base_url=server.url, headers=dict(meili.client.http_client.headers), timeout=30)
            web = None
            if args.via == "http":
                port = free_port()
                env = dict(os.environ, KYOSO_ENV="production", DATABASE_URL=settings.database_url, MEILI_URL=server.url,
                           MEILI_MASTER_KEY=server.master_key, SECRET_KEY=settings.secret_key or "")
                for name in ("REDIS_URL", "SMTP_URL"):
                    env.pop(name, None)
                web = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], cwd=REPO_ROOT,
                                       env=env, stdout=subprocess.DEVNULL, stderr=(work / "web.log").open("w"))
                wait_for_port(port, web, timeout=60)
                api = httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
            else:
                api = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://bench")

            async def via_api(params: dict[str, Any]) -> None:
                response = await api.get("/api/v1/challenges?" + urlencode(params))
                assert response.status_code == 200 and not response.json()["degraded"], response.text

            async def meili_direct(params: dict[str, Any]) -> None:
                query = ChallengeSearchQuery.model_validate(params).to_search_query()
                own = [facet for facet in ("category", "agency", "municipality_type", "status") if query.facet_values(facet)]
                queries = [meili._request(query), *(meili._facet_request(query, facet) for facet in own)]
                response = await direct.post("multi-search", json={"queries": queries})
                response.raise_for_status()
                response.json()

            for _ in range(2):  # warm up caches and connections
                for _name, params in corpus.QUERY_MIX:
                    await via_api(params)
                    await meili_direct(params)
            async def hop(_params: dict[str, Any]) -> None:  # the HTTP round trip alone, for scale
                assert (await api.get("/healthz")).status_code == 200

            timings: dict[str, list[float]] = {"api": [], "direct": [], "hop": []}
            profile = cProfile.Profile() if args.profile else None
            loads = [os.getloadavg()[0]]
            for round_ in range(args.rounds):
                for _name, params in corpus.QUERY_MIX:
                    order = [("direct", meili_direct), ("api", via_api), ("hop", hop)]
                    for name, call in order if round_ % 2 else order[::-1]:  # neither always goes first
                        if profile and name == "api":
                            profile.enable()
                        started = time.perf_counter()
                        await call(params)
                        timings[name].append((time.perf_counter() - started) * 1000)
                        if profile and name == "api":
                            profile.disable()
                loads.append(os.getloadavg()[0])
            await api.aclose()
            await direct.aclose()
            if web is not None:
                web.terminate()
                web.wait(timeout=20)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    p = corpus.percentile
    n = len(timings["api"])
    where = "`kyoso serve` over loopback HTTP" if args.via == "http" else "the app in this process (ASGI)"
    print(f"through Kyoso's API: {where}")
    print(f"search over the query mix ({len(corpus.QUERY_MIX)} queries × {args.rounds} rounds, n={n} each; "
          f"load average {min(loads):.1f}–{max(loads):.1f} over the run):")
    for name, label in (("direct", "Meilisearch direct"), ("api", "through Kyoso's API"), ("hop", "Kyoso's /healthz")):
        print(f"  {label:<20} p50 {p(timings[name], .5):6.2f} ms   p95 {p(timings[name], .95):6.2f} ms")
    ratio95 = p(timings["api"], .95) / p(timings["direct"], .95)
    ratio50 = p(timings["api"], .5) / p(timings["direct"], .5)
    api95 = p(timings["api"], .95)
    print(f"  API / direct: p95 {ratio95:.2f}× (limit {RATIO_LIMIT}×), p50 {ratio50:.2f}×;"
          f"  API p95 {api95:.2f} ms (limit {P95_LIMIT_MS:.0f} ms, {api95 / P95_LIMIT_MS:.2f}× the limit)")
    write_rows(args.json, [
        Row(f"search via the API ({args.via}), p95 / raw Meilisearch's p95, {args.n:,} challenges", ratio95, "×",
            RATIO_LIMIT, load=max(loads)),
        Row(f"search via the API ({args.via}), p95, {args.n:,} challenges", api95, "ms", P95_LIMIT_MS, load=max(loads)),
    ])
    if profile:
        pstats.Stats(profile).sort_stats(args.sort).print_stats(45)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, choices=[1_000, 10_000, 100_000])
    parser.add_argument("--rounds", type=int, default=30, help="passes over the query mix")
    parser.add_argument("--via", choices=["http", "asgi"], default="http", help="how the API is reached")
    parser.add_argument("--profile", action="store_true", help="with --via asgi: where the API's time goes (cProfile)")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (cumulative, tottime)")
    parser.add_argument("--json", type=Path, help="also write the figures there, for bench/table.py")
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parser.parse_args()))
