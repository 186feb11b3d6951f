"""A public challenge page for a visitor: `kyoso serve` beside a bare Starlette + Jinja2 app serving the same HTML
from memory, in the same run, on loopback, through the same load generator.

Makes a scratch PostgreSQL database, publishes one challenge through Kyoso's API (in-process), starts
`kyoso serve` (one process) and the bare app (uvicorn, one process), then for each: requests/s and p95 with
C connections for T seconds (at most N requests), plain and revalidating (If-None-Match → 304). Prints both
and the ratio beside the issue's 0.1× goal. The load generator is this process (keep-alive HTTP/1.1 over raw
asyncio streams): on 2 cores it shares the CPU with the server it measures, so both figures are its, not a
production figure.

    .venv/bin/python bench/pages.py [--seconds 5] [--connections 8] [--page-cache-seconds 0]

Everything stays on this machine (loopback only) and every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("KYOSO_FAST_PASSWORD_HASHING", "1")

import httpx2  # noqa: E402

from models.identity.accounts import Role, create_api_token  # noqa: E402
from models.identity.orgs import Organisation  # noqa: E402
from models.identity.people import create_person  # noqa: E402
from server.app import create_app  # noqa: E402
from server.cli import migrate_database  # noqa: E402
from server.devrun import free_port, wait_for_port  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.helpers import complete_challenge  # noqa: E402
from tests.services import new_postgres_database_url, redis_server  # noqa: E402

GOAL = 0.1  # issue 15: visitors' pages at ≥ 0.1× the bare app's requests/s
MAX_REQUESTS = 200_000

BARE_APP = '''
from pathlib import Path
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

HTML = Path({html!r}).read_text()
TEMPLATE = Environment(autoescape=False).from_string("{{{{ html }}}}")

async def page(request):
    return HTMLResponse(TEMPLATE.render(html=HTML))

app = Starlette(routes=[Route({path!r}, page)])
'''


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def publish_one(database_url: str) -> int:
    settings = Settings(kyoso_env="dev", database_url=database_url, secret_key="bench-" + "x" * 40,
                        base_url="http://bench")
    await migrate_database(settings)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        agency = await Organisation.get(municipality_code="131041")
        tag = random.randrange(10**9)
        member = await create_person(email=f"pages-{tag}@example.jp", name="Bench agency", password="bench bench bench",
                                     organisation=agency, role=Role.MEMBER)
        operator = await create_person(email=f"pages-op-{tag}@example.jp", name="Bench operator",
                                       password="bench bench bench", organisation=None, operator=True)
        as_member = {"Authorization": f"Bearer {(await create_api_token(member))[1]}"}
        as_operator = {"Authorization": f"Bearer {(await create_api_token(operator))[1]}"}
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://bench") as api:
            draft = (await api.post("/api/v1/challenges", json=complete_challenge(), headers=as_member)).json()
            url = f"/api/v1/challenges/{draft['id']}/transitions"
            assert (await api.post(url, json={"to": "in_review"}, headers=as_member)).status_code == 200
            assert (await api.post(url, json={"to": "published"}, headers=as_operator)).status_code == 200
        return int(draft["id"])


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length, etag = 0, b""
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "etag":
            etag = value.strip().encode()
    if length:
        await reader.readexactly(length)
    return status, etag


async def load(port: int, path: str, seconds: float, connections: int, revalidate: bool) -> tuple[float, float, int]:
    """Requests/s, p95 (ms) and how many, with `connections` kept-alive connections for `seconds`."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Language: ja\r\n".encode()
    etag = b""
    if revalidate:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request + b"\r\n")
        status, etag = await _read_response(reader)
        writer.close()
        assert status == 200 and etag, "no ETag to revalidate with"
        request += b"If-None-Match: " + etag + b"\r\n"
    request += b"\r\n"
    timings: list[float] = []
    deadline = time.perf_counter() + seconds

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline and len(timings) < MAX_REQUESTS:
                started = time.perf_counter()
                writer.write(request)
                status, _ = await _read_response(reader)
                assert status == (304 if revalidate else 200), status
                timings.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return len(timings) / elapsed, percentile(timings, 0.95), len(timings)


def serve(command: list[str], port: int, env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    wait_for_port(port, process, timeout=60)
    return process


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="kyoso-pages-"))
    database_url = args.database_url or new_postgres_database_url()
    processes: list[subprocess.Popen] = []
    redis = redis_server(work / "redis")  # the kept pages' version lives in Redis (server/caching.py)
    redis_url = redis.__enter__()
    try:
        challenge_id = await publish_one(database_url)
        path = f"/challenges/{challenge_id}"
        env = dict(os.environ, KYOSO_ENV="dev", DATABASE_URL=database_url, SECRET_KEY="bench-" + "x" * 40,
                   PAGE_CACHE_SECONDS=str(args.page_cache_seconds), REDIS_URL=redis_url)
        for name in ("MEILI_URL", "SMTP_URL"):
            env.pop(name, None)
        kyoso_port = free_port()
        processes.append(serve([sys.executable, "-m", "server.cli", "serve", "--port", str(kyoso_port)],
                               kyoso_port, env, work / "kyoso.log", REPO_ROOT))
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{kyoso_port}") as client:
            page = await client.get(path, headers={"Accept-Language": "ja"})
        assert page.status_code == 200, page.text
        (work / "page.html").write_text(page.text)
        (work / "bare.py").write_text(textwrap.dedent(BARE_APP.format(html=str(work / "page.html"), path=path)))
        bare_port = free_port()
        processes.append(serve([sys.executable, "-m", "uvicorn", "bare:app", "--port", str(bare_port), "--no-access-log"],
                               bare_port, env, work / "bare.log", work))

        rows = []
        for label, port, revalidate in (("bare Starlette + Jinja2", bare_port, False),
                                        ("Kyoso, full page", kyoso_port, False),
                                        ("Kyoso, If-None-Match → 304", kyoso_port, True)):
            await load(port, path, 1.0, args.connections, revalidate)  # warm up
            rate, p95, count = await load(port, path, args.seconds, args.connections, revalidate)
            rows.append((label, rate, p95, count, os.getloadavg()[0]))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        redis.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)
        if not args.database_url:
            await _drop(database_url)

    print(f"a public challenge page for a visitor ({len(page.content):,} bytes), {args.connections} connections × "
          f"{args.seconds:.0f} s each, one server process each, Kyoso with PAGE_CACHE_SECONDS={args.page_cache_seconds:g}:")
    bare = rows[0][1]
    for label, rate, p95, count, loadavg in rows:
        print(f"  {label:<28} {rate:8,.0f} requests/s   p95 {p95:6.1f} ms   n={count:,}   "
              f"{rate / bare:5.3f}× the bare app (goal ≥ {GOAL}×)   load average {loadavg:.1f}")


async def _drop(url: str) -> None:
    import asyncpg

    base, _, name = url.replace("postgres://", "postgresql://", 1).rpartition("/")
    connection = await asyncpg.connect(base + "/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", help="default: a new scratch database on the local PostgreSQL")
    parser.add_argument("--page-cache-seconds", type=float, default=1.0, help="0: Kyoso renders every page (before)")
    asyncio.run(main(parser.parse_args()))
