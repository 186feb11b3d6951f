from __future__ import annotations

import re

from starlette.routing import Route

from models.identity.accounts import ApiToken
from tests.helpers import run_kyoso

PROBLEM = "application/problem+json"


async def test_create_user_and_token_then_me_returns_that_person(client, env):
    created = run_kyoso(
        env, "create-user", "--email", "Hanako@Example.jp", "--name", "山田 花子", "--org", "131130", "--role", "admin",
        "--reviewer", stdin="a long enough password\n",
    )
    assert created.returncode == 0, created.stderr
    token = run_kyoso(env, "create-token", "--email", "hanako@example.jp")
    assert token.returncode == 0, token.stderr
    raw = token.stdout.strip().splitlines()[-1]

    response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    me = response.json()
    assert me["email"] == "hanako@example.jp"
    assert me["name"] == "山田 花子"
    assert me["organisation"]["code"] == "131130"
    assert me["organisation"]["name"] == {"ja": "渋谷区", "en": "Shibuya City"}
    assert set(me["roles"]) == {"agency_admin", "reviewer"}


async def test_create_user_makes_a_new_company_from_its_corporate_number(client, env, people):
    created = run_kyoso(
        env, "create-user", "--email", "ceo@startup.example", "--name", "CEO", "--org", "3010001000004",
        "--org-name", "スタートアップ株式会社", "--role", "admin", stdin="another good password\n",
    )
    assert created.returncode == 0, created.stderr
    raw = run_kyoso(env, "create-token", "--email", "ceo@startup.example").stdout.strip().splitlines()[-1]
    me = (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})).json()
    assert me["organisation"]["kind"] == "company"
    assert me["organisation"]["status"] == "approved"
    assert me["roles"] == ["company_admin"]


def test_create_user_refuses_bad_input_with_a_clear_line(env):
    bad_code = run_kyoso(env, "create-user", "--email", "x@example.jp", "--name", "X", "--org", "131131", stdin="long password\n")
    assert bad_code.returncode == 1
    assert "131131" in bad_code.stderr and "Traceback" not in bad_code.stderr
    short = run_kyoso(env, "create-user", "--email", "y@example.jp", "--name", "Y", "--org", "130001", stdin="short\n")
    assert short.returncode == 1
    assert "password" in short.stderr and "Traceback" not in short.stderr
    unknown = run_kyoso(env, "create-token", "--email", "nobody@example.jp")
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr


async def test_me_without_a_token_is_a_401_problem(client):
    response = await client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["status"] == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_wrong_or_revoked_token_is_refused(client, people):
    user = await people.make()
    headers = await people.token(user)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    await ApiToken.filter(user=user).update(revoked_at=user.created_at)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    wrong = await client.get("/api/v1/me", headers={"Authorization": "Bearer kyo_not-a-real-token"})
    assert wrong.status_code == 401


async def test_a_deactivated_person_cannot_use_their_token(client, people):
    user = await people.make()
    headers = await people.token(user)
    user.is_active = False
    await user.save()
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_unknown_api_paths_answer_problem_details(client):
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_openapi_lists_every_api_route_with_schemas(app, client):
    document = (await client.get("/api/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    api_paths = {
        re.sub(r":\w+}", "}", route.path)  # the document's paths carry no Starlette converters
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/api/v1/") and route.path != "/api/v1/openapi.json"
    }
    assert api_paths and api_paths <= set(document["paths"])
    me = document["paths"]["/api/v1/me"]["get"]
    schema_ref = me["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert {"id", "email", "name", "organisation", "roles"} <= set(schema["properties"])
    assert me["security"] == [{"bearer": []}]
