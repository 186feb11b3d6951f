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
