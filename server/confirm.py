"""Confirmation pages for what cannot be undone (issue 10): a GET page of its own that says what will happen, with
a POST button; no JavaScript. The button posts to the same transition route the API's pages use, with `confirm=1`,
so that a refused form comes back to this page with its errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from models.core.errors import N_
from server.i18n import gettext as _
from server.templating import templates


@dataclass(frozen=True)
class Wording:
    heading: str  # a question: "Close this challenge?"
    consequences: tuple[str, ...]  # what will happen, one sentence each
    button: str
    danger: bool = False
    reason: bool = False  # a reason is asked for (and shown to the people concerned)
    publish_at: bool = False


# What each irreversible move of a challenge does (message ids).
CHALLENGE: dict[str, Wording] = {
    "published": Wording(
        N_("Approve and publish this challenge?"),
        (N_("Everyone can see it at once; companies can ask questions and send proposals."),
         N_("It cannot become a draft again: afterwards only its deadlines and criteria can be amended, and every company involved is told."),
         N_("The agency is notified by e-mail and in Kyoso.")),
        N_("Approve and publish")),
    "scheduled": Wording(
        N_("Approve this challenge and schedule its publication?"),
        (N_("It is published automatically at the time you choose; until then only the agency and operators see it."),
         N_("The agency is notified by e-mail and in Kyoso.")),
        N_("Approve for scheduled publication"), publish_at=True),
    "closed": Wording(
        N_("Close this challenge for proposals?"),
        (N_("No more proposals are accepted, and companies can no longer revise theirs."),
         N_("The submitted proposals go to review: reviewers are assigned and notified."),
         N_("This cannot be undone.")),
        N_("Close for proposals")),
    "decided": Wording(
        N_("Finalise the decisions and tell the companies?"),
        (N_("Every company is told the decision on its proposal, with the reviewers' feedback, by e-mail and in Kyoso."),
         N_("The selected proposals are published on the challenge page."),
         N_("The decisions cannot be changed afterwards.")),
        N_("Finalise and tell the companies")),
    "cancelled": Wording(
        N_("Cancel this challenge?"),
        (N_("Nobody can ask questions or send proposals any more; proposals already sent are not reviewed."),
         N_("Your reason is shown on the challenge page and to the companies involved."),
         N_("A cancelled challenge cannot be reopened.")),
        N_("Cancel the challenge"), danger=True, reason=True),
}

# What each irreversible move of a proposal does, for its company.
PROPOSAL: dict[str, Wording] = {
    "submitted": Wording(
        N_("Submit this proposal?"),
        (N_("The agency receives this version after the proposals deadline; you get a receipt on screen and by e-mail."),
         N_("Until the deadline you can still revise it and submit again; the last version submitted counts.")),
        N_("Submit the proposal")),
    "withdrawn": Wording(
        N_("Withdraw this proposal?"),
        (N_("The agency will not review it, and your company cannot send another proposal to this challenge."),
         N_("Your reason is shown to the agency."),
         N_("This cannot be undone.")),
        N_("Withdraw the proposal"), danger=True, reason=True),
}

# Submitting a review (issue 10): the reviewer is asked on a page of its own first.
REVIEW = Wording(
    N_("Submit this review?"),
    (N_("Your scores and comments are locked: you cannot change the review after submitting it. Only an owner of the challenge can reopen it."),
     N_("The owners of the challenge see your review beside the others; the company reads your comments only when the decisions are finalised."),
     N_("After submitting you can read the other reviewers' reviews of the same proposal.")),
    N_("Submit the review"))


@dataclass
class Confirmation:
    wording: Wording
    title: str | dict[str, str]  # what is acted on: a proposal's title, or a challenge's (by language)
    action: str  # where the button posts
    hidden: dict[str, str] = field(default_factory=dict)
    back: str = "/"


def confirmation_page(request: Request, confirmation: Confirmation, errors: dict[str, str] | None = None,
                      values: dict[str, str] | None = None, status: int = 200) -> Response:
    wording = confirmation.wording
    context = {
        "heading": _(wording.heading),
        "consequences": [_(sentence) for sentence in wording.consequences],
        "button": _(wording.button),
        "wording": wording,
        "confirmation": confirmation,
        "errors": errors or {},
        "values": values or {},
    }
    return templates.TemplateResponse(request, "confirm.html", context, status_code=status)
