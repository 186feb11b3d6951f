"""Public pages: the home page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.challenges.models import Challenge
from models.policy.challenges import challenge_filter
from server.templating import templates

HOME_CHALLENGES = 10


async def home(request: Request) -> Response:
    challenges = (
        await Challenge.filter(challenge_filter(request.state.actor), published_at__not_isnull=True)
        .distinct()
        .order_by("-published_at")
        .limit(HOME_CHALLENGES)
        .prefetch_related("owner", "category")
    )
    return templates.TemplateResponse(request, "home.html", {"challenges": challenges})


routes = [Route("/", home, name="home")]
