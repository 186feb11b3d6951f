"""What the review's route modules share: the owners' challenge."""

from __future__ import annotations

from starlette.requests import Request

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge
from models.policy import Actor
from models.policy.review import require_review_access
from server.problems import signed_in

SEE_OTHER = 303


async def owned(request: Request, *, changing: bool = False) -> tuple[Actor, Challenge]:
    """The challenge, for its owners (and, to read, operators)."""
    actor = signed_in(request)
    challenge = await challenge_lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    await require_review_access(actor, challenge, changing=changing)
    return actor, challenge
