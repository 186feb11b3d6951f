"""The banner after an action (issue 10): a page action that redirects (POST, then 303, then GET) names what it did
with a key; the next page shows that banner once, as a status message, and the middleware clears it.

The key travels in a short-lived cookie rather than in the session row, so that it works for visitors too (a
password reset, a sign-up) and costs no write. It is only a key into MESSAGES: nothing a person typed goes into it,
and an unknown key shows nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse

from models.core.errors import N_
from server.i18n import gettext as _

FLASH_COOKIE = "kyoso_flash"
SEE_OTHER = 303

# key -> (what was done, what happens next or "")
MESSAGES: dict[str, tuple[str, str]] = {
    "challenge.created": (N_("The draft has been saved."),
                          N_("Only your agency sees it. When it is complete, submit it for approval from this page.")),
    "challenge.saved": (N_("Your changes have been saved."), N_("The draft stays visible to your agency only.")),
    "challenge.amended": (N_("The amendment has been published."),
                          N_("Everyone who asked a question, started a proposal or follows the challenge is notified.")),
    "challenge.in_review": (N_("The challenge has been submitted for approval."),
                            N_("An operator checks it. You are notified when it is approved or sent back with a reason.")),
    "challenge.published": (N_("The challenge has been approved and published."),
                            N_("Companies can now ask questions and send proposals. The agency has been notified.")),
    "challenge.scheduled": (N_("The challenge has been approved and scheduled."),
                            N_("It is published at the time set. The agency has been notified.")),
    "challenge.changes_requested": (N_("The challenge has been sent back to the agency."),
                                    N_("The agency has been notified with your reason and can submit it again.")),
    "challenge.draft": (N_("The challenge is a draft again."), N_("Edit it and submit it for approval when it is ready.")),
    "challenge.cancelled": (N_("The challenge has been cancelled."),
                            N_("It no longer accepts questions or proposals; the reason is shown on its page.")),
    "challenge.closed": (N_("The challenge has been closed."),
                         N_("No more proposals are accepted. The review starts: reviewers are assigned and notified.")),
    "challenge.decided": (N_("The decisions have been finalised."),
                          N_("Every company has been told the decision on its proposal and can read its feedback.")),
    "question.asked": (N_("Your question has been sent."),
                       N_("The owners answer it publicly on this page; your company's name is never shown.")),
    "question.answered": (N_("The answer has been published."), N_("Every company sees it on this page.")),
    "joint.interest": (N_("Your agency's interest has been registered."),
                       N_("The owners see that your agency has this problem too.")),
    "joint.invited": (N_("The invitation to co-own the challenge has been sent."),
                      N_("The agency becomes a co-owner when one of its members accepts.")),
    "joint.accepted": (N_("Your agency now co-owns this challenge."), ""),
    "follow.on": (N_("You follow this challenge."), N_("You are notified of its answers, amendments and result.")),
    "follow.off": (N_("You no longer follow this challenge."), ""),
    "proposal.saved": (N_("The draft has been saved."),
                       N_("Only your company sees it. Submit it before the proposals deadline.")),
    "proposal.submitted": (N_("Your proposal has been submitted."),
                           N_("This is your receipt. The agency reads the proposal after the deadline; until then you can still revise it.")),
    "proposal.withdrawn": (N_("The proposal has been withdrawn."), N_("The agency will not review it.")),
    "proposal.ineligible": (N_("The proposal has been marked ineligible."),
                            N_("The company is told, with your reason.")),
    "proposal.decision": (N_("The decision has been recorded as a draft."),
                          N_("Companies are told only when you finalise the decisions; until then you can change or undo it.")),
    "proposal.undone": (N_("The decision has been undone."), N_("The proposal is under review again.")),
    "attachment.added": (N_("The file has been attached."), ""),
    "attachment.removed": (N_("The file has been removed."), ""),
    "assignments.changed": (N_("The assignments have been changed."), N_("Reviewers see their assignments at once.")),
    "review.submitted": (N_("Your review has been submitted."),
                         N_("The challenge's owners see it in the ranking. Thank you.")),
    "password.reset_sent": (N_("Check your e-mail."),
                            N_("If an account uses that address, we have sent it a link to choose a new password. The link works once, for one hour.")),
    "password.changed": (N_("Your password has been changed."),
                         N_("You are signed in. Every other session of your account has been ended.")),
    "organisation.approved": (N_("The organisation has been approved."),
                              N_("Its members can now use every part of Kyoso.")),
    "organisation.rejected": (N_("The organisation has been rejected."), N_("Your reason is recorded with the decision.")),
    "access.changed": (N_("The person's access has been changed."), N_("It applies from their next page.")),
    "partner.registered": (N_("You are registered in Kyoso Partners."),
                           N_("An operator checks your profile before agencies can find you.")),
    "partner.saved": (N_("Your profile has been saved."), ""),
    "partner.withdrawn": (N_("Your consent has been withdrawn."), N_("Agencies can no longer find or invite you.")),
    "partner.vetted": (N_("The partner's state has been changed."), ""),
    "need.posted": (N_("The need has been posted."), N_("Matching partners are listed below; invite the ones you want.")),
    "need.invited": (N_("The invitation has been sent."), N_("The partner answers in Kyoso; you are notified.")),
    "invitation.answered": (N_("Your answer has been sent."), N_("The agency is notified.")),
    "notifications.read": (N_("Marked as read."), ""),
    "follows.changed": (N_("Your follows have been saved."), ""),
    "membership.profile": (N_("The profile has been saved."), ""),
    "membership.invited": (N_("The invitation has been created; the e-mail is on its way."), ""),
    "membership.revoked": (N_("The invitation has been revoked; its link no longer works."), ""),
    "membership.role": (N_("The role has been changed."), ""),
    "membership.removed": (N_("The member has been removed from the organisation."), ""),
    "membership.joined": (N_("Welcome! You are now a member of this organisation."), ""),
    "solution.saved": (N_("Your changes have been saved."), ""),
    "solution.correction_sent": (N_("Your correction has been sent to the solution's owners."), ""),
    "solution.adopted": (N_("Your agency's adoption has been recorded."),
                         N_("The company and the agencies that ran the pilot have been told.")),
    "pilot.survey": (N_("Thank you: your answers have been saved."), ""),
    "panel.saved": (N_("The panel has been saved."), ""),
    "rubric.saved": (N_("The review form has been saved."), ""),
    "account.saved": (N_("Your changes have been saved."), ""),
    "account.token_revoked": (N_("The API token has been revoked."), N_("Programs using it can no longer sign in with it.")),
    "review.saved": (N_("The draft has been saved."),
                     N_("Only you see it. Submit the review when every criterion is scored; it is locked after that.")),
}


@dataclass(frozen=True)
class Banner:
    title: str
    text: str


def redirect(url: str, key: str) -> RedirectResponse:
    """303 to `url`; the page there shows the banner named `key` once."""
    assert key in MESSAGES, key
    response = RedirectResponse(url, status_code=SEE_OTHER)
    response.set_cookie(FLASH_COOKIE, key, max_age=120, httponly=True, samesite="lax", path="/")
    return response


def banner(request: Request) -> Banner | None:
    """The banner this page shows, in the reader's language (templates call it once, in base.html)."""
    key = request.cookies.get(FLASH_COOKIE, "")
    found = MESSAGES.get(key)
    if found is None:
        return None
    title, text = found
    return Banner(title=_(title), text=_(text) if text else "")
