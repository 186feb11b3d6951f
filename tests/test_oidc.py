"""OpenID Connect login, driven end to end against real providers (npm oidc-provider) on loopback:
Kyoso redirects, the test logs in and consents on the provider's own pages, the provider redirects
back, and Kyoso talks to the provider (discovery, token, JWKS, userinfo) over real HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import httpx2
import pytest

from models.core.audit import AuditEvent
from models.identity.accounts import Identity, Session, User, hash_secret
from models.identity.people import create_person
from models.identity.sessions import session_for_key
from server.auth.oidc import FLOW_COOKIE, configured_providers
from server.auth.sessions import SESSION_COOKIE
from server.settings import ConfigError, load_settings

pytestmark = pytest.mark.usefixtures("oidc_servers")

KYOSO = "http://testserver/"


@pytest.fixture
async def idp() -> AsyncIterator[httpx2.AsyncClient]:
    """The browser's side of the conversation with the provider (its own cookies, no redirects followed)."""
    async with httpx2.AsyncClient(trust_env=False, timeout=10) as client:
        yield client


@pytest.fixture
async def browser(client: httpx2.AsyncClient) -> httpx2.AsyncClient:
    client.headers["accept-language"] = "en"
    return client


def issuer_of(app, key: str) -> str:
    return next(p.issuer for p in app.state.settings.oidc_providers if p.key == key)


def replace_query(url: str, **values: str) -> str:
    parts = urlsplit(url)
    query = {name: value[0] for name, value in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **values})))


async def through_provider(idp: httpx2.AsyncClient, url: str, login: str, *, cancel: bool = False) -> str:
    """Follow the provider's pages from the authorization URL, logging in as `login` (any password)
    and consenting, until it redirects back to Kyoso; returns that callback URL."""
    response = await idp.get(url)
    for _ in range(12):
        if response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(KYOSO):
                return location
            response = await idp.get(location)
            continue
        assert response.status_code == 200, response.text
        if cancel:
            abort = re.search(r'href="([^"]+/abort)"', response.text)
            assert abort, response.text
            response = await idp.get(urljoin(str(response.url), abort.group(1)))
            continue
        action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
        assert action and prompt, response.text
        form = {"prompt": prompt.group(1)}
        if form["prompt"] == "login":
            form.update(login=login, password="any password will do")
        response = await idp.post(urljoin(str(response.url), action.group(1)), data=form)
    raise AssertionError("the provider never redirected back to Kyoso")


async def log_in(
    browser: httpx2.AsyncClient,
    idp: httpx2.AsyncClient,
    provider: str,
    login: str,
    *,
    next_path: str = "",
    cancel: bool = False,
    tamper: Callable[[str], str] | None = None,
) -> httpx2.Response:
    """The whole code flow; returns Kyoso's answer at its callback."""
    start = await browser.get(f"/login/oidc/{provider}", params={"next": next_path} if next_path else None)
    assert start.status_code == 302, start.text
    authorization_url = start.headers["location"]
    if tamper:
        authorization_url = tamper(authorization_url)
    callback = await through_provider(idp, authorization_url, login, cancel=cancel)
    return await browser.get(callback)


async def session_user(response: httpx2.Response) -> User | None:
    key = response.cookies.get(SESSION_COOKIE)
    session = await session_for_key(key) if key else None
    return session.user if session else None


async def session_owner(response: httpx2.Response) -> User | None:
    """The person a session was opened for, even if it has ended since."""
    key = response.cookies.get(SESSION_COOKIE)
    session = await Session.get_or_none(key_hash=hash_secret(key)).prefetch_related("user") if key else None
    return session.user if session else None


async def last_failure() -> dict:
    event = await AuditEvent.filter(action="login.failed").order_by("-id").first()
    assert event is not None
    return event.after


async def assert_refused(response: httpx2.Response, status: int, message: str, reason: str) -> None:
    assert response.status_code == status, response.text
    assert message in response.text
    assert SESSION_COOKIE not in response.cookies
    assert (await last_failure())["reason"] == reason


# --- logging in -------------------------------------------------------------------------------


async def test_the_authorization_request_uses_pkce_state_and_nonce(browser, app):
    response = await browser.get("/login/oidc/idp")
    assert response.status_code == 302
    url = response.headers["location"]
    assert url.startswith(issuer_of(app, "idp") + "/auth?")
    query = parse_qs(urlsplit(url).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["kyoso"]
    assert query["redirect_uri"] == ["http://testserver/auth/oidc/idp/callback"]
    assert set(query["scope"][0].split()) == {"openid", "email", "profile"}
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"][0] and query["state"][0] and query["nonce"][0]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(FLOW_COOKIE + "=") and "HttpOnly" in cookie and "Path=/auth/oidc/" in cookie


async def test_a_first_login_creates_the_person_and_opens_a_session(browser, idp, app):
    response = await log_in(browser, idp, "idp", "new-person")

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/tasks"
    user = await session_user(response)
    assert user is not None and user.email == "new.person@idp.example.jp"
    assert user.name == "新しい 人"  # from the userinfo endpoint
    assert user.password_hash is None and user.email_verified
    identity = await Identity.get(issuer=issuer_of(app, "idp"), subject="new-person")
    assert identity.user_id == user.id
    event = await AuditEvent.filter(action="login.succeeded", actor_id=user.id).first()
    assert event is not None and event.after == {"method": "oidc"}
    assert browser.cookies.get(FLOW_COOKIE) is None  # the flow's secrets are gone

    account = await browser.get("/account")
    assert account.status_code == 200
    assert "新しい 人" in account.text


async def test_a_returning_person_is_found_by_identity_and_sent_on(browser, idp, app):
    first = await log_in(browser, idp, "idp", "returning")
    again = await log_in(browser, idp, "idp", "returning", next_path="/challenges?page=2")
    elsewhere = await log_in(browser, idp, "idp", "returning", next_path="//evil.example/")

    assert again.headers["location"] == "/challenges?page=2"
    assert elsewhere.headers["location"] == "/tasks"
    # Each sign-in in the same browser ends the previous session, so compare whom each one was for.
    first_user, second_user = await session_owner(first), await session_owner(again)
    assert first_user is not None and second_user is not None and first_user.id == second_user.id
    assert await Identity.filter(issuer=issuer_of(app, "idp"), subject="returning").count() == 1


async def test_a_first_login_links_the_account_with_the_same_verified_address(browser, idp, app):
    existing = await create_person(
        email="Has.Account@example.jp", name="Has Account", password="correct horse battery", organisation=None
    )
    response = await log_in(browser, idp, "idp", "has-account")

    user = await session_user(response)
    assert user is not None and user.id == existing.id
    assert (await Identity.get(issuer=issuer_of(app, "idp"), subject="has-account")).user_id == existing.id


# --- refusals ---------------------------------------------------------------------------------


async def test_an_unverified_address_is_refused_and_links_nothing(browser, idp, app):
    victim = await create_person(
        email="victim@example.jp", name="Victim", password="correct horse battery", organisation=None
    )
    response = await log_in(browser, idp, "idp", "unverified")

    await assert_refused(response, 403, "Test IdP has not confirmed your e-mail address", "email_unverified")
    assert not await Identity.exists(issuer=issuer_of(app, "idp"), subject="unverified")
    assert not await Identity.exists(user_id=victim.id)
    assert (await last_failure())["email"] == "victim@example.jp"


async def test_a_login_without_an_address_is_refused(browser, idp, app):
    response = await log_in(browser, idp, "idp", "no-email")
    await assert_refused(response, 403, "Test IdP did not share your e-mail address", "email_missing")
    assert not await Identity.exists(issuer=issuer_of(app, "idp"), subject="no-email")


async def test_an_account_whose_address_was_never_confirmed_is_not_linked(browser, idp, app):
    await User.create(email="pending@example.jp", name="Someone", password_hash="x", email_verified=False)
    response = await log_in(browser, idp, "idp", "pending")

    await assert_refused(response, 403, "has not confirmed the address yet", "account_email_unverified")
    assert not await Identity.exists(issuer=issuer_of(app, "idp"), subject="pending")


async def test_a_deactivated_person_is_refused(browser, idp):
    first = await log_in(browser, idp, "idp", "deactivated")
    user = await session_user(first)
    assert user is not None
    user.is_active = False
    await user.save(update_fields=["is_active"])

    response = await log_in(browser, idp, "idp", "deactivated")
    await assert_refused(response, 403, "This account has been deactivated.", "inactive")


async def test_an_id_token_with_another_nonce_is_refused(browser, idp):
    # The provider faithfully echoes a nonce other than the one Kyoso keeps for this login.
    response = await log_in(
        browser, idp, "idp", "tampered", tamper=lambda url: replace_query(url, nonce="not-the-one-kyoso-sent")
    )
    await assert_refused(response, 400, "The answer from Test IdP could not be verified", "invalid_id_token")
    assert not await User.exists(email="tampered@idp.example.jp")


async def test_an_id_token_with_a_bad_signature_is_refused(browser, idp):
    response = await log_in(browser, idp, "forged", "forged")
    await assert_refused(response, 400, "The answer from Forged IdP could not be verified", "invalid_id_token")
    assert not await User.exists(email="forged@idp.example.jp")


async def test_a_code_the_provider_will_not_exchange_is_refused(browser, idp):
    response = await log_in(browser, idp, "wrong-secret", "new-person")
    await assert_refused(response, 400, "could not be verified", "token_error:invalid_client")


async def test_a_callback_with_a_wrong_or_missing_state_is_refused(browser, idp, app):
    start = await browser.get("/login/oidc/idp")
    callback = await through_provider(idp, start.headers["location"], "returning")

    wrong = await browser.get(replace_query(callback, state="someone-elses-state"))
    await assert_refused(wrong, 400, "This log-in has expired or was started in another browser.", "state")

    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=app), base_url="http://testserver", headers={"accept-language": "en"}
    ) as another_browser:
        without_cookie = await another_browser.get(callback)
    await assert_refused(without_cookie, 400, "This log-in has expired", "state")

    for state in ("", "状態"):
        response = await browser.get(replace_query(callback, state=state))
        await assert_refused(response, 400, "This log-in has expired", "state")


async def test_a_replayed_callback_is_refused(browser, idp):
    start = await browser.get("/login/oidc/idp")
    callback = await through_provider(idp, start.headers["location"], "returning")
    assert (await browser.get(callback)).status_code == 303

    replayed = await browser.get(callback)
    await assert_refused(replayed, 400, "This log-in has expired", "state")


async def test_an_error_from_the_provider_is_refused(browser, idp):
    response = await log_in(browser, idp, "idp", "cancels", cancel=True)
    message = "Logging in with Test IdP was cancelled or refused."
    await assert_refused(response, 403, message, "provider_error:access_denied")
    assert not await User.exists(email="cancels@idp.example.jp")


async def test_a_provider_that_cannot_be_reached_gets_a_clear_page(browser):
    response = await browser.get("/login/oidc/offline")
    await assert_refused(response, 502, "Offline IdP could not be reached.", "provider_unreachable")


async def test_an_unknown_provider_is_not_found(browser):
    for path in ("/login/oidc/nowhere", "/auth/oidc/nowhere/callback?code=x&state=y"):
        response = await browser.get(path)
        await assert_refused(response, 404, "This way of logging in is not available.", "unknown_provider")


async def test_refusal_pages_are_in_the_visitors_language(client, idp):
    response = await client.get("/auth/oidc/idp/callback?state=x&code=y", headers={"accept-language": "ja"})
    assert response.status_code == 400
    assert '<html lang="ja">' in response.text


# --- configuration ----------------------------------------------------------------------------


def test_the_login_page_lists_the_configured_providers(settings):
    assert configured_providers(settings) == [
        ("idp", "Test IdP"), ("forged", "Forged IdP"), ("wrong-secret", "Test IdP"), ("offline", "Offline IdP")
    ]


def test_the_single_provider_variables_make_the_default_provider(monkeypatch):
    monkeypatch.setenv("OIDC_ISSUER", "https://login.example.jp/")
    monkeypatch.setenv("OIDC_CLIENT_ID", "kyoso")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "secret")
    monkeypatch.setenv("OIDC_NAME", "Tokyo ID")
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    [provider] = load_settings().all_oidc_providers
    assert (provider.key, provider.name, provider.issuer) == ("default", "Tokyo ID", "https://login.example.jp/")


@pytest.mark.parametrize(
    ("variable", "value", "names"),
    [
        ("OIDC_PROVIDERS", "[{oops", "OIDC_PROVIDERS"),
        ("OIDC_PROVIDERS", '[{"key": "a", "issuer": "x.jp", "client_id": "c", "client_secret": "s"}]', "issuer"),
        ("OIDC_PROVIDERS", '[{"key": "a", "issuer": "https://x.jp", "client_id": "c"}]', "client_secret"),
        ("OIDC_PROVIDERS", '[{"key": "A B", "issuer": "https://x.jp", "client_id": "c", "client_secret": "s"}]', "key"),
        ("OIDC_ISSUER", "login.example.jp", "OIDC_ISSUER"),
    ],
)
def test_a_wrong_oidc_setting_stops_the_start_with_one_line(monkeypatch, variable, value, names):
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert variable in str(error.value) and names in str(error.value)
    assert "\n" not in str(error.value)


def test_an_issuer_needs_client_credentials(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("OIDC_ISSUER", "https://login.example.jp")
    with pytest.raises(ConfigError, match="OIDC_CLIENT_ID"):
        load_settings()
