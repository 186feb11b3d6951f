from __future__ import annotations

from tortoise import Tortoise, connections

from models.database import MODEL_MODULES
from models.identity.orgs import Category, Organisation, OrgKind
from models.seed.data import CATEGORIES, MUNICIPALITIES
from tests.helpers import run_kyoso


async def test_an_empty_database_gets_every_table(app):
    for model in Tortoise.apps["models"].values():
        assert await model.all().count() >= 0, model.__name__
    assert len(Tortoise.apps["models"]) >= len(MODEL_MODULES)


async def test_migrate_loads_tokyo_and_its_62_municipalities(app):
    agencies = await Organisation.filter(kind=OrgKind.AGENCY.value).values_list("municipality_code", flat=True)
    assert "130001" in agencies
    assert {m.code for m in MUNICIPALITIES} <= set(agencies)
    assert await Category.all().count() >= len(CATEGORIES)
    assert await Organisation.filter(kind=OrgKind.OPERATOR.value).count() == 1


async def test_migrating_again_changes_nothing(app, env):
    before = await Organisation.all().count()
    result = run_kyoso(env, "migrate")
    assert result.returncode == 0, result.stderr
    assert await Organisation.all().count() == before
    rows = await connections.get("default").execute_query_dict("SELECT name FROM tortoise_migrations")
    assert [row["name"] for row in rows].count("0001_initial") == 1


# Run in its own process: migrating another database re-initialises Tortoise, which the app under test uses.
_FROM_0002 = r'''
import asyncio, json, sys
from datetime import datetime, timezone
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from models.database import tortoise_config
from server.cli import _create_postgres_database_if_missing

URL = sys.argv[1]


async def columns(client, sqlite, table):
    """The columns that need a value: NOT NULL without a default, with their type."""
    if sqlite:
        rows = await client.execute_query_dict(f'PRAGMA table_info("{table}")')
        return {r["name"]: r["type"].lower() for r in rows if r["notnull"] and r["dflt_value"] is None and not r["pk"]}
    rows = await client.execute_query_dict(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1"
        " AND is_nullable = 'NO' AND column_default IS NULL", [table])
    return {r["column_name"]: r["data_type"].lower() for r in rows}


async def insert(client, sqlite, table, given):
    values = dict(given)
    for name, kind in (await columns(client, sqlite, table)).items():
        if name in values:
            continue
        if "time" in kind or "date" in kind:
            values[name] = datetime.now(timezone.utc)
        elif "bool" in kind:
            values[name] = False
        elif "int" in kind or "numeric" in kind or "real" in kind or "double" in kind:
            values[name] = 1
        elif "json" in kind:
            values[name] = "{}"
        else:
            values[name] = name[:2]
    marks = ", ".join("?" if sqlite else f"${i}" for i in range(1, len(values) + 1))
    await client.execute_query(f'INSERT INTO "{table}" ({", ".join(values)}) VALUES ({marks})', list(values.values()))
    rows = await client.execute_query_dict(f'SELECT max(id) AS id FROM "{table}"')
    return rows[0]["id"]


async def main():
    sqlite = URL.startswith("sqlite")
    config = tortoise_config(URL)
    if not sqlite:
        await _create_postgres_database_if_missing(URL)
    await migrate(config=config, target="models.0002_review_rounds")
    await Tortoise.init(config=config)
    client = connections.get("default")
    agency = await insert(client, sqlite, "organisation", {"kind": "agency", "municipality_code": "999991"})
    company = await insert(client, sqlite, "organisation", {"kind": "company", "municipality_code": None})
    reviewer = await insert(client, sqlite, "user", {"email": "r@example.jp", "is_reviewer": True})
    challenge = await insert(client, sqlite, "challenge", {"owner_id": agency, "reviews_per_proposal": 2,
                                                           "max_per_reviewer": 4, "created_by_id": None})
    proposal = await insert(client, sqlite, "proposal", {"challenge_id": challenge, "company_id": company,
                                                         "created_by_id": None})
    await insert(client, sqlite, "panel_member", {"challenge_id": challenge, "reviewer_id": reviewer})
    assignment = await insert(client, sqlite, "assignment", {"proposal_id": proposal, "reviewer_id": reviewer,
                                                             "status": "submitted"})
    await insert(client, sqlite, "review", {"assignment_id": assignment, "status": "submitted"})
    await insert(client, sqlite, "conflict", {"reviewer_id": reviewer, "proposal_id": proposal,
                                              "organisation_id": None, "kind": "other"})
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.init(config=config)
    client = connections.get("default")
    out = {
        "ids": {"challenge": challenge, "proposal": proposal, "reviewer": reviewer, "assignment": assignment},
        "assignments": await client.execute_query_dict("SELECT id, round_id, subject_kind, subject_id, proposal_id, status FROM assignment"),
        "panel": await client.execute_query_dict("SELECT round_id, challenge_id, reviewer_id FROM panel_member"),
        "rounds": await client.execute_query_dict("SELECT id, challenge_id, subject_kind, scope_id, reviews_per_subject, max_per_reviewer FROM review_round"),
        "conflicts": await client.execute_query_dict("SELECT subject_kind, subject_id, proposal_id FROM conflict"),
        "reviews": await client.execute_query_dict("SELECT assignment_id FROM review"),
    }
    await Tortoise.close_connections()
    print(json.dumps(out, default=str))

'''


# How each script's `main()` runs: a failure exits at once, with its traceback, whatever the event loop holds.
_RUN_MAIN = '''
try:
    asyncio.run(main())
except BaseException:
    import os, traceback
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)
'''


def _run_on_a_new_database(script: str, tmp_path, settings):
    """Run `script` (it takes the database's URL and defines `main()`) in a process of its own against a new,
    empty database of the suite's engine, and return what it printed last, as JSON."""
    import json
    import os
    import subprocess
    import sys

    if settings.uses_sqlite:
        url = f"sqlite://{tmp_path / 'migrated.sqlite3'}"
    else:
        from tests.services import new_postgres_database_url
        url = new_postgres_database_url()
    try:
        done = subprocess.run([sys.executable, "-c", script + _RUN_MAIN, url], capture_output=True, text=True, timeout=120,
                              cwd=os.path.dirname(os.path.dirname(__file__)))
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if not settings.uses_sqlite:
            _drop(url)


def test_a_database_migrated_from_0002_keeps_its_assignments_in_their_challenges_proposal_round(tmp_path, settings):
    out = _run_on_a_new_database(_FROM_0002, tmp_path, settings)
    ids = out["ids"]
    [round_] = out["rounds"]
    assert (round_["challenge_id"], round_["subject_kind"], round_["scope_id"]) == (ids["challenge"], "proposal", 0)
    assert round_["max_per_reviewer"] == 4
    [assignment] = out["assignments"]
    assert assignment == {"id": ids["assignment"], "round_id": round_["id"], "subject_kind": "proposal",
                          "subject_id": ids["proposal"], "proposal_id": ids["proposal"], "status": "submitted"}
    assert out["reviews"] == [{"assignment_id": ids["assignment"]}]  # SQLite remakes the table: nothing cascades
    assert out["panel"] == [{"round_id": round_["id"], "challenge_id": ids["challenge"], "reviewer_id": ids["reviewer"]}]
    assert out["conflicts"] == [{"subject_kind": "proposal", "subject_id": ids["proposal"], "proposal_id": ids["proposal"]}]


def _drop(url: str) -> None:
    import asyncio

    import asyncpg

    base, _, name = url.replace("postgres://", "postgresql://", 1).rpartition("/")

    async def drop() -> None:
        connection = await asyncpg.connect(base + "/postgres")
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


_DOWN_TO_0014 = r'''
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from models.database import tortoise_config
from server.cli import _create_postgres_database_if_missing

URL = sys.argv[1]


async def state(config):
    await Tortoise.init(config=config)
    client = connections.get("default")
    if URL.startswith("sqlite"):
        found = await client.execute_query_dict("SELECT name FROM sqlite_master WHERE type = 'index'")
    else:
        found = await client.execute_query_dict("SELECT indexname AS name FROM pg_indexes")
    [last] = await client.execute_query_dict("SELECT name FROM tortoise_migrations ORDER BY id DESC LIMIT 1")
    await Tortoise.close_connections()
    return {"indexes": sorted(row["name"] for row in found), "last": last["name"]}


async def main():
    config = tortoise_config(URL)
    if not URL.startswith("sqlite"):
        await _create_postgres_database_if_missing(URL)
    states = []
    for target in (None, "models.0014_search_short_words_typos", None):
        await migrate(config=config, **({"target": target} if target else {}))
        await Tortoise.close_connections()
        states.append(await state(config))
    print(json.dumps(states))

'''


def test_migration_0015_goes_down_to_0014_and_up_again(tmp_path, settings):
    up, down, again = _run_on_a_new_database(_DOWN_TO_0014, tmp_path, settings)
    assert down["last"] == "0014_search_short_words_typos" != up["last"] == again["last"]
    title_index = {"challenge_search_title"} if settings.uses_sqlite else set()  # PostgreSQL reads its stored column
    assert title_index <= set(up["indexes"]) and not title_index & set(down["indexes"])
    assert again["indexes"] == up["indexes"]
