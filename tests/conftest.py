"""Fixtures: real PostgreSQL (or SQLite), Redis and Meilisearch, and the app served in-process.

The database is chosen by KYOSO_TEST_DB (postgres, the default, or sqlite); each run gets its own
fresh database, migrated with `kyoso migrate`'s own code.
"""

from __future__ import annotations

import os

os.environ.setdefault("KYOSO_FAST_PASSWORD_HASHING", "1")  # real argon2id, cheapest parameters: see models/accounts.py
import contextvars
import functools
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx2
import pytest
from tortoise.backends.base.client import BaseDBAsyncClient

from models.identity.accounts import Role, User, create_api_token
from models.identity.orgs import Organisation
from models.identity.people import create_person
from server.app import create_app
from server.cli import migrate_database
from server.settings import Settings
from tests.services import MeiliServer, new_postgres_database_url, postgres_admin_url, redis_server
from tests.services.oidc import oidc_providers
from tests.services.smtp import SmtpServer, smtp_server

TEST_DB = os.environ.get("KYOSO_TEST_DB", "postgres")
REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kyoso")


@pytest.fixture(scope="session")
def redis_url(work_dir: Path) -> Iterator[str]:
    with redis_server(work_dir / "redis") as url:
        yield url


@pytest.fixture(scope="session")
def meili(work_dir: Path) -> Iterator[MeiliServer]:
    server = MeiliServer(work_dir / "meili")
    server.start()
    yield server
    server.stop()


async def _drop_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(postgres_admin_url().replace("postgres://", "postgresql://") + "/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def database_url(work_dir: Path) -> AsyncIterator[str]:
    if TEST_DB == "sqlite":
        yield f"sqlite://{work_dir / 'kyoso.sqlite3'}"
        return
    url = new_postgres_database_url()
    yield url
    await _drop_postgres(url)


@pytest.fixture(scope="session")
def oidc_provider_settings(work_dir: Path) -> Iterator[list[dict[str, str]]]:
    with oidc_providers(work_dir / "oidc", "http://testserver") as providers:
        yield providers


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback collecting every mail sent (see tests/services/smtp.py)."""
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def settings(
    work_dir: Path,
    database_url: str,
    redis_url: str,
    meili: MeiliServer,
    oidc_provider_settings: list[dict[str, str]],
    smtp: SmtpServer,
) -> Settings:
    return Settings(
        kyoso_env="dev",
        database_url=database_url,
        redis_url=redis_url,
        meili_url=meili.url,
        meili_master_key=meili.master_key,
        secret_key="test-secret-key-" + "x" * 32,
        base_url="http://testserver",
        oidc_providers=oidc_provider_settings,
        smtp_url=smtp.url,
        attachments_dir=work_dir / "attachments",
    )


@pytest.fixture(scope="session")
def env(settings: Settings) -> dict[str, str]:
    """The environment for `kyoso` subprocesses, pointing at the same services."""
    values = dict(os.environ)
    values.update(
        KYOSO_ENV="dev",
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url or "",
        MEILI_URL=settings.meili_url or "",
        MEILI_MASTER_KEY=settings.meili_master_key or "",
        SECRET_KEY=settings.secret_key or "",
    )
    return values


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> Settings:
    await migrate_database(settings)
    return settings


@pytest.fixture(scope="session")
async def app(migrated: Settings) -> AsyncIterator:
    application = create_app(migrated)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def limits(app):
    """The app's rate limiter with every count forgotten (counts are kept in Redis across tests)."""
    await app.state.services.limiter.reset_all()
    return app.state.services.limiter


@pytest.fixture
async def client(app) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


def run_kyoso(env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO_ROOT,
        timeout=120,
    )


class People:
    """Makes people in organisations, and tokens for them, through the domain functions."""

    counter = 0

    async def make(
        self,
        *,
        org: Organisation | None = None,
        role: Role = Role.MEMBER,
        reviewer: bool = False,
        operator: bool = False,
    ) -> User:
        People.counter += 1
        return await create_person(
            email=f"person{People.counter}-{os.getpid()}@example.jp",
            name=f"Person {People.counter}",
            password="correct horse battery",
            organisation=org,
            role=role,
            reviewer=reviewer,
            operator=operator,
        )

    async def token(self, user: User) -> dict[str, str]:
        _, raw = await create_api_token(user)
        return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def people(app) -> People:
    return People()


@pytest.fixture
async def cast(people):
    """The people a challenge meets: its agency, another agency, a company, an operator."""
    agency = await Organisation.get(municipality_code="131041")  # Shinjuku
    other_agency = await Organisation.get(municipality_code="131059")  # Bunkyo
    company, _ = await Organisation.get_or_create(
        corporate_number="9010001000007",
        defaults={"kind": "company", "status": "approved", "name_ja": "課題株式会社", "name_en": "Kadai KK"},
    )
    members = {
        "agency": await people.make(org=agency, role=Role.MEMBER),
        "other_agency": await people.make(org=other_agency),
        "company": await people.make(org=company),
        "operator": await people.make(operator=True),
    }
    return {role: await people.token(user) for role, user in members.items()} | {"users": members}


class QueryLog:
    """The SQL statements run while it is active (Zulip's `assert_database_query_count`, for Tortoise)."""

    METHODS = ("execute_insert", "execute_many", "execute_query", "execute_query_dict", "execute_script")

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._depth = contextvars.ContextVar("query_depth", default=0)
        self._originals: list[tuple[type, str, Any]] = []

    def _wrap(self, method: Any) -> Any:
        log = self

        @functools.wraps(method)
        async def counted(client: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            depth = log._depth.get()
            if depth == 0:  # a client method calling another (super(), a wrapper) is still one statement
                log.statements.append(query)
            token = log._depth.set(depth + 1)
            try:
                return await method(client, query, *args, **kwargs)
            finally:
                log._depth.reset(token)

        return counted

    def __enter__(self) -> QueryLog:
        pending = [BaseDBAsyncClient]
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            for name in self.METHODS:
                if name in cls.__dict__:
                    self._originals.append((cls, name, cls.__dict__[name]))
                    setattr(cls, name, self._wrap(cls.__dict__[name]))
        return self

    def __exit__(self, *exc: object) -> None:
        for cls, name, original in reversed(self._originals):
            setattr(cls, name, original)

    @property
    def count(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        return "\n".join(f"{i + 1}. {sql}" for i, sql in enumerate(self.statements))


@pytest.fixture
def queries() -> type[QueryLog]:
    """`with queries() as log: …` then `assert log.count <= N, str(log)`: how many statements a page or call makes."""
    return QueryLog
