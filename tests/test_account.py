from __future__ import annotations

import re

from models.core.audit import AuditEvent
from models.identity.accounts import ApiToken, Session, verify_password
from tests.web import post_form, sign_in_as


async def test_profile_and_language_are_saved(client, people):
    user = await people.make(reviewer=True)
    await sign_in_as(client, user)
    response = await post_form(client, "/account/profile", {"name": "新しい 名前", "locale": "en", "expertise": "UX、 mobility"})
    assert response.status_code == 303
    await user.refresh_from_db()
    assert user.name == "新しい 名前" and user.locale == "en" and user.expertise == ["UX", "mobility"]
    page = await client.get("/account")
    assert '<html lang="en">' in page.text  # the person's language now decides
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
    assert ok.status_code == 303
    await user.refresh_from_db()
    assert verify_password(user, "a new strong password")


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
