"""Security headers and CSRF protection, wrapped around the whole app (see server/app.py for the order)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import asgi_csrf as asgi_csrf_module
from asgi_csrf import FileBeforeToken, TokenFound, asgi_csrf
from python_multipart import FormParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header
from secure import (
    MULTI_OK,
    ContentSecurityPolicy,
    PermissionsPolicy,
    ReferrerPolicy,
    Secure,
    StrictTransportSecurity,
    XContentTypeOptions,
    XFrameOptions,
)
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.core import audit
from server.i18n import gettext as _
from server.problems import error_page, is_api, problem

# Forms that must be protected even before the visitor has any cookie (login CSRF).
ALWAYS_PROTECTED = {"/login", "/login/link", "/signup"}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})  # those asgi-csrf lets through unchecked


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
        # No page uses these browser features; nothing embedded may either.
        permissions=PermissionsPolicy().camera().microphone().geolocation().payment().usb().browsing_topics(),
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


class UnreadableForm(Exception):
    """A form body the CSRF check cannot read: answered 400 by `protect`, before the app sees it."""


class ClientGone(Exception):
    """The client disconnected while its form was being read: nobody is left to answer."""


async def _csrf_token_from_urlencoded(receive):
    """asgi-csrf's own reader concatenates the body quadratically and fails with a 500 on invalid UTF-8;
    same contract: returns ({field: value}, a receive that replays the body)."""
    messages: list[dict] = []
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone()
        messages.append(message)
        more_body = message.get("more_body", False)
    body = b"".join(message.get("body", b"") for message in messages)

    async def replay_receive():
        return messages.pop(0) if messages else await receive()

    # The token is ASCII: other bytes may be anything here (the form itself is read, and judged, later).
    return dict(parse_qsl(body.decode("utf-8", errors="replace"))), replay_receive


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
    except FormParserError:
        raise UnreadableForm() from None
    return None, replay_receive


asgi_csrf_module._parse_form_urlencoded = _csrf_token_from_urlencoded
asgi_csrf_module._parse_multipart_form_data = _csrf_token_from_multipart


def _for_csrf_check(scope: Scope) -> Scope:
    """The request as asgi-csrf should see it.

    Pages are signed in by the session cookie alone, so an Authorization header, which makes asgi-csrf
    skip its check, is dropped there. And asgi-csrf finds a multipart boundary by splitting on
    b"; boundary=" (an IndexError, so a 500, without one): it gets the header in that form, and a
    multipart body without a boundary is refused."""
    headers = scope["headers"]
    if not scope["path"].startswith("/api/"):
        headers = [(name, value) for name, value in headers if name != b"authorization"]
    media_type, options = parse_options_header(Headers(scope=scope).get("content-type", ""))
    if media_type == b"multipart/form-data":
        boundary = options.get(b"boundary", b"")
        if not boundary:
            raise UnreadableForm()
        headers = [(name, value) for name, value in headers if name != b"content-type"]
        headers.append((b"content-type", b"multipart/form-data; boundary=" + boundary))
    return {**scope, "headers": headers}


async def _unreadable(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope)
    if is_api(request):
        response = problem(400, "The request body could not be read as a form.")
    else:
        response = error_page(request, 400, _("The form could not be read. Please go back, reload the page and try again."))
    await response(scope, receive, send)


class SecurityHeaders:
    """The `secure` headers on every answer, as its SecureASGIMiddleware adds them (a header of the same name
    the app set is replaced; Content-Security-Policy, which may appear more than once, is added), but encoded
    once rather than on each request."""

    def __init__(self, app: ASGIApp, *, dev: bool) -> None:
        self.app = app
        self.headers = [(name.encode("ascii"), value.encode("latin-1"))
                        for name, value in security_headers(dev).headers.items()]
        self.replaced = frozenset(name.lower() for name, _ in self.headers if name.decode().lower() not in MULTI_OK)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                message["headers"] = [*(header for header in headers if header[0].strip().lower() not in self.replaced),
                                      *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(app: ASGIApp, *, dev: bool) -> ASGIApp:
    """Outside everything that may answer on its own (a refused bearer token, a CSRF failure)."""
    return SecurityHeaders(app, dev=dev)


def protect(app: ASGIApp, *, secret_key: str, dev: bool) -> ASGIApp:
    with_csrf = asgi_csrf(
        app,
        signing_secret=secret_key,
        always_protect=ALWAYS_PROTECTED,
        cookie_secure=not dev,
        send_csrf_failed=_csrf_failed,
    )

    async def checked(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in SAFE_METHODS and scope["path"].startswith("/api/"):
            # asgi-csrf checks no safe method, and the API puts no token in a page: nothing for it to do but
            # sign a token for nobody (a third of the middleware's time on a search)
            await app(scope, receive, send)
            return
        if scope["type"] != "http":
            await with_csrf(scope, receive, send)
            return
        try:
            await with_csrf(_for_csrf_check(scope), receive, send)
        except UnreadableForm:  # raised only while the CSRF check reads the body, before the app runs
            await _unreadable(scope, receive, send)
        except ClientGone:
            return

    return checked
