"""Login, logout, sign-up, sessions, CSRF and security headers, over HTTP."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import httpx2
import pytest
from tortoise import timezone

from models.core.audit import AuditEvent
from models.core.identifiers import corporate_number_check_digit
from models.core.outbox import OutboxMessage
from models.identity.accounts import Session, SignInLink, User
from models.identity.links import send_sign_in_link
from models.identity.orgs import Organisation
from server import mail
from server.auth.sessions import SESSION_COOKIE
from tests.web import post_form

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
async def _no_earlier_attempts(limits):
    """Each test starts with no failed logins or sign-ups counted (the counts live in Redis)."""


async def _login(client: httpx2.AsyncClient, email: str, password: str, next: str = "") -> httpx2.Response:
    return await post_form(client, "/login", {"email": email, "password": password, "next": next}, page="/login")


async def test_login_opens_a_server_side_session_with_a_safe_cookie(client, people):
    user = await people.make()
    response = await _login(client, user.email, PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/tasks"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    key = cookie.split(";")[0].split("=", 1)[1]
    assert not await Session.exists(key_hash=key)  # only the hash is stored
    page = await client.get("/account")
    assert page.status_code == 200 and user.email in page.text
    assert await AuditEvent.exists(action="login.succeeded", actor_id=user.id)


async def test_a_new_session_id_at_each_login(client, people):
    user = await people.make()
    await _login(client, user.email, PASSWORD)
    first = client.cookies[SESSION_COOKIE]
    await _login(client, user.email, PASSWORD)
    assert client.cookies[SESSION_COOKIE] != first


async def test_wrong_password_and_unknown_email_get_the_same_message(client, people):
    user = await people.make()
    wrong = await _login(client, user.email, "not the password")
    unknown = await _login(client, "nobody@example.jp", "whatever password")
    assert wrong.status_code == unknown.status_code == 400
    message = "メールアドレスまたはパスワードが正しくありません"
    assert message in wrong.text and message in unknown.text
    assert SESSION_COOKIE not in client.cookies
    assert await AuditEvent.filter(action="login.failed").count() >= 2


async def test_repeated_failures_are_rate_limited_with_a_clear_message(client, people):
    user = await people.make()
    statuses = [(await _login(client, user.email, "wrong password")).status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    blocked = await _login(client, user.email, PASSWORD)  # even the right password waits
    assert blocked.status_code == 429
    assert "15分" in blocked.text


async def test_login_keeps_a_local_next_and_ignores_a_foreign_one(client, people):
    user = await people.make()
    assert (await _login(client, user.email, PASSWORD, next="/organisation")).headers["location"] == "/organisation"
    assert (await _login(client, user.email, PASSWORD, next="https://evil.example/")).headers["location"] == "/tasks"
    assert (await _login(client, user.email, PASSWORD, next="//evil.example/")).headers["location"] == "/tasks"


async def test_a_page_that_needs_login_sends_a_visitor_to_the_login_page(client):
    response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount"


async def test_logout_ends_the_session_on_the_server(client, people):
    user = await people.make()
    await _login(client, user.email, PASSWORD)
    key = client.cookies[SESSION_COOKIE]
    response = await post_form(client, "/logout")
    assert response.status_code == 303
    stolen = httpx2.Cookies({SESSION_COOKIE: key})
    client.cookies = stolen
    assert (await client.get("/account")).status_code == 303


async def test_idle_and_absolute_timeouts_end_sessions(client, people):
    user = await people.make()
    await _login(client, user.email, PASSWORD)
    await Session.filter(user=user).update(last_seen_at=timezone.now() - timedelta(hours=2, seconds=1))
    expired = await client.get("/account")
    assert expired.status_code == 303 and "expired=1" in expired.headers["location"]
    assert "セッションの有効期限が切れました" in (await client.get(expired.headers["location"])).text
    await _login(client, user.email, PASSWORD)
    await Session.filter(user=user, ended_at=None).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert (await client.get("/account")).status_code == 303


async def test_deactivation_ends_sessions(client, people):
    user = await people.make()
    await _login(client, user.email, PASSWORD)
    await User.filter(id=user.id).update(is_active=False)
    assert (await client.get("/account")).status_code == 303
    assert (await _login(client, user.email, PASSWORD)).status_code == 400


async def test_a_form_without_the_csrf_token_is_refused_with_a_clear_page(client, people):
    user = await people.make()
    await _login(client, user.email, PASSWORD)
    response = await client.post("/account/profile", data={"name": "Mallory", "locale": "ja"})
    assert response.status_code == 403
    assert "もう一度" in response.text
    await user.refresh_from_db()
    assert user.name != "Mallory"
    assert await AuditEvent.exists(action="csrf.failed")
    login_without_cookie = await httpx2.AsyncClient(transport=client._transport, base_url="http://testserver").post(
        "/login", data={"email": user.email, "password": PASSWORD}
    )
    assert login_without_cookie.status_code == 403


async def test_security_headers_are_set(client):
    response = await client.get("/")
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]
    assert "strict-transport-security" not in response.headers  # dev only runs on http


def _sign_up_form(email: str, corporate_number: str = "4010001000003", locale: str = "en") -> dict:
    return {
        "company_name_ja": "テスト株式会社", "company_name_en": "Test KK", "corporate_number": corporate_number,
        "person_name": "試験 太郎", "email": email, "password": "a much better password", "locale": locale,
    }


async def test_company_sign_up_creates_a_pending_company_with_its_admin(client, limits):
    response = await post_form(client, "/signup", _sign_up_form("taro@test-kk.example"), page="/signup")
    assert response.status_code == 200, response.text
    assert "メールを確認してください" in response.text and SESSION_COOKIE not in client.cookies
    company = await Organisation.get(corporate_number="4010001000003")
    assert company.status == "pending" and company.kind == "company"
    assert await AuditEvent.exists(action="organisation.signed_up", organisation_id=company.id)
    user = await User.get(email="taro@test-kk.example")
    assert not user.email_verified
    token = await _sign_in_link_token(user)  # the link confirms the address and signs in
    assert (await post_form(client, "/login/link", {"token": token}, page=f"/login/link/{token}")).status_code == 303
    me = await client.get("/account")
    assert "taro@test-kk.example" in me.text
    assert '<html lang="en">' in me.text  # the language chosen at sign-up
    await user.refresh_from_db()
    assert user.email_verified


async def test_sign_up_answers_the_same_for_a_registered_address_and_tells_its_owner(client, people, limits):
    owner = await people.make()
    fresh = await post_form(client, "/signup", _sign_up_form("new-person@sign-up.example", _unused_corporate_number()), page="/signup")
    number = _unused_corporate_number()
    taken = await post_form(client, "/signup", _sign_up_form(owner.email, number), page="/signup")
    assert taken.status_code == fresh.status_code == 200
    assert _without_csrf(taken.text) == _without_csrf(fresh.text)
    assert not await Organisation.exists(corporate_number=number)  # nothing is created for it
    [notice] = await OutboxMessage.filter(topic="mail", key=f"mail:{owner.email}"[:64])
    assert notice.payload["template"] == "sign_up_existing" and notice.payload["to"] == owner.email
    assert await AuditEvent.exists(action="sign_up.existing_address", target_id=str(owner.id))


async def test_sign_ups_to_one_address_are_limited_with_a_clear_message(client, people, limits):
    owner = await people.make()
    for _attempt in range(5):
        assert (await post_form(client, "/signup", _sign_up_form(owner.email, _unused_corporate_number()), page="/signup")).status_code == 200
    over = await post_form(client, "/signup", _sign_up_form(owner.email, _unused_corporate_number()), page="/signup")
    assert over.status_code == 429 and "このメールアドレスに送ったメールが多すぎます" in over.text
    assert await OutboxMessage.filter(topic="mail", key=f"mail:{owner.email}"[:64]).count() == 5


async def test_the_confirmation_link_leads_back_to_where_sign_up_started(client, limits):
    form = {**_sign_up_form("invitee@sign-up.example", _unused_corporate_number()), "next": "/invitations/some-token"}
    assert (await post_form(client, "/signup", form, page="/signup")).status_code == 200
    user = await User.get(email="invitee@sign-up.example")
    link = await SignInLink.get(user=user)
    message = await OutboxMessage.get(topic="mail", key=f"sign_in_link:{link.id}")
    rendered = mail.render("sign_in_link", "en", message.payload["context"], base_url="http://testserver")
    path = re.search(r"http://testserver(/login/link/\S+)", rendered.body).group(1)
    page = await client.get(path)
    next_field = re.search(r'name="next" value="([^"]*)"', page.text).group(1)
    assert next_field == "/invitations/some-token"
    token = message.payload["context"]["token"]
    response = await post_form(client, "/login/link", {"token": token, "next": next_field}, page=path)
    assert response.status_code == 303 and response.headers["location"] == "/invitations/some-token"


def _unused_corporate_number() -> str:
    base = f"{secrets.randbelow(10**12):012d}"
    return f"{corporate_number_check_digit(base)}{base}"


def _without_csrf(page: str) -> str:
    return re.sub(r'name="csrftoken" value="[^"]*"', "", page)


async def test_sign_up_errors_are_shown_in_the_form_and_nothing_is_written(client):
    before = await Organisation.all().count()
    response = await post_form(
        client,
        "/signup",
        {
            "company_name_ja": "悪い株式会社", "corporate_number": "4010001000004",
            "person_name": "X", "email": "x@bad.example", "password": "password123",
        },
        page="/signup",
    )
    assert response.status_code == 400
    assert "法人番号" in response.text  # corporate number error, in Japanese
    assert "よく使われる" in response.text  # common password refused
    assert 'value="悪い株式会社"' in response.text  # what was typed is kept
    assert await Organisation.all().count() == before
    assert not await User.exists(email="x@bad.example")


class _CountingHasher:
    """The real argon2 hasher, counting how often a password is checked against a hash."""

    def __init__(self, hasher) -> None:
        self.hasher, self.verifications = hasher, 0

    def __getattr__(self, name):
        return getattr(self.hasher, name)

    def verify(self, hash, password):
        self.verifications += 1
        return self.hasher.verify(hash, password)


async def test_unknown_and_known_addresses_cost_the_same_argon2_work(client, people, monkeypatch):
    from models.identity import accounts

    counting = _CountingHasher(accounts._password_hasher)
    monkeypatch.setattr(accounts, "_password_hasher", counting)
    known, inactive = await people.make(), await people.make()
    await User.filter(id=inactive.id).update(is_active=False)
    work = {}
    for label, email in (("known", known.email), ("unknown", "nobody-here@example.jp"), ("inactive", inactive.email)):
        counting.verifications = 0
        assert (await _login(client, email, "not the password")).status_code == 400
        work[label] = counting.verifications
    assert work == {"known": 1, "unknown": 1, "inactive": 1}


def _browser(app, address: str) -> httpx2.AsyncClient:
    """A browser at another client address."""
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app, client=(address, 4321)), base_url="http://testserver")


async def _sign_in_link_token(user: User) -> str:
    link = await SignInLink.filter(user=user).order_by("-id").first()
    assert link is not None
    message = await OutboxMessage.get(topic="mail", key=f"sign_in_link:{link.id}")
    assert message.payload["template"] == "sign_in_link" and message.payload["to"] == user.email
    return message.payload["context"]["token"]


async def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(app, client, people, limits):
    user = await people.make(operator=True)
    async with _browser(app, "203.0.113.7") as attacker:
        statuses = [(await _login(attacker, user.email, "guess")).status_code for _ in range(12)]
        assert statuses[:10] == [400] * 10 and statuses[10:] == [429, 429]
    assert (await _login(client, user.email, PASSWORD)).status_code == 303  # the owner, at their own address


async def test_successful_logins_do_not_count_against_the_limit(app, people, limits):
    user = await people.make()
    async with _browser(app, "198.51.100.9") as ward_office:  # a whole office behind one address at 9 am
        statuses = [(await _login(ward_office, user.email, PASSWORD)).status_code for _ in range(35)]
    assert set(statuses) == {303}


async def test_many_failures_from_everywhere_make_the_right_password_send_a_one_time_link(app, client, people, limits):
    user = await people.make()
    for attacker in range(6):
        async with _browser(app, f"192.0.2.{attacker + 10}") as browser:
            for _ in range(9):
                await _login(browser, user.email, "guess")
    response = await _login(client, user.email, PASSWORD)
    assert response.status_code == 200 and SESSION_COOKIE not in client.cookies  # the password alone is not enough
    assert "ログイン用のリンク" in response.text
    token = await _sign_in_link_token(user)
    assert not await SignInLink.exists(token_hash=token)  # only the hash is stored
    page = await client.get(f"/login/link/{token}")
    assert page.status_code == 200
    signed_in = await post_form(client, "/login/link", {"token": token}, page=f"/login/link/{token}")
    assert signed_in.status_code == 303 and SESSION_COOKIE in client.cookies
    assert (await client.get("/account")).status_code == 200
    client.cookies.clear()
    again = await post_form(client, "/login/link", {"token": token}, page=f"/login/link/{token}")
    assert again.status_code == 400 and SESSION_COOKIE not in client.cookies  # the link works once
    wrong = await _login(client, user.email, "guess")  # a wrong password gets the same answer
    assert wrong.status_code == 200 and "ログイン用のリンク" in wrong.text


async def test_an_expired_sign_in_link_does_not_sign_in(client, people, limits):
    user = await people.make()
    await send_sign_in_link(user)
    token = await _sign_in_link_token(user)
    await SignInLink.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = await post_form(client, "/login/link", {"token": token}, page=f"/login/link/{token}")
    assert response.status_code == 400 and SESSION_COOKIE not in client.cookies


async def test_the_csrf_token_is_rotated_at_login(client, people):
    user = await people.make()
    await client.get("/login")
    before = client.cookies["csrftoken"]
    await _login(client, user.email, PASSWORD)
    await client.get("/account")
    assert client.cookies["csrftoken"] != before


async def test_sign_in_links_are_limited_per_address_and_sign_ups_cannot_use_them_up(app, client, people):
    user = await people.make()
    for attacker in range(6):
        async with _browser(app, f"192.0.2.{attacker + 40}") as browser:
            for _ in range(9):
                await _login(browser, user.email, "guess")
    for _attempt in range(5):  # someone signs up with the owner's address again and again
        await post_form(client, "/signup", _sign_up_form(user.email, _unused_corporate_number()), page="/signup")
    for _attempt in range(5):
        assert (await _login(client, user.email, PASSWORD)).status_code == 200
    assert await SignInLink.filter(user=user).count() == 5
    over = await _login(client, user.email, PASSWORD)
    assert over.status_code == 429 and "このメールアドレスに送ったメールが多すぎます" in over.text
    assert (await _login(client, user.email, "guess")).status_code == 429  # the same answer for a wrong password
    assert await SignInLink.filter(user=user).count() == 5
