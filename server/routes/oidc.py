"""Logging in with an OpenID provider: /login/oidc/{provider} starts, /auth/oidc/{provider}/callback finishes."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.identities import IdentityRefused, person_for_identity
from server.auth import oidc
from server.auth.sessions import record_failed_sign_in, sign_in
from server.i18n import gettext as _
from server.problems import error_page
from server.schemas.auth import safe_next

log = logging.getLogger("kyoso.oidc")
SEE_OTHER = 303


def _refusal_page(request: Request, reason: str, provider_name: str) -> Response:
    """The page for a refused login, in the visitor's language."""
    kind = reason.split(":", 1)[0]
    if kind == "provider_error":
        return error_page(request, 403, _("Logging in with %(provider)s was cancelled or refused.", provider=provider_name))
    if kind == "state":
        return error_page(request, 400, _("This log-in has expired or was started in another browser. Please try again."))
    if kind == "email_missing":
        return error_page(request, 403, _("%(provider)s did not share your e-mail address, so you cannot log in with it.", provider=provider_name))
    if kind == "email_unverified":
        return error_page(request, 403, _("%(provider)s has not confirmed your e-mail address, so you cannot log in with it. Confirm the address there first, or log in with your password.", provider=provider_name))
    if kind == "account_email_unverified":
        return error_page(request, 403, _("The account with this e-mail address has not confirmed the address yet. Please log in with your password."))
    if kind == "inactive":
        return error_page(request, 403, _("This account has been deactivated."))
    return error_page(request, 400, _("The answer from %(provider)s could not be verified, so you were not logged in. Please try again.", provider=provider_name))


async def _refuse(
    request: Request, reason: str, provider_name: str, *, email: str = "", cause: BaseException | None = None
) -> Response:
    log.info("login with %s refused: %s %r", provider_name, reason, cause)
    await record_failed_sign_in(request, email=email, method="oidc", reason=reason)
    response = _refusal_page(request, reason, provider_name)
    oidc.end_flow(response)
    return response


def _unreachable(request: Request, provider_name: str, error: Exception) -> Response:
    log.warning("OpenID provider %s unreachable: %s", provider_name, error)
    response = error_page(request, 502, _("%(provider)s could not be reached. Please try again later.", provider=provider_name))
    oidc.end_flow(response)
    return response


async def start(request: Request) -> Response:
    key = request.path_params["provider"]
    provider = oidc.provider_for(request.app.state.settings, key)
    if provider is None:
        await record_failed_sign_in(request, email="", method="oidc", reason="unknown_provider")
        return error_page(request, 404, _("This way of logging in is not available."))
    try:
        return await oidc.start_login(request, provider, safe_next(request.query_params.get("next", ""), "/"))
    except oidc.LoginRefused as refused:
        return await _refuse(request, refused.reason, provider.name, cause=refused.__cause__)
    except oidc.ProviderUnreachable as exc:
        return _unreachable(request, provider.name, exc)


async def callback(request: Request) -> Response:
    key = request.path_params["provider"]
    provider = oidc.provider_for(request.app.state.settings, key)
    if provider is None:
        await record_failed_sign_in(request, email="", method="oidc", reason="unknown_provider")
        return error_page(request, 404, _("This way of logging in is not available."))
    try:
        login = await oidc.finish_login(request, provider)
    except oidc.LoginRefused as refused:
        return await _refuse(request, refused.reason, provider.name, cause=refused.__cause__)
    except oidc.ProviderUnreachable as exc:
        return _unreachable(request, provider.name, exc)

    claims = login.claims
    email = str(claims.get("email") or "")
    try:
        user = await person_for_identity(
            issuer=login.issuer,
            subject=str(claims["sub"]),
            email=email,
            # Some providers send the flag as a string.
            email_verified=claims.get("email_verified") in (True, "true"),
            name=str(claims.get("name") or ""),
            locale=request.state.locale,
        )
    except IdentityRefused as refused:
        return await _refuse(request, refused.reason, provider.name, email=email)
    if not user.is_active:
        return await _refuse(request, "inactive", provider.name, email=user.email)

    response = RedirectResponse(safe_next(login.next, "/"), status_code=SEE_OTHER)
    await sign_in(request, response, user, method="oidc")
    oidc.end_flow(response)
    return response


routes = [
    Route("/login/oidc/{provider}", start, methods=["GET"], name="oidc_login"),
    Route("/auth/oidc/{provider}/callback", callback, methods=["GET"], name="oidc_callback"),
]
