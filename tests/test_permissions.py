"""The permission matrix: every route of the app × every role, allowed or refused as it should be.

A route missing from MATRIX fails `test_every_route_is_in_the_matrix`: add it, with who may use it.
"allowed" means the request got past access control (it may still be a 4xx for bad input or state);
"refused" means 401/403/404 or, for pages, a redirect to the login page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx2
import pytest
from starlette.routing import Mount, Route
from tortoise import timezone

from models.challenges.lifecycle import ChallengeChanges, create_challenge
from models.challenges.models import Challenge, CoOwner, Follow, Question
from models.identity.accounts import Membership, Role, User, create_api_token
from models.identity.invitations import invite
from models.identity.orgs import Organisation
from models.identity.sessions import open_session
from models.policy import actor_for
from models.review.models import Assignment
from server.auth.sessions import SESSION_COOKIE
from tests.helpers import permission_world, stored_attachment
from tests.partners_world import partner_world
from tests.pilot_helpers import pilot_world
from tests.procurement_helpers import procurement_matrix_world
from tests.solution_helpers import solution_world

pytestmark = pytest.mark.usefixtures("oidc_servers")  # /login/oidc/idp reaches the provider

ROLES = ("visitor", "other_company", "company", "other_agency", "agency", "reviewer", "operator")
EVERYONE = set(ROLES)
SIGNED_IN = EVERYONE - {"visitor"}
OPERATOR = {"operator"}
AGENCIES = {"agency", "other_agency"}
ADMINS = {"company", "other_company", "agency", "other_agency"}  # each an admin of their own organisation

# (method, path template) -> roles allowed. Path templates use the world's ids, see World.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/about/{page}"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("GET", "/login/link/not-a-real-link"): EVERYONE,  # the page only offers a button
    ("POST", "/login/link"): EVERYONE,  # an unknown link is a 400 for anyone
    ("POST", "/logout"): EVERYONE,
    ("GET", "/signup"): EVERYONE,
    ("POST", "/signup"): EVERYONE,
    ("GET", "/password/forgot"): EVERYONE,
    ("POST", "/password/forgot"): EVERYONE,  # an empty form is a 400 for anyone
    ("GET", "/password/reset/not-a-real-link"): set(),  # an unknown link is gone (410) for anyone
    ("POST", "/password/reset"): EVERYONE,  # an empty form is a 400 for anyone
    ("GET", "/account"): SIGNED_IN,
    ("GET", "/tasks"): SIGNED_IN,
    ("POST", "/account/profile"): SIGNED_IN,
    ("POST", "/account/password"): SIGNED_IN,
    ("POST", "/account/tokens"): SIGNED_IN,
    ("POST", "/account/tokens/{token_id}/revoke"): SIGNED_IN,  # only one's own tokens are touched
    ("POST", "/account/sessions/end-all"): SIGNED_IN,
    ("GET", "/admin"): OPERATOR,
    ("POST", "/admin/organisations/{pending_org_id}/{decision}"): OPERATOR,
    ("GET", "/admin/people"): OPERATOR,
    ("POST", "/admin/people/{throwaway_user_id}/access"): OPERATOR,
    ("GET", "/admin/audit"): OPERATOR,
    ("GET", "/admin/audit.csv"): OPERATOR,
    ("GET", "/api/v1/openapi.json"): EVERYONE,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("GET", "/challenges"): EVERYONE,  # search: published-and-later challenges only, for everyone alike
    ("GET", "/api/v1/challenges"): EVERYONE,
    ("GET", "/api/v1/categories"): EVERYONE,
    ("GET", "/challenges/{challenge_id}"): EVERYONE,
    ("GET", "/api/v1/challenges/{challenge_id}"): EVERYONE,
    ("POST", "/api/v1/challenges"): AGENCIES,
    ("GET", "/challenges/new"): AGENCIES,
    ("POST", "/challenges/new"): AGENCIES,
    ("GET", "/challenges/mine"): AGENCIES,
    ("PATCH", "/api/v1/challenges/{challenge_id}"): {"agency", "operator"},  # operators amend published ones
    ("GET", "/challenges/{challenge_id}/edit"): {"agency", "operator"},
    ("POST", "/challenges/{challenge_id}/edit"): {"agency", "operator"},
    ("POST", "/api/v1/challenges/{challenge_id}/transitions"): {"agency", "operator"},
    ("POST", "/challenges/{challenge_id}/transitions"): {"agency", "operator"},
    ("GET", "/challenges/{challenge_id}/confirm/cancelled"): {"agency", "operator"},  # a 409 when not possible now
    ("GET", "/organisation"): SIGNED_IN - {"reviewer"},  # the reviewer belongs to no organisation
    ("POST", "/organisation/profile"): ADMINS | OPERATOR,  # operators manage every organisation
    ("POST", "/organisation/invitations"): ADMINS | OPERATOR,
    ("POST", "/organisation/invitations/{invitation_id}/revoke"): {"company"},
    ("POST", "/organisation/members/{membership_id}/role"): {"company"},
    ("POST", "/organisation/members/{membership_id}/remove"): {"company"},
    ("GET", "/organisations/{company_org_id}"): {"company", "operator"},
    ("POST", "/organisations/{company_org_id}/profile"): {"company", "operator"},
    ("POST", "/organisations/{company_org_id}/invitations"): {"company", "operator"},
    ("POST", "/organisations/{company_org_id}/invitations/{invitation_id}/revoke"): {"company", "operator"},
    ("POST", "/organisations/{company_org_id}/members/{membership_id}/role"): {"company", "operator"},
    ("POST", "/organisations/{company_org_id}/members/{membership_id}/remove"): {"company", "operator"},
    ("GET", "/invitations/{invitation_token}"): {"visitor", "reviewer"},  # the reviewer is the invitee
    ("POST", "/invitations/{invitation_token}/accept"): {"reviewer"},
    ("GET", "/api/v1/organisations/{company_org_id}"): EVERYONE,
    ("GET", "/api/v1/organisations/{company_org_id}/members"): {"company", "operator"},
    ("POST", "/api/v1/organisations/{company_org_id}/invitations"): {"company", "operator"},
    ("GET", "/api/v1/challenges/{challenge_id}/questions"): EVERYONE,  # answered ones, plus own/all for those allowed
    ("POST", "/api/v1/challenges/{challenge_id}/questions"): {"company", "other_company"},
    ("POST", "/challenges/{challenge_id}/questions"): {"company", "other_company"},
    ("POST", "/api/v1/questions/{question_id}/answer"): {"agency"},  # the world's question is unanswered
    ("POST", "/challenges/{challenge_id}/questions/{question_id}/answer"): {"agency"},
    ("GET", "/api/v1/challenges/{challenge_id}/interest"): EVERYONE,
    ("POST", "/api/v1/challenges/{challenge_id}/interest"): {"other_agency"},  # not the owner agency
    ("POST", "/challenges/{challenge_id}/interest"): {"other_agency"},
    ("POST", "/api/v1/challenges/{challenge_id}/co-owners"): {"agency"},
    ("POST", "/challenges/{challenge_id}/co-owners"): {"agency"},
    ("POST", "/api/v1/challenges/{challenge_id}/co-owners/accept"): {"other_agency"},  # invited in the world
    ("POST", "/challenges/{challenge_id}/co-owners/accept"): {"other_agency"},
    ("POST", "/challenges/{challenge_id}/follow"): SIGNED_IN,
    ("POST", "/challenges/{challenge_id}/unfollow"): SIGNED_IN,
    ("GET", "/api/v1/follows"): SIGNED_IN,  # one's own
    ("POST", "/api/v1/follows"): SIGNED_IN,
    ("POST", "/follows"): SIGNED_IN,
    ("DELETE", "/api/v1/follows/{follow_id}"): {"company"},  # the world's follow is the company's
    ("POST", "/follows/{follow_id}/delete"): {"company"},
    ("GET", "/api/v1/notifications"): SIGNED_IN,  # one's own
    ("POST", "/api/v1/notifications/read"): SIGNED_IN,
    ("GET", "/notifications"): SIGNED_IN,
    ("POST", "/notifications/read"): SIGNED_IN,
    ("GET", "/agencies/{agency_org_id}"): EVERYONE,
    ("GET", "/challenges/{challenge_id}/proposals/new"): {"company", "other_company"},  # company: to its own
    ("POST", "/challenges/{challenge_id}/proposals/new"): {"company", "other_company"},
    ("GET", "/challenges/{challenge_id}/proposals"): {"agency", "operator"},
    ("GET", "/proposals"): SIGNED_IN,  # each sees the proposals proposal_filter gives them
    ("GET", "/proposals/{proposal_id}"): {"company", "agency", "reviewer", "operator"},  # submitted; reviewer assigned
    ("GET", "/proposals/{proposal_id}/edit"): {"company"},
    ("POST", "/proposals/{proposal_id}/edit"): {"company"},
    ("POST", "/proposals/{proposal_id}/transitions"): {"company", "agency"},
    ("GET", "/proposals/{proposal_id}/confirm/withdrawn"): {"company", "agency"},  # a 409 for the agency
    ("GET", "/proposals/{proposal_id}/receipt"): {"company", "operator"},
    ("POST", "/api/v1/challenges/{challenge_id}/proposals"): {"company", "other_company"},
    ("GET", "/api/v1/proposals"): SIGNED_IN,
    ("GET", "/api/v1/proposals/{proposal_id}"): {"company", "agency", "reviewer", "operator"},
    ("PATCH", "/api/v1/proposals/{proposal_id}"): {"company"},
    ("POST", "/api/v1/proposals/{proposal_id}/transitions"): {"company", "agency"},
    ("GET", "/api/v1/proposals/{proposal_id}/versions"): {"company", "agency", "operator"},
    ("GET", "/login/oidc/{provider}"): EVERYONE,
    ("GET", "/auth/oidc/{provider}/callback"): EVERYONE,  # without state it is a clear 400 for anyone
    ("GET", "/feeds/challenges.atom"): EVERYONE,  # public challenges only, for everyone alike
    ("GET", "/feeds/pilots.atom"): EVERYONE,  # public pilots and verified values only, for everyone alike
    ("GET", "/feeds/deadlines.ics"): EVERYONE,
    ("GET", "/challenges/{challenge_id}/deadlines.ics"): EVERYONE,  # as the challenge page: who may see it
    ("GET", "/attachments/{attachment_id}"): EVERYONE,  # as its challenge: who may see it
    ("POST", "/challenges/{challenge_id}/attachments"): {"agency"},  # owners only
    ("POST", "/api/v1/challenges/{challenge_id}/attachments"): {"agency"},
    ("POST", "/challenges/{challenge_id}/attachments/{attachment_id}/delete"): {"agency"},
    # The review workflow: the world's challenge is published (not yet closed), its reviewer assigned.
    ("GET", "/api/v1/assignments"): SIGNED_IN,  # one's own
    ("GET", "/api/v1/assignments/{assignment_id}/review"): {"reviewer"},
    ("PUT", "/api/v1/assignments/{assignment_id}/review"): {"reviewer"},  # a 409 until the challenge closes
    ("POST", "/api/v1/assignments/{assignment_id}/transitions"): {"reviewer", "agency"},  # submit/recuse; reopen
    ("DELETE", "/api/v1/assignments/{assignment_id}"): {"agency"},
    ("GET", "/api/v1/proposals/{proposal_id}/reviews"): {"agency", "operator"},  # the reviewer has not submitted
    ("GET", "/api/v1/proposals/{proposal_id}/feedback"): {"company", "operator"},  # a 409 until decided
    ("GET", "/api/v1/conflicts"): SIGNED_IN,  # one's own
    ("POST", "/api/v1/conflicts"): {"reviewer", "agency", "other_agency", "operator"},
    ("GET", "/api/v1/challenges/{challenge_id}/panel"): {"agency", "operator"},
    ("PUT", "/api/v1/challenges/{challenge_id}/panel"): {"agency"},
    ("GET", "/api/v1/challenges/{challenge_id}/rubric"): {"agency", "operator"},
    ("PUT", "/api/v1/challenges/{challenge_id}/rubric"): {"agency"},
    ("GET", "/challenges/{challenge_id}/rubric"): {"agency", "operator"},
    ("POST", "/challenges/{challenge_id}/rubric"): {"agency"},
    ("GET", "/api/v1/challenges/{challenge_id}/assignments"): {"agency", "operator"},
    ("POST", "/api/v1/challenges/{challenge_id}/assignments"): {"agency"},
    ("GET", "/api/v1/challenges/{challenge_id}/ranking"): {"agency", "operator"},
    ("GET", "/reviews"): SIGNED_IN,
    ("POST", "/reviews/conflicts"): {"reviewer", "agency", "other_agency", "operator"},
    ("GET", "/reviews/{assignment_id}"): {"reviewer"},
    ("POST", "/reviews/{assignment_id}"): {"reviewer"},
    ("POST", "/assignments/{assignment_id}/transitions"): {"reviewer", "agency"},
    ("POST", "/assignments/{assignment_id}/remove"): {"agency"},
    ("GET", "/challenges/{challenge_id}/panel"): {"agency", "operator"},
    ("POST", "/challenges/{challenge_id}/panel"): {"agency"},
    ("GET", "/challenges/{challenge_id}/assignments"): {"agency", "operator"},
    ("POST", "/challenges/{challenge_id}/assignments"): {"agency"},
    ("GET", "/challenges/{challenge_id}/ranking"): {"agency", "operator"},
    ("GET", "/challenges/{challenge_id}/ranking.svg"): {"agency", "operator"},
    ("POST", "/challenges/{challenge_id}/decisions"): {"agency"},
    ("POST", "/challenges/{challenge_id}/finalise"): {"agency"},
    ("GET", "/proposals/{proposal_id}/reviews"): {"agency", "operator"},
    ("GET", "/proposals/{proposal_id}/feedback"): {"company", "operator"},
    ("GET", "/proposals/{proposal_id}/feedback.svg"): {"company", "operator"},
    # Open data and insights: public, the same for everyone (models/policy/insights.py).
    ("GET", "/data/"): EVERYONE,
    ("GET", "/data/catalog.jsonld"): EVERYONE,
    ("GET", "/data/challenges.csv"): EVERYONE,
    ("GET", "/data/challenges.json"): EVERYONE,
    ("GET", "/api/3/action/package_list"): EVERYONE,
    ("POST", "/api/3/action/package_list"): EVERYONE,  # read only: POST is CKAN's way of passing parameters
    ("GET", "/api/action/package_search"): EVERYONE,
    ("POST", "/api/action/package_search"): EVERYONE,
    ("GET", "/insights"): EVERYONE,
    ("GET", "/insights/per_month.csv"): EVERYONE,
    ("GET", "/agencies/131016/insights"): EVERYONE,
    ("GET", "/agencies/131016/insights/per_month.csv"): EVERYONE,
    ("GET", "/api/v1/insights"): EVERYONE,
    ("GET", "/api/v1/agencies/131016/insights"): EVERYONE,
    # Partners: the world's partner is approved and privately profiled; only the partner (no role here) edits,
    # withdraws or answers. Lists are open to everyone signed in but filtered (companies list nothing).
    ("POST", "/api/v1/partners"): SIGNED_IN,  # one's own profile; a 422 for the empty body
    ("GET", "/api/v1/partners"): SIGNED_IN,
    ("GET", "/api/v1/partners/{partner_id}"): AGENCIES | OPERATOR,
    ("PATCH", "/api/v1/partners/{partner_id}"): set(),
    ("POST", "/api/v1/partners/{partner_id}/transitions"): OPERATOR,
    ("POST", "/api/v1/challenges/{challenge_id}/panel/partners"): {"agency"},  # a 422: the partner does not review
    ("POST", "/api/v1/needs"): AGENCIES,
    ("GET", "/api/v1/needs"): SIGNED_IN,  # one's own agency's
    ("GET", "/api/v1/needs/{need_id}"): {"agency", "operator"},
    ("GET", "/api/v1/needs/{need_id}/matches"): {"agency", "operator"},
    ("POST", "/api/v1/needs/{need_id}/invitations"): {"agency"},
    ("PUT", "/api/v1/needs/{need_id}/shortlist"): {"agency"},
    ("GET", "/api/v1/invitations"): SIGNED_IN,
    ("POST", "/api/v1/invitations/{partner_invitation_id}/transitions"): set(),
    ("GET", "/api/v1/placements"): SIGNED_IN,
    ("GET", "/api/v1/placements/{placement_id}"): {"agency", "operator"},  # the world's partner has no role here
    ("POST", "/api/v1/placements/{placement_id}/transitions"): {"agency"},
    ("PUT", "/api/v1/placements/{placement_id}/survey"): {"agency"},  # a 409 once allowed: not due yet
    ("GET", "/placements/{placement_id}"): {"agency", "operator"},
    ("POST", "/placements/{placement_id}/transitions"): {"agency"},
    ("POST", "/placements/{placement_id}/survey"): {"agency"},
    ("GET", "/partners"): SIGNED_IN,
    ("GET", "/partners/register"): SIGNED_IN,
    ("POST", "/partners/register"): SIGNED_IN,
    ("GET", "/partners/me"): SIGNED_IN,
    ("POST", "/partners/me"): SIGNED_IN,
    ("POST", "/partners/me/withdraw"): set(),
    ("GET", "/partners/vetting"): OPERATOR,
    ("GET", "/partners/{partner_id}"): AGENCIES | OPERATOR,
    ("POST", "/partners/{partner_id}/transitions"): OPERATOR,
    ("POST", "/partners/invitations/{partner_invitation_id}/transitions"): set(),
    ("GET", "/needs"): AGENCIES | OPERATOR,
    ("POST", "/needs"): AGENCIES,
    ("GET", "/needs/{need_id}"): {"agency", "operator"},
    ("POST", "/needs/{need_id}/invitations"): {"agency"},
    ("POST", "/needs/{need_id}/shortlist"): {"agency"},
    # Pilots: the world's pilot runs (public), the world company runs it, the world agency owns it.
    ("GET", "/api/v1/pilot-kpi-templates"): EVERYONE,
    ("POST", "/api/v1/pilots"): {"agency"},  # a 409 once allowed: the proposal has its pilot
    ("GET", "/api/v1/pilots"): EVERYONE,
    ("GET", "/api/v1/pilots/{pilot_id}"): EVERYONE,
    ("PATCH", "/api/v1/pilots/{pilot_id}"): {"agency"},  # a 409 once allowed: it runs
    ("POST", "/api/v1/pilots/{pilot_id}/transitions"): {"agency"},
    ("PUT", "/api/v1/pilots/{pilot_id}/kpis"): {"agency"},  # a 409 once allowed
    ("POST", "/api/v1/pilots/{pilot_id}/kpis/{kpi_id}/measurements"): {"company", "agency"},
    ("GET", "/api/v1/pilots/{pilot_id}/kpis/{kpi_id}/measurements"): EVERYONE,  # verified ones, unless internals
    ("GET", "/api/v1/pilots/{pilot_id}/kpis/{kpi_id}/values.csv"): EVERYONE,
    ("POST", "/api/v1/pilots/{pilot_id}/measurements.csv"): {"company", "agency"},
    ("POST", "/api/v1/measurements/{measurement_id}/transitions"): {"agency"},  # unverified: others see nothing
    ("GET", "/api/v1/pilots/{pilot_id}/milestones"): EVERYONE,
    ("POST", "/api/v1/pilots/{pilot_id}/milestones"): {"agency"},
    ("POST", "/api/v1/milestones/{milestone_id}/transitions"): {"company", "agency"},
    ("POST", "/api/v1/milestones/{milestone_id}/evidence"): {"company"},  # a 422 once allowed: no file sent
    ("POST", "/api/v1/pilots/{pilot_id}/feedback"): EVERYONE,  # residents, without an account
    ("GET", "/api/v1/pilots/{pilot_id}/comments"): EVERYONE,  # published ones, unless internals
    ("PATCH", "/api/v1/pilots/{pilot_id}/comments/{feedback_id}"): {"agency"},
    ("PUT", "/api/v1/pilots/{pilot_id}/survey"): {"company"},  # a 409 until the pilot ends
    ("GET", "/api/v1/pilots/{pilot_id}/evaluation"): {"agency", "operator"},
    ("PUT", "/api/v1/pilots/{pilot_id}/panel"): {"agency"},
    ("PUT", "/api/v1/pilots/{pilot_id}/rubric"): {"agency"},
    ("GET", "/api/v1/pilots/{pilot_id}/ranking"): {"agency", "operator"},
    ("GET", "/api/v1/pilots/{pilot_id}/evaluation/feedback"): {"agency", "operator", "company"},  # company: a 409 until decided
    ("GET", "/pilots"): EVERYONE,
    ("POST", "/pilots"): {"agency"},
    ("GET", "/pilots/{pilot_id}"): EVERYONE,
    ("POST", "/pilots/{pilot_id}/transitions"): {"agency"},
    ("POST", "/pilots/{pilot_id}/kpis/{kpi_id}/measurements"): {"company", "agency"},
    ("POST", "/pilots/{pilot_id}/measurements.csv"): {"company", "agency"},
    ("POST", "/measurements/{measurement_id}/transitions"): {"agency"},
    ("POST", "/pilots/{pilot_id}/milestones"): {"agency"},
    ("POST", "/milestones/{milestone_id}/transitions"): {"company", "agency"},
    ("GET", "/milestones/{milestone_id}/evidence"): {"company", "agency", "operator"},  # with the evidence: not public
    ("POST", "/pilots/{pilot_id}/comments/{feedback_id}/publish"): {"agency"},
    ("POST", "/pilots/{pilot_id}/survey"): {"company"},
    ("GET", "/pilots/{pilot_id}/kpis/{kpi_id}/chart.svg"): EVERYONE,
    ("GET", "/pilots/{pilot_id}/kpis/{kpi_id}/values.csv"): EVERYONE,
    ("GET", "/pilots/{pilot_id}/satisfaction.svg"): EVERYONE,
    ("GET", "/pilots/{pilot_id}/qr.svg"): EVERYONE,
    ("GET", "/pilots/{pilot_id}/evaluation"): {"agency", "operator"},
    ("POST", "/pilots/{pilot_id}/panel"): {"agency"},
    ("POST", "/pilots/{pilot_id}/rubric"): {"agency"},  # a 400 once allowed: no weights sent
    ("GET", "/pilots/{pilot_id}/evaluation/feedback"): {"agency", "operator", "company"},  # company: a 409 until decided
    ("GET", "/p/{pilot_code}"): EVERYONE,
    ("POST", "/p/{pilot_code}"): EVERYONE,
    # Joint procurement: the world agency leads an open round it joined; a contracted round is public.
    ("POST", "/api/v1/procurements"): AGENCIES,
    ("GET", "/api/v1/procurements"): EVERYONE,  # the public sees contracted rounds only
    ("GET", "/api/v1/procurements/{procurement_id}"): {"agency", "other_agency", "operator"},  # open: agencies
    ("POST", "/api/v1/procurements/{procurement_id}/members"): AGENCIES,
    ("POST", "/api/v1/procurements/{procurement_id}/transitions"): {"agency"},  # the lead
    ("GET", "/api/v1/procurements/{procurement_contracted_id}/ocds"): EVERYONE,
    ("GET", "/api/v1/agencies/131016/savings"): EVERYONE,
    ("GET", "/procurements"): EVERYONE,
    ("POST", "/procurements"): AGENCIES,
    ("GET", "/procurements/{procurement_id}"): {"agency", "other_agency", "operator"},
    ("POST", "/procurements/{procurement_id}/members"): AGENCIES,
    ("POST", "/procurements/{procurement_id}/transitions"): {"agency"},
    ("GET", "/agencies/131016/savings"): EVERYONE,
    ("GET", "/feeds/procurements.atom"): EVERYONE,
    # Solutions: the world's solution is published, the world agency's and company's; other_agency adopted it.
    ("GET", "/api/v1/solutions"): EVERYONE,
    ("GET", "/api/v1/solutions/{solution_id}"): EVERYONE,
    ("POST", "/api/v1/pilots/{pilot_id}/solution"): {"agency"},  # a 409 once allowed: the pilot runs
    ("PATCH", "/api/v1/solutions/{solution_id}"): {"agency"},  # a 409 once allowed: published
    ("POST", "/api/v1/solutions/{solution_id}/transitions"): {"agency", "operator"},  # a 409 once allowed
    ("POST", "/api/v1/solutions/{solution_id}/corrections"): {"company"},
    ("POST", "/api/v1/solution-corrections/{correction_id}/transitions"): {"agency"},
    ("POST", "/api/v1/solutions/{solution_id}/adoptions"): {"other_agency"},  # a 409 once allowed: stated already
    ("POST", "/api/v1/adoptions/{adoption_id}/transitions"): {"other_agency"},  # operators only re-confirm live ones
    ("GET", "/api/v1/agencies/131024/adoptions"): EVERYONE,
    ("GET", "/solutions"): EVERYONE,
    ("GET", "/solutions/{solution_id}"): EVERYONE,
    ("POST", "/solutions/{solution_id}/edit"): {"agency"},  # a 409 once allowed: published
    ("POST", "/solutions/{solution_id}/transitions"): {"agency", "operator"},  # a 409 once allowed
    ("POST", "/solutions/{solution_id}/corrections"): {"company"},
    ("POST", "/solution-corrections/{correction_id}/transitions"): {"agency"},
    ("GET", "/solutions/{solution_id}/adopt"): SIGNED_IN,  # the page says who may adopt
    ("POST", "/solutions/{solution_id}/adoptions"): {"other_agency"},  # a 409 once allowed: stated already
    ("POST", "/adoptions/{adoption_id}/transitions"): {"other_agency"},
    ("POST", "/pilots/{pilot_id}/solution"): {"agency"},  # a 409 once allowed: the pilot runs
    ("GET", "/agencies/131024/adoptions"): EVERYONE,
    ("GET", "/feeds/solutions.atom"): EVERYONE,
}

# Route path -> the template used in MATRIX (where Starlette's converters differ from our placeholders).
PATH_ALIASES = {
    "/account/tokens/{token_id:int}/revoke": "/account/tokens/{token_id}/revoke",
    "/login/link/{token}": "/login/link/not-a-real-link",
    "/password/reset/{token}": "/password/reset/not-a-real-link",
    "/challenges/{challenge_id:int}/confirm/{to:str}": "/challenges/{challenge_id}/confirm/cancelled",
    "/proposals/{proposal_id:int}/confirm/{to:str}": "/proposals/{proposal_id}/confirm/withdrawn",
    "/admin/organisations/{org_id:int}/{decision:str}": "/admin/organisations/{pending_org_id}/{decision}",
    "/admin/people/{user_id:int}/access": "/admin/people/{throwaway_user_id}/access",
    "/organisations/{org_id:int}": "/organisations/{company_org_id}",
    "/organisations/{org_id:int}/profile": "/organisations/{company_org_id}/profile",
    "/organisations/{org_id:int}/invitations": "/organisations/{company_org_id}/invitations",
    "/organisations/{org_id:int}/invitations/{invitation_id:int}/revoke":
        "/organisations/{company_org_id}/invitations/{invitation_id}/revoke",
    "/organisations/{org_id:int}/members/{membership_id:int}/role":
        "/organisations/{company_org_id}/members/{membership_id}/role",
    "/organisations/{org_id:int}/members/{membership_id:int}/remove":
        "/organisations/{company_org_id}/members/{membership_id}/remove",
    "/invitations/{token}": "/invitations/{invitation_token}",
    "/invitations/{token}/accept": "/invitations/{invitation_token}/accept",
    "/api/v1/organisations/{id:int}": "/api/v1/organisations/{company_org_id}",
    "/api/v1/organisations/{id:int}/members": "/api/v1/organisations/{company_org_id}/members",
    "/api/v1/organisations/{id:int}/invitations": "/api/v1/organisations/{company_org_id}/invitations",
    "/agencies/{org_id:int}": "/agencies/{agency_org_id}",
    "/data/{dataset}.csv": "/data/challenges.csv",
    "/data/{dataset}.json": "/data/challenges.json",
    "/api/3/action/{action}": "/api/3/action/package_list",
    "/api/action/{action}": "/api/action/package_search",
    "/insights/{figure}.csv": "/insights/per_month.csv",
    "/agencies/{code}/insights": "/agencies/131016/insights",
    "/agencies/{code}/insights/{figure}.csv": "/agencies/131016/insights/per_month.csv",
    "/api/v1/agencies/{code}/insights": "/api/v1/agencies/131016/insights",
    "/api/v1/invitations/{invitation_id:int}/transitions": "/api/v1/invitations/{partner_invitation_id}/transitions",
    "/partners/invitations/{invitation_id:int}/transitions": "/partners/invitations/{partner_invitation_id}/transitions",
    "/p/{code:str}": "/p/{pilot_code}",
    "/api/v1/procurements/{round_id:int}": "/api/v1/procurements/{procurement_id}",
    "/api/v1/procurements/{round_id:int}/members": "/api/v1/procurements/{procurement_id}/members",
    "/api/v1/procurements/{round_id:int}/transitions": "/api/v1/procurements/{procurement_id}/transitions",
    "/api/v1/procurements/{round_id:int}/ocds": "/api/v1/procurements/{procurement_contracted_id}/ocds",
    "/api/v1/agencies/{code}/savings": "/api/v1/agencies/131016/savings",
    "/procurements/{round_id:int}": "/procurements/{procurement_id}",
    "/procurements/{round_id:int}/members": "/procurements/{procurement_id}/members",
    "/procurements/{round_id:int}/transitions": "/procurements/{procurement_id}/transitions",
    "/agencies/{code}/savings": "/agencies/131016/savings",
    "/api/v1/agencies/{code}/adoptions": "/api/v1/agencies/131024/adoptions",
    "/agencies/{code}/adoptions": "/agencies/131024/adoptions",
}


CONVERTER = re.compile(r":\w+\}")  # "{challenge_id:int}" -> "{challenge_id}"

# Bodies sent with unsafe requests (JSON to the API, a form to pages), so that an allowed role gets
# past input validation to the access check; other unsafe requests send an empty form.
BODIES: dict[tuple[str, str], dict] = {
    ("POST", "/api/v1/challenges"): {"title": {"ja": "行列の課題"}},
    ("PATCH", "/api/v1/challenges/{challenge_id}"): {"budget_max_yen": 4_000_000},
    ("POST", "/api/v1/challenges/{challenge_id}/transitions"): {"to": "closed"},
    ("POST", "/challenges/{challenge_id}/transitions"): {"to": "closed"},
    ("POST", "/api/v1/organisations/{company_org_id}/invitations"): {"email": "matrix-invitee@example.jp", "role": "member"},
    ("POST", "/api/v1/challenges/{challenge_id}/questions"): {"body": "行列の質問"},
    ("POST", "/api/v1/questions/{question_id}/answer"): {"answer": "行列の回答"},
    ("POST", "/api/v1/challenges/{challenge_id}/interest"): {"note": "うちも"},
    ("POST", "/api/v1/challenges/{challenge_id}/co-owners"): {"organisation_id": 999_999_999},  # a 422 once allowed
    ("POST", "/api/v1/follows"): {"saved_query": {"q": "行列"}},
    ("POST", "/challenges/{challenge_id}/proposals/new"): {"title": "行列の提案"},
    ("POST", "/proposals/{proposal_id}/edit"): {"title": "行列の改訂"},
    ("POST", "/proposals/{proposal_id}/transitions"): {"to": "under_review"},  # a 409 once allowed
    ("POST", "/api/v1/challenges/{challenge_id}/proposals"): {"title": "行列の提案"},
    ("PATCH", "/api/v1/proposals/{proposal_id}"): {"title": "行列の改訂"},
    ("POST", "/api/v1/proposals/{proposal_id}/transitions"): {"to": "under_review"},  # a 409 once allowed
    ("PUT", "/api/v1/assignments/{assignment_id}/review"): {"strengths": "行列の長所"},
    ("POST", "/api/v1/assignments/{assignment_id}/transitions"): {"to": "submitted"},
    ("POST", "/api/v1/conflicts"): {"kind": "other", "organisation_id": 999_999_999},  # a 422 once allowed
    ("PUT", "/api/v1/challenges/{challenge_id}/panel"): {"reviewers": [], "reviews_per_proposal": 3},
    ("PUT", "/api/v1/challenges/{challenge_id}/rubric"): {"rubric": [
        {"key": "advice", "kind": "text", "label": {"ja": "助言", "en": "Advice"}}]},
    ("POST", "/challenges/{challenge_id}/rubric"): {"rubric": "[]"},
    ("POST", "/api/v1/challenges/{challenge_id}/assignments"): {"proposal_id": 1, "reviewer_id": 1},  # a 409 once allowed
    ("POST", "/reviews/conflicts"): {"kind": "other", "organisation": "999999"},
    ("POST", "/reviews/{assignment_id}"): {"strengths": "行列の長所"},
    ("POST", "/assignments/{assignment_id}/transitions"): {"to": "submitted"},
    ("POST", "/api/v1/partners/{partner_id}/transitions"): {"to": "suspended", "reason": "行列"},
    ("POST", "/partners/{partner_id}/transitions"): {"to": "suspended", "reason": "行列"},
    ("POST", "/api/v1/challenges/{challenge_id}/panel/partners"): {"partner_id": 999_999_999},  # a 422 once allowed
    ("POST", "/api/v1/needs"): {"role": "data-scientist"},  # a 422 once allowed: no skills
    ("POST", "/api/v1/needs/{need_id}/invitations"): {"partner_id": 999_999_999},  # a 422 once allowed
    ("PUT", "/api/v1/needs/{need_id}/shortlist"): {"partner_ids": [999_999_999]},  # a 422 once allowed
    ("POST", "/needs/{need_id}/shortlist"): {"partner_id": "{partner_id}", "to": "add"},
    ("POST", "/api/v1/invitations/{partner_invitation_id}/transitions"): {"to": "accepted"},
    ("POST", "/partners/invitations/{partner_invitation_id}/transitions"): {"to": "accepted"},
    ("POST", "/api/v1/placements/{placement_id}/transitions"): {"to": "ended", "report": "行列"},
    ("POST", "/placements/{placement_id}/transitions"): {"to": "ended", "report": "行列"},
    ("PUT", "/api/v1/placements/{placement_id}/survey"): {"still_in_use": True, "knowhow_retained": 3,
                                                          "would_engage_again": True},
    ("POST", "/placements/{placement_id}/survey"): {"still_in_use": "yes", "knowhow_retained": "3",
                                                    "would_engage_again": "yes"},
    ("POST", "/api/v1/pilots"): {"proposal_id": "{pilot_proposal_id}"},
    ("PATCH", "/api/v1/pilots/{pilot_id}"): {"starts_on": "2026-01-01", "ends_on": "2026-12-31"},
    ("POST", "/api/v1/pilots/{pilot_id}/transitions"): {"to": "planned"},
    ("PUT", "/api/v1/pilots/{pilot_id}/kpis"): {"kpis": []},
    ("POST", "/api/v1/pilots/{pilot_id}/kpis/{kpi_id}/measurements"): {"value": 1, "measured_on": "2026-01-01"},
    ("POST", "/api/v1/measurements/{measurement_id}/transitions"): {"to": "recorded"},
    ("POST", "/api/v1/pilots/{pilot_id}/milestones"): {"title": "行列", "due_on": "{pilot_due_on}"},
    ("POST", "/api/v1/milestones/{milestone_id}/transitions"): {"to": "accepted"},
    ("POST", "/api/v1/pilots/{pilot_id}/feedback"): {"satisfaction": 3},
    ("PATCH", "/api/v1/pilots/{pilot_id}/comments/{feedback_id}"): {"published": True},
    ("PUT", "/api/v1/pilots/{pilot_id}/survey"): {"satisfaction": 3},
    ("PUT", "/api/v1/pilots/{pilot_id}/panel"): {"reviewers": []},
    ("PUT", "/api/v1/pilots/{pilot_id}/rubric"): {"rubric": [
        {"key": "overall", "kind": "score", "label": {"ja": "総合", "en": "Overall"}, "weight": 100}]},
    ("POST", "/pilots"): {"proposal_id": "{pilot_proposal_id}"},
    ("POST", "/pilots/{pilot_id}/transitions"): {"to": "planned"},
    ("POST", "/pilots/{pilot_id}/milestones"): {"title": "行列", "due_on": "{pilot_due_on}"},
    ("POST", "/milestones/{milestone_id}/transitions"): {"to": "accepted"},
    ("POST", "/p/{pilot_code}"): {"satisfaction": "3"},
    ("POST", "/api/v1/procurements"): {"solution_id": "{procurement_solution_id}", "item": {"ja": "行列"}, "unit": "seat",
                                       "closes_at": "2099-01-01T00:00:00+09:00"},
    ("POST", "/api/v1/procurements/{procurement_id}/members"): {"quantity": 1, "solo_estimate_yen": 100},
    ("POST", "/api/v1/procurements/{procurement_id}/transitions"): {"to": "closed"},
    ("POST", "/procurements"): {"solution_id": "{procurement_solution_id}", "item_ja": "行列", "unit": "seat",
                                "closes_at": "2099-01-01T17:00"},
    ("POST", "/procurements/{procurement_id}/members"): {"quantity": "1", "solo_estimate_yen": "100"},
    ("POST", "/procurements/{procurement_id}/transitions"): {"to": "closed"},
    ("POST", "/pilots/{pilot_id}/panel"): {"reviews_per_subject": "2"},
    ("PATCH", "/api/v1/solutions/{solution_id}"): {"contact": "行列"},
    ("POST", "/api/v1/solutions/{solution_id}/transitions"): {"to": "in_review"},
    ("POST", "/api/v1/solutions/{solution_id}/corrections"): {"changes": {"contact": "行列"}},
    ("POST", "/api/v1/solution-corrections/{correction_id}/transitions"): {"to": "rejected", "reason": "行列"},
    ("POST", "/api/v1/solutions/{solution_id}/adoptions"): {"status": "considering"},
    ("POST", "/api/v1/adoptions/{adoption_id}/transitions"): {"to": "contracted"},
    ("POST", "/solutions/{solution_id}/edit"): {"contact": "行列"},
    ("POST", "/solutions/{solution_id}/transitions"): {"to": "in_review"},
    ("POST", "/solutions/{solution_id}/corrections"): {"contact": "行列"},
    ("POST", "/solution-corrections/{correction_id}/transitions"): {"to": "rejected", "reason": "行列"},
    ("POST", "/solutions/{solution_id}/adoptions"): {"status": "considering"},
    ("POST", "/adoptions/{adoption_id}/transitions"): {"to": "contracted"},
}


@dataclass
class World:
    people: dict[str, User]
    ids: dict[str, object]


async def _company(number: str, name: str, status: str = "approved") -> Organisation:
    org, _ = await Organisation.get_or_create(
        corporate_number=number, defaults={"kind": "company", "status": status, "name_ja": name, "name_en": name}
    )
    return org


# Routes whose allowed request removes the object it acts on: each role gets a world of its own.
FRESH_WORLD = {
    ("POST", "/organisation/invitations/{invitation_id}/revoke"),
    ("POST", "/organisation/members/{membership_id}/remove"),
    ("POST", "/organisations/{company_org_id}/invitations/{invitation_id}/revoke"),
    ("POST", "/organisations/{company_org_id}/members/{membership_id}/remove"),
    ("POST", "/invitations/{invitation_token}/accept"),
    ("POST", "/challenges/{challenge_id}/attachments/{attachment_id}/delete"),
}


@pytest.fixture
async def world(people, settings) -> World:
    return await build_world(people, settings.attachments_dir)


async def build_world(people, attachments_dir=None) -> World:
    company = await _company("7010001000009", "行列株式会社")
    other_company = await _company("8010001000008", "別行列株式会社")
    agency = await Organisation.get(municipality_code="131016")
    other_agency = await Organisation.get(municipality_code="131024")
    pending = await Organisation.create(kind="company", status="pending", name_ja="保留", name_en="Pending")
    members = {
        "company": await people.make(org=company, role=Role.ADMIN),
        "other_company": await people.make(org=other_company, role=Role.ADMIN),
        "agency": await people.make(org=agency, role=Role.ADMIN),
        "other_agency": await people.make(org=other_agency, role=Role.ADMIN),
        "reviewer": await people.make(reviewer=True),
        "operator": await people.make(operator=True),
    }
    token, _raw = await create_api_token(members["company"])
    throwaway = await people.make()
    colleague = await people.make(org=company)
    membership = await Membership.get(user=colleague, organisation=company)
    company_admin = await actor_for(members["company"])
    invitation, invitation_token = await invite(company_admin, company, members["reviewer"].email, "member")
    challenge = await create_challenge(await actor_for(members["agency"]), ChallengeChanges(values={"title": {"ja": "行列"}}))
    await Challenge.filter(id=challenge.id).update(status="published", published_at=timezone.now())
    question = await Question.create(challenge=challenge, asker=members["company"], asker_organisation=company, body="行列の質問")
    follow = await Follow.create(user=members["company"], challenge=challenge)
    await CoOwner.create(challenge=challenge, organisation=other_agency)  # invited, not yet accepted
    attachment = await stored_attachment(challenge.id, attachments_dir)  # its bytes stored when a store is given
    ids = {
        "attachment_id": attachment.id,
        "token_id": token.id, "pending_org_id": pending.id, "decision": "reject", "throwaway_user_id": throwaway.id,
        "provider": "idp", "page": "accessibility", "challenge_id": challenge.id, "company_org_id": company.id, "membership_id": membership.id,
        "invitation_id": invitation.id, "invitation_token": invitation_token,
        "question_id": question.id, "follow_id": follow.id, "agency_org_id": agency.id,
        **(await permission_world(members, challenge)),
        **(await partner_world(members, people)),
    }
    ids["assignment_id"] = (await Assignment.get(reviewer=members["reviewer"])).id  # the world reviewer's
    ids |= await pilot_world(members, agency, company, attachments_dir)
    ids |= await procurement_matrix_world(agency, other_agency, company)
    ids |= await solution_world(agency, company, other_agency)
    return World(people=members, ids=ids)


def app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, PATH_ALIASES.get(route.path, CONVERTER.sub("}", route.path))))
    return found


def test_every_route_is_in_the_matrix(app):
    missing = app_routes(app) - set(MATRIX)
    assert not missing, f"add these routes to the permission matrix: {sorted(missing)}"
    stale = set(MATRIX) - app_routes(app)
    assert not stale, f"these matrix entries match no route: {sorted(stale)}"


def _refused(response: httpx2.Response) -> bool:
    if response.status_code in (401, 403, 404, 410):
        return True
    return response.status_code in (302, 303) and response.headers["location"].startswith("/login")


async def _request(app, role: str, world: World, method: str, path: str, body: dict) -> httpx2.Response:
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://testserver") as client:
        headers = {}
        user = world.people.get(role)
        if user is not None:
            if path.startswith("/api/"):
                headers["Authorization"] = "Bearer " + (await create_api_token(user))[1]
            else:
                client.cookies.set(SESSION_COOKIE, await open_session(user))
        if method == "GET":
            return await client.get(path, headers=headers)
        if path.startswith("/api/"):
            return await client.request(method, path, json=body, headers=headers)
        await client.get("/login")  # a page with a form sets the CSRF cookie
        form = {"csrftoken": client.cookies.get("csrftoken", ""), **body}
        return await client.request(method, path, data=form, headers=headers)


@pytest.mark.parametrize(("method", "template"), sorted(MATRIX))
async def test_each_role_is_allowed_or_refused(app, world, people, method, template):
    allowed = MATRIX[(method, template)]
    outcomes = {}
    for role in ROLES:
        if (method, template) in FRESH_WORLD:
            world = await build_world(people)
        path = template.format(**world.ids)
        body = {name: value.format(**world.ids) if isinstance(value, str) else value
                for name, value in BODIES.get((method, template), {}).items()}
        response = await _request(app, role, world, method, path, body)
        assert response.status_code < 500, f"{role} {method} {path} -> {response.status_code}"
        outcomes[role] = "refused" if _refused(response) else "allowed"
    expected = {role: "allowed" if role in allowed else "refused" for role in ROLES}
    assert outcomes == expected
