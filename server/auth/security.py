"""Security headers and CSRF protection, wrapped around the whole app."""

from __future__ import annotations

import asgi_csrf as asgi_csrf_module
from asgi_csrf import FileBeforeToken, TokenFound, asgi_csrf
from python_multipart import FormParser
from secure import (
    ContentSecurityPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)
from secure.middleware import SecureASGIMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from models.core import audit
from server.i18n import gettext as _
from server.problems import error_page

# Forms that must be protected even before the visitor has any cookie (login CSRF).
ALWAYS_PROTECTED = {"/login", "/login/link", "/signup"}


def security_headers(dev: bool) -> Secure:
    csp = (
        ContentSecurityPolicy()
        .default_src("'self'")
        .script_src("'self'")
        .style_src("'self'")
        .img_src("'self'", "data:")
        .object_src("'none'")
        .base_uri("'self'")
        .form_action("'self'")
        .frame_ancestors("'none'")
    )
    return Secure(
        csp=csp,
        hsts=None if dev else StrictTransportSecurity().max_age(63072000).include_subdomains(),
        referrer=ReferrerPolicy().strict_origin_when_cross_origin(),
        xcto=XContentTypeOptions().nosniff(),
        xfo=XFrameOptions().deny(),
    )


async def _csrf_failed(scope: Scope, send: Send, message_id: object) -> None:
    request = Request(scope)
    await audit.record("csrf.failed", after={"path": scope["path"]}, client_address=request.client.host if request.client else "")
    response = error_page(request, 403, _("This form has expired or was sent from elsewhere. Please go back, reload the page and try again."))
    await response(scope, _no_receive, send)


async def _no_receive() -> dict:
    return {"type": "http.disconnect"}


async def _csrf_token_from_multipart(boundary: bytes, receive):
    """asgi-csrf 0.11 passes FileClass= to python-multipart, which current releases refuse (the
    upstream fix is pending), so every multipart form failed. Same contract, current API: the token
    must come before any file; returns (token or None, a receive that replays the body)."""
    messages: list[dict] = []

    async def replay_receive():
        return messages.pop(0) if messages else await receive()

    def on_field(field) -> None:
        if field.field_name == b"csrftoken":
            raise TokenFound((field.value or b"").decode("utf-8"))

    def on_file(file) -> None:
        raise FileBeforeToken

    parser = FormParser("multipart/form-data", on_field, on_file, boundary=boundary)
    more_body = True
    try:
        while more_body:
            message = await receive()
            messages.append(message)
            parser.write(message.get("body", b""))
            more_body = message.get("more_body", False)
    except TokenFound as found:
        return found.args[0], replay_receive
    return None, replay_receive


asgi_csrf_module._parse_multipart_form_data = _csrf_token_from_multipart


def _bearer_only_for_the_api(app: ASGIApp) -> ASGIApp:
    """asgi-csrf skips its check for any request with "Authorization: Bearer". Pages ignore that header and
    act on the session cookie, so there it must not switch the check off: pages never see the header."""

    async def without_bearer_on_pages(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/api/"):
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"authorization"]}
        await app(scope, receive, send)

    return without_bearer_on_pages


def protect(app: ASGIApp, *, secret_key: str, dev: bool) -> ASGIApp:
    with_csrf = asgi_csrf(
        app,
        signing_secret=secret_key,
        always_protect=ALWAYS_PROTECTED,
        cookie_secure=not dev,
        send_csrf_failed=_csrf_failed,
    )
    return SecureASGIMiddleware(_bearer_only_for_the_api(with_csrf), secure=security_headers(dev))
