"""One module per area; pages and API side by side. Importing a module registers its API operations."""

from __future__ import annotations

from starlette.routing import BaseRoute

from server.routes import (
    about,
    account,
    admin,
    attachments,
    auth,
    challenges,
    discovery,
    feeds,
    health,
    insights,
    joint,
    me,
    notifications,
    oidc,
    opendata,
    organisations,
    pages,
    partners,
    pilot_charts,
    pilot_evaluation_pages,
    pilot_pages,
    pilots,
    procurement,
    procurement_pages,
    proposals,
    questions,
    review_charts,
    reviews,
    solution_pages,
    solutions,
)


def page_routes() -> list[BaseRoute]:
    return [
        *health.routes,
        *pages.routes,
        *about.routes,
        *challenges.routes,
        *proposals.routes,
        *questions.routes,
        *reviews.routes,
        *joint.routes,
        *notifications.routes,
        *attachments.routes,
        *feeds.routes,
        *discovery.routes,
        *auth.routes,
        *oidc.routes,
        *account.routes,
        *organisations.routes,
        *admin.routes,
        *opendata.routes,
        *insights.routes,
        *partners.routes,
        *pilot_pages.routes,
        *pilot_charts.routes,
        *procurement_pages.routes,
        *pilot_evaluation_pages.routes,
        *solution_pages.routes,
        *review_charts.routes,
    ]


__all__ = ["me", "page_routes", "pilots", "procurement", "solutions"]
