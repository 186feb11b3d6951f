"""Driving pages like a browser: session cookies and CSRF tokens."""

from __future__ import annotations

import httpx2

from models.identity.accounts import User
from models.identity.sessions import open_session
from server.auth.sessions import SESSION_COOKIE


async def sign_in_as(client: httpx2.AsyncClient, user: User) -> None:
    """A signed-in browser without going through the login form (tested on its own)."""
    client.cookies.set(SESSION_COOKIE, await open_session(user))


async def csrf_token(client: httpx2.AsyncClient, page: str = "/login") -> str:
    if "csrftoken" not in client.cookies:
        await client.get(page)
    return client.cookies["csrftoken"]


async def post_form(client: httpx2.AsyncClient, url: str, data: dict | None = None, page: str = "/login") -> httpx2.Response:
    form = {"csrftoken": await csrf_token(client, page), **(data or {})}
    return await client.post(url, data=form)
