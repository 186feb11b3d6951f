"""Security headers and CSRF protection, wrapped around the whole app."""

from __future__ import annotations

from asgi_csrf import asgi_csrf
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
from starlette.types import ASGIApp, Scope, Send

from models import audit
from server.i18n import gettext as _
from server.problems import error_page

# Forms that must be protected even before the visitor has any cookie (login CSRF).
ALWAYS_PROTECTED = {"/login", "/signup"}


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


def protect(app: ASGIApp, *, secret_key: str, dev: bool) -> ASGIApp:
    with_csrf = asgi_csrf(
        app,
        signing_secret=secret_key,
        always_protect=ALWAYS_PROTECTED,
        cookie_secure=not dev,
        send_csrf_failed=_csrf_failed,
    )
    return SecureASGIMiddleware(with_csrf, secure=security_headers(dev))
