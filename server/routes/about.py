"""The service's own pages, linked from every footer: accessibility statement, terms, privacy, contact.

Their text is long prose, so each is one template per language (templates/about/<page>.<lang>.html) rather
than a catalogue entry per paragraph.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from models.core.errors import NotFound
from server.i18n import get_locale
from server.settings import get_settings
from server.templating import templates

PAGES = ("accessibility", "terms", "privacy", "contact")


async def about(request: Request) -> Response:
    page = request.path_params["page"]
    if page not in PAGES:
        raise NotFound("no such page")
    reported = request.query_params.get("page", "")  # "report a problem with this page": the page's path
    if not (reported.startswith("/") and not reported.startswith("//") and len(reported) <= 300):
        reported = ""
    context = {"page": page, "reported": reported, "contact_email": get_settings().contact_email}
    return templates.TemplateResponse(request, f"about/{page}.{get_locale()}.html", context)


routes = [Route("/about/{page}", about, name="about")]
