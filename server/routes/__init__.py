"""One module per area; pages and API side by side. Importing a module registers its API operations."""

from __future__ import annotations

from starlette.routing import BaseRoute

from server.routes import account, admin, auth, challenges, discovery, health, me, oidc, organisations, pages


def page_routes() -> list[BaseRoute]:
    return [
        *health.routes,
        *pages.routes,
        *challenges.routes,
        *discovery.routes,
        *auth.routes,
        *oidc.routes,
        *account.routes,
        *organisations.routes,
        *admin.routes,
    ]


__all__ = ["me", "page_routes"]
