"""The names people read for states and actions, in their language: one place for every page and mail.

Each table maps a stored value to an English message id; the functions translate at the moment of use.
Templates get the functions as globals (server/templating.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache

from jinja2 import Environment, nodes

from models.core.errors import N_
from server.i18n import gettext as _
from server.settings import REPO_ROOT

CHALLENGE_STATUSES = {
    "draft": N_("Draft"),
    "in_review": N_("Waiting for approval"),
    "changes_requested": N_("Changes requested"),
    "scheduled": N_("Scheduled for publication"),
    "published": N_("Open for proposals"),
    "closed": N_("Closed, under review"),
    "decided": N_("Decided"),
    "cancelled": N_("Cancelled"),
}
CHALLENGE_ACTIONS = {
    "in_review": N_("Submit for approval"),
    "published": N_("Approve and publish"),
    "scheduled": N_("Approve for scheduled publication"),
    "changes_requested": N_("Request changes"),
    "cancelled": N_("Cancel the challenge"),
    "closed": N_("Close"),
    "decided": N_("Mark as decided"),
}
# What a visitor filters search results by (a closed challenge is "closed for proposals" to them).
SEARCH_STATUSES = {"published": N_("Open for proposals"), "closed": N_("Closed for proposals"), "decided": N_("Decided"),
                   "cancelled": N_("Cancelled")}

PROPOSAL_STATUSES = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "under_review": N_("Under review"),
    "shortlisted": N_("Shortlisted"),
    "not_selected": N_("Not selected"),
    "selected": N_("Selected"),
    "withdrawn": N_("Withdrawn"),
    "ineligible": N_("Ineligible"),
}
PROPOSAL_ACTIONS = {
    "submitted": N_("Submit the proposal"),
    "withdrawn": N_("Withdraw the proposal"),
    "ineligible": N_("Mark as ineligible"),
    "shortlisted": N_("Shortlist"),
    "selected": N_("Select"),
    "not_selected": N_("Do not select"),
    "under_review": N_("Undo the decision"),
}
DECISION_ACTIONS = {"shortlisted": N_("Shortlist"), "selected": N_("Select"), "not_selected": N_("Do not select"),
                    "ineligible": N_("Mark as ineligible")}  # an owner's moves on the ranking page
DECISION_RESULTS = {"selected": N_("Selected"), "not_selected": N_("Not selected"), "ineligible": N_("Ineligible"),
                    "shortlisted": N_("Shortlisted"), "under_review": N_("Under review")}

ASSIGNMENT_STATUSES = {"assigned": N_("To review"), "submitted": N_("Submitted"), "recused": N_("Withdrawn")}

ROLES = {"admin": N_("Administrator"), "member": N_("Member")}
ORGANISATION_KINDS = {"agency": N_("Public agency"), "company": N_("Company"), "operator": N_("Platform operator")}
ORGANISATION_STATUSES = {
    "pending": N_("Awaiting approval"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "suspended": N_("Suspended"),
}
INVITATION_STATES = {"pending": N_("Pending"), "expired": N_("Expired")}
COMPANY_SIZES = {
    "1-9": N_("1 to 9 people"),
    "10-49": N_("10 to 49 people"),
    "50-299": N_("50 to 299 people"),
    "300-999": N_("300 to 999 people"),
    "1000+": N_("1,000 people or more"),
}


def _name(table: Mapping[str, str], value: str) -> str:
    return _(table[value]) if value in table else value


def status_name(status: str) -> str:
    """A challenge's status."""
    return _name(CHALLENGE_STATUSES, status)


def action_name(target: str) -> str:
    """The button that moves a challenge to `target`."""
    return _name(CHALLENGE_ACTIONS, target)


def proposal_status_name(status: str) -> str:
    return _name(PROPOSAL_STATUSES, status)


def proposal_action_name(target: str) -> str:
    return _name(PROPOSAL_ACTIONS, target)


def decision_action_name(target: str) -> str:
    return _name(DECISION_ACTIONS, target)


def decision_name(status: str) -> str:
    """The outcome of a proposal, as the ranking and the feedback show it."""
    return _name(DECISION_RESULTS, status)


def assignment_status_name(status: str) -> str:
    return _name(ASSIGNMENT_STATUSES, status)


def role_name(role: str) -> str:
    return _name(ROLES, role)


def organisation_labels() -> dict[str, dict[str, str]]:
    """Every organisation label, translated (the organisation pages look them up by value)."""
    tables = {"role": ROLES, "kind": ORGANISATION_KINDS, "status": ORGANISATION_STATUSES,
              "invitation": INVITATION_STATES, "size": COMPANY_SIZES}
    return {name: {value: _(label) for value, label in table.items()} for name, table in tables.items()}


PILOT_STATUSES = {"planned": N_("Planned"), "running": N_("Running"), "paused": N_("Paused"),
                  "under_evaluation": N_("Under evaluation"), "adopted": N_("Adopted"), "extended": N_("Extended"),
                  "stopped": N_("Stopped")}
PILOT_ACTIONS = {"running": N_("Start running"), "paused": N_("Pause"), "under_evaluation": N_("End and evaluate"),
                 "adopted": N_("Adopt"), "extended": N_("Extend"), "stopped": N_("Stop")}
MEASUREMENT_LABELS = {"recorded": N_("Not yet verified"), "verified": N_("Verified"), "rejected": N_("Rejected"),
                      "verify": N_("Verify"), "reject": N_("Reject")}
MILESTONE_STATUSES = {"planned": N_("Planned"), "done": N_("Done, awaiting acceptance"), "accepted": N_("Accepted"),
                      "returned": N_("Returned")}
MILESTONE_ACTIONS = {"done": N_("Mark as done"), "accepted": N_("Accept"), "returned": N_("Return")}
_pilot_tables = {"status": PILOT_STATUSES, "action": PILOT_ACTIONS, "measurement": MEASUREMENT_LABELS,
                 "milestone": MILESTONE_STATUSES, "milestone_action": MILESTONE_ACTIONS}


def pilot_label(kind: str, value: str) -> str:
    """A pilot's, measurement's or milestone's state or action ("status", "action", "measurement", ...)."""
    return _name(_pilot_tables.get(kind, {}), value)


SOLUTION_STATUSES = {"draft": N_("Draft"), "in_review": N_("Waiting for approval"), "published": N_("Published"),
                     "withdrawn": N_("Withdrawn")}
SOLUTION_ACTIONS = {"in_review": N_("Submit for approval"), "published": N_("Approve and publish"),
                    "draft": N_("Return to draft"), "withdrawn": N_("Withdraw")}
ADOPTION_STATUSES = {"considering": N_("Considering"), "contracted": N_("Contracted"), "live": N_("In use"),
                     "dropped": N_("Dropped")}
ADOPTION_ACTIONS = {"considering": N_("Consider again"), "contracted": N_("Mark as contracted"),
                    "live": N_("Mark as in use"), "dropped": N_("Drop"), "confirmed": N_("Re-confirm as still in use")}
CORRECTION_STATUSES = {"proposed": N_("Proposed"), "accepted": N_("Accepted"), "rejected": N_("Rejected")}
SOLUTION_FACETS = {"category": N_("Category"), "municipality_type": N_("Type of municipality"),
                   "adoption": N_("Adopted by"), "has_savings": N_("Joint procurement savings")}
_solution_tables = {"status": SOLUTION_STATUSES, "action": SOLUTION_ACTIONS, "adoption": ADOPTION_STATUSES,
                    "adoption_action": ADOPTION_ACTIONS, "correction": CORRECTION_STATUSES, "facet": SOLUTION_FACETS}


def solution_label(kind: str, value: str) -> str:
    """A solution's, adoption's or correction's state or action, or a catalogue facet's name."""
    return _name(_solution_tables.get(kind, {}), value)


# Units an agency types for a KPI, in either language: shown in the reader's language ("60 min" is
# "60 分" on a Japanese page). A unit not listed is shown as typed.
_UNIT_SPELLINGS: dict[str, tuple[str, ...]] = {  # message id → the spellings it stands for
    N_("min"): ("min", "mins", "minute", "minutes", "分", "分間"),
    N_("hours"): ("h", "hr", "hrs", "hour", "hours", "時間"),
    N_("days"): ("d", "day", "days", "日", "日間"),
    N_("people"): ("people", "persons", "person", "人", "名"),
    N_("cases"): ("cases", "case", "件"),
    N_("yen"): ("yen", "jpy", "円"),
}
_UNIT_OF = {spelling: message for message, spellings in _UNIT_SPELLINGS.items() for spelling in spellings}


def unit_name(unit: str | None) -> str:
    """A KPI's unit in the reader's language, when it is a unit Kyoso knows."""
    text = (unit or "").strip()
    message = _UNIT_OF.get(text.lower())
    return _(message) if message else text


# --- a form's fields, by the name they post: the audit log names changed fields with them ----------------------

_LABELLED = re.compile(r'(?:for|id)="field-([a-z_]+)">\s*(?:<legend>)?\s*$')  # <label for="field-x">{{ _("X") }}


def _message_id(node: nodes.Node) -> str | None:
    """The message id of `_("…")`, if the node is that call."""
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name == "_" \
            and node.args and isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


@cache
def form_labels(template: str) -> dict[str, str]:
    """The labels of a form template's fields, as message ids by field name: a macro given the name and the label
    (`field("title", _("Title"), …)`, `text_pair(…)`), or a label written after `for="field-NAME">` or
    `id="field-NAME"><legend>`. The form's own wording, so that a page naming a field says what the form says."""
    parsed = Environment(extensions=["jinja2.ext.i18n"]).parse((REPO_ROOT / "templates" / template).read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for call in parsed.find_all(nodes.Call):
        if len(call.args) >= 2 and isinstance(call.args[0], nodes.Const) and isinstance(call.args[0].value, str):
            label = _message_id(call.args[1])
            if label is not None:
                found.setdefault(call.args[0].value, label)
    for output in parsed.find_all(nodes.Output):
        for before, node in zip(output.nodes, output.nodes[1:]):
            matched = _LABELLED.search(before.data) if isinstance(before, nodes.TemplateData) else None
            label = _message_id(node)
            if matched and label is not None:
                found.setdefault(matched.group(1), label)
    return found
