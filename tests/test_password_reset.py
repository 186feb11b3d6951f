"""Forgot password (issue 10): a link by e-mail to choose a new one. The same answer whether or not the address has an
account, limited, the link works once and expires, and the new password ends every other session."""

from __future__ import annotations

from datetime import timedelta

import httpx2
import pytest
from tortoise import timezone

from models.core.outbox import OutboxMessage
from models.identity.accounts import Session, SignInLink, User, verify_password
from server.auth.sessions import SESSION_COOKIE
from tests.web import post_form, sign_in_as

NEW_PASSWORD = "a much longer passphrase 42"


@pytest.fixture(autouse=True)
async def _fresh_limits(limits):
    """No earlier requests counted (the counts live in Redis)."""


async def _ask(client: httpx2.AsyncClient, email: str) -> httpx2.Response:
    return await post_form(client, "/password/forgot?lang=en", {"email": email}, page="/password/forgot")


async def _reset_token(user: User) -> str:
    link = await SignInLink.filter(user=user).order_by("-id").first()
    assert link is not None
    message = await OutboxMessage.get(topic="mail", key=f"sign_in_link:{link.id}")
    assert message.payload["context"]["purpose"] == "reset_password"
    return message.payload["context"]["token"]


async def test_a_forgotten_password_is_replaced_through_a_one_time_link(app, client, people):
    user = await people.make()
    elsewhere = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver")
    await sign_in_as(elsewhere, user)  # an old session, on another device
    login = await client.get("/login?lang=en")
    assert '/password/forgot"' in login.text

    known, unknown = await _ask(client, user.email), await _ask(client, "nobody-here@example.org")
    assert known.status_code == unknown.status_code == 303 and known.headers["location"] == unknown.headers["location"]
    shown = await client.get(known.headers["location"])
    assert "Check your e-mail" in shown.text and "If an account uses that address" in shown.text
    assert 'role="status"' in shown.text
    assert not [m for m in await OutboxMessage.filter(topic="mail") if m.payload.get("to") == "nobody-here@example.org"]

    token = await _reset_token(user)
    form_page = await client.get(f"/password/reset/{token}")
    assert form_page.status_code == 200 and 'name="token"' in form_page.text
    too_short = await post_form(client, "/password/reset", {"token": token, "password": "short"}, page="/login")
    assert too_short.status_code == 400 and "8 to 128" in too_short.text  # a refused password keeps the link
    done = await post_form(client, "/password/reset", {"token": token, "password": NEW_PASSWORD}, page="/login")
    assert done.status_code == 303 and SESSION_COOKIE in client.cookies
    await user.refresh_from_db()
    assert verify_password(user, NEW_PASSWORD)
    assert await Session.filter(user=user, ended_at=None).count() == 1  # the other device is signed out
    assert (await elsewhere.get("/account")).status_code == 303
    await elsewhere.aclose()

    again = await post_form(client, "/password/reset", {"token": token, "password": "another long one 77"}, page="/login")
    assert again.status_code == 410  # once only
    assert (await client.get(f"/password/reset/{token}")).status_code == 410


async def test_an_expired_reset_link_changes_nothing(client, people):
    user = await people.make()
    await _ask(client, user.email)
    token = await _reset_token(user)
    await SignInLink.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = await post_form(client, "/password/reset", {"token": token, "password": NEW_PASSWORD}, page="/login")
    assert response.status_code == 410
    await user.refresh_from_db()
    assert not verify_password(user, NEW_PASSWORD)


async def test_requests_are_limited_per_address_asked_for(client, people):
    statuses = [(await _ask(client, "flooded@example.org")).status_code for _ in range(6)]
    assert statuses == [303] * 5 + [429]
    empty = await _ask(client, "")
    assert empty.status_code == 400 and "There is a problem" in empty.text
