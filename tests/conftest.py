"""Fixtures: real PostgreSQL (or SQLite), Redis and Meilisearch, and the app served in-process.

The database is chosen by KYOSO_TEST_DB (postgres, the default, or sqlite); each run gets its own
fresh database, migrated with `kyoso migrate`'s own code.

Services start only for the tests that need them: a test of pure functions starts none (and imports no app,
so it runs in a second); the app starts the database, Redis, Meilisearch and SMTP (in-process, instant);
the OpenID providers' processes start only for tests using `oidc_servers` (their addresses are configured
from the start, the way a provider that is down would be).
"""

from __future__ import annotations

import os

os.environ.setdefault("KYOSO_FAST_PASSWORD_HASHING", "1")  # real argon2id, cheapest parameters: see models/accounts.py
import contextvars
import functools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the app and the services are imported by the fixtures that start them
    import httpx2

    from models.identity.accounts import Role, User
    from models.identity.orgs import Organisation
    from server.settings import Settings
    from tests.services import MeiliServer
    from tests.services.oidc import OidcProviders
    from tests.services.smtp import SmtpServer

TEST_DB = os.environ.get("KYOSO_TEST_DB", "postgres")


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kyoso")


@pytest.fixture(scope="session")
def redis_url(work_dir: Path) -> Iterator[str]:
    from tests.services import redis_server

    with redis_server(work_dir / "redis") as url:
        yield url


@pytest.fixture(scope="session")
def meili(work_dir: Path) -> Iterator[MeiliServer]:
    from tests.services import MeiliServer

    server = MeiliServer(work_dir / "meili")
    server.start()
    yield server
    server.stop()


async def _drop_postgres(url: str) -> None:
    import asyncpg

    from tests.services import postgres_admin_url

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
    from tests.services import new_postgres_database_url

    url = new_postgres_database_url()
    yield url
    await _drop_postgres(url)


@pytest.fixture(scope="session")
def oidc_providers(work_dir: Path) -> Iterator[OidcProviders]:
    """The test OpenID providers, configured but not running (see `oidc_servers`)."""
    from tests.services.oidc import OidcProviders

    providers = OidcProviders(work_dir / "oidc", "http://testserver")
    yield providers
    providers.stop()


@pytest.fixture(scope="session")
def oidc_provider_settings(oidc_providers: OidcProviders) -> list[dict[str, str]]:
    return oidc_providers.settings


@pytest.fixture
def oidc_servers(oidc_providers: OidcProviders) -> OidcProviders:
    """The test OpenID providers, running (started by the first test that needs them, for the session)."""
    oidc_providers.start()
    return oidc_providers


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback collecting every mail sent (see tests/services/smtp.py)."""
    from tests.services.smtp import smtp_server

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
    from server.settings import Settings

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
        page_cache_seconds=0,  # tests see every change at once; tests/test_caching.py turns it on where it looks
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
        PAGE_CACHE_SECONDS=str(settings.page_cache_seconds),  # off, as in the in-process app
    )
    return values


@pytest.fixture(scope="session")
async def migrated(settings: Settings) -> Settings:
    from server.cli import migrate_database

    await migrate_database(settings)
    return settings


@pytest.fixture(scope="session")
async def app(migrated: Settings) -> AsyncIterator:
    from server.app import create_app

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
    import httpx2

    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


class People:
    """Makes people in organisations, and tokens for them, through the domain functions."""

    counter = 0

    async def make(
        self,
        *,
        org: Organisation | None = None,
        role: Role | None = None,
        reviewer: bool = False,
        operator: bool = False,
    ) -> User:
        from models.identity.accounts import Role
        from models.identity.people import create_person

        People.counter += 1
        return await create_person(
            email=f"person{People.counter}-{os.getpid()}@example.jp",
            name=f"Person {People.counter}",
            password="correct horse battery",
            organisation=org,
            role=role or Role.MEMBER,
            reviewer=reviewer,
            operator=operator,
        )

    async def token(self, user: User) -> dict[str, str]:
        from models.identity.accounts import create_api_token

        _, raw = await create_api_token(user)
        return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def people(app) -> People:
    return People()


@pytest.fixture
async def cast(people):
    """The people a challenge meets: its agency, another agency, a company, an operator."""
    from models.identity.accounts import Role
    from models.identity.orgs import Organisation

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
        from tortoise.backends.base.client import BaseDBAsyncClient

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
