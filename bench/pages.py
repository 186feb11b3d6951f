"""The challenge list and detail pages, for a visitor and for a signed-in person: `kyoso serve` beside a bare
Starlette + Jinja2 app serving the same HTML from memory, in the same run, on loopback, through the same load
generator.

Makes a scratch PostgreSQL database, publishes challenges through Kyoso's API (in-process), opens a session for
a company member (the cookie the login form would set), starts `kyoso serve` (one process, KYOSO_ENV=production as deployed) and the bare app
(uvicorn, one process), then for each page and each reader: requests/s and p95 with C connections for T seconds
(at most N requests); for the visitor also revalidating (If-None-Match → 304). The bare app serves, for each
row, the very HTML Kyoso answered that reader. Prints each figure with the ratio to the bare app beside the
issue's goal (visitors ≥ 0.1×, signed in ≥ 0.03×). The load generator is this process (keep-alive HTTP/1.1
over raw asyncio streams): on 2 cores it shares the CPU with the server it measures, so both figures are its,
not a production figure.

    .venv/bin/python bench/pages.py [--seconds 5] [--connections 8] [--page-cache-seconds 0] [--json FILE]

`--json FILE` writes each Kyoso row's share of the bare app's requests/s beside its goal (bench/report.py), for
bench/table.py.

Everything stays on this machine (loopback only) and every loop is bounded in time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from report import Row, write_rows  # noqa: E402  (bench/ is on sys.path)

from models.identity.accounts import Role, create_api_token  # noqa: E402
from models.identity.orgs import Organisation  # noqa: E402
from models.identity.people import create_person  # noqa: E402
from models.identity.sessions import open_session  # noqa: E402
from server.app import create_app  # noqa: E402
from server.auth.sessions import SESSION_COOKIE  # noqa: E402
from server.cli import migrate_database  # noqa: E402
from server.devrun import free_port, wait_for_port  # noqa: E402
from server.settings import Settings  # noqa: E402
from tests.helpers import complete_challenge, make_company  # noqa: E402
from tests.services import new_postgres_database_url, redis_server  # noqa: E402

GOALS = {"visitor": 0.1, "signed in": 0.03}  # issue 15: × the bare app's requests/s
LISTED = 12  # challenges published: the list page shows them all
MAX_REQUESTS = 200_000

BARE_APP = '''
import json
from pathlib import Path
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

PAGES = [Path(name).read_text() for name in json.loads({pages!r})]
TEMPLATE = Environment(autoescape=False).from_string("{{{{ html }}}}")

async def page(request):
    return HTMLResponse(TEMPLATE.render(html=PAGES[request.path_params["number"]]))

app = Starlette(routes=[Route("/{{number:int}}", page)])
'''


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def make_world(database_url: str) -> tuple[int, str]:
    """`LISTED` published challenges (the detail page is the first's) and a signed-in company member's session key."""
    settings = Settings(kyoso_env="dev", database_url=database_url, secret_key="bench-" + "x" * 40,
                        base_url="http://bench")
    await migrate_database(settings)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        agency = await Organisation.get(municipality_code="131041")
        tag = random.randrange(10**9)
        company = await make_company()
        member = await create_person(email=f"pages-{tag}@example.jp", name="Bench agency", password="bench bench bench",
                                     organisation=agency, role=Role.MEMBER)
        operator = await create_person(email=f"pages-op-{tag}@example.jp", name="Bench operator",
                                       password="bench bench bench", organisation=None, operator=True)
        reader = await create_person(email=f"pages-co-{tag}@example.jp", name="Bench company",
                                     password="bench bench bench", organisation=company)
        as_member = {"Authorization": f"Bearer {(await create_api_token(member))[1]}"}
        as_operator = {"Authorization": f"Bearer {(await create_api_token(operator))[1]}"}
        ids = []
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://bench") as api:
            for _ in range(LISTED):
                draft = (await api.post("/api/v1/challenges", json=complete_challenge(), headers=as_member)).json()
                url = f"/api/v1/challenges/{draft['id']}/transitions"
                assert (await api.post(url, json={"to": "in_review"}, headers=as_member)).status_code == 200
                assert (await api.post(url, json={"to": "published"}, headers=as_operator)).status_code == 200
                ids.append(int(draft["id"]))
        return ids[0], await open_session(reader)


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


async def load(port: int, path: str, seconds: float, connections: int, revalidate: bool = False,
               cookie: str = "") -> tuple[float, float, int]:
    """Requests/s, p95 (ms) and how many, with `connections` kept-alive connections for `seconds`."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Language: ja\r\n".encode()
    if cookie:
        request += f"Cookie: {cookie}\r\n".encode()
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


async def fetch(port: int, path: str, session_key: str | None) -> tuple[str, str]:
    """The page as this reader gets it, and the cookies a browser would send back (the session, the CSRF cookie
    the first page set), so that no measured request sets a cookie again."""
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        if session_key:
            client.cookies.set(SESSION_COOKIE, session_key)
        page = await client.get(path, headers={"Accept-Language": "ja"})
        assert page.status_code == 200, page.text
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        if session_key:
            assert "Bench company" in page.text, "not signed in"
            client.cookies.clear()  # sent as the measured requests send them (the cookies are Secure, as in production)
            again = await client.get(path, headers={"Accept-Language": "ja", "Cookie": cookie})
            assert "set-cookie" not in again.headers
        return page.text, cookie


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="kyoso-pages-"))
    database_url = args.database_url or new_postgres_database_url()
    processes: list[subprocess.Popen] = []
    redis = redis_server(work / "redis")  # the kept pages' version lives in Redis (server/caching.py)
    redis_url = redis.__enter__()
    rows: list[dict] = []
    try:
        challenge_id, session_key = await make_world(database_url)
        env = dict(os.environ, KYOSO_ENV="production", DATABASE_URL=database_url, SECRET_KEY="bench-" + "x" * 40,
                   PAGE_CACHE_SECONDS=str(args.page_cache_seconds), REDIS_URL=redis_url)
        for name in ("MEILI_URL", "SMTP_URL"):
            env.pop(name, None)  # the list page asks the database search backend, the default
        kyoso_port = free_port()
        processes.append(serve([sys.executable, "-m", "server.cli", "serve", "--port", str(kyoso_port)],
                               kyoso_port, env, work / "kyoso.log", REPO_ROOT))
        cases = []  # (page, reader, path, cookie)
        for page, path in (("challenge list", "/challenges"), ("challenge detail", f"/challenges/{challenge_id}")):
            for reader, key in (("visitor", None), ("signed in", session_key)):
                html, cookie = await fetch(kyoso_port, path, key)
                (work / f"page{len(cases)}.html").write_text(html)
                cases.append((page, reader, path, cookie, len(html.encode())))
        names = json.dumps([str(work / f"page{number}.html") for number in range(len(cases))])
        (work / "bare.py").write_text(textwrap.dedent(BARE_APP.format(pages=names)))
        bare_port = free_port()
        processes.append(serve([sys.executable, "-m", "uvicorn", "bare:app", "--port", str(bare_port), "--no-access-log"],
                               bare_port, env, work / "bare.log", work))

        async def measure(port: int, path: str, revalidate: bool = False, cookie: str = "") -> tuple[float, float, int, float]:
            await load(port, path, 1.0, args.connections, revalidate, cookie)  # warm up
            rate, p95, count = await load(port, path, args.seconds, args.connections, revalidate, cookie)
            return rate, p95, count, os.getloadavg()[0]

        for number, (page, reader, path, cookie, size) in enumerate(cases):
            bare = await measure(bare_port, f"/{number}")
            rows.append({"page": page, "reader": reader, "how": "bare Starlette + Jinja2", "size": size, "m": bare})
            kinds = [("Kyoso, full page", False)] + ([("Kyoso, If-None-Match → 304", True)] if reader == "visitor" else [])
            for how, revalidate in kinds:
                rows.append({"page": page, "reader": reader, "how": how, "size": size, "bare": bare[0],
                             "m": await measure(kyoso_port, path, revalidate, cookie)})
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        redis.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)
        if not args.database_url:
            await _drop(database_url)

    print(f"{args.connections} connections × {args.seconds:g} s each, one server process each, Kyoso with "
          f"PAGE_CACHE_SECONDS={args.page_cache_seconds:g}, a company member signed in:")
    report: list[Row] = []
    for row in rows:
        rate, p95, count, loadavg = row["m"]
        if row["how"].startswith("bare"):
            print(f"{row['page']}, {row['reader']} ({row['size']:,} bytes)")
        line = f"  {row['how']:<28} {rate:8,.0f} requests/s   p95 {p95:6.1f} ms   n={count:,}"
        if "bare" in row:
            goal = GOALS[row["reader"]]
            line += f"   {rate / row['bare']:5.3f}× the bare app (goal ≥ {goal}×)"
            report.append(Row(f"{row['page']} page, {row['reader']}, {row['how'].removeprefix('Kyoso, ')}: requests/s "
                              f"/ the bare app's", rate / row["bare"], "×", goal, at_most=False, load=loadavg))
        print(f"{line}   load average {loadavg:.1f}")
    write_rows(args.json, report)


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
    parser.add_argument("--json", type=Path, help="also write the figures there, for bench/table.py")
    asyncio.run(main(parser.parse_args()))
