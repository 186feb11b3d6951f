"""The audit log in sentences (issue 10): "Published the challenge 12." rather than `challenge.published` and
JSON. The event's code is built from what was acted on and what happened; each part has a name here. An event
this table does not know still reads as a sentence, naming its code."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import suppress
from datetime import date, datetime
from typing import Any

from models.core.errors import N_
from server import labels
from server.i18n import TOKYO, format_datetime
from server.i18n import gettext as _

ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)")  # with its offset
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

# What was acted on: the part of the code before the dot.
OBJECTS = {
    "challenge": N_("the challenge"), "proposal": N_("the proposal"), "question": N_("the question"),
    "review": N_("the review"), "assignment": N_("the review assignment"), "review_round": N_("the review round"),
    "pilot": N_("the pilot"), "measurement": N_("the KPI measurement"), "milestone": N_("the milestone"),
    "solution": N_("the solution"), "adoption": N_("the adoption"), "procurement": N_("the joint procurement"),
    "partner": N_("the partner"), "partner_need": N_("the partner request"),
    "partner_placement": N_("the partner placement"), "partner_invitation": N_("the partner invitation"),
    "organisation": N_("the organisation"), "user": N_("the account"), "membership": N_("the membership"),
    "api_token": N_("the API token"), "conflict": N_("the conflict of interest"), "feedback": N_("the feedback"),
    "identity": N_("the outside account"), "sessions": N_("the sessions"), "sign_up": N_("the sign-up"),
    "sign_in_link": N_("the sign-in link"), "login": N_("the sign-in"),
}

# The form whose labels name the fields of events about an object (the part of the code before the dot).
FORMS = {"challenge": "challenges/form.html", "proposal": "proposals/form.html", "partner": "partners/_profile_form.html",
         "review_round": "reviews/panel.html", "procurement": "procurement/detail.html", "user": "account/account.html"}
# Fields of the log that no form shows, or that mean the same whatever the object.
FIELDS = {
    "fields": N_("Changed fields"), "status": N_("Status"), "reason": N_("Reason"), "profile": N_("Profile"),
    "available": N_("I am available for new engagements"), "public_profile": N_("Show a public profile"),
    "kpis": N_("KPIs"), "starts_on": N_("Starts on"), "ends_on": N_("Ends on"), "agency": N_("Agency"),
    "rubric": N_("Review form"), "reviews_per_subject": N_("Reviews per proposal"),
    "email": N_("E-mail address"), "role": N_("Role"), "active": N_("Active"), "reviewer": N_("Reviewer"),
    "operator": N_("Operator"), "via": N_("Signed up through"),
}
# Fields an object's events name differently from its form, or that no form of it shows.
OWN_FIELDS = {"api_token": {"name": N_("Token name"), "token": N_("Token number")}}
# The names of an object's states, for its "status" field.
STATUSES: dict[str, Callable[[str], str]] = {
    "challenge": labels.status_name, "proposal": labels.proposal_status_name,
    "assignment": labels.assignment_status_name, "pilot": lambda value: labels.pilot_label("status", value),
    "solution": lambda value: labels.solution_label("status", value),
    "adoption": lambda value: labels.solution_label("adoption", value),
}

# What happened: the part after the dot, as a sentence about %(object)s.
VERBS = {
    "created": N_("Created %(object)s."), "drafted": N_("Created %(object)s."),
    "updated": N_("Changed %(object)s."), "edited": N_("Changed %(object)s."), "saved": N_("Saved %(object)s."),
    "submitted": N_("Submitted %(object)s."), "in_review": N_("Sent %(object)s for approval."),
    "published": N_("Published %(object)s."), "scheduled": N_("Scheduled the publication of %(object)s."),
    "approved": N_("Approved %(object)s."), "rejected": N_("Rejected %(object)s."),
    "changes_requested": N_("Sent %(object)s back for changes."), "closed": N_("Closed %(object)s."),
    "decided": N_("Finalised the decisions of %(object)s."), "cancelled": N_("Cancelled %(object)s."),
    "amended": N_("Amended %(object)s."), "withdrawn": N_("Withdrew %(object)s."),
    "under_review": N_("Put %(object)s under review."), "shortlisted": N_("Shortlisted %(object)s."),
    "selected": N_("Selected %(object)s."), "not_selected": N_("Did not select %(object)s."),
    "ineligible": N_("Marked %(object)s ineligible."), "asked": N_("Asked %(object)s."),
    "answered": N_("Answered %(object)s."), "reopened": N_("Reopened %(object)s."),
    "recused": N_("Withdrew from %(object)s."), "removed": N_("Removed %(object)s."),
    "added": N_("Added %(object)s."), "assigned": N_("Assigned %(object)s."), "started": N_("Started %(object)s."),
    "signed_up": N_("Signed up %(object)s."),
    "password_changed": N_("Changed the password of %(object)s."),
    "password_reset": N_("Reset the password of %(object)s."), "access_changed": N_("Changed the access of %(object)s."),
    "profile_changed": N_("Changed the profile of %(object)s."), "role_changed": N_("Changed the role in %(object)s."),
    "revoked": N_("Revoked %(object)s."), "revoked_all": N_("Revoked every API token."),
    "ended_all": N_("Ended every session."), "declared": N_("Declared %(object)s."),
    "sent": N_("Sent %(object)s."), "used": N_("Used %(object)s."), "linked": N_("Linked %(object)s."),
    "recorded": N_("Recorded %(object)s."), "imported": N_("Imported %(object)s."),
    "opened": N_("Opened %(object)s."), "joined": N_("Joined %(object)s."), "contracted": N_("Contracted %(object)s."),
    "ended": N_("Ended %(object)s."), "registered": N_("Registered %(object)s."), "erased": N_("Erased %(object)s."),
    "accepted": N_("Accepted %(object)s."), "declined": N_("Declined %(object)s."),
    "confirmed": N_("Confirmed %(object)s."), "stated": N_("Stated %(object)s."), "adopted": N_("Adopted %(object)s."),
    "stale": N_("Marked %(object)s as not re-confirmed."), "verified": N_("Verified %(object)s."),
    "posted": N_("Posted %(object)s."), "suspended": N_("Suspended %(object)s."),
    "running": N_("Set %(object)s running."), "paused": N_("Paused %(object)s."),
    "under_evaluation": N_("Put %(object)s under evaluation."), "extended": N_("Extended %(object)s."),
    "stopped": N_("Stopped %(object)s."), "done": N_("Marked %(object)s done."),
    "returned": N_("Returned %(object)s for rework."), "considering": N_("Marked %(object)s as under consideration."),
    "live": N_("Marked %(object)s as in use."), "dropped": N_("Dropped %(object)s."),
    "corrected": N_("Corrected %(object)s."), "correction_proposed": N_("Proposed a correction to %(object)s."),
    "correction_accepted": N_("Accepted a correction to %(object)s."),
    "correction_rejected": N_("Rejected a correction to %(object)s."),
    "survey_answered": N_("Answered the survey about %(object)s."),
    "co_owner_invited": N_("Invited another agency to co-own %(object)s."),
    "co_owner_accepted": N_("Accepted co-ownership of %(object)s."),
    "interest_registered": N_("Registered interest in %(object)s."),
    "interest_updated": N_("Changed the interest in %(object)s."),
    "panel_partner_added": N_("Added a partner to the review panel of %(object)s."),
    "draft": N_("Set %(object)s back to draft."), "planned": N_("Set %(object)s back to planned."),
    "pending": N_("Set %(object)s back to awaiting approval."),
}
# Events whose whole code reads as one sentence, not as a verb about an object (these come first).
EVENTS = {
    "login.failed": N_("Failed to sign in."), "login.succeeded": N_("Signed in."),
    "csrf.failed": N_("Refused a form sent without a valid security token."),
    "audit.exported": N_("Exported the audit log."),
    "sign_up.existing_address": N_("Someone tried to sign up with an address that already has an account."),
}


def sentence(action: str, target_id: str = "") -> str:
    """One audit event as a sentence in the reader's language."""
    if action in EVENTS:
        return _(EVENTS[action])
    kind, _dot, verb = action.partition(".")
    thing = _(OBJECTS[kind]) if kind in OBJECTS else kind.replace("_", " ")
    if target_id:
        thing = _("%(object)s %(id)s", object=thing, id=target_id)
    if verb in VERBS:
        return _(VERBS[verb], object=thing)
    if verb.endswith("_changed"):
        return _("Changed %(object)s.", object=thing)
    return _("Recorded for %(object)s: %(event)s.", object=thing, event=verb.replace("_", " "))


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, str) and (moment := _stored_moment(value)) is not None:
        return moment
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "—" if value is None or value == "" else str(value)


def _stored_moment(text: str) -> str | None:
    """A moment or a day the event stored as ISO 8601 text, as the pages show one (Japan time, the reader's
    language); None for any other text."""
    if ISO_MOMENT.fullmatch(text):
        with suppress(ValueError):
            return format_datetime(datetime.fromisoformat(text))
    elif ISO_DAY.fullmatch(text):
        with suppress(ValueError):
            day = date.fromisoformat(text)
            return format_datetime(datetime(day.year, day.month, day.day, 12, tzinfo=TOKYO), style="date")
    return None


def field_label(kind: str, key: str) -> str:
    """A field of an event about a `kind` of object, by its label in the reader's language: the object's own names
    for its events' fields, the log's own fields, then the label the object's form gives it; else its name."""
    label = (OWN_FIELDS.get(kind, {}).get(key) or FIELDS.get(key)
             or (labels.form_labels(FORMS[kind]).get(key) if kind in FORMS else None))
    return _(label) if label else key


def _value(kind: str, key: str, value: Any) -> str:
    if key == "fields" and isinstance(value, list):  # the names of the fields an edit changed
        return _plain([field_label(kind, str(name)) for name in value])
    if key == "status" and kind in STATUSES and isinstance(value, str):
        return STATUSES[kind](value)
    return _plain(value)


def changes(before: dict | None, after: dict | None, action: str = "") -> list[str]:
    """What changed, one line per field, named as the object's form names it: "Status: Draft → Published"."""
    before, after = before or {}, after or {}
    kind = action.partition(".")[0]
    lines = []
    for key in list(dict.fromkeys([*before, *after])):
        name = field_label(kind, key)
        if key in before and key in after:
            lines.append(f"{name}: {_value(kind, key, before[key])} → {_value(kind, key, after[key])}")
        elif key in after:
            lines.append(f"{name}: {_value(kind, key, after[key])}")
        else:
            lines.append(_("%(field)s: %(value)s (removed)", field=name, value=_value(kind, key, before[key])))
    return lines
