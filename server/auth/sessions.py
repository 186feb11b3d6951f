"""Sign-in and sign-out for pages: the session cookie and the audit trail of every attempt."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from models.core import audit
from models.identity.accounts import Session, User
from models.identity.sessions import ABSOLUTE_TIMEOUT, end_session, open_session

SESSION_COOKIE = "kyoso_session"
CSRF_COOKIE = "csrftoken"  # asgi-csrf's cookie


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


async def sign_in(request: Request, response: Response, user: User, *, method: str) -> None:
    """Open a new session for `user`, set its cookie on `response` and record the sign-in.

    `method` says how the person proved who they are: "password", "link" or "oidc".
    """
    previous: Session | None = request.state.session
    if previous is not None:  # one browser, one session: the old one ends with the new sign-in
        await end_session(previous)
    key = await open_session(
        user, client_address=client_address(request), user_agent=request.headers.get("user-agent", "")
    )
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        key,
        max_age=int(ABSOLUTE_TIMEOUT.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=not settings.is_dev,
        path="/",
    )
    # A new CSRF token with the new session: the next page sets a fresh one (a planted token is useless).
    response.delete_cookie(CSRF_COOKIE, path="/")
    await audit.record(
        "login.succeeded", actor=user, target=user, after={"method": method}, client_address=client_address(request)
    )


async def record_failed_sign_in(request: Request, *, email: str, method: str, reason: str) -> None:
    await audit.record(
        "login.failed",
        after={"email": email[:254], "method": method, "reason": reason},
        client_address=client_address(request),
    )


async def sign_out(request: Request, response: Response) -> None:
    session: Session | None = request.state.session
    if session is not None:
        await end_session(session)
        await audit.record("logout", actor=session.user, target=session.user, client_address=client_address(request))
    response.delete_cookie(SESSION_COOKIE, path="/")
