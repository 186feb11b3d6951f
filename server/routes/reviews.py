"""The review area's pages and API, split by audience (access in `models.policy.review`):

- `server.routes.reviewer`: the reviewer's assignments, conflicts of interest and reviews;
- `server.routes.review_panel`: the owners' panel and assignments;
- `server.routes.review_ranking`: ranking, decisions, a proposal's reviews and the companies' feedback.

Companies never see assignments or reviewers; anyone without access to an assignment gets a 404, so its
existence is not revealed.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from server.routes import review_panel, review_ranking, reviewer
from server.routes.review_ranking import detail_context

__all__ = ["detail_context", "routes"]

routes: list[BaseRoute] = [*reviewer.routes, *review_panel.routes, *review_ranking.routes]
