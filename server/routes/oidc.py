"""Logging in with an OpenID provider: /login/oidc/{provider} starts, /auth/oidc/{provider}/callback finishes."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.identity.identities import IdentityRefused, person_for_identity
from server.auth import oidc
from server.auth.sessions import record_failed_sign_in, sign_in
from server.i18n import gettext as _
from server.problems import error_page
from server.schemas.auth import safe_next
from server.settings import OidcProvider

log = logging.getLogger("kyoso.oidc")
SEE_OTHER = 303


def _refusal(reason: str, provider: str) -> tuple[int, str]:
    """The status and message, in the visitor's language, for a refused login."""
    kind = reason.split(":", 1)[0]
    if kind == "provider_error":
        return 403, _("Logging in with %(provider)s was cancelled or refused.", provider=provider)
    if kind == "state":
        return 400, _("This log-in has expired or was started in another browser. Please try again.")
    if kind == "email_missing":
        return 403, _(
            "%(provider)s did not share your e-mail address, so you cannot log in with it.", provider=provider
        )
    if kind == "email_unverified":
        return 403, _(
            "%(provider)s has not confirmed your e-mail address, so you cannot log in with it. "
            "Confirm the address there first, or log in with your password.",
            provider=provider,
        )
    if kind == "account_email_unverified":
        return 403, _(
            "The account with this e-mail address has not confirmed the address yet. "
            "Please log in with your password."
        )
    if kind == "inactive":
        return 403, _("This account has been deactivated.")
    if kind == "unknown_provider":
        return 404, _("This way of logging in is not available.")
    if kind == "provider_unreachable":
        return 502, _("%(provider)s could not be reached. Please try again later.", provider=provider)
    return 400, _(
        "The answer from %(provider)s could not be verified, so you were not logged in. Please try again.",
        provider=provider,
    )


async def _refuse(request: Request, reason: str, provider: str, *, email: str = "", cause: object = None) -> Response:
    log.info("login with %s refused: %s %r", provider or "?", reason, cause)
    await record_failed_sign_in(request, email=email, method="oidc", reason=reason)
    status, message = _refusal(reason, provider)
    response = error_page(request, status, message)
    oidc.end_flow(response)
    return response


def _provider(request: Request) -> OidcProvider | None:
    return oidc.provider_for(request.app.state.settings, request.path_params["provider"])


async def start(request: Request) -> Response:
    provider = _provider(request)
    if provider is None:
        return await _refuse(request, "unknown_provider", "")
    try:
        return await oidc.start_login(request, provider, safe_next(request.query_params.get("next", ""), "/tasks"))
    except oidc.LoginRefused as refused:
        return await _refuse(request, refused.reason, provider.name, cause=refused.__cause__)
    except oidc.ProviderUnreachable as exc:
        return await _refuse(request, "provider_unreachable", provider.name, cause=exc)


async def callback(request: Request) -> Response:
    provider = _provider(request)
    if provider is None:
        return await _refuse(request, "unknown_provider", "")
    try:
        login = await oidc.finish_login(request, provider)
    except oidc.LoginRefused as refused:
        return await _refuse(request, refused.reason, provider.name, cause=refused.__cause__)
    except oidc.ProviderUnreachable as exc:
        return await _refuse(request, "provider_unreachable", provider.name, cause=exc)

    claims = login.claims
    email = str(claims.get("email") or "")
    try:
        user = await person_for_identity(
            issuer=login.issuer,
            subject=str(claims["sub"]),
            email=email,
            email_verified=claims.get("email_verified") in (True, "true"),  # some providers send a string
            name=str(claims.get("name") or ""),
            locale=request.state.locale,
        )
    except IdentityRefused as refused:
        return await _refuse(request, refused.reason, provider.name, email=email)
    if not user.is_active:
        return await _refuse(request, "inactive", provider.name, email=user.email)

    response = RedirectResponse(safe_next(login.next, "/tasks"), status_code=SEE_OTHER)
    await sign_in(request, response, user, method="oidc")
    oidc.end_flow(response)
    return response


routes = [
    Route("/login/oidc/{provider}", start, methods=["GET"], name="oidc_login"),
    Route("/auth/oidc/{provider}/callback", callback, methods=["GET"], name="oidc_callback"),
]
