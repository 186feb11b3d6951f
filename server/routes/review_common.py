"""What the review's route modules share: status and decision names, refusal messages, the owners' challenge."""

from __future__ import annotations

from starlette.requests import Request

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Challenge
from models.core.errors import N_, DomainError
from models.policy import Actor
from models.policy.review import require_review_access
from server.i18n import gettext as _
from server.problems import signed_in

SEE_OTHER = 303
ASSIGNMENT_STATUS_NAMES = {"assigned": N_("To review"), "submitted": N_("Submitted"), "recused": N_("Withdrawn")}
DECISION_NAMES = {"shortlisted": N_("Shortlist"), "selected": N_("Select"), "not_selected": N_("Do not select"),
                  "ineligible": N_("Mark as ineligible")}
DECISION_RESULTS = {"selected": N_("Selected"), "not_selected": N_("Not selected"), "ineligible": N_("Ineligible"),
                    "shortlisted": N_("Shortlisted"), "under_review": N_("Under review")}


def assignment_status_name(status: str) -> str:
    return _(ASSIGNMENT_STATUS_NAMES.get(status, status))


def decision_name(status: str) -> str:
    return _(DECISION_RESULTS.get(status, status))


def message_of(exc: DomainError) -> str:
    """A refusal in the reader's language: domain messages are English message ids."""
    return _(exc.message) if exc.message and exc.message[0].isupper() else _("This change of state is not possible now.")


async def owned(request: Request, *, changing: bool = False) -> tuple[Actor, Challenge]:
    """The challenge, for its owners (and, to read, operators)."""
    actor = signed_in(request)
    challenge = await challenge_lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    await require_review_access(actor, challenge, changing=changing)
    return actor, challenge
