"""What open data may publish: everything here is public, so each rule narrows to what a visitor may see.

Only public challenges (`public_challenge_filter`), answered questions without who asked, the selected
proposals of decided challenges, and public pilots with their verified KPI values ever reach a dataset, the catalogue or the figures; never drafts, proposals
not selected, scores, reviewers or unanswered questions.
"""

from __future__ import annotations

from tortoise.expressions import Q

from models.challenges.models import ChallengeStatus
from models.identity.orgs import OrgKind, OrgStatus
from models.pilots.models import MeasurementStatus
from models.policy.challenges import public_challenge_filter
from models.policy.pilots import PUBLIC_STATUSES
from models.proposals.models import ProposalStatus

# Proposals counted as received: submitted and not withdrawn (a count only; never their content).
RECEIVED_STATUSES = [str(s) for s in ProposalStatus if s not in (ProposalStatus.DRAFT, ProposalStatus.WITHDRAWN)]


def open_challenge_filter() -> Q:
    """Challenges in open data: those a visitor may see."""
    return public_challenge_filter()


def open_answer_filter() -> Q:
    """Questions in open data: answered ones on public challenges (the asker is never published)."""
    return Q(answered_at__not_isnull=True) & _on_public_challenge()


def decided_challenge_filter() -> Q:
    """Challenges whose results are published."""
    return public_challenge_filter() & Q(status=ChallengeStatus.DECIDED.value)


def open_result_filter() -> Q:
    """Proposals published as results: the selected ones of decided challenges."""
    return Q(status=ProposalStatus.SELECTED.value, challenge__status=ChallengeStatus.DECIDED.value)


def received_proposal_filter() -> Q:
    """Proposals counted per public challenge."""
    return Q(status__in=RECEIVED_STATUSES, submitted_at__not_isnull=True) & _on_public_challenge()


def publishing_agency_filter() -> Q:
    """Agencies that have datasets of their own: approved ones (a suspended agency's datasets are withdrawn)."""
    return Q(kind=OrgKind.AGENCY.value, status=OrgStatus.APPROVED.value, municipality_code__not_isnull=True)


def _on_public_challenge() -> Q:
    public = public_challenge_filter()
    return Q(*[_prefixed(child) for child in [public]], join_type="AND")


def _prefixed(condition: Q) -> Q:
    """The same condition on the related challenge ("status" -> "challenge__status")."""
    children = [_prefixed(child) for child in condition.children]
    filters = {f"challenge__{key}": value for key, value in condition.filters.items()}
    return Q(*children, **filters, join_type=condition.join_type)


def open_pilot_filter() -> Q:
    """Pilots in open data: those a visitor may see (started, not planned), of public challenges."""
    return Q(status__in=[s.value for s in PUBLIC_STATUSES]) & _on_public_challenge()


def open_measurement_filter() -> Q:
    """KPI values in open data: verified ones only (never recorded or rejected ones)."""
    return Q(status=MeasurementStatus.VERIFIED.value)
