"""Pilots: who may see a pilot and what, and who may act on it.

A pilot is public once it has started (its page, its verified values, published comments, milestones'
titles and status). Unverified and rejected values, returned milestones, unpublished comments, the
company's survey and internal notes are for the company, the owners and operators only. The owners are
the members of the agencies taking part (the challenge's owner and co-owners when the pilot started).
"""

from __future__ import annotations

from tortoise.expressions import Q

from models.identity.orgs import OrgKind
from models.pilots.models import Pilot, PilotStatus
from models.policy import Actor

S = PilotStatus
PUBLIC_STATUSES = (S.RUNNING, S.PAUSED, S.UNDER_EVALUATION, S.ADOPTED, S.STOPPED)
MEASURABLE = (S.RUNNING, S.PAUSED, S.UNDER_EVALUATION)
ENDED = (S.UNDER_EVALUATION, S.ADOPTED, S.STOPPED)


def is_public(pilot: Pilot) -> bool:
    return pilot.status in PUBLIC_STATUSES


def owns_pilot(actor: Actor, pilot: Pilot) -> bool:
    return bool(actor.organisation_ids(OrgKind.AGENCY) & set(pilot.agency_ids or [pilot.owner_id]))


def runs_pilot(actor: Actor, pilot: Pilot) -> bool:
    """A member of the company running the pilot."""
    return pilot.company_id in actor.organisation_ids(OrgKind.COMPANY)


def sees_internals(actor: Actor, pilot: Pilot) -> bool:
    """Unverified values, returned milestones, hidden comments, notes: company, owners, operators."""
    return actor.is_operator or owns_pilot(actor, pilot) or runs_pilot(actor, pilot)


def may_view_pilot(actor: Actor, pilot: Pilot) -> bool:
    return is_public(pilot) or sees_internals(actor, pilot)


def pilot_filter(actor: Actor) -> Q:
    """Pilots the actor may list, or more: an agency member's query also holds every planned pilot, since a
    co-owner's are found by `agency_ids` (a JSON list) in Python (`may_view_pilot`); planned pilots are few."""
    public = Q(status__in=[s.value for s in PUBLIC_STATUSES])
    if actor.is_operator:
        return Q()
    own = actor.organisation_ids(OrgKind.AGENCY) | actor.organisation_ids(OrgKind.COMPANY)
    if not own:
        return public
    found = public | Q(owner_id__in=list(own)) | Q(company_id__in=list(own))
    if actor.organisation_ids(OrgKind.AGENCY):
        found |= Q(status=S.PLANNED.value)
    return found


def may_edit_kpis(actor: Actor, pilot: Pilot) -> bool:
    return pilot.status == S.PLANNED and owns_pilot(actor, pilot)


def may_record(actor: Actor, pilot: Pilot) -> bool:
    return pilot.status in MEASURABLE and (owns_pilot(actor, pilot) or runs_pilot(actor, pilot))


def may_verify(actor: Actor, pilot: Pilot) -> bool:
    return owns_pilot(actor, pilot)


def may_give_feedback(pilot: Pilot) -> bool:
    """Residents answer while the pilot runs."""
    return pilot.status == S.RUNNING


def may_moderate(actor: Actor, pilot: Pilot) -> bool:
    return owns_pilot(actor, pilot)


def may_answer_survey(actor: Actor, pilot: Pilot) -> bool:
    return pilot.status in ENDED and runs_pilot(actor, pilot)


def may_manage_milestones(actor: Actor, pilot: Pilot) -> bool:
    return owns_pilot(actor, pilot) and pilot.status in (S.PLANNED, *MEASURABLE)


def pilot_actions(actor: Actor, pilot: Pilot) -> set[str]:
    """What the pilot's page offers this person, for its template."""
    actions: set[str] = set()
    if sees_internals(actor, pilot):
        actions.add("internals")
    if may_edit_kpis(actor, pilot):
        actions.add("edit_kpis")
    if may_record(actor, pilot):
        actions.add("record")
    if may_verify(actor, pilot):
        actions |= {"verify", "moderate"}
    if may_manage_milestones(actor, pilot):
        actions.add("milestones")
    if runs_pilot(actor, pilot):
        actions.add("company")
    if may_answer_survey(actor, pilot):
        actions.add("survey")
    if actor.is_operator or owns_pilot(actor, pilot):
        actions.add("evaluation")
    if runs_pilot(actor, pilot) and pilot.status in (S.ADOPTED, S.STOPPED):
        actions.add("evaluation_feedback")
    return actions


# --- the evaluation round (models.pilots.evaluation) -------------------------------------------


def may_follow_evaluation(actor: Actor, pilot: Pilot) -> bool:
    """The evaluation's panel, form and ranking: the owners and operators."""
    return actor.is_operator or owns_pilot(actor, pilot)


def may_plan_evaluation(actor: Actor, pilot: Pilot) -> bool:
    """Owners choose the panel (and, until the round starts, the form) until the pilot is adopted or stopped."""
    return owns_pilot(actor, pilot) and pilot.status not in (S.ADOPTED, S.STOPPED)


def may_read_evaluation_feedback(actor: Actor, pilot: Pilot, evaluated: bool) -> bool:
    """The reviewers' scores and feedback per criterion, without their names: the owners and operators at any
    time, the company once the owners have decided (adopted, stopped, or extended after an evaluation; a pilot
    stopped before its evaluation has an empty one), never while it is under evaluation."""
    if may_follow_evaluation(actor, pilot):
        return True
    decided = pilot.status in (S.ADOPTED, S.STOPPED) or evaluated and pilot.status != S.UNDER_EVALUATION  # extended
    return runs_pilot(actor, pilot) and decided
