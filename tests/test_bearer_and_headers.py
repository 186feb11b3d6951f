"""A bearer token that is not valid is refused, never taken for a visitor; every answer carries the
security headers, Permissions-Policy included."""

from __future__ import annotations

import httpx2
from starlette.responses import Response
from starlette.routing import Route

from models.identity.accounts import ApiToken, revoke_api_token


async def test_pages_say_which_browser_features_are_off(client):
    policy = (await client.get("/")).headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy


async def test_an_invalid_or_revoked_bearer_token_is_a_401_not_a_visitor(client, people):
    assert (await client.get("/api/v1/challenges")).status_code == 200  # a visitor may search
    user = await people.make()
    token = await people.token(user)
    assert (await client.get("/api/v1/challenges", headers=token)).status_code == 200

    [issued] = await ApiToken.filter(user=user)
    await revoke_api_token(user, issued.id)
    for headers in (token, {"Authorization": "Bearer not-a-token"}, {"Authorization": "bearer x"}):
        response = await client.get("/api/v1/challenges", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["detail"] == "The bearer token is not valid (unknown, revoked or of a deactivated account)."
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "camera=()" in response.headers["permissions-policy"]


async def test_an_unexpected_error_still_carries_the_security_headers(app):
    async def broken(request):
        raise RuntimeError("a bug")

    extra = [Route("/broken", broken), Route("/api/v1/broken", broken)]
    app.router.routes[:0] = extra
    try:
        transport = httpx2.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for path in ("/broken", "/api/v1/broken"):
                response = await client.get(path)
                assert response.status_code == 500
                assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path
                assert response.headers["x-content-type-options"] == "nosniff"
    finally:
        del app.router.routes[:len(extra)]


async def test_a_route_cannot_weaken_the_security_headers(app):
    async def lax(request):
        return Response("framed", headers={"X-Frame-Options": "SAMEORIGIN", "referrer-policy": "unsafe-url"})

    app.router.routes[:0] = [Route("/lax", lax)]
    try:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver") as client:
            response = await client.get("/lax")
    finally:
        del app.router.routes[0]
    assert response.headers.get_list("x-frame-options") == ["DENY"]
    assert response.headers.get_list("referrer-policy") == ["strict-origin-when-cross-origin"]
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_the_search_api_carries_the_security_headers_and_sets_no_cookie(client):
    response = await client.get("/api/v1/challenges", params={"q": "bus"})
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "set-cookie" not in response.headers
