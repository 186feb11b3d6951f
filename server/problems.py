"""Errors, mapped once: problem details (RFC 9457) for the API, a page in the user's language otherwise."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from models.core.errors import DomainError, ValidationFailed
from models.policy import Actor
from server.auth.ratelimit import LimiterUnavailable
from server.auth.sessions import SESSION_COOKIE
from server.i18n import format_datetime
from server.i18n import gettext as _
from server.templating import templates

PROBLEM_TYPE = "application/problem+json"


class Unauthenticated(Exception):
    """No valid credentials: 401 for the API, the login page for pages (identity issue)."""


def signed_in(request: Request) -> Actor:
    """The person behind a page or API request; a visitor is sent to log in (pages) or gets 401 (API)."""
    actor = request.state.actor
    if actor.is_visitor:
        raise Unauthenticated()
    return actor


def problem(status: int, detail: str = "", headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="kyoso"'}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_page(request: Request, status: int, message: str) -> Response:
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message}, status_code=status
    )


def field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Pydantic's errors as problem details name them: `title.ja`, or `query.page` with the prefix `query`."""
    return [
        {"field": ".".join(str(part) for part in ([prefix] if prefix else []) + list(error["loc"])),
         "message": error["msg"]}
        for error in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    errors = field_errors(exc)
    if is_api(request):
        return problem(422, "The request body is not valid.", errors=errors)
    return error_page(request, 422, _("Some of what you entered is not valid."))


def _general_message(status: int) -> str:
    messages = {
        403: _("You are not allowed to do this."),
        404: _("This page does not exist, or you may not see it."),
        409: _("This cannot be done in the current state."),
        422: _("Some of what you entered is not valid."),
    }
    return messages.get(status, _("Something went wrong."))


def page_message(exc: DomainError) -> str:
    """A domain refusal in the reader's language: its message id with its parameters (times in Japan time,
    in the reader's format); an error without one (an explanation for logs) gets the message for its status."""
    if exc.message_id:
        return _(exc.message_id, **{name: format_datetime(value) if isinstance(value, datetime) else value
                                    for name, value in exc.params.items()})
    return _general_message(exc.status)


def problem_of(exc: DomainError) -> JSONResponse:
    """A domain error as an RFC 9457 problem: the English message, and its details (`allowed` on a 409,
    the facts to act on, the fields in error)."""
    extra: dict[str, Any] = dict(exc.details)
    if isinstance(exc, ValidationFailed):
        extra["errors"] = [{"field": k, "message": v} for k, v in exc.errors.items()]
    return problem(exc.status, exc.message, **extra)


async def handle_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if is_api(request):
        return problem_of(exc)
    return error_page(request, exc.status, page_message(exc))


async def handle_unauthenticated(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return problem(401, "A valid bearer token is required.")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    params = {"next": target}
    if SESSION_COOKIE in request.cookies:  # a cookie, but no live session: it has ended
        params["expired"] = "1"
    return RedirectResponse(f"/login?{urlencode(params)}", status_code=303)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})  # a 405's Allow
    if is_api(request):
        detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else ""
        return problem(exc.status_code, detail, headers=headers or None)
    messages = {
        404: _("This page does not exist, or you may not see it."),
        405: _("This action is not available here."),
    }
    response = error_page(request, exc.status_code, messages.get(exc.status_code, _("Something went wrong.")))
    response.headers.update(headers)
    return response


async def handle_limiter_unavailable(request: Request, exc: Exception) -> Response:
    """The rate limits' store is down: what they guard is refused for now, plainly (reading goes on)."""
    headers = {"Retry-After": "30"}
    if is_api(request):
        return problem(503, "This action is rate-limited and the limits cannot be checked right now; "
                            "try again in a minute.", headers=headers)
    response = error_page(request, 503, _("This cannot be done for a moment: a service it needs is unavailable. "
                                          "Reading still works; please try again in a few minutes."))
    response.headers.update(headers)
    return response


async def handle_server_error(request: Request, exc: Exception) -> Response:
    if is_api(request):
        return problem(500, "An unexpected error occurred; it has been logged.")
    return error_page(request, 500, _("Something went wrong on our side. Please try again later."))


EXCEPTION_HANDLERS = {
    ValidationError: handle_validation_error,
    DomainError: handle_domain_error,
    Unauthenticated: handle_unauthenticated,
    HTTPException: handle_http_exception,
    LimiterUnavailable: handle_limiter_unavailable,
    Exception: handle_server_error,
}
