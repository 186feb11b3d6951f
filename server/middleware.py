"""Who is asking and in which language: resolved once per request, as plain ASGI middleware
(BaseHTTPMiddleware would break the context variables Tortoise and i18n rely on)."""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.identity.accounts import user_for_token
from models.identity.sessions import session_with_memberships
from models.policy import VISITOR, actor_for, actor_with
from server import i18n
from server.auth.sessions import SESSION_COOKIE
from server.flash import FLASH_COOKIE
from server.problems import problem

LANG_COOKIE = "kyoso_lang"
ONE_YEAR = 365 * 24 * 3600
INVALID_TOKEN = "The bearer token is not valid (unknown, revoked or of a deactivated account)."


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookies = cookie_parser(headers.get("cookie", ""))
        actor, session = VISITOR, None
        if scope["path"].startswith("/api/"):
            # The API takes bearer tokens only: a session cookie there would open it to CSRF.
            scheme, _, credentials = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                user = await user_for_token(credentials.strip())
                if user is None:  # a client that means to sign in must learn that it did not
                    await problem(401, INVALID_TOKEN)(scope, receive, send)
                    return
                actor = await actor_for(user)
        elif SESSION_COOKIE in cookies:
            session, memberships = await session_with_memberships(cookies[SESSION_COOKIE])
            actor = actor_with(session.user if session else None, memberships)
        state = scope.setdefault("state", {})
        state["actor"] = actor
        state["session"] = session

        query_lang = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang", [None])[0]
        cookie_lang = cookies.get(LANG_COOKIE)
        user_lang = actor.user.locale if actor.user else None
        locale = i18n.negotiate(
            query_lang, cookie_lang, user_lang, accept_language=headers.get("accept-language", "")
        )
        i18n.set_locale(locale)
        state["locale"] = locale
        remember = query_lang in i18n.LOCALES and query_lang != cookie_lang
        flashed = FLASH_COOKIE in cookies
        state["flashed"] = flashed  # a banner is shown once: the answer is not shared (server/caching.py)
        state["remember_language"] = remember  # a cookie is set: the answer is not shared (server/caching.py)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.setdefault("content-language", locale)
                response_headers.append("vary", "Accept-Language, Cookie")
                if remember:
                    response_headers.append(
                        "set-cookie", f"{LANG_COOKIE}={locale}; Path=/; Max-Age={ONE_YEAR}; SameSite=Lax"
                    )
                if flashed and _shows_banner(message["status"], response_headers):  # shown once: cleared now
                    response_headers.append("set-cookie", f"{FLASH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
            await send(message)

        await self.app(scope, receive, send_with_language)



def _shows_banner(status: int, headers: MutableHeaders) -> bool:
    """A page (HTML, not a redirect) answered this request, and it did not itself name a new banner."""
    new_banner = any(value.startswith(f"{FLASH_COOKIE}=") for value in headers.getlist("set-cookie"))
    return not 300 <= status < 400 and headers.get("content-type", "").startswith("text/html") and not new_banner
