"""Organisations: the profile, the members and the invitations; pages and API side by side.

A person manages their own organisation at /organisation; operators manage any at /organisations/{id}
with the same handlers and template. Every change is a call to models.identity.invitations.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from models.core.errors import NotAllowed, NotFound, ValidationFailed
from models.identity import invitations
from models.identity.accounts import Invitation, Membership, Role
from models.identity.invitations import InvitationRefused, invitation_state
from models.identity.orgs import Organisation, find_organisation
from models.pilots import lifecycle as pilot_lifecycle
from models.policy import Actor, require_user
from models.policy.identity import (
    may_invite,
    may_manage_organisation,
    may_rename_organisation,
    may_see_members,
    may_view_organisation,
)
from server import flash, i18n
from server.api import api
from server.auth.ratelimit import INVITATIONS_PER_ORGANISATION, INVITATIONS_PER_PERSON
from server.auth.sessions import client_address
from server.forms import checked_form, errors_from
from server.i18n import gettext as _
from server.labels import organisation_labels
from server.schemas.organisations import (
    InvitationIn,
    InvitationOut,
    MemberList,
    MemberOut,
    OrganisationOut,
    PageQuery,
    ProfileIn,
)
from server.templating import templates

PROFILE_FIELDS = ("website", "size", "description_ja", "description_en", "name_ja", "name_en")
REFUSAL_STATUS = {"unknown": 404, "used": 410, "expired": 410, "wrong_account": 403, "already_member": 409}


# --- pages ---------------------------------------------------------------------------------


class _SignInFirst(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def _login_redirect(next_path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(next_path, safe='/')}", status_code=303)


def _page(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except _SignInFirst as exc:
            return _login_redirect(exc.next_path)

    return endpoint


async def _organisation(request: Request) -> tuple[Actor, Organisation, str]:
    """The organisation a page is about, and the path its forms post to."""
    actor: Actor = request.state.actor
    org_id = request.path_params.get("org_id")
    base = "/organisation" if org_id is None else f"/organisations/{org_id}"
    if actor.is_visitor:
        raise _SignInFirst(base)
    if org_id is None:
        if actor.organisation is None:
            raise NotFound("the person belongs to no organisation")
        return actor, actor.organisation, base
    organisation = await find_organisation(org_id)
    if organisation is None or not may_view_organisation(actor, organisation):
        raise NotFound("no such organisation")
    if not may_see_members(actor, organisation):
        raise NotAllowed("only the organisation's members and operators")
    return actor, organisation, base


async def _managed(request: Request) -> tuple[Actor, Organisation, str]:
    actor, organisation, base = await _organisation(request)
    if not may_manage_organisation(actor, organisation):
        raise NotAllowed("only the organisation's admins and operators")
    return actor, organisation, base


def _profile_values(organisation: Organisation) -> dict[str, str]:
    description = organisation.description or {}
    return {
        "website": organisation.website,
        "size": organisation.size,
        "description_ja": description.get("ja", ""),
        "description_en": description.get("en", ""),
        "name_ja": organisation.name_ja,
        "name_en": organisation.name_en,
    }


async def _render(
    request: Request,
    actor: Actor,
    organisation: Organisation,
    base: str,
    *,
    form: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    members = await invitations.members_of(organisation)
    pending = await invitations.open_invitations(organisation)
    profile = _profile_values(organisation)
    if form == "profile" and values:
        profile.update(values)
    context = {
        "organisation": organisation,
        "base": base,
        "members": members,
        "invitations": [(invitation, invitation_state(invitation)) for invitation in pending],
        "can_manage": may_manage_organisation(actor, organisation),
        "can_rename": may_rename_organisation(actor, organisation),
        "can_invite": may_invite(actor, organisation),
        "profile": profile,
        "invite": values if form == "invite" and values else {"email": "", "role": Role.MEMBER.value, "locale": ""},
        "form": form,
        "errors": errors or {},
        "labels": organisation_labels(),
        "roles": [role.value for role in Role],
        "sizes": invitations.SIZES,
        "me": actor.user,
        "pilots": await pilot_lifecycle.list_pilots(actor, company=organisation.id) if organisation.kind == "company" else [],
    }
    return templates.TemplateResponse(request, "organisations/show.html", context, status_code=status)


def _done(base: str, what: str) -> RedirectResponse:
    return flash.redirect(base, f"membership.{what}")


async def _form(request: Request) -> dict[str, str]:
    form = await checked_form(request)
    return {name: value for name, value in form.items() if isinstance(value, str)}


@_page
async def show(request: Request) -> Response:
    actor, organisation, base = await _organisation(request)
    return await _render(request, actor, organisation, base)


@_page
async def edit_profile(request: Request) -> Response:
    actor, organisation, base = await _managed(request)
    form = await _form(request)
    fields = PROFILE_FIELDS if may_rename_organisation(actor, organisation) else PROFILE_FIELDS[:4]
    values = {name: form.get(name, "") for name in fields}
    profile = ProfileIn.model_validate(values)
    try:
        await invitations.update_profile(
            actor,
            organisation,
            website=profile.website,
            size=profile.size,
            description={"ja": profile.description_ja, "en": profile.description_en},
            name_ja=profile.name_ja,
            name_en=profile.name_en,
            client_address=client_address(request),
        )
    except ValidationFailed as exc:
        errors = errors_from(exc)
        return await _render(request, actor, organisation, base, form="profile", errors=errors, values=values, status=422)
    return _done(base, "profile")


async def _invitations_used_up(request: Request, actor: Actor, organisation: Organisation) -> str | None:
    """Why no more invitations may be sent now (each is an e-mail to a stranger), or None."""
    limiter = request.app.state.services.limiter
    if await limiter.used_up(INVITATIONS_PER_PERSON, "invite-person", str(require_user(actor).id)):
        return _("You have sent too many invitations in the last hour. Please try again later.")
    if await limiter.used_up(INVITATIONS_PER_ORGANISATION, "invite-organisation", str(organisation.id)):
        return _("Your organisation has sent its maximum number of invitations for today. Please try again tomorrow.")
    return None


async def _count_invitation(request: Request, actor: Actor, organisation: Organisation) -> None:
    limiter = request.app.state.services.limiter
    await limiter.count(INVITATIONS_PER_PERSON, "invite-person", str(require_user(actor).id))
    await limiter.count(INVITATIONS_PER_ORGANISATION, "invite-organisation", str(organisation.id))


@_page
async def invite(request: Request) -> Response:
    actor, organisation, base = await _managed(request)
    if not may_invite(actor, organisation):
        raise NotAllowed("only approved organisations invite")
    form = await _form(request)
    values = {"email": form.get("email", ""), "role": form.get("role", ""), "locale": form.get("locale") or None}
    if used_up := await _invitations_used_up(request, actor, organisation):
        return await _render(request, actor, organisation, base, form="invite", errors={"email": used_up}, values=values, status=429)
    try:
        data = InvitationIn.model_validate(values)
        await invitations.invite(
            actor, organisation, data.email, data.role.value, locale=data.locale, client_address=client_address(request)
        )
    except ValidationError as exc:
        errors = errors_from(exc, by_field={"email": invitations.INVALID_EMAIL, "role": invitations.INVALID_ROLE})
    except ValidationFailed as exc:
        errors = errors_from(exc)
    else:
        await _count_invitation(request, actor, organisation)
        return _done(base, "invited")
    return await _render(request, actor, organisation, base, form="invite", errors=errors, values=values, status=422)


@_page
async def revoke(request: Request) -> Response:
    actor, organisation, base = await _managed(request)
    invitation = await invitations.find_organisation_invitation(organisation, request.path_params["invitation_id"])
    await invitations.revoke_invitation(actor, invitation, client_address=client_address(request))
    return _done(base, "revoked")


async def _member(request: Request, organisation: Organisation) -> Membership:
    return await invitations.find_member(organisation, request.path_params["membership_id"])


@_page
async def change_role(request: Request) -> Response:
    actor, organisation, base = await _managed(request)
    membership = await _member(request, organisation)
    role = (await _form(request)).get("role", "")
    try:
        await invitations.change_role(actor, membership, role, client_address=client_address(request))
    except ValidationFailed as exc:
        errors = errors_from(exc)
        return await _render(request, actor, organisation, base, form=f"member-{membership.id}", errors=errors, status=422)
    return _done(base, "role")


@_page
async def remove_member(request: Request) -> Response:
    actor, organisation, base = await _managed(request)
    membership = await _member(request, organisation)
    try:
        await invitations.remove_member(actor, membership, client_address=client_address(request))
    except ValidationFailed as exc:
        errors = errors_from(exc)
        return await _render(request, actor, organisation, base, form=f"member-{membership.id}", errors=errors, status=422)
    if membership.user_id == request.state.actor.user.id and not request.state.actor.is_operator:
        return RedirectResponse("/", status_code=303)  # they removed themselves: the page is no longer theirs
    return _done(base, "removed")


def _invitation_page(request: Request, invitation: Invitation | None, token: str, problem: str | None) -> Response:
    context = {
        "invitation": invitation,
        "token": token,
        "problem": problem,
        "labels": organisation_labels(),
        "me": request.state.actor.user,
        "next": quote(f"/invitations/{token}", safe="/"),
    }
    status = REFUSAL_STATUS.get(problem or "", 200)
    return templates.TemplateResponse(request, "organisations/invitation.html", context, status_code=status)


async def invitation_page(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        invitation = await invitations.find_invitation(token)
    except NotFound:
        return _invitation_page(request, None, token, "unknown")
    problem = await invitations.acceptance_problem(invitation, request.state.actor.user)
    return _invitation_page(request, invitation, token, problem)


async def accept_invitation(request: Request) -> Response:
    token = request.path_params["token"]
    actor: Actor = request.state.actor
    if actor.user is None:
        return _login_redirect(f"/invitations/{token}")
    try:
        membership = await invitations.accept(token, actor.user, client_address=client_address(request))
    except NotFound:
        return _invitation_page(request, None, token, "unknown")
    except InvitationRefused as exc:
        return _invitation_page(request, await invitations.find_invitation(token), token, exc.reason)
    return _done(f"/organisations/{membership.organisation_id}", "joined")


def _organisation_routes(prefix: str) -> list[BaseRoute]:
    return [
        Route(prefix, show, methods=["GET"]),
        Route(f"{prefix}/profile", edit_profile, methods=["POST"]),
        Route(f"{prefix}/invitations", invite, methods=["POST"]),
        Route(f"{prefix}/invitations/{{invitation_id:int}}/revoke", revoke, methods=["POST"]),
        Route(f"{prefix}/members/{{membership_id:int}}/role", change_role, methods=["POST"]),
        Route(f"{prefix}/members/{{membership_id:int}}/remove", remove_member, methods=["POST"]),
    ]


routes: list[BaseRoute] = [
    *_organisation_routes("/organisation"),
    *_organisation_routes("/organisations/{org_id:int}"),
    Route("/invitations/{token}", invitation_page, methods=["GET"]),
    Route("/invitations/{token}/accept", accept_invitation, methods=["POST"]),
]


# --- API -----------------------------------------------------------------------------------


async def _visible_organisation(actor: Actor, id: int) -> Organisation:
    organisation = await find_organisation(id)
    if organisation is None or not may_view_organisation(actor, organisation):
        raise NotFound("No such organisation.")
    return organisation


def _organisation_out(organisation: Organisation) -> OrganisationOut:
    return OrganisationOut(
        id=organisation.id,
        kind=organisation.kind,
        status=organisation.status,
        name={"ja": organisation.name_ja, "en": organisation.name_en},
        code=organisation.code,
        municipality_type=organisation.municipality_type,
        website=organisation.website,
        size=organisation.size,
        description=organisation.description or {},
        approved_at=organisation.approved_at,
    )


@api.operation(
    "/organisations/{id:int}",
    summary="An organisation's public profile (approved ones to everyone; others to their members and operators)",
    response=OrganisationOut,
    public=True,
    tags=["organisations"],
)
async def get_organisation(request: Request, actor: Actor, id: int) -> OrganisationOut:
    return _organisation_out(await _visible_organisation(actor, id))


@api.operation(
    "/organisations/{id:int}/members",
    summary="The members of an organisation (to its members and operators)",
    response=MemberList,
    query=PageQuery,
    tags=["organisations"],
)
async def list_organisation_members(request: Request, actor: Actor, id: int, query: PageQuery) -> MemberList:
    organisation = await _visible_organisation(actor, id)
    if not may_see_members(actor, organisation):
        raise NotAllowed("Only the organisation's members and operators may list its members.")
    total, page = await invitations.members_page(organisation, (query.page - 1) * query.per_page, query.per_page)
    return MemberList(
        items=[
            MemberOut(
                id=m.id, user_id=m.user_id, name=m.user.name, email=m.user.email, role=m.role, joined_at=m.created_at
            )
            for m in page
        ],
        total=total,
        page=query.page,
        per_page=query.per_page,
    )


@api.operation(
    "/organisations/{id:int}/invitations",
    "POST",
    summary="Invite someone by e-mail (the organisation's admins and operators); the mail goes out via the outbox",
    body=InvitationIn,
    response=InvitationOut,
    status=201,
    tags=["organisations"],
    errors=(429,),
)
async def create_organisation_invitation(request: Request, actor: Actor, id: int, body: InvitationIn) -> InvitationOut:
    organisation = await _visible_organisation(actor, id)
    if may_invite(actor, organisation):  # else invite() refuses with 403, before any limit is looked at
        with i18n.using_locale("en"):
            used_up = await _invitations_used_up(request, actor, organisation)
        if used_up:
            raise HTTPException(429, used_up)
    invitation, _token = await invitations.invite(
        actor, organisation, body.email, body.role.value, locale=body.locale, client_address=client_address(request)
    )
    await _count_invitation(request, actor, organisation)
    return InvitationOut(
        id=invitation.id,
        organisation_id=organisation.id,
        email=invitation.email,
        role=invitation.role,
        status=invitation_state(invitation),
        expires_at=invitation.expires_at,
        invited_by=invitation.invited_by_id,
    )
