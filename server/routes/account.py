"""The account page: profile, language, password, API tokens and sessions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.core.errors import ValidationFailed
from models.identity.accounts import User, create_api_token, live_api_tokens, revoke_api_token
from models.identity.people import change_password, update_profile
from models.identity.sessions import live_sessions
from models.identity.sessions import log_out_everywhere as end_every_session
from server import flash, i18n
from server.auth.sessions import SESSION_COOKIE
from server.forms import errors_from, parse_form
from server.problems import signed_in
from server.schemas.account import PasswordForm, ProfileForm, TokenForm
from server.templating import templates

SEE_OTHER = 303


def signed_in_user(request: Request) -> User:
    return signed_in(request).user


async def _account_page(request: Request, *, errors: dict | None = None, values: dict | None = None,
                        new_token: str | None = None, notice: str = "", status: int = 200) -> Response:
    user = signed_in_user(request)
    context = {
        "user": user,
        "errors": errors or {},
        "values": values or {},
        "new_token": new_token,
        "notice": notice,
        "tokens": await live_api_tokens(user),
        "sessions": await live_sessions(user),
        "current_session": request.state.session,
    }
    return templates.TemplateResponse(request, "account/account.html", context, status_code=status)


async def account(request: Request) -> Response:
    return await _account_page(request)


async def save_profile(request: Request) -> Response:
    user = signed_in_user(request)
    form, values, errors = await parse_form(request, ProfileForm)
    if form is None:
        return await _account_page(request, errors=errors, values=values, status=400)
    await update_profile(user, name=form.name, locale=form.locale, expertise=form.expertise)
    i18n.set_locale(form.locale)
    response = flash.redirect("/account", "account.saved")
    response.delete_cookie("kyoso_lang", path="/")  # the person's own choice now decides
    return response


async def save_password(request: Request) -> Response:
    user = signed_in_user(request)
    form, _values, errors = await parse_form(request, PasswordForm)
    if form is None:
        return await _account_page(request, errors=errors, status=400)
    try:
        await change_password(
            user, form.current_password, form.new_password,
            current_session=request.state.session, revoke_tokens=form.revoke_tokens,
        )
    except ValidationFailed as exc:
        return await _account_page(request, errors=errors_from(exc), status=400)
    return flash.redirect("/account", "password.changed")


async def new_token(request: Request) -> Response:
    user = signed_in_user(request)
    form, values, errors = await parse_form(request, TokenForm)
    if form is None:
        return await _account_page(request, errors=errors, values=values, status=400)
    _token, raw = await create_api_token(user, name=form.name)
    # Shown once, on this response only; never stored in plain text.
    return await _account_page(request, new_token=raw)


async def revoke_token(request: Request) -> Response:
    user = signed_in_user(request)
    await revoke_api_token(user, request.path_params["token_id"])
    return flash.redirect("/account", "account.token_revoked")


async def log_out_everywhere(request: Request) -> Response:
    user = signed_in_user(request)
    await end_every_session(user)
    response = RedirectResponse("/", status_code=SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/account", account, methods=["GET"], name="account"),
    Route("/account/profile", save_profile, methods=["POST"]),
    Route("/account/password", save_password, methods=["POST"]),
    Route("/account/tokens", new_token, methods=["POST"]),
    Route("/account/tokens/{token_id:int}/revoke", revoke_token, methods=["POST"]),
    Route("/account/sessions/end-all", log_out_everywhere, methods=["POST"]),
]
