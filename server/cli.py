"""The `kyoso` command. Its sub-command names and options are a public contract (runbooks use them)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tortoise import Tortoise

from models.core.errors import DomainError, ValidationFailed
from models.database import tortoise_config
from models.identity.accounts import Role, User, create_api_token
from models.pilots import review_subject as pilot_review_subject  # noqa: F401  (registers the "pilot" review kind)
from server.settings import ConfigError, Settings, get_settings


async def _with_database(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    # Several processes share the port (the kernel spreads connections); each opens its own database pool.
    uvicorn.run("server.app:create_app", factory=True, host=args.host, port=args.port, proxy_headers=True,
                workers=args.workers)
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from server import jobs

    jobs.run(settings)
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from server.devrun import run_all

    return run_all(settings, host=args.host, port=args.port)


async def migrate_database(settings: Settings) -> None:
    """Apply every migration, then make sure the reference data (Tokyo, categories) is there."""
    from tortoise.migrations.api import migrate

    from models.seed.demo import seed_reference_data

    config = tortoise_config(settings.database_url)
    if not settings.uses_sqlite:
        await _create_postgres_database_if_missing(settings.database_url)
    try:
        await migrate(config=config)
    finally:
        await Tortoise.close_connections()
    await _with_database(settings, seed_reference_data)


async def _create_postgres_database_if_missing(url: str) -> None:
    import asyncpg

    dsn = url.replace("postgres://", "postgresql://", 1)
    base, _, name = dsn.rpartition("/")
    name = name.split("?")[0]
    try:
        connection = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        connection = await asyncpg.connect(base + "/postgres")
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        return
    await connection.close()


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(migrate_database(settings))
    print("database is up to date")
    return 0


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from models.seed.demo import DEMO_PASSWORD, seed_demo

    logins = asyncio.run(_with_database(settings, seed_demo))
    print(f"Demo data is in place. Log in with any of these (password: {DEMO_PASSWORD}):")
    for login in logins:
        print(f"  {login.email:<28} {login.role}")
    return 0


class ReindexProgress:
    """How far a reindex has read: a bar redrawn in place on a terminal, a plain line per tenth otherwise (logs)."""

    WIDTH = 30

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.terminal = stream.isatty()
        self.started = time.monotonic()
        self.tenth = -1

    def __call__(self, done: int, total: int) -> None:
        rate = done / max(time.monotonic() - self.started, 1e-6)
        if self.terminal:
            filled = self.WIDTH * done // max(total, 1)
            self.stream.write(f"\rreindex [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done:,}/{total:,} "
                              f"documents, {rate:,.0f}/s")
            if done >= total:
                self.stream.write("\n")
        elif (tenth := 10 * done // max(total, 1)) > self.tenth or done >= total:
            self.tenth = tenth
            self.stream.write(f"reindex: {done:,}/{total:,} documents read ({100 * done // max(total, 1)}%), {rate:,.0f}/s\n")
        self.stream.flush()


def cmd_reindex(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.meili_url:
        print("search uses the database backend (MEILI_URL is unset): it reads the database directly, nothing to reindex")
        return 0
    from search.backend import SearchUnavailable, open_backend
    from search.partners import open_partner_backend, rebuild_partner_index
    from search.solutions import open_solution_backend, rebuild_solution_index
    from search.sync import rebuild_index

    indexes = (  # what is rebuilt, how its backend is opened, how it is rebuilt
        ("challenge", open_backend, lambda backend: rebuild_index(backend, progress=ReindexProgress(sys.stderr))),
        ("partner", open_partner_backend, rebuild_partner_index),
        ("solution", open_solution_backend, rebuild_solution_index),
    )

    async def work() -> int:
        for kind, open_index, rebuild in indexes:
            backend = open_index(settings.meili_url, settings.meili_master_key, fallback=False)
            try:
                count = await rebuild(backend)
            except SearchUnavailable as exc:
                print(f"kyoso: Meilisearch is unavailable, the {kind} index was not rebuilt: {exc}", file=sys.stderr)
                return 1
            finally:
                await backend.close()
            print(f"reindexed {count} {kind}(s) into Meilisearch and swapped the new index in")
        return 0

    return asyncio.run(_with_database(settings, work))


def _read_password(prompt: str = "Password: ") -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\n")


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    from models.identity.people import create_person, organisation_for_code

    if not args.org and not args.operator:
        raise ValidationFailed({"org": "--org is required unless --operator is given"})
    password = _read_password()

    async def work() -> User:
        organisation = await organisation_for_code(args.org, args.org_name) if args.org else None
        return await create_person(
            email=args.email,
            name=args.name,
            password=password,
            organisation=organisation,
            role=Role(args.role),
            reviewer=args.reviewer,
            operator=args.operator,
        )

    user = asyncio.run(_with_database(settings, work))
    print(f"created user {user.id} <{user.email}>")
    return 0


def cmd_create_token(settings: Settings, args: argparse.Namespace) -> int:
    async def work() -> str:
        user = await User.get_or_none(email=args.email.strip().lower())
        if user is None or not user.is_active:
            raise ValidationFailed({"email": f"no active person with e-mail {args.email}"})
        _, raw = await create_api_token(user, name=args.name)
        return raw

    raw = asyncio.run(_with_database(settings, work))
    print(f"API token for {args.email} (shown once; keep it secret):")
    print(raw)
    return 0


def cmd_compile_messages(settings: Settings, args: argparse.Namespace) -> int:
    from server.i18n import compile_catalogues

    for path in compile_catalogues():
        print(f"compiled {path}")
    return 0


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kyoso", description="Kyoso, the public-private co-creation platform.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    for name, handler, help in (
        ("serve", cmd_serve, "Serve the web application."),
        ("run", cmd_run, "Run everything for development: Redis (embedded unless REDIS_URL is set), web and worker."),
    ):
        sub = command(name, handler, help)
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=8000)
    serve = commands.choices["serve"]
    serve.add_argument("--workers", type=_positive, default=1, help="web processes (default 1)")
    command("worker", cmd_worker, "Run the background job worker (arq).")
    command("migrate", cmd_migrate, "Apply database migrations and load the reference data.")
    command("seed-demo", cmd_seed_demo, "Add demo organisations, people and challenges (idempotent); print the logins.")
    command("reindex", cmd_reindex, "Rebuild the search index and swap it in.")
    command("compile-messages", cmd_compile_messages, "Compile the translation catalogues.")

    sub = command("create-user", cmd_create_user, "Create a person; the password is read from standard input.")
    sub.add_argument("--email", required=True)
    sub.add_argument("--name", required=True)
    sub.add_argument("--org", help="municipality code (agency) or corporate number (company)")
    sub.add_argument("--org-name", help="name of a company not yet known")
    sub.add_argument("--role", choices=[r.value for r in Role], default=Role.MEMBER.value)
    sub.add_argument("--reviewer", action="store_true", help="add the person to the reviewer pool")
    sub.add_argument("--operator", action="store_true", help="make the person a platform operator")

    sub = command("create-token", cmd_create_token, "Print a new API bearer token for a person (on the last line).")
    sub.add_argument("--email", required=True)
    sub.add_argument("--name", default="cli", help="a label for the token")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line per request to Meilisearch: noise, and slow
    try:
        settings = get_settings()
        return args.handler(settings, args)
    except ConfigError as exc:
        print(f"kyoso: {exc}", file=sys.stderr)
        return 2
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            print(f"kyoso: {field}: {message}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"kyoso: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
