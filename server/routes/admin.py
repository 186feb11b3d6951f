"""The operator console: approve organisations, manage people, browse and export the audit log."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from models.core import audit
from models.core.errors import NotAllowed, NotFound
from models.identity.onboarding import decide_organisation, pending_organisations
from models.identity.orgs import find_organisation
from models.identity.people import find_person, platform_counts, search_people, set_person_access
from models.policy import Actor
from models.policy.identity import may_use_console
from server import flash
from server.forms import errors_from, read_form
from server.problems import signed_in
from server.schemas.admin import AccessForm, AuditFilter, DecisionForm
from server.templating import templates

SEE_OTHER = 303
PER_PAGE = 50


def operator(request: Request) -> Actor:
    actor = signed_in(request)
    if not may_use_console(actor):
        raise NotAllowed("operators only")
    return actor


async def console(request: Request) -> Response:
    operator(request)
    context = {"pending": await pending_organisations(), "counts": await platform_counts()}
    return templates.TemplateResponse(request, "admin/console.html", context)


async def decide(request: Request) -> Response:
    actor = operator(request)
    organisation = await find_organisation(request.path_params["org_id"])
    if organisation is None or request.path_params["decision"] not in ("approve", "reject"):
        raise NotFound("no such organisation")
    form = DecisionForm.model_validate(await read_form(request))
    approve = request.path_params["decision"] == "approve"
    await decide_organisation(actor, organisation, approve=approve, reason=form.reason)
    return flash.redirect("/admin", "organisation.approved" if approve else "organisation.rejected")


async def people(request: Request) -> Response:
    operator(request)
    query = request.query_params.get("q", "").strip()
    return templates.TemplateResponse(
        request, "admin/people.html", {"people": await search_people(query), "q": query, "errors": {}}
    )


async def change_access(request: Request) -> Response:
    actor = operator(request)
    person = await find_person(request.path_params["user_id"])
    form = AccessForm.model_validate(await read_form(request))
    await set_person_access(actor, person, active=form.active, reviewer=form.reviewer, operator=form.operator)
    return flash.redirect("/admin/people", "access.changed")


def _audit_filter(request: Request) -> tuple[AuditFilter, dict[str, str]]:
    values = dict(request.query_params)
    try:
        return AuditFilter.model_validate({k: v for k, v in values.items() if v != ""}), {}
    except ValidationError as exc:
        return AuditFilter(), errors_from(exc)


def _events(filters: AuditFilter):
    since, until = filters.window()
    return audit.search(
        action=filters.action, actor_email=filters.actor, target_type=filters.target_type,
        target_id=filters.target_id, since=since, until=until,
    )


async def audit_log(request: Request) -> Response:
    operator(request)
    filters, errors = _audit_filter(request)
    query = _events(filters)
    total = await query.count()
    events = await query.offset((filters.page - 1) * PER_PAGE).limit(PER_PAGE)
    params = {k: v for k, v in filters.model_dump(exclude={"page"}).items() if v}
    return templates.TemplateResponse(
        request,
        "admin/audit.html",
        {
            "events": events, "filters": filters, "errors": errors, "total": total,
            "page": filters.page, "pages": max(1, -(-total // PER_PAGE)),
            "query": urlencode({k: str(v) for k, v in params.items()}),
        },
    )


CSV_COLUMNS = ["id", "time_utc", "actor", "organisation", "action", "target_type", "target_id", "before", "after", "client_address"]


async def audit_csv(request: Request) -> Response:
    actor = operator(request)
    filters, _errors = _audit_filter(request)
    query = _events(filters)
    await audit.record("audit.exported", actor=actor.user, after=filters.model_dump(mode="json", exclude={"page"}))

    async def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        offset = 0
        while batch := await query.offset(offset).limit(1000):
            for event in batch:
                writer.writerow([
                    event.id, event.created_at.isoformat(), event.actor.email if event.actor else "",
                    event.organisation.name_ja if event.organisation else "", event.action, event.target_type,
                    event.target_id, json.dumps(event.before, ensure_ascii=False) if event.before is not None else "",
                    json.dumps(event.after, ensure_ascii=False) if event.after is not None else "", event.client_address,
                ])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            offset += len(batch)
        yield buffer.getvalue()

    return StreamingResponse(
        rows(), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kyoso-audit.csv"'},
    )


routes = [
    Route("/admin", console, methods=["GET"], name="admin"),
    Route("/admin/organisations/{org_id:int}/{decision:str}", decide, methods=["POST"]),
    Route("/admin/people", people, methods=["GET"]),
    Route("/admin/people/{user_id:int}/access", change_access, methods=["POST"]),
    Route("/admin/audit", audit_log, methods=["GET"]),
    Route("/admin/audit.csv", audit_csv, methods=["GET"]),
]
