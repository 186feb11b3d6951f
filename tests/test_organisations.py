"""Organisations over HTTP: the profile, members, invitations (with the mail going through the outbox, a
real worker and a real SMTP server), who may do what, and the audit trail of every change."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx2
from tortoise import timezone

from models.core.audit import AuditEvent
from models.core.errors import MessageId, NotAllowed
from models.core.outbox import OutboxMessage
from models.identity import invitations
from models.identity.accounts import Invitation, Membership, Role, hash_secret
from models.identity.orgs import Organisation
from models.policy import actor_for
from server import i18n
from server.auth.ratelimit import INVITATIONS_PER_ORGANISATION, INVITATIONS_PER_PERSON
from tests.helpers import browser, english, make_company
from tests.workers import run_worker_once

CSRF_INPUT = re.compile(r'name="csrftoken" value="([^"]+)"')
LINK = re.compile(r"http://testserver(/invitations/[A-Za-z0-9_-]+)")


# --- helpers -------------------------------------------------------------------------------


async def agency(code: str = "131130") -> Organisation:
    return await Organisation.get(municipality_code=code)


async def post_form(client: httpx2.AsyncClient, page: str, action: str, data: dict[str, str]) -> httpx2.Response:
    """GET a page (for the CSRF token), then POST the form, as a browser would."""
    shown = await client.get(page)
    found = CSRF_INPUT.search(shown.text)
    token = found.group(1) if found else client.cookies["csrftoken"]
    return await client.post(action, data={**data, "csrftoken": token})


def in_japanese(message_id: str, **variables: object) -> str:
    with i18n.using_locale("ja"):
        return i18n.gettext(message_id, **variables)


async def audited(action: str, **filters: object) -> AuditEvent:
    event = await AuditEvent.filter(action=action, **filters).first()
    assert event is not None, f"no audit event {action} {filters}"
    return event


# --- the invitation flow -------------------------------------------------------------------


async def test_an_admin_invites_by_mail_and_the_invitee_joins_once(app, migrated, people, smtp):
    company = await make_company()
    admin = await people.make(org=company, role=Role.ADMIN)
    invitee = await english(await people.make())

    async with browser(app, admin) as as_admin:
        response = await post_form(
            as_admin, "/organisation", "/organisation/invitations",
            {"email": invitee.email.upper(), "role": "admin", "locale": "ja"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/organisation"
        page = await as_admin.get("/organisation")
        assert invitee.email in page.text
        assert 'class="banner banner--success"' in page.text and "招待を作成しました" in page.text  # a banner, once
    invitation = await Invitation.get(organisation=company, email=invitee.email)
    assert invitation.role == "admin" and invitation.accepted_at is None
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)
    created = await audited("invitation.created", target_id=str(invitation.id))
    assert created.actor_id == admin.id and created.organisation_id == company.id
    assert smtp.messages_to(invitee.email) == []  # the mail waits in the outbox for the worker

    await run_worker_once(migrated)

    [mail] = smtp.messages_to(invitee.email)
    assert mail.message["Content-Language"] == "en"  # the invitee's own language wins over the form's choice
    assert mail.subject == f"Invitation to join {company.name_en} on Kyoso"
    link = LINK.search(mail.body).group(1)
    token = link.rsplit("/", 1)[1]
    assert invitation.token_hash == hash_secret(token) and token not in invitation.token_hash

    async with browser(app) as visitor:
        page = await visitor.get(link)
        assert page.status_code == 200
        assert company.name_ja in page.text
        assert f'href="/login?next={link}"' in page.text and f'href="/signup?next={link}"' in page.text
        refused = await visitor.post(f"{link}/accept")
        assert refused.status_code == 303 and refused.headers["location"] == f"/login?next={link}"

    async with browser(app, invitee) as as_invitee:
        page = await as_invitee.get(link)
        assert company.name_en in page.text and "Accept the invitation and join" in page.text
        response = await post_form(as_invitee, link, f"{link}/accept", {})
        assert response.status_code == 303
        assert response.headers["location"] == f"/organisations/{company.id}"
        welcome = await as_invitee.get(response.headers["location"])
        assert welcome.status_code == 200 and "You are now a member" in welcome.text

        again = await as_invitee.get(link)
        assert again.status_code == 410 and "already been used" in again.text
        reused = await post_form(as_invitee, link, f"{link}/accept", {})
        assert reused.status_code == 410 and "already been used" in reused.text

    membership = await Membership.get(user=invitee, organisation=company)
    assert membership.role == "admin"
    assert await Membership.filter(user=invitee).count() == 1
    await audited("invitation.accepted", target_id=str(invitation.id), actor_id=invitee.id)
    await audited("membership.created", target_id=str(membership.id), organisation_id=company.id)

    await run_worker_once(migrated)  # draining again sends nothing new
    assert len(smtp.messages_to(invitee.email)) == 1


async def test_an_expired_or_unknown_invitation_is_refused(app, people):
    company = await make_company()
    admin = await people.make(org=company, role=Role.ADMIN)
    invitee = await english(await people.make())
    invitation, token = await invitations.invite(await actor_for(admin), company, invitee.email, "member")
    await Invitation.filter(id=invitation.id).update(expires_at=timezone.now() - timedelta(minutes=1))

    async with browser(app, invitee) as as_invitee:
        page = await as_invitee.get(f"/invitations/{token}")
        assert page.status_code == 410 and "expired" in page.text
        assert "Accept the invitation" not in page.text
        refused = await post_form(as_invitee, "/organisation?lang=en", f"/invitations/{token}/accept", {})
        assert refused.status_code == 410 and "expired" in refused.text
        unknown = await as_invitee.get("/invitations/not-a-real-token")
        assert unknown.status_code == 404 and "not valid" in unknown.text
    assert not await Membership.exists(user=invitee, organisation=company)


async def test_an_invitation_is_only_for_the_invited_address(app, people):
    company = await make_company()
    admin = await people.make(org=company, role=Role.ADMIN)
    someone_else = await english(await people.make())
    _, token = await invitations.invite(await actor_for(admin), company, "invited@example.jp", "member")

    async with browser(app, someone_else) as client:
        page = await client.get(f"/invitations/{token}")
        assert page.status_code == 403 and "invited@example.jp" in page.text
        refused = await post_form(client, f"/invitations/{token}", f"/invitations/{token}/accept", {})
        assert refused.status_code == 403
    assert not await Membership.exists(user=someone_else, organisation=company)


async def test_a_revoked_invitation_stops_working_and_its_mail_is_not_sent(app, migrated, people, smtp):
    company = await make_company()
    admin = await people.make(org=company, role=Role.ADMIN)
    invitation, token = await invitations.invite(await actor_for(admin), company, "revoked@example.jp", "member")

    async with browser(app, admin) as as_admin:
        response = await post_form(as_admin, "/organisation", f"/organisation/invitations/{invitation.id}/revoke", {})
        assert response.status_code == 303 and response.headers["location"] == "/organisation"
        assert (await as_admin.get(f"/invitations/{token}")).status_code == 404
    assert not await Invitation.exists(id=invitation.id)
    revoked = await audited("invitation.revoked", target_id=str(invitation.id), actor_id=admin.id)
    assert revoked.before["email"] == "revoked@example.jp"
    queued = await OutboxMessage.get(topic="mail", key=f"invitation:{invitation.id}")
    assert queued.processed_at is not None and queued.payload["context"]["token"] == ""

    await run_worker_once(migrated)
    assert smtp.messages_to("revoked@example.jp") == []


# --- who may manage ------------------------------------------------------------------------


async def test_a_member_who_is_not_admin_sees_but_cannot_manage(app, people):
    company = await make_company()
    admin = await people.make(org=company, role=Role.ADMIN)
    member = await people.make(org=company)
    invitation, _ = await invitations.invite(await actor_for(admin), company, "pending@example.jp", "member")
    admin_membership = await Membership.get(user=admin)

    async with browser(app, member) as client:
        page = await client.get("/organisation")
        assert page.status_code == 200
        assert "pending@example.jp" in page.text and admin.name in page.text
        assert 'action="/organisation/invitations"' not in page.text and "/role" not in page.text
        for action, data in [
            ("/organisation/invitations", {"email": "new@example.jp", "role": "member"}),
            (f"/organisation/invitations/{invitation.id}/revoke", {}),
            (f"/organisation/members/{admin_membership.id}/role", {"role": "member"}),
            (f"/organisation/members/{admin_membership.id}/remove", {}),
            ("/organisation/profile", {"website": "https://example.jp"}),
        ]:
            response = await post_form(client, "/organisation", action, data)
            assert response.status_code == 403, action
    assert not await Invitation.exists(email="new@example.jp")
    assert await Invitation.exists(id=invitation.id)
    assert (await Membership.get(id=admin_membership.id)).role == "admin"


async def test_a_company_admin_cannot_manage_an_agency_or_another_company(app, people):
    shibuya = await agency()
    agency_member = await Membership.filter(organisation=shibuya).first()
    company = await make_company()
    admin = await people.make(org=company, role=Role.ADMIN)
    other = await make_company()
    other_member = await people.make(org=other)
    other_membership = await Membership.get(user=other_member)

    async with browser(app, admin) as client:
        assert (await client.get(f"/organisations/{shibuya.id}")).status_code == 403
        response = await post_form(
            client, "/organisation", f"/organisations/{shibuya.id}/invitations", {"email": "x@example.jp", "role": "admin"}
        )
        assert response.status_code == 403
        response = await post_form(client, "/organisation", f"/organisations/{shibuya.id}/profile", {"website": ""})
        assert response.status_code == 403
        if agency_member:
            response = await post_form(
                client, "/organisation", f"/organisations/{shibuya.id}/members/{agency_member.id}/role", {"role": "admin"}
            )
            assert response.status_code == 403
        # Another company's member is not found through one's own organisation.
        response = await post_form(
            client, "/organisation", f"/organisation/members/{other_membership.id}/remove", {}
        )
        assert response.status_code == 404
    assert not await Invitation.exists(organisation=shibuya, email="x@example.jp")
    assert await Membership.exists(id=other_membership.id)


async def test_an_operator_manages_any_organisation(app, people):
    hinohara = await agency("133078")  # Hinohara Village: no other test changes it
    operator = await english(await people.make(operator=True))
    agency_member = await people.make(org=hinohara)
    membership = await Membership.get(user=agency_member)

    async with browser(app, operator) as client:
        page = await client.get(f"/organisations/{hinohara.id}")
        assert page.status_code == 200
        assert hinohara.name_en in page.text and f'action="/organisations/{hinohara.id}/invitations"' in page.text
        assert "Company name" not in page.text  # agencies' names are not editable
        response = await post_form(
            client, f"/organisations/{hinohara.id}", f"/organisations/{hinohara.id}/invitations",
            {"email": "hinohara-new@example.jp", "role": "admin", "locale": "en"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/organisations/{hinohara.id}"
        response = await post_form(
            client, f"/organisations/{hinohara.id}", f"/organisations/{hinohara.id}/members/{membership.id}/role",
            {"role": "admin"},
        )
        assert response.status_code == 303
        response = await post_form(
            client, f"/organisations/{hinohara.id}", f"/organisations/{hinohara.id}/profile",
            {"website": "https://www.vill.hinohara.tokyo.jp", "size": "1000+", "name_ja": "乗っ取り区"},
        )
        assert response.status_code == 303
    invitation = await Invitation.get(organisation=hinohara, email="hinohara-new@example.jp")
    await audited("invitation.created", target_id=str(invitation.id), actor_id=operator.id, organisation_id=hinohara.id)
    changed = await audited("membership.role_changed", target_id=str(membership.id), actor_id=operator.id)
    assert changed.before["role"] == "member" and changed.after["role"] == "admin"
    await hinohara.refresh_from_db()
    assert hinohara.website == "https://www.vill.hinohara.tokyo.jp" and hinohara.name_ja == "檜原村"


async def test_an_organisation_always_keeps_an_admin(app, people):
    company = await make_company()
    admin = await people.make(org=company, role=Role.ADMIN)
    member = await people.make(org=company)
    mine = await Membership.get(user=admin)
    theirs = await Membership.get(user=member)

    async with browser(app, admin) as client:
        for action, data in [(f"/organisation/members/{mine.id}/role", {"role": "member"}), (f"/organisation/members/{mine.id}/remove", {})]:
            response = await post_form(client, "/organisation", action, data)
            assert response.status_code == 422
            assert in_japanese(invitations.LAST_ADMIN) in response.text  # the admin reads Japanese
            assert 'aria-invalid="true"' in response.text
        assert (await Membership.get(id=mine.id)).role == "admin"

        response = await post_form(client, "/organisation", f"/organisation/members/{theirs.id}/role", {"role": "admin"})
        assert response.status_code == 303
        response = await post_form(client, "/organisation", f"/organisation/members/{mine.id}/role", {"role": "member"})
        assert response.status_code == 303
        # Now a plain member, the former admin may no longer manage.
        response = await post_form(client, "/organisation", f"/organisation/members/{theirs.id}/remove", {})
        assert response.status_code == 403
    promoted = await audited("membership.role_changed", target_id=str(theirs.id), actor_id=admin.id)
    assert (promoted.before, promoted.after) == ({"user": member.id, "role": "member"}, {"user": member.id, "role": "admin"})
    await audited("membership.role_changed", target_id=str(mine.id), actor_id=admin.id)
    assert (await Membership.get(id=theirs.id)).role == "admin"

    async with browser(app, member) as client:
        response = await post_form(client, "/organisation", f"/organisation/members/{mine.id}/remove", {})
        assert response.status_code == 303 and response.headers["location"] == "/organisation"
    assert not await Membership.exists(id=mine.id)
    removed = await audited("membership.removed", target_id=str(mine.id), actor_id=member.id)
    assert removed.before == {"user": admin.id, "role": "member"}


async def test_an_admin_may_leave_when_another_admin_remains(app, people):
    company = await make_company()
    leaving = await people.make(org=company, role=Role.ADMIN)
    await people.make(org=company, role=Role.ADMIN)
    mine = await Membership.get(user=leaving)
    async with browser(app, leaving) as client:
        response = await post_form(client, "/organisation", f"/organisation/members/{mine.id}/remove", {})
        assert response.status_code == 303 and response.headers["location"] == "/"
        assert (await client.get("/organisation")).status_code == 404  # no organisation any more
    await audited("membership.removed", target_id=str(mine.id), actor_id=leaving.id)


# --- forms: bad input, profile -------------------------------------------------------------


async def test_bad_invitations_are_shown_again_with_the_error_and_what_was_typed(app, people):
    company = await make_company()
    admin = await people.make(org=company, role=Role.ADMIN)
    member = await people.make(org=company)
    await invitations.invite(await actor_for(admin), company, "twice@example.jp", "member")
    count = await Invitation.filter(organisation=company).count()

    async with browser(app, admin) as client:
        cases = [
            ({"email": "not an address", "role": "member"}, invitations.INVALID_EMAIL, "not an address"),
            ({"email": "ok@example.jp", "role": "owner"}, invitations.INVALID_ROLE, "ok@example.jp"),
            ({"email": member.email, "role": "member"}, invitations.ALREADY_MEMBER, member.email),
            ({"email": "Twice@example.jp", "role": "member"}, invitations.ALREADY_INVITED, "Twice@example.jp"),
        ]
        for data, message_id, typed in cases:
            response = await post_form(client, "/organisation", "/organisation/invitations", data)
            assert response.status_code == 422, data
            assert in_japanese(message_id) in response.text
            assert f'value="{typed}"' in response.text
            assert 'class="error-summary"' in response.text
    assert await Invitation.filter(organisation=company).count() == count


async def test_admins_edit_the_profile_and_bad_input_changes_nothing(app, people):
    company = await make_company()
    admin = await english(await people.make(org=company, role=Role.ADMIN))

    async with browser(app, admin) as client:
        response = await post_form(
            client, "/organisation", "/organisation/profile",
            {"website": "javascript:alert(1)", "size": "1-9", "description_ja": "説明文", "name_ja": company.name_ja},
        )
        assert response.status_code == 422
        assert "Enter a web address starting with http:// or https://." in response.text
        assert "説明文" in response.text and 'value="javascript:alert(1)"' in response.text
        await company.refresh_from_db()
        assert company.website == "" and company.description == {}

        response = await post_form(
            client, "/organisation", "/organisation/profile",
            {
                "website": "https://example.co.jp", "size": "10-49", "description_ja": "行政DXの会社",
                "description_en": "A GovTech company", "name_ja": "新社名株式会社", "name_en": "New Name Inc.",
            },
        )
        assert response.status_code == 303 and response.headers["location"] == "/organisation"
        page = await client.get(response.headers["location"])
        assert "The profile has been saved." in page.text and "新社名株式会社" in page.text
    await company.refresh_from_db()
    assert (company.website, company.size, company.name_ja) == ("https://example.co.jp", "10-49", "新社名株式会社")
    assert company.description == {"ja": "行政DXの会社", "en": "A GovTech company"}
    event = await audited("organisation.updated", target_id=str(company.id), actor_id=admin.id)
    assert event.before["website"] == "" and event.after["website"] == "https://example.co.jp"
    assert event.after["name_ja"] == "新社名株式会社"


async def test_visitors_are_sent_to_log_in_and_people_without_an_organisation_get_404(app, people):
    loner = await people.make()
    async with browser(app) as visitor:
        response = await visitor.get("/organisation")
        assert response.status_code == 303 and response.headers["location"] == "/login?next=/organisation"
        response = await visitor.get("/organisations/1")
        assert response.status_code == 303 and response.headers["location"] == "/login?next=/organisations/1"
    async with browser(app, loner) as client:
        assert (await client.get("/organisation")).status_code == 404
        assert (await client.get("/organisations/999999")).status_code == 404


def test_every_domain_message_has_a_translation_entry():
    message_ids = [value for name, value in vars(invitations).items() if name.isupper() and isinstance(value, MessageId)]
    assert len(message_ids) >= 9
    for message_id in message_ids:
        with i18n.using_locale("ja"):
            assert i18n.gettext(message_id) != message_id


# --- the API -------------------------------------------------------------------------------


async def test_api_organisation_profiles_are_public_once_approved(client, people):
    approved = await make_company()
    pending = await make_company(status="pending")
    member = await people.make(org=pending)
    outsider = await people.make(org=approved)
    operator = await people.make(operator=True)

    response = await client.get(f"/api/v1/organisations/{approved.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == {"ja": approved.name_ja, "en": approved.name_en}
    assert body["code"] == approved.corporate_number and body["kind"] == "company"

    assert (await client.get(f"/api/v1/organisations/{pending.id}")).status_code == 404
    assert (await client.get(f"/api/v1/organisations/{pending.id}", headers=await people.token(outsider))).status_code == 404
    assert (await client.get(f"/api/v1/organisations/{pending.id}", headers=await people.token(member))).status_code == 200
    assert (await client.get(f"/api/v1/organisations/{pending.id}", headers=await people.token(operator))).status_code == 200
    assert (await client.get("/api/v1/organisations/abc")).status_code == 404


async def test_api_members_are_listed_to_members_and_operators_only(client, people):
    company = await make_company()
    admin = await people.make(org=company, role=Role.ADMIN)
    member = await people.make(org=company)
    outsider = await people.make(org=await make_company())
    operator = await people.make(operator=True)
    path = f"/api/v1/organisations/{company.id}/members"

    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=await people.token(outsider))).status_code == 403
    response = await client.get(path, headers=await people.token(member))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2 and {item["email"] for item in body["items"]} == {admin.email, member.email}
    assert {item["role"] for item in body["items"]} == {"admin", "member"}
    paged = (await client.get(f"{path}?per_page=1&page=2", headers=await people.token(operator))).json()
    assert (paged["total"], paged["page"], paged["per_page"], len(paged["items"])) == (2, 2, 1, 1)


async def test_api_invitations_by_admins_and_operators_only(client, people):
    company = await make_company()
    admin = await people.make(org=company, role=Role.ADMIN)
    member = await people.make(org=company)
    other_admin = await people.make(org=await make_company(), role=Role.ADMIN)
    operator = await people.make(operator=True)
    path = f"/api/v1/organisations/{company.id}/invitations"

    response = await client.post(path, json={"email": "api-invitee@example.jp", "role": "admin"}, headers=await people.token(admin))
    assert response.status_code == 201
    body = response.json()
    assert (body["email"], body["role"], body["status"], body["invited_by"]) == ("api-invitee@example.jp", "admin", "pending", admin.id)
    assert await OutboxMessage.exists(topic="mail", key=f"invitation:{body['id']}")
    await audited("invitation.created", target_id=str(body["id"]), actor_id=admin.id)

    assert (await client.post(path, json={"email": "a@example.jp"})).status_code == 401
    for who in (member, other_admin):
        response = await client.post(path, json={"email": "a@example.jp"}, headers=await people.token(who))
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
    response = await client.post(path, json={"email": "ops@example.jp"}, headers=await people.token(operator))
    assert response.status_code == 201
    response = await client.post(path, json={"email": "nope", "role": "member"}, headers=await people.token(admin))
    assert response.status_code == 422 and response.json()["errors"] == [{"field": "email", "message": invitations.INVALID_EMAIL}]
    response = await client.post(path, json={"email": "x@example.jp", "role": "owner"}, headers=await people.token(admin))
    assert response.status_code == 422
    assert not await Invitation.exists(email="a@example.jp")


# --- invitation spam -----------------------------------------------------------------------


async def test_a_pending_company_cannot_invite(app, client, people):
    pending = await make_company(status="pending")
    admin = await people.make(org=pending, role=Role.ADMIN)
    async with browser(app, admin) as page_client:
        page = await page_client.get("/organisation")
        assert page.status_code == 200
        assert 'action="/organisation/invitations"' not in page.text
        assert "承認されると" in page.text  # says why, in Japanese
        response = await post_form(page_client, "/organisation", "/organisation/invitations", {"email": "spam@example.jp", "role": "member"})
        assert response.status_code == 403
    response = await client.post(
        f"/api/v1/organisations/{pending.id}/invitations", json={"email": "spam@example.jp", "role": "member"},
        headers=await people.token(admin),
    )
    assert response.status_code == 403
    assert not await Invitation.exists(organisation=pending)
    with_pending = await actor_for(admin)
    try:
        await invitations.invite(with_pending, pending, "spam@example.jp", "member")
    except NotAllowed:
        pass
    else:
        raise AssertionError("a pending organisation invited someone")


async def test_invitations_are_limited_per_person_with_a_clear_message(app, client, people, limits):
    company = await make_company()
    admin = await english(await people.make(org=company, role=Role.ADMIN))
    headers = await people.token(admin)
    for number in range(INVITATIONS_PER_PERSON.amount):
        response = await client.post(
            f"/api/v1/organisations/{company.id}/invitations", json={"email": f"batch{number}@example.jp"}, headers=headers
        )
        assert response.status_code == 201
    response = await client.post(
        f"/api/v1/organisations/{company.id}/invitations", json={"email": "one-more@example.jp"}, headers=headers
    )
    assert response.status_code == 429 and "too many invitations" in response.json()["detail"]
    async with browser(app, admin) as page_client:
        response = await post_form(page_client, "/organisation", "/organisation/invitations", {"email": "one-more@example.jp", "role": "member"})
    assert response.status_code == 429 and "You have sent too many invitations" in response.text
    assert not await Invitation.exists(email="one-more@example.jp")
    other_admin = await people.make(org=company, role=Role.ADMIN)  # the limit is the person's
    async with browser(app, other_admin) as page_client:
        response = await post_form(page_client, "/organisation", "/organisation/invitations", {"email": "one-more@example.jp", "role": "member"})
    assert response.status_code == 303


async def test_invitations_are_limited_per_organisation_in_both_languages(app, people, limits):
    company = await make_company()
    for _sent in range(INVITATIONS_PER_ORGANISATION.amount):
        await limits.count(INVITATIONS_PER_ORGANISATION, "invite-organisation", str(company.id))
    admin = await people.make(org=company, role=Role.ADMIN)
    async with browser(app, admin) as page_client:
        response = await post_form(page_client, "/organisation", "/organisation/invitations", {"email": "late@example.jp", "role": "member"})
        assert response.status_code == 429 and "本日の招待の上限" in response.text
        await english(admin)
        response = await post_form(page_client, "/organisation", "/organisation/invitations", {"email": "late@example.jp", "role": "member"})
        assert response.status_code == 429 and "has sent its maximum number of invitations for today" in response.text
    assert not await Invitation.exists(email="late@example.jp")
