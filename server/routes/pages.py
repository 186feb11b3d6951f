"""Public pages: the home page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.challenges import listing
from server.templating import templates

HOME_CHALLENGES = 10


async def home(request: Request) -> Response:
    challenges = await listing.home_challenges(request.state.actor, HOME_CHALLENGES)
    return templates.TemplateResponse(request, "home.html", {"challenges": challenges})


routes = [Route("/", home, name="home")]
