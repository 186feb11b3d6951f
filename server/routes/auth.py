"""Sign-up, login and logout pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from models.core.errors import N_, ValidationFailed
from models.identity.accounts import user_with_email, verify_password
from models.identity.links import reset_link_works, reset_password, send_sign_in_link, use_sign_in_link
from models.identity.onboarding import CompanySignUp, sign_up_company
from server import flash
from server.auth import oidc
from server.auth.ratelimit import (
    LOGIN_FAILURES_BEFORE_LINK,
    LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS,
    LOGIN_FAILURES_PER_ADDRESS,
    MAILS_PER_RECIPIENT,
    PASSWORD_RESETS_PER_ADDRESS,
    SIGNUP_PER_ADDRESS,
)
from server.auth.sessions import client_address, record_failed_sign_in, sign_in, sign_out
from server.forms import errors_from, parse_form
from server.i18n import gettext as _
from server.schemas.auth import ForgotPasswordForm, LinkForm, LoginForm, ResetPasswordForm, SignupForm, safe_next
from server.templating import templates

SEE_OTHER = 303
ENTER = {"email": N_("Enter your e-mail address."), "password": N_("Enter your password.")}


def _login_page(request: Request, values: dict, errors: dict, status: int = 200, notice: str = "") -> Response:
    providers = oidc.configured_providers(request.app.state.settings)
    return templates.TemplateResponse(
        request,
        "account/login.html",
        {"values": values, "errors": errors, "providers": providers, "next": values.get("next", ""), "notice": notice},
        status_code=status,
    )


async def login_form(request: Request) -> Response:
    errors = {}
    if request.query_params.get("expired") and request.state.actor.is_visitor:
        errors["form"] = _("Your session has ended. Please log in again.")
    return _login_page(request, {"next": safe_next(request.query_params.get("next", ""), "")}, errors)


async def login(request: Request) -> Response:
    form, values, errors = await parse_form(request, LoginForm, ENTER)
    if form is None:
        return _login_page(request, values, errors, 400)
    email = form.email.strip().lower()
    limiter = request.app.state.services.limiter
    address = client_address(request)
    shown = {"email": form.email, "next": form.next}
    if (await limiter.used_up(LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS, "login-failures", email, address)
            or await limiter.used_up(LOGIN_FAILURES_PER_ADDRESS, "login-failures-address", address)):
        await record_failed_sign_in(request, email=email, method="password", reason="rate_limited")
        message = _("Too many login attempts. Please wait 15 minutes and try again.")
        return _login_page(request, shown, {"form": message}, 429)
    user = await user_with_email(email)
    password_matches = verify_password(user, form.password)  # checked for unknown and inactive people too
    credentials_ok = user is not None and user.is_active and password_matches
    under_attack = await limiter.used_up(LOGIN_FAILURES_BEFORE_LINK, "login-failures-account", email)
    if not credentials_ok:
        # Only failures count: an office behind one address signs in many times a morning.
        await limiter.count(LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS, "login-failures", email, address)
        await limiter.count(LOGIN_FAILURES_PER_ADDRESS, "login-failures-address", address)
        await limiter.count(LOGIN_FAILURES_BEFORE_LINK, "login-failures-account", email)
        await record_failed_sign_in(
            request, email=email, method="password",
            reason="unknown_email" if user is None else ("inactive" if not user.is_active else "wrong_password"),
        )
    if under_attack:
        # Many wrong passwords for this account from everywhere: the right password alone does not sign in,
        # a one-time link goes to the address instead. Every attempt gets the same answer, right password
        # or not; only links actually sent are counted, so guessing cannot use up the owner's links.
        if await limiter.used_up(MAILS_PER_RECIPIENT, "sign-in-link-mail", email):
            return _login_page(request, shown, {"form": _too_many_mails()}, 429)
        if credentials_ok and user is not None:
            await limiter.count(MAILS_PER_RECIPIENT, "sign-in-link-mail", email)
            await send_sign_in_link(user, client_address=address)
        return _login_page(request, shown, {}, 200, notice=_link_sent())
    if not credentials_ok or user is None:
        # The same message whether the address is unknown or the password wrong.
        message = _("The e-mail address or password is incorrect.")
        return _login_page(request, shown, {"form": message}, 400)
    await limiter.reset(LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS, "login-failures", email, address)
    response = RedirectResponse(safe_next(form.next, "/tasks"), status_code=SEE_OTHER)
    await sign_in(request, response, user, method="password")
    return response


def _link_sent() -> str:
    return _(
        "Many wrong passwords were recently tried for this account, so for its safety we have sent a one-time "
        "login link to its e-mail address instead, if the password was right."
    )


async def link_page(request: Request) -> Response:
    """The page a one-time link opens: a button, so that mail scanners that follow links do not use it up."""
    context = {"token": request.path_params["token"], "next": safe_next(request.query_params.get("next", ""), "")}
    return templates.TemplateResponse(request, "account/link.html", context)


async def use_link(request: Request) -> Response:
    form, _values, _errors = await parse_form(request, LinkForm)
    user = await use_sign_in_link(form.token, client_address=client_address(request)) if form else None
    if user is None:
        message = _("This login link has expired or has already been used. Log in again to get a new one.")
        return templates.TemplateResponse(request, "account/link.html", {"token": "", "error": message}, status_code=400)
    response = RedirectResponse(safe_next(form.next if form else "", "/tasks"), status_code=SEE_OTHER)
    await sign_in(request, response, user, method="link")
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=SEE_OTHER)
    await sign_out(request, response)
    return response


def _signup_page(request: Request, values: dict, errors: dict, status: int = 200) -> Response:
    values.pop("password", None)
    return templates.TemplateResponse(
        request, "account/signup.html", {"values": values, "errors": errors}, status_code=status
    )


async def signup_form(request: Request) -> Response:
    return _signup_page(request, {"next": safe_next(request.query_params.get("next", ""), "")}, {})


async def signup(request: Request) -> Response:
    form, values, errors = await parse_form(request, SignupForm)
    if form is None:
        return _signup_page(request, values, errors, 400)
    limiter = request.app.state.services.limiter
    if not await limiter.allow(SIGNUP_PER_ADDRESS, "signup", client_address(request)):
        message = _("Too many sign-ups from your network. Please try again in an hour.")
        return _signup_page(request, values, {"form": message}, 429)
    email = form.email.strip().lower()
    # Counted per address whether or not it has an account, so the limit gives nothing away either.
    if await limiter.used_up(MAILS_PER_RECIPIENT, "sign-up-mail", email):
        return _signup_page(request, values, {"form": _too_many_mails()}, 429)
    try:
        await sign_up_company(
            CompanySignUp(
                company_name_ja=form.company_name_ja,
                company_name_en=form.company_name_en,
                corporate_number=form.corporate_number,
                person_name=form.person_name,
                email=form.email,
                password=form.password,
                locale=form.locale,
            ),
            next_path=safe_next(form.next, ""),
            client_address=client_address(request),
        )
    except ValidationFailed as exc:
        return _signup_page(request, values, errors_from(exc), 400)
    await limiter.count(MAILS_PER_RECIPIENT, "sign-up-mail", email)
    # The same page whether the address was new (a confirmation link) or taken (a notice to its owner).
    return templates.TemplateResponse(request, "account/signup_sent.html", {})


def _forgot_page(request: Request, values: dict, errors: dict, status: int = 200) -> Response:
    return templates.TemplateResponse(request, "account/forgot.html", {"values": values, "errors": errors},
                                      status_code=status)


async def forgot_password_form(request: Request) -> Response:
    return _forgot_page(request, {}, {})


async def forgot_password(request: Request) -> Response:
    """Ask for a link to choose a new password. The answer is the same whether or not an account uses the
    address (no one learns who has an account); limits count per client address and per recipient address."""
    form, values, errors = await parse_form(request, ForgotPasswordForm, ENTER)
    if form is None:
        return _forgot_page(request, values, errors, 400)
    limiter = request.app.state.services.limiter
    address = client_address(request)
    if not await limiter.allow(PASSWORD_RESETS_PER_ADDRESS, "password-reset", address):
        message = _("Too many requests from your network. Please try again in an hour.")
        return _forgot_page(request, values, {"form": message}, 429)
    email = form.email.strip().lower()
    if await limiter.used_up(MAILS_PER_RECIPIENT, "password-reset-mail", email):
        return _forgot_page(request, values, {"form": _too_many_mails()}, 429)
    await limiter.count(MAILS_PER_RECIPIENT, "password-reset-mail", email)  # counted for unknown addresses too
    user = await user_with_email(email)
    if user is not None and user.is_active:
        await send_sign_in_link(user, purpose="reset_password", client_address=address)
    return flash.redirect("/login", "password.reset_sent")


def _reset_page(request: Request, token: str, errors: dict, status: int = 200, dead: bool = False) -> Response:
    return templates.TemplateResponse(request, "account/reset.html", {"token": token, "errors": errors, "dead": dead},
                                      status_code=status)


async def reset_password_form(request: Request) -> Response:
    token = request.path_params["token"]
    if len(token) > 100 or not await reset_link_works(token):
        return _reset_page(request, "", {}, 410, dead=True)
    return _reset_page(request, token, {})


async def reset_password_page(request: Request) -> Response:
    form, values, errors = await parse_form(request, ResetPasswordForm)
    token = str(values.get("token", ""))[:100]
    if form is None:
        return _reset_page(request, token, errors, 400)
    try:
        user = await reset_password(form.token, form.password, client_address=client_address(request))
    except ValidationFailed as exc:
        return _reset_page(request, token, errors_from(exc), 400)
    if user is None:
        return _reset_page(request, "", {}, 410, dead=True)
    response = flash.redirect("/account", "password.changed")
    await sign_in(request, response, user, method="link")
    return response


def _too_many_mails() -> str:
    return _("Too many e-mails have been sent to this address recently. Please try again in an hour.")


routes = [
    Route("/login", login_form, methods=["GET"], name="login"),
    Route("/login", login, methods=["POST"]),
    Route("/login/link/{token}", link_page, methods=["GET"]),
    Route("/login/link", use_link, methods=["POST"]),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/password/forgot", forgot_password_form, methods=["GET"], name="forgot_password"),
    Route("/password/forgot", forgot_password, methods=["POST"]),
    Route("/password/reset/{token}", reset_password_form, methods=["GET"]),
    Route("/password/reset", reset_password_page, methods=["POST"]),
    Route("/signup", signup_form, methods=["GET"], name="signup"),
    Route("/signup", signup, methods=["POST"]),
]
