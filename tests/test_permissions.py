"""The permission matrix: every route of the app × every role, allowed or refused as it should be.

A route missing from MATRIX fails `test_every_route_is_in_the_matrix`: add it, with who may use it.
"allowed" means the request got past access control (it may still be a 4xx for bad input or state);
"refused" means 401/403/404 or, for pages, a redirect to the login page.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
import pytest
from starlette.routing import Mount, Route

from models.accounts import Role, User, create_api_token
from models.orgs import Organisation
from models.sessions import open_session
from server.auth.sessions import SESSION_COOKIE

ROLES = ("visitor", "other_company", "company", "other_agency", "agency", "reviewer", "operator")
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"visitor"}
OPERATOR = {"operator"}

# (method, path template) -> roles allowed. Path templates use the world's ids, see World.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("POST", "/logout"): EVERYONE,
    ("GET", "/signup"): EVERYONE,
    ("POST", "/signup"): EVERYONE,
    ("GET", "/account"): SIGNED_IN,
    ("POST", "/account/profile"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("POST", "/account/tokens"): SIGNED_IN,
    ("POST", "/account/tokens/{token_id}/revoke"): SIGNED_IN,  # only one's own tokens are touched
    ("POST", "/account/sessions/end-all"): SIGNED_IN,
    ("GET", "/admin"): OPERATOR,
    ("POST", "/admin/organisations/{pending_org_id}/{decision}"): OPERATOR,
    ("GET", "/admin/people"): OPERATOR,
    ("POST", "/admin/people/{throwaway_user_id}/access"): OPERATOR,
    ("GET", "/admin/audit"): OPERATOR,
    ("GET", "/admin/audit.csv"): OPERATOR,
    ("GET", "/api/v1/openapi.json"): EVERYONE,
    ("GET", "/api/v1/me"): SIGNED_IN,
}

# Route path -> the template used in MATRIX (where Starlette's converters differ from our placeholders).
PATH_ALIASES = {
    "/account/tokens/{token_id:int}/revoke": "/account/tokens/{token_id}/revoke",
    "/admin/organisations/{org_id:int}/{decision:str}": "/admin/organisations/{pending_org_id}/{decision}",
    "/admin/people/{user_id:int}/access": "/admin/people/{throwaway_user_id}/access",
}


@dataclass
class World:
    people: dict[str, User]
    ids: dict[str, object]


async def _company(number: str, name: str, status: str = "approved") -> Organisation:
    org, _ = await Organisation.get_or_create(
        corporate_number=number, defaults={"kind": "company", "status": status, "name_ja": name, "name_en": name}
    )
    return org


@pytest.fixture
async def world(people) -> World:
    company = await _company("7010001000009", "行列株式会社")
    other_company = await _company("8010001000008", "別行列株式会社")
    agency = await Organisation.get(municipality_code="131016")
    other_agency = await Organisation.get(municipality_code="131024")
    pending = await Organisation.create(kind="company", status="pending", name_ja="保留", name_en="Pending")
    members = {
        "company": await people.make(org=company, role=Role.ADMIN),
        "other_company": await people.make(org=other_company, role=Role.ADMIN),
        "agency": await people.make(org=agency, role=Role.ADMIN),
        "other_agency": await people.make(org=other_agency, role=Role.ADMIN),
        "reviewer": await people.make(reviewer=True),
        "operator": await people.make(operator=True),
    }
    token, _raw = await create_api_token(members["company"])
    throwaway = await people.make()
    ids = {"token_id": token.id, "pending_org_id": pending.id, "decision": "reject", "throwaway_user_id": throwaway.id}
    return World(people=members, ids=ids)


def app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, PATH_ALIASES.get(route.path, route.path)))
    return found


def test_every_route_is_in_the_matrix(app):
    missing = app_routes(app) - set(MATRIX)
    assert not missing, f"add these routes to the permission matrix: {sorted(missing)}"
    stale = set(MATRIX) - app_routes(app)
    assert not stale, f"these matrix entries match no route: {sorted(stale)}"


def _refused(response: httpx2.Response) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code in (302, 303) and response.headers["location"].startswith("/login")


async def _request(app, role: str, world: World, method: str, path: str) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
        headers = {}
        user = world.people.get(role)
        if user is not None:
            if path.startswith("/api/"):
                headers["Authorization"] = "Bearer " + (await create_api_token(user))[1]
            else:
                client.cookies.set(SESSION_COOKIE, await open_session(user))
        if method == "GET":
            return await client.get(path, headers=headers)
        await client.get("/login")  # a page with a form sets the CSRF cookie
        form = {"csrftoken": client.cookies.get("csrftoken", "")}
        return await client.request(method, path, data=form, headers=headers)


@pytest.mark.parametrize(("method", "template"), sorted(MATRIX))
async def test_each_role_is_allowed_or_refused(app, world, method, template):
    path = template.format(**world.ids)
    allowed = MATRIX[(method, template)]
    outcomes = {}
    for role in ROLES:
        response = await _request(app, role, world, method, path)
        assert response.status_code < 500, f"{role} {method} {path} -> {response.status_code}"
        outcomes[role] = "refused" if _refused(response) else "allowed"
    expected = {role: "allowed" if role in allowed else "refused" for role in ROLES}
    assert outcomes == expected
