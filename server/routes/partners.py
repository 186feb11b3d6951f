"""The talent pool: partners register and answer invitations; operators vet; agencies post needs, see
their match lists, invite and follow placements. Pages and API side by side; access is decided in
models.policy.partners, and searching goes through search.partners (policy first).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from models.challenges import lifecycle as challenge_lifecycle
from models.core.errors import N_, DomainError, NotAllowed, ValidationFailed
from models.identity.accounts import User
from models.partners import invitations, needs, panels, placements, profiles
from models.partners.models import PUBLIC_FIELDS, Need, PartnerProfile, PartnerSkill, PartnerStatus
from models.partners.skills import LANGUAGES, ROLES, SKILL_CATEGORIES, SKILLS, EngagementType, WorkMode
from models.policy import Actor, require_user
from models.policy.partners import (
    may_answer_placement_survey,
    may_list_partners,
    may_manage_need,
    may_post_needs,
    may_see_email,
    may_see_placement_survey,
    may_vet_partners,
    partner_filter,
    visible_fields,
)
from search.partners import PartnerQuery, match_partners, open_partner_backend, search_partners
from server import flash
from server.api import api
from server.auth.ratelimit import MAILS_USED_UP
from server.forms import checked_form, errors_from, read_form
from server.i18n import get_locale
from server.i18n import gettext as _
from server.ids import id_or_none
from server.problems import page_message, signed_in
from server.routes.review_panel import panel_out
from server.schemas.partners import (
    InvitationListOut,
    MatchListOut,
    MatchOut,
    NeedIn,
    NeedListOut,
    NeedOut,
    PanelPartnerIn,
    PartnerHit,
    PartnerIn,
    PartnerInvitationIn,
    PartnerInvitationOut,
    PartnerListOut,
    PartnerOut,
    PartnerRegistrationIn,
    PartnerSearchQuery,
    PlacementListOut,
    PlacementOut,
    PlacementSurveyIn,
    PlacementTransitionIn,
    ShortlistIn,
    ShortlistOut,
    TransitionIn,
)
from server.schemas.reviews import PanelOut
from server.templating import templates

PARTNER_INVITATION = "partner-invitation"  # the e-mail kind counted (server/auth/ratelimit.py)

SEE_OTHER = 303


def partner_backend(request: Request) -> Any:
    """The partner search backend, opened with the app's settings on first use."""
    state = request.app.state
    if getattr(state, "partner_search", None) is None:
        settings = state.services.settings
        state.partner_search = open_partner_backend(settings.meili_url, settings.meili_master_key)
    return state.partner_search


async def partner_out(actor: Actor, partner: PartnerProfile) -> PartnerOut:
    fields = visible_fields(actor, partner)
    assert fields is not None
    skills = [{"skill": s, "experience": e} for s, e in
              await PartnerSkill.filter(partner_id=partner.id).order_by("id").values_list("skill", "experience")]
    email = None
    if partner.user_id is not None and await may_see_email(actor, partner):
        email = (await User.get(id=partner.user_id)).email
    return PartnerOut.of(partner, skills, fields, email, profiles.allowed_transitions(actor, partner))


def _query(query: PartnerSearchQuery) -> PartnerQuery:
    return PartnerQuery(q=query.q, skills=tuple(query.skills), available=query.available, page=query.page,
                        per_page=query.per_page)


# --- API: partners -----------------------------------------------------------------------------


@api.operation("/partners", "POST", summary="Register as a partner (one's own profile; consent required)",
               body=PartnerRegistrationIn, response=PartnerOut, status=201, tags=["partners"])
async def register_partner(request: Request, actor: Actor, body: PartnerRegistrationIn) -> PartnerOut:
    partner = await profiles.register(actor, body.to_input(partial=False), consent_version=body.consent_version)
    return await partner_out(actor, partner)


@api.operation("/partners", summary="Search partners (agency members and operators; others get nothing)",
               query=PartnerSearchQuery, response=PartnerListOut, tags=["partners"])
async def list_partners(request: Request, actor: Actor, query: PartnerSearchQuery) -> PartnerListOut:
    result = await search_partners(partner_backend(request), actor, _query(query))
    return PartnerListOut(
        items=[PartnerHit(**{name: hit[name] for name in PartnerHit.model_fields}) for hit in result.hits],
        total=result.total, page=result.page, per_page=result.per_page, degraded=result.degraded,
        facets={"skills": [{"value": slug, "count": n, "name": {"ja": SKILLS[slug][0], "en": SKILLS[slug][1]}}
                           for slug, n in result.facets.get("skills", {}).items() if slug in SKILLS]},
    )


@api.operation("/partners/{partner_id:int}", summary="A partner's profile, as far as the caller may see it",
               response=PartnerOut, public=True, tags=["partners"])
async def show_partner(request: Request, actor: Actor, partner_id: int) -> PartnerOut:
    return await partner_out(actor, await profiles.get_partner(actor, partner_id))


@api.operation("/partners/{partner_id:int}", "PATCH", summary="Change one's own profile",
               body=PartnerIn, response=PartnerOut, tags=["partners"])
async def change_partner(request: Request, actor: Actor, partner_id: int, body: PartnerIn) -> PartnerOut:
    partner = await profiles.get_partner(actor, partner_id)
    return await partner_out(actor, await profiles.update(actor, partner, body.to_input(partial=True)))


@api.operation("/partners/{partner_id:int}/transitions", "POST",
               summary="Vet a partner (approved, suspended: operators, with a reason) or withdraw (the partner)",
               body=TransitionIn, response=PartnerOut, tags=["partners"])
async def transition_partner(request: Request, actor: Actor, partner_id: int, body: TransitionIn) -> PartnerOut:
    partner = await profiles.get_partner(actor, partner_id)
    partner = await profiles.transition(actor, partner, body.to, body.reason)
    if partner.consent_withdrawn_at is not None and not actor.is_operator:
        return PartnerOut(id=partner.id, status=partner.status)
    return await partner_out(actor, partner)


# --- API: needs, matches, invitations, placements -------------------------------------------------


@api.operation("/needs", "POST", summary="Post a need for a digital expert (agency members)",
               body=NeedIn, response=NeedOut, status=201, tags=["partners"])
async def post_need(request: Request, actor: Actor, body: NeedIn) -> NeedOut:
    return NeedOut.of(await needs.post_need(actor, body.to_input()))


@api.operation("/needs", summary="The needs of the caller's agency (operators: all)", response=NeedListOut,
               tags=["partners"])
async def list_needs(request: Request, actor: Actor) -> NeedListOut:
    found = await needs.needs_for(actor)
    return NeedListOut(items=[NeedOut.of(n) for n in found], total=len(found), page=1, per_page=len(found))


@api.operation("/needs/{need_id:int}", summary="A need (its agency's members, operators)", response=NeedOut,
               tags=["partners"])
async def show_need(request: Request, actor: Actor, need_id: int) -> NeedOut:
    return NeedOut.of(await needs.get_need(actor, need_id))


async def ranked(request: Request, actor: Actor, need: Need) -> tuple[list, bool]:
    """The match list; reading it changes nothing (shortlisting is its own action)."""
    return await match_partners(partner_backend(request), actor, needs.need_spec(need))


@api.operation("/needs/{need_id:int}/matches", summary="Approved, available partners ranked for the need",
               response=MatchListOut, tags=["partners"])
async def list_matches(request: Request, actor: Actor, need_id: int) -> MatchListOut:
    need = await needs.get_need(actor, need_id)
    matches, degraded = await ranked(request, actor, need)
    return MatchListOut(items=[MatchOut(partner_id=m.partner_id, score=m.score, reasons=m.reasons) for m in matches],
                        total=len(matches), degraded=degraded)


@api.operation("/needs/{need_id:int}/shortlist", "PUT",
               summary="Choose the need's shortlist from the match list (its agency)", body=ShortlistIn,
               response=ShortlistOut, tags=["partners"])
async def put_shortlist(request: Request, actor: Actor, need_id: int, body: ShortlistIn) -> ShortlistOut:
    need = await needs.set_shortlist(actor, await needs.get_need(actor, need_id), body.partner_ids)
    return ShortlistOut(need_id=need.id, partner_ids=list(need.shortlist))


@api.operation("/needs/{need_id:int}/invitations", "POST", summary="Invite a partner to the need (its agency)",
               body=PartnerInvitationIn, response=PartnerInvitationOut, status=201, tags=["partners"], errors=(429,))
async def invite_partner(request: Request, actor: Actor, need_id: int, body: PartnerInvitationIn) -> PartnerInvitationOut:
    need = await needs.get_need(actor, need_id)
    limiter = request.app.state.services.limiter
    if used_up := await limiter.mails_used_up(PARTNER_INVITATION, require_user(actor).id, need.agency_id):
        raise HTTPException(429, MAILS_USED_UP[used_up])
    invitation = await invitations.invite(actor, need, body.partner_id, body.message)
    await limiter.count_mail(PARTNER_INVITATION, require_user(actor).id, need.agency_id)
    return PartnerInvitationOut.of(await invitations.get_invitation(actor, invitation.id))


@api.operation("/invitations", summary="Invitations to or from the caller (partner, agency; operators: all)",
               response=InvitationListOut, tags=["partners"])
async def list_invitations(request: Request, actor: Actor) -> InvitationListOut:
    found = await invitations.invitations_for(actor)
    return InvitationListOut(items=[PartnerInvitationOut.of(i, invitations.allowed_answers(actor, i)) for i in found],
                             total=len(found))


@api.operation("/invitations/{invitation_id:int}/transitions", "POST",
               summary="Accept or decline an invitation (the invited partner)", body=TransitionIn,
               response=PartnerInvitationOut, tags=["partners"])
async def answer_invitation(request: Request, actor: Actor, invitation_id: int, body: TransitionIn) -> PartnerInvitationOut:
    invitation = await invitations.get_invitation(actor, invitation_id)
    invitation = await invitations.answer(actor, invitation, body.to)
    return PartnerInvitationOut.of(invitation)


@api.operation("/placements", summary="Placements of the caller (partner, agency; operators: all)",
               response=PlacementListOut, tags=["partners"])
async def list_placements(request: Request, actor: Actor) -> PlacementListOut:
    found = await invitations.placements_for(actor)
    return PlacementListOut(items=[PlacementOut.of(p) for p in found], total=len(found))


def placement_out(actor: Actor, placement: Any) -> PlacementOut:
    return PlacementOut.of(placement, survey=may_see_placement_survey(actor, placement),
                           allowed=placements.allowed_transitions(actor, placement))


@api.operation("/placements/{placement_id:int}", summary="A placement: the engagement, its report and survey",
               response=PlacementOut, tags=["partners"])
async def show_placement(request: Request, actor: Actor, placement_id: int) -> PlacementOut:
    return placement_out(actor, await placements.get_placement(actor, placement_id))


@api.operation("/placements/{placement_id:int}/transitions", "POST",
               summary="End an engagement with its short report, within its cap (the agency or the partner)",
               body=PlacementTransitionIn, response=PlacementOut, tags=["partners"])
async def transition_placement(request: Request, actor: Actor, placement_id: int,
                               body: PlacementTransitionIn) -> PlacementOut:
    placement = await placements.get_placement(actor, placement_id)
    await placements.end(actor, placement, body.to, body.report, body.days_worked, body.hours_worked)
    return placement_out(actor, placement)


@api.operation("/placements/{placement_id:int}/survey", "PUT",
               summary="Answer the follow-up survey, once due (the agency)", body=PlacementSurveyIn,
               response=PlacementOut, tags=["partners"])
async def answer_placement_survey(request: Request, actor: Actor, placement_id: int,
                                  body: PlacementSurveyIn) -> PlacementOut:
    placement = await placements.get_placement(actor, placement_id)
    await placements.answer_survey(actor, placement, still_in_use=body.still_in_use,
                                   knowhow_retained=body.knowhow_retained,
                                   would_engage_again=body.would_engage_again, comment=body.comment)
    return placement_out(actor, placement)


@api.operation("/challenges/{challenge_id:int}/panel/partners", "POST",
               summary="Put a partner on the challenge's reviewer panel as an external reviewer (owners)",
               body=PanelPartnerIn, response=PanelOut, tags=["partners", "reviews"])
async def add_panel_partner(request: Request, actor: Actor, challenge_id: int, body: PanelPartnerIn) -> PanelOut:
    challenge = await challenge_lifecycle.get_challenge(actor, challenge_id)
    await panels.add_to_panel(actor, challenge, body.partner_id)
    return await panel_out(actor, challenge)


# --- pages ------------------------------------------------------------------------------------------


def _choices() -> dict[str, Any]:
    return {"skill_choices": SKILLS, "skill_categories": SKILL_CATEGORIES, "role_choices": ROLES,
            "language_choices": LANGUAGES, "work_modes": [m.value for m in WorkMode],
            "engagement_choices": [e.value for e in EngagementType], "public_field_choices": PUBLIC_FIELDS,
            "consent_version": profiles.CONSENT_VERSION}


def _render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, template, {**_choices(), **context}, status_code=status)


def _lines(value: Any) -> list[str]:
    return [line.strip() for line in str(value or "").replace(",", "\n").splitlines() if line.strip()]


def profile_from_form(form: dict[str, Any], multi: dict[str, list[str]]) -> dict[str, Any]:
    """The profile form's fields as PartnerIn's JSON: a skill is claimed by typing its experience line."""
    skills = [{"skill": slug, "experience": str(form.get(f"experience_{slug}", "")).strip()}
              for slug in SKILLS if str(form.get(f"experience_{slug}", "")).strip()]
    body: dict[str, Any] = {
        "name": form.get("name", ""), "profile": {"ja": form.get("profile_ja", ""), "en": form.get("profile_en", "")},
        "skills": skills, "tags": _lines(form.get("tags")), "languages": multi.get("languages", []),
        "work_mode": form.get("work_mode", "either"), "areas": _lines(form.get("areas")),
        "engagement_types": multi.get("engagement_types", []),
        "affiliations": [{"name": name} for name in _lines(form.get("affiliations"))],
        "public_sector_experience": form.get("public_sector_experience", ""),
        "available": form.get("available") == "on", "public_profile": form.get("public_profile") == "on",
        "public_fields": multi.get("public_fields", []),
    }
    for name in ("years_experience", "public_sector_years", "days_per_month"):
        if str(form.get(name, "")).strip():
            body[name] = form.get(name)
    body["max_engagements"] = str(form.get("max_engagements", "")).strip() or 0  # empty: no limit
    return body


async def _form(request: Request) -> tuple[dict[str, Any], dict[str, list[str]]]:
    raw = await checked_form(request)
    multi = {key: [str(v) for v in raw.getlist(key)] for key in ("languages", "engagement_types", "public_fields")}
    return await read_form(request), multi


async def register_page(request: Request) -> Response:
    actor = signed_in(request)
    if request.method == "GET":
        if await profiles.own_profile(actor) is not None:
            return RedirectResponse("/partners/me", status_code=SEE_OTHER)
        return _render(request, "partners/register.html", {"values": {"available": "on"}, "errors": {}})
    form, multi = await _form(request)
    try:
        body = PartnerRegistrationIn.model_validate(
            {**profile_from_form(form, multi), "consent_version": form.get("consent_version", "")
             if form.get("consent") == "on" else ""})
        await profiles.register(actor, body.to_input(partial=False), consent_version=body.consent_version)
    except (ValidationError, ValidationFailed) as exc:
        return _render(request, "partners/register.html", {"values": form, "multi": multi,
                                                           "errors": errors_from(exc)}, 400)
    return flash.redirect("/partners/me", "partner.registered")


async def my_page(request: Request) -> Response:
    actor = signed_in(request)
    partner = await profiles.own_profile(actor)
    if partner is None:
        return RedirectResponse("/partners/register", status_code=SEE_OTHER)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form, multi = await _form(request)
        try:
            body = PartnerIn.model_validate(profile_from_form(form, multi))
            await profiles.update(actor, partner, body.to_input(partial=True))
            return flash.redirect("/partners/me", "partner.saved")
        except (ValidationError, ValidationFailed) as exc:
            errors, status = errors_from(exc), 400
    skills = dict(await PartnerSkill.filter(partner_id=partner.id).values_list("skill", "experience"))
    own = [i for i in await invitations.invitations_for(actor) if i.partner_id == partner.id]
    return _render(request, "partners/me.html", {
        "partner": partner, "skills": skills, "errors": errors,
        "invitations": [(i, invitations.allowed_answers(actor, i)) for i in own],
        "placements": await invitations.placements_for(actor, partner=partner),
    }, status)


async def withdraw_page(request: Request) -> Response:
    actor = signed_in(request)
    partner = await profiles.own_profile(actor)
    if partner is None:
        raise NotAllowed("not a partner")
    await profiles.withdraw_consent(actor, partner)
    return flash.redirect("/partners/register", "partner.withdrawn")


async def search_page(request: Request) -> Response:
    actor = signed_in(request)
    try:
        query = PartnerSearchQuery.model_validate(
            {k: (request.query_params.getlist(k) if k == "skills" else v) for k, v in request.query_params.items()})
    except ValidationError:
        query = PartnerSearchQuery()
    result = await search_partners(partner_backend(request), actor, _query(query))
    return _render(request, "partners/search.html", {
        "query": query, "result": result, "may_list": may_list_partners(actor), "may_vet": may_vet_partners(actor),
    })


async def vetting_page(request: Request) -> Response:
    actor = signed_in(request)
    if not may_vet_partners(actor):
        raise NotAllowed("operators vet partners")
    waiting = await PartnerProfile.filter(partner_filter(actor), status__in=[
        PartnerStatus.PENDING.value, PartnerStatus.SUSPENDED.value]).order_by("created_at", "id")
    return _render(request, "partners/vetting.html", {"waiting": waiting})


async def partner_page(request: Request) -> Response:
    actor = request.state.actor
    partner = await profiles.get_partner(actor, request.path_params["partner_id"])
    out = await partner_out(actor, partner)
    return _render(request, "partners/show.html", {"partner": out, "locale": get_locale(),
                                                    "placements": await invitations.placements_for(actor, partner=partner)})


async def partner_transition_page(request: Request) -> Response:
    actor = signed_in(request)
    partner = await profiles.get_partner(actor, request.path_params["partner_id"])
    form = await read_form(request)
    try:
        await profiles.transition(actor, partner, str(form.get("to", "")), str(form.get("reason", "")))
    except (ValidationFailed, DomainError) as exc:
        if isinstance(exc, NotAllowed):
            raise
        out = await partner_out(actor, partner)
        return _render(request, "partners/show.html", {"partner": out, "message": page_message(exc),
                                                        "placements": []}, exc.status)
    return flash.redirect(f"/partners/{partner.id}", "partner.vetted")


async def needs_page(request: Request) -> Response:
    actor = signed_in(request)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    status = 200
    if not (may_post_needs(actor) or (actor.is_operator and request.method == "GET")):
        raise NotAllowed("agency members post needs; operators see them")
    if request.method == "POST":
        raw = await checked_form(request)
        values = await read_form(request)
        try:
            essential = set(raw.getlist("essential"))
            body = NeedIn.model_validate({
                "role": values.get("role", ""),
                "skills": [{"skill": s, "essential": s in essential} for s in raw.getlist("skills")],
                "description": {"ja": values.get("description_ja", ""), "en": values.get("description_en", "")},
                "starts_on": values.get("starts_on") or None, "ends_on": values.get("ends_on") or None,
                "days_per_month": values.get("days_per_month") or 0,
                "remote": {"remote": True, "on_site": False}.get(str(values.get("work_mode"))),
                "area": values.get("area", ""), "languages": raw.getlist("languages"),
                "cap_days": values.get("cap_days") or None, "cap_hours": values.get("cap_hours") or None,
            })
            need = await needs.post_need(actor, body.to_input())
            return flash.redirect(f"/needs/{need.id}", "need.posted")
        except (ValidationError, ValidationFailed) as exc:
            errors, status = errors_from(exc), 400
    return _render(request, "partners/needs.html", {
        "needs": await needs.needs_for(actor), "placements": await invitations.placements_for(actor),
        "may_post": may_post_needs(actor), "errors": errors, "values": values,
    }, status)


async def need_page(request: Request) -> Response:
    actor = signed_in(request)
    need = await needs.get_need(actor, request.path_params["need_id"])
    return await _need(request, actor, need)


async def invite_page(request: Request) -> Response:
    actor = signed_in(request)
    need = await needs.get_need(actor, request.path_params["need_id"])
    form = await read_form(request)
    limiter = request.app.state.services.limiter
    if used_up := await limiter.mails_used_up(PARTNER_INVITATION, require_user(actor).id, need.agency_id):
        return await _need(request, actor, need, _(MAILS_USED_UP[used_up]), 429)
    try:
        await invitations.invite(actor, need, int(str(form.get("partner_id") or 0)), str(form.get("message", "")))
        await limiter.count_mail(PARTNER_INVITATION, require_user(actor).id, need.agency_id)
    except (ValueError, ValidationFailed) as exc:
        message = " ".join(errors_from(exc).values()) if isinstance(exc, ValidationFailed) else ""
        return await _need(request, actor, need, message, 400)
    return flash.redirect(f"/needs/{need.id}", "need.invited")


async def shortlist_page(request: Request) -> Response:
    """Add a partner of the match list to the shortlist, or take one off (`to`: add, remove)."""
    actor = signed_in(request)
    need = await needs.get_need(actor, request.path_params["need_id"])
    form = await read_form(request)
    partner_id = id_or_none(str(form.get("partner_id", "")))
    current = list(need.shortlist or [])
    if form.get("to") == "remove":
        wanted = [i for i in current if i != partner_id]
    else:
        wanted = current + ([partner_id] if partner_id is not None and partner_id not in current else [])
    try:
        if partner_id is None:
            raise ValidationFailed({"partner_ids": N_("Shortlist approved partners only.")})
        await needs.set_shortlist(actor, need, wanted)
    except ValidationFailed as exc:
        return await _need(request, actor, need, " ".join(errors_from(exc).values()), 400)
    return RedirectResponse(f"/needs/{need.id}", status_code=SEE_OTHER)


async def _need(request: Request, actor: Actor, need: Need, message: str = "", status: int = 200) -> Response:
    matches, degraded = await ranked(request, actor, need)
    partners = {p.id: p for p in await PartnerProfile.filter(id__in=[m.partner_id for m in matches])}
    sent = await invitations.invitations_for(actor, need=need)
    return _render(request, "partners/need.html", {
        "need": need, "matches": [(m, partners.get(m.partner_id)) for m in matches], "degraded": degraded,
        "invitations": sent, "invited": {i.partner_id for i in sent}, "message": message,
        "shortlisted": set(need.shortlist or []),
        "may_invite": may_manage_need(actor, need),
    }, status)


async def placement_page(request: Request, errors: dict | None = None, values: dict | None = None,
                         message: str = "", status: int = 200) -> Response:
    actor = signed_in(request)
    placement = await placements.get_placement(actor, request.path_params["placement_id"])
    return _render(request, "partners/placement.html", {
        "placement": placement, "out": placement_out(actor, placement), "locale": get_locale(),
        "survey_open": placements.survey_open(placement),
        "may_answer_survey": may_answer_placement_survey(actor, placement),
        "errors": errors or {}, "values": values or {}, "message": message,
    }, status)


def _number(value: Any) -> Any:
    return str(value).strip() or None


async def placement_transition_page(request: Request) -> Response:
    actor = signed_in(request)
    placement = await placements.get_placement(actor, request.path_params["placement_id"])
    form = await read_form(request)
    try:
        body = PlacementTransitionIn.model_validate({
            "to": form.get("to", ""), "report": form.get("report", ""),
            "days_worked": _number(form.get("days_worked", "")), "hours_worked": _number(form.get("hours_worked", ""))})
        await placements.end(actor, placement, body.to, body.report, body.days_worked, body.hours_worked)
    except (ValidationError, ValidationFailed) as exc:
        return await placement_page(request, errors_from(exc), form, status=400)
    except DomainError as exc:
        if isinstance(exc, NotAllowed):
            raise
        return await placement_page(request, {}, form, page_message(exc), exc.status)
    return RedirectResponse(f"/placements/{placement.id}", status_code=SEE_OTHER)


async def placement_survey_page(request: Request) -> Response:
    actor = signed_in(request)
    placement = await placements.get_placement(actor, request.path_params["placement_id"])
    form = await read_form(request)
    try:
        body = PlacementSurveyIn.model_validate({
            "still_in_use": form.get("still_in_use") == "yes", "would_engage_again": form.get("would_engage_again") == "yes",
            "knowhow_retained": _number(form.get("knowhow_retained", "")) or 0, "comment": form.get("comment", "")})
        await placements.answer_survey(actor, placement, still_in_use=body.still_in_use,
                                       knowhow_retained=body.knowhow_retained,
                                       would_engage_again=body.would_engage_again, comment=body.comment)
    except (ValidationError, ValidationFailed) as exc:
        return await placement_page(request, errors_from(exc), form, status=400)
    except DomainError as exc:
        if isinstance(exc, NotAllowed):
            raise
        return await placement_page(request, {}, form, page_message(exc), exc.status)
    return RedirectResponse(f"/placements/{placement.id}#survey", status_code=SEE_OTHER)


async def invitation_transition_page(request: Request) -> Response:
    actor = signed_in(request)
    invitation = await invitations.get_invitation(actor, request.path_params["invitation_id"])
    await invitations.answer(actor, invitation, str((await read_form(request)).get("to", "")))
    return flash.redirect("/partners/me", "invitation.answered")


routes: list[BaseRoute] = [
    Route("/partners", search_page, methods=["GET"], name="partners"),
    Route("/partners/register", register_page, methods=["GET", "POST"]),
    Route("/partners/me", my_page, methods=["GET", "POST"]),
    Route("/partners/me/withdraw", withdraw_page, methods=["POST"]),
    Route("/partners/vetting", vetting_page, methods=["GET"]),
    Route("/partners/{partner_id:int}", partner_page, methods=["GET"]),
    Route("/partners/{partner_id:int}/transitions", partner_transition_page, methods=["POST"]),
    Route("/partners/invitations/{invitation_id:int}/transitions", invitation_transition_page, methods=["POST"]),
    Route("/needs", needs_page, methods=["GET", "POST"]),
    Route("/needs/{need_id:int}", need_page, methods=["GET"]),
    Route("/needs/{need_id:int}/invitations", invite_page, methods=["POST"]),
    Route("/needs/{need_id:int}/shortlist", shortlist_page, methods=["POST"]),
    Route("/placements/{placement_id:int}", placement_page, methods=["GET"]),
    Route("/placements/{placement_id:int}/transitions", placement_transition_page, methods=["POST"]),
    Route("/placements/{placement_id:int}/survey", placement_survey_page, methods=["POST"]),
]
