from __future__ import annotations

import re

import httpx2

from models.core.audit import AuditEvent
from models.identity.accounts import ApiToken, Session, verify_password
from tests.web import post_form, sign_in_as


async def test_profile_and_language_are_saved(client, people):
    user = await people.make(reviewer=True)
    await sign_in_as(client, user)
    response = await post_form(client, "/account/profile", {"name": "新しい 名前", "locale": "en", "expertise": "UX、 mobility"})
    assert response.status_code == 303 and response.headers["location"] == "/account"  # a banner, not ?done=
    await user.refresh_from_db()
    assert user.name == "新しい 名前" and user.locale == "en" and user.expertise == ["UX", "mobility"]
    page = await client.get("/account")
    assert '<html lang="en">' in page.text  # the person's language now decides
    assert 'class="banner banner--success"' in page.text and "Your changes have been saved." in page.text
    assert "Your changes have been saved." not in (await client.get("/account")).text  # shown once
    assert await AuditEvent.exists(action="user.profile_changed", actor_id=user.id)


async def test_an_empty_name_is_refused_in_the_form(client, people):
    user = await people.make()
    await sign_in_as(client, user)
    response = await post_form(client, "/account/profile", {"name": "", "locale": "ja"})
    assert response.status_code == 400
    assert "入力してください" in response.text


async def test_password_change_needs_the_current_password(client, people):
    user = await people.make()
    await sign_in_as(client, user)
    wrong = await post_form(client, "/account/password", {"current_password": "nope", "new_password": "a new strong password"})
    assert wrong.status_code == 400 and "現在のパスワード" in wrong.text
    common = await post_form(client, "/account/password", {"current_password": "correct horse battery", "new_password": "qwertyuiop"})
    assert common.status_code == 400
    ok = await post_form(client, "/account/password", {"current_password": "correct horse battery", "new_password": "a new strong password"})
    assert ok.status_code == 303 and ok.headers["location"] == "/account"
    await user.refresh_from_db()
    assert verify_password(user, "a new strong password")
    assert "パスワードを変更しました。" in (await client.get("/account")).text


async def test_a_token_is_shown_once_works_and_can_be_revoked(client, people):
    user = await people.make()
    await sign_in_as(client, user)
    page = await post_form(client, "/account/tokens", {"name": "my script"})
    raw = re.search(r"(kyo_[A-Za-z0-9_\-]+)", page.text).group(1)
    assert (await client.get("/account")).text.count(raw) == 0  # never shown again
    api = {"Authorization": f"Bearer {raw}"}
    assert (await client.get("/api/v1/me", headers=api)).json()["id"] == user.id
    token = await ApiToken.get(user=user, name="my script")
    assert (await post_form(client, f"/account/tokens/{token.id}/revoke")).status_code == 303
    assert (await client.get("/api/v1/me", headers=api)).status_code == 401


async def test_someone_elses_token_cannot_be_revoked(client, people):
    owner, other = await people.make(), await people.make()
    headers = await people.token(owner)
    token = await ApiToken.get(user=owner)
    await sign_in_as(client, other)
    await post_form(client, f"/account/tokens/{token.id}/revoke")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200


async def test_log_out_everywhere_ends_every_session(client, people):
    user = await people.make()
    await sign_in_as(client, user)
    from models.identity.sessions import open_session

    other_device = await open_session(user)
    response = await post_form(client, "/account/sessions/end-all")
    assert response.status_code == 303
    assert await Session.filter(user=user, ended_at=None).count() == 0
    client.cookies.set("kyoso_session", other_device)
    assert (await client.get("/account")).status_code == 303


async def test_changing_the_password_ends_every_other_session_and_revokes_tokens_by_default(client, people):
    from models.identity.sessions import open_session

    user = await people.make()
    await sign_in_as(client, user)
    other_device = await open_session(user)
    api = await people.token(user)
    page = await client.get("/account")
    assert re.search(r'<input[^>]*name="revoke_tokens"[^>]*checked', page.text)  # offered, on by default
    response = await post_form(client, "/account/password", {
        "current_password": "correct horse battery", "new_password": "a new strong password", "revoke_tokens": "on",
    })
    assert response.status_code == 303
    assert (await client.get("/account")).status_code == 200  # this browser stays signed in
    assert await Session.filter(user=user, ended_at=None).count() == 1
    assert (await client.get("/api/v1/me", headers=api)).status_code == 401
    other = httpx2.AsyncClient(transport=client._transport, base_url="http://testserver", cookies={"kyoso_session": other_device})
    assert (await other.get("/account")).status_code == 303


async def test_api_tokens_can_be_kept_when_changing_the_password(client, people):
    user = await people.make()
    await sign_in_as(client, user)
    api = await people.token(user)
    response = await post_form(client, "/account/password", {
        "current_password": "correct horse battery", "new_password": "a new strong password",
    })  # the box unticked
    assert response.status_code == 303
    assert (await client.get("/api/v1/me", headers=api)).status_code == 200


async def test_deactivation_revokes_api_tokens(people):
    from models.identity.people import set_person_access
    from models.policy import actor_for

    operator, person = await people.make(operator=True), await people.make()
    await people.token(person)
    await set_person_access(await actor_for(operator), person, active=False, reviewer=False, operator=False)
    assert not await ApiToken.filter(user=person, revoked_at=None).exists()
    await set_person_access(await actor_for(operator), person, active=True, reviewer=False, operator=False)
    assert not await ApiToken.filter(user=person, revoked_at=None).exists()  # reactivation brings none back


async def test_a_page_post_with_the_session_cookie_is_csrf_checked_even_with_a_bearer_header(client, people):
    user = await people.make()
    await sign_in_as(client, user)
    await client.get("/account")  # the CSRF cookie is set
    response = await client.post(
        "/account/profile", data={"name": "Mallory", "locale": "ja"}, headers={"Authorization": "Bearer anything"}
    )
    assert response.status_code == 403
    await user.refresh_from_db()
    assert user.name != "Mallory"
