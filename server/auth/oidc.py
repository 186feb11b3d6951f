"""OpenID Connect login through Authlib's Starlette client: authorization code flow with PKCE (S256),
state and nonce.

Authlib keeps the per-login secrets in `request.session`, which needs Starlette's SessionMiddleware;
our sessions are server-side, so the state, nonce and PKCE verifier travel instead in a short-lived
signed cookie scoped to the callback path, and the flow uses the client's lower-level steps.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from itsdangerous import BadData, URLSafeTimedSerializer
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.settings import OidcProvider, Settings

SCOPE = "openid email profile"
FLOW_COOKIE = "kyoso_oidc"
FLOW_COOKIE_PATH = "/auth/oidc/"
FLOW_MAX_AGE = 600  # seconds to finish logging in at the provider
HTTP_TIMEOUT = 10


class LoginRefused(Exception):
    """The login cannot go on; `reason` is what the audit log records."""

    def __init__(self, reason: str, *, email: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.email = email


class ProviderUnreachable(Exception):
    pass


@dataclass
class VerifiedLogin:
    issuer: str
    claims: dict[str, Any]  # the id_token's claims, completed by the userinfo endpoint's
    next: str


def configured_providers(settings: Settings) -> list[tuple[str, str]]:
    """(key, display name) of each provider, for the "log in with …" buttons."""
    return [(provider.key, provider.name) for provider in settings.all_oidc_providers]


def provider_for(settings: Settings, key: str) -> OidcProvider | None:
    return next((provider for provider in settings.all_oidc_providers if provider.key == key), None)


def _registry(settings: Settings) -> OAuth:
    oauth = OAuth()
    for provider in settings.all_oidc_providers:
        oauth.register(
            provider.key,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "timeout": HTTP_TIMEOUT},
        )
    return oauth


def _client(request: Request, key: str) -> StarletteOAuth2App:
    # One registry per app, made on first use; it caches each provider's discovery document and keys.
    registry = getattr(request.app.state, "oidc", None)
    if registry is None:
        registry = request.app.state.oidc = _registry(request.app.state.settings)
    return registry.create_client(key)


async def _issuer(client: StarletteOAuth2App, provider: OidcProvider) -> str:
    """The provider's issuer from its discovery document, which must be the configured one."""
    try:
        metadata = await client.load_server_metadata()
    except (httpx2.HTTPError, ValueError) as exc:
        raise ProviderUnreachable(str(exc)) from exc
    issuer = metadata.get("issuer", "")
    if issuer.rstrip("/") != provider.issuer.rstrip("/"):
        raise LoginRefused("issuer_mismatch")
    return issuer


def _redirect_uri(request: Request, key: str) -> str:
    return request.app.state.settings.base_url + request.app.url_path_for("oidc_callback", provider=key)


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="kyoso.oidc-flow")


async def start_login(request: Request, provider: OidcProvider, next_path: str) -> Response:
    """Redirect to the provider, keeping state, nonce and PKCE verifier in the flow cookie."""
    client = _client(request, provider.key)
    await _issuer(client, provider)
    # Authlib makes the state, the nonce (for the openid scope) and the verifier (for S256).
    authorization = await client.create_authorization_url(_redirect_uri(request, provider.key))
    flow = {
        "provider": provider.key,
        "state": authorization["state"],
        "nonce": authorization["nonce"],
        "verifier": authorization["code_verifier"],
        "next": next_path,
    }
    response = RedirectResponse(authorization["url"], status_code=302)
    response.set_cookie(
        FLOW_COOKIE,
        _serializer(request).dumps(flow),
        max_age=FLOW_MAX_AGE,
        path=FLOW_COOKIE_PATH,
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to the callback
        secure=not request.app.state.settings.is_dev,
    )
    return response


def end_flow(response: Response) -> None:
    response.delete_cookie(FLOW_COOKIE, path=FLOW_COOKIE_PATH)


def _flow(request: Request, provider: OidcProvider) -> dict[str, str]:
    try:
        flow = _serializer(request).loads(request.cookies.get(FLOW_COOKIE, ""), max_age=FLOW_MAX_AGE)
    except BadData:
        raise LoginRefused("state") from None
    state = request.query_params.get("state", "").encode()
    if flow.get("provider") != provider.key or not secrets.compare_digest(flow.get("state", "").encode(), state):
        raise LoginRefused("state")
    return flow


async def finish_login(request: Request, provider: OidcProvider) -> VerifiedLogin:
    """Check the callback, exchange the code and verify the id_token (signature by the provider's JWKS,
    iss, aud, exp, nonce); raises LoginRefused or ProviderUnreachable."""
    params = request.query_params
    if "error" in params:
        raise LoginRefused("provider_error:" + params["error"][:50])
    flow = _flow(request, provider)
    client = _client(request, provider.key)
    issuer = await _issuer(client, provider)
    # RFC 9207: the provider names itself in the response, against mix-up attacks.
    if "iss" in params and params["iss"] != issuer:
        raise LoginRefused("issuer_mismatch")
    if not params.get("code"):
        raise LoginRefused("missing_code")
    try:
        token = await client.fetch_access_token(
            redirect_uri=_redirect_uri(request, provider.key), code=params["code"], code_verifier=flow["verifier"]
        )
    except OAuthError as exc:
        raise LoginRefused("token_error:" + str(exc.error)[:50]) from exc
    except ValueError as exc:  # not a token response at all
        raise LoginRefused("token_error:invalid_response") from exc
    except httpx2.HTTPError as exc:
        raise ProviderUnreachable(str(exc)) from exc
    if "id_token" not in token:
        raise LoginRefused("invalid_id_token")
    try:
        claims = dict(await client.parse_id_token(token, nonce=flow["nonce"]))
    except (JoseError, ValueError) as exc:
        raise LoginRefused("invalid_id_token") from exc
    except httpx2.HTTPError as exc:
        raise ProviderUnreachable(str(exc)) from exc
    if "email" not in claims:
        # Many providers put the profile only in the userinfo response.
        try:
            userinfo = await client.userinfo(token=token)
        except (OAuthError, httpx2.HTTPError, ValueError) as exc:
            raise ProviderUnreachable(str(exc)) from exc
        if userinfo.get("sub") != claims["sub"]:
            raise LoginRefused("userinfo_subject_mismatch")
        claims = {**userinfo, **claims}
    return VerifiedLogin(issuer=issuer, claims=claims, next=flow.get("next", "/"))
