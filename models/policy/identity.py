"""Who may see and manage organisations and people, and what the site's navigation offers a person."""

from __future__ import annotations

from models.identity.orgs import Organisation, OrgKind, OrgStatus
from models.policy import Actor


def may_view_organisation(actor: Actor, organisation: Organisation) -> bool:
    """Approved organisations are public; others only to their members and operators."""
    return (
        organisation.status == OrgStatus.APPROVED
        or actor.is_operator
        or organisation.id in actor.organisation_ids()
    )


def may_see_members(actor: Actor, organisation: Organisation) -> bool:
    return actor.is_operator or organisation.id in actor.organisation_ids()


def may_manage_organisation(actor: Actor, organisation: Organisation) -> bool:
    """Edit the profile, invite, change roles, remove members: the organisation's admins and operators."""
    return actor.is_operator or actor.is_admin_of(organisation.id)


def may_invite(actor: Actor, organisation: Organisation) -> bool:
    """Invitations carry the organisation's name to strangers: only approved organisations send them."""
    return may_manage_organisation(actor, organisation) and organisation.status == OrgStatus.APPROVED


def may_rename_organisation(actor: Actor, organisation: Organisation) -> bool:
    """Only companies change their own name: agencies' names are reference data."""
    return may_manage_organisation(actor, organisation) and organisation.kind == OrgKind.COMPANY


def may_use_console(actor: Actor) -> bool:
    """The operator console: approve organisations, manage people, read and export the audit log."""
    return actor.is_operator


def navigation(actor: Actor) -> dict[str, bool]:
    """The links the site's header offers the person (each page still checks on its own)."""
    signed_in = actor.user is not None
    return {
        "proposals": signed_in,
        "our_challenges": bool(actor.organisation_ids(OrgKind.AGENCY)),
        "reviews": signed_in,
        "notifications": signed_in,
        "account": signed_in,
        "organisation": actor.organisation is not None,
        "console": may_use_console(actor),
    }
