"""Managing an organisation: its profile, its members and the invitations that bring them in.

One function per transition. Each checks the policy, then the input, then changes the rows, writes the
audit event and queues any e-mail in one transaction. Error messages are English message ids that
server/ translates; the token of an invitation is shown once (in the mail) and stored only hashed.
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from tortoise import timezone
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.core import audit
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.core.mail import cancel_queued, queue_mail
from models.identity.accounts import Invitation, Membership, Role, User, hash_secret
from models.identity.orgs import Organisation
from models.policy import Actor, require_user
from models.policy.identity import may_invite, may_manage_organisation, may_rename_organisation

INVITATION_LIFETIME = timedelta(days=7)
ROLES = tuple(role.value for role in Role)
SIZES = ("1-9", "10-49", "50-299", "300-999", "1000+")
NAME_MAX, WEBSITE_MAX, DESCRIPTION_MAX = 200, 500, 4000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

# Message ids (translated by server/).
INVALID_EMAIL = N_("Enter a valid e-mail address.")
INVALID_ROLE = N_("Choose a role.")
ALREADY_MEMBER = N_("This person is already a member of the organisation.")
ALREADY_INVITED = N_("An invitation to this address is still pending. Revoke it first to send a new one.")
LAST_ADMIN = N_("An organisation must keep at least one admin.")
INVALID_WEBSITE = N_("Enter a web address starting with http:// or https://.")
INVALID_SIZE = N_("Choose a size from the list.")
NAME_REQUIRED = N_("Enter the company name in Japanese.")
TOO_LONG = N_("This text is too long.")


class InvitationRefused(InvalidTransition):
    """An invitation that cannot be accepted; `reason` is used, expired, wrong_account or already_member."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invitation cannot be accepted: {reason}", allowed=[])
        self.reason = reason
        if reason == "wrong_account":
            self.status = 403


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def invitation_state(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    return "expired" if invitation.expires_at <= timezone.now() else "pending"


async def find_invitation(token: str) -> Invitation:
    """The invitation behind a link (any state), with its organisation; NotFound when unknown or revoked."""
    invitation = await Invitation.get_or_none(token_hash=hash_secret(token)).prefetch_related("organisation")
    if invitation is None:
        raise NotFound("no such invitation")
    return invitation


async def members_of(organisation: Organisation) -> list[Membership]:
    """The organisation's members with their people, in the order they joined."""
    return await Membership.filter(organisation_id=organisation.id).prefetch_related("user").order_by("id")


async def members_page(organisation: Organisation, offset: int, limit: int) -> tuple[int, list[Membership]]:
    """One page of `members_of`, and how many members there are in all."""
    members = Membership.filter(organisation_id=organisation.id)
    return await members.count(), await members.prefetch_related("user").order_by("id").offset(offset).limit(limit)


async def open_invitations(organisation: Organisation) -> list[Invitation]:
    """Invitations not accepted yet (pending or expired), newest first, with who sent them."""
    return await (
        Invitation.filter(organisation_id=organisation.id, accepted_at=None)
        .prefetch_related("invited_by")
        .order_by("-created_at")
    )


async def find_member(organisation: Organisation, membership_id: int) -> Membership:
    membership = await Membership.get_or_none(id=membership_id, organisation_id=organisation.id)
    if membership is None:
        raise NotFound("no such member")
    return membership


async def find_organisation_invitation(organisation: Organisation, invitation_id: int) -> Invitation:
    invitation = await Invitation.get_or_none(id=invitation_id, organisation_id=organisation.id)
    if invitation is None:
        raise NotFound("no such invitation")
    return invitation


def _require_manager(actor: Actor, organisation: Organisation) -> User:
    user = require_user(actor)
    if not may_manage_organisation(actor, organisation):
        raise NotAllowed("only the organisation's admins and operators may manage it")
    return user


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed({"role": INVALID_ROLE})
    return role


async def invite(
    actor: Actor,
    organisation: Organisation,
    email: str,
    role: str,
    *,
    locale: str | None = None,
    client_address: str = "",
) -> tuple[Invitation, str]:
    """Invite someone by e-mail; returns the invitation and its raw token (which only the mail carries).

    The mail is written in the invitee's own language when they already have an account, else in
    `locale` (the inviter's choice), else Japanese.
    """
    inviter = _require_manager(actor, organisation)
    if not may_invite(actor, organisation):
        raise NotAllowed("Only approved organisations may invite people.")
    email = normalise_email(email)
    errors = {}
    if len(email) > 254 or not _EMAIL.match(email):
        errors["email"] = INVALID_EMAIL
    if role not in ROLES:
        errors["role"] = INVALID_ROLE
    if errors:
        raise ValidationFailed(errors)
    if await Membership.exists(organisation_id=organisation.id, user__email=email):
        raise ValidationFailed({"email": ALREADY_MEMBER})
    if await Invitation.exists(
        organisation_id=organisation.id, email=email, accepted_at=None, expires_at__gt=timezone.now()
    ):
        raise ValidationFailed({"email": ALREADY_INVITED})
    invitee = await User.get_or_none(email=email)
    mail_locale = invitee.locale if invitee else (locale or "ja")
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + INVITATION_LIFETIME
    async with in_transaction() as connection:
        invitation = await Invitation.create(
            organisation=organisation,
            email=email,
            role=role,
            token_hash=hash_secret(token),
            invited_by=inviter,
            expires_at=expires_at,
            using_db=connection,
        )
        await audit.record(
            "invitation.created",
            actor=inviter,
            organisation=organisation,
            target=invitation,
            after={"email": email, "role": role, "expires_at": expires_at.isoformat()},
            client_address=client_address,
            using_db=connection,
        )
        await queue_mail(
            "invitation",
            to=email,
            locale=mail_locale,
            context={
                "organisation_name": organisation.name(mail_locale),
                "inviter_name": inviter.name,
                "role": role,
                "expires_at": expires_at.isoformat(),
                "token": token,
            },
            key=f"invitation:{invitation.id}",
            secret=["token"],
            using_db=connection,
        )
    return invitation, token


async def acceptance_problem(invitation: Invitation, user: User | None) -> str | None:
    """Why `user` (or anyone, when None) cannot accept this invitation now; None when they can."""
    state = invitation_state(invitation)
    if state == "accepted":
        return "used"
    if state == "expired":
        return "expired"
    if user is None:
        return None
    if normalise_email(user.email) != invitation.email:
        return "wrong_account"
    if await Membership.exists(user_id=user.id, organisation_id=invitation.organisation_id):
        return "already_member"
    return None


async def accept(token: str, user: User, *, client_address: str = "") -> Membership:
    """The invited person joins with the invited role. The link works once, for 7 days, for the invited address."""
    invitation = await find_invitation(token)
    problem = await acceptance_problem(invitation, user)
    if problem:
        raise InvitationRefused(problem)
    organisation = invitation.organisation
    async with in_transaction() as connection:
        # The conditional update is what makes the link single-use, even when two tabs race.
        claimed = await Invitation.filter(id=invitation.id, accepted_at=None).using_db(connection).update(
            accepted_at=timezone.now()
        )
        if not claimed:
            raise InvitationRefused("used")
        membership = await Membership.create(
            user=user, organisation=organisation, role=invitation.role, using_db=connection
        )
        await audit.record(
            "invitation.accepted",
            actor=user,
            organisation=organisation,
            target=invitation,
            after={"user": user.id, "role": invitation.role},
            client_address=client_address,
            using_db=connection,
        )
        await audit.record(
            "membership.created",
            actor=user,
            organisation=organisation,
            target=membership,
            after={"user": user.id, "role": invitation.role, "invitation": invitation.id},
            client_address=client_address,
            using_db=connection,
        )
    return membership


async def revoke_invitation(actor: Actor, invitation: Invitation, *, client_address: str = "") -> None:
    """Withdraw an invitation not yet accepted: the link stops working and an unsent mail is not sent."""
    organisation = await Organisation.get(id=invitation.organisation_id)
    manager = _require_manager(actor, organisation)
    if invitation.accepted_at is not None:
        raise InvalidTransition("the invitation was accepted; remove the member instead", allowed=[])
    async with in_transaction() as connection:
        await audit.record(
            "invitation.revoked",
            actor=manager,
            organisation=organisation,
            target=invitation,
            before={"email": invitation.email, "role": invitation.role, "expires_at": invitation.expires_at.isoformat()},
            client_address=client_address,
            using_db=connection,
        )
        await cancel_queued(f"invitation:{invitation.id}", reason="invitation revoked", using_db=connection)
        await invitation.delete(using_db=connection)


async def _admins_left_besides(membership: Membership, connection: BaseDBAsyncClient) -> bool:
    # Locks the organisation's admin rows (PostgreSQL), so two admins demoting each other cannot both win.
    admins = (
        await Membership.filter(organisation_id=membership.organisation_id, role=Role.ADMIN.value)
        .select_for_update()
        .using_db(connection)
    )
    return any(admin.id != membership.id for admin in admins)


async def _locked(membership: Membership, connection: BaseDBAsyncClient) -> Membership:
    current = await Membership.filter(id=membership.id).select_for_update().using_db(connection).first()
    if current is None:
        raise NotFound("no such membership")
    return current


async def change_role(actor: Actor, membership: Membership, role: str, *, client_address: str = "") -> Membership:
    organisation = await Organisation.get(id=membership.organisation_id)
    manager = _require_manager(actor, organisation)
    _check_role(role)
    async with in_transaction() as connection:
        current = await _locked(membership, connection)
        if current.role == role:
            return current
        if current.role == Role.ADMIN and not await _admins_left_besides(current, connection):
            raise ValidationFailed({"role": LAST_ADMIN})
        before = current.role
        current.role = role
        await current.save(update_fields=["role", "updated_at"], using_db=connection)
        await audit.record(
            "membership.role_changed",
            actor=manager,
            organisation=organisation,
            target=current,
            before={"user": current.user_id, "role": before},
            after={"user": current.user_id, "role": role},
            client_address=client_address,
            using_db=connection,
        )
    return current


async def remove_member(actor: Actor, membership: Membership, *, client_address: str = "") -> None:
    organisation = await Organisation.get(id=membership.organisation_id)
    manager = _require_manager(actor, organisation)
    async with in_transaction() as connection:
        current = await _locked(membership, connection)
        if current.role == Role.ADMIN and not await _admins_left_besides(current, connection):
            raise ValidationFailed({"role": LAST_ADMIN})
        await audit.record(
            "membership.removed",
            actor=manager,
            organisation=organisation,
            target=current,
            before={"user": current.user_id, "role": current.role},
            client_address=client_address,
            using_db=connection,
        )
        await current.delete(using_db=connection)


async def update_profile(
    actor: Actor,
    organisation: Organisation,
    *,
    website: str,
    size: str,
    description: dict[str, str],
    name_ja: str | None = None,
    name_en: str | None = None,
    client_address: str = "",
) -> Organisation:
    """Edit the public profile. Only companies may rename themselves: agencies' names are reference data."""
    manager = _require_manager(actor, organisation)
    changes: dict[str, object] = {
        "website": website.strip(),
        "size": size.strip(),
        "description": {lang: text.strip() for lang, text in description.items() if lang in ("ja", "en") and text.strip()},
    }
    if name_ja is not None or name_en is not None:
        if not may_rename_organisation(actor, organisation):
            raise NotAllowed("only companies may change their name")
        changes["name_ja"] = (name_ja or "").strip()
        changes["name_en"] = (name_en or "").strip()
    _check_profile(changes)
    before = {name: getattr(organisation, name) for name in changes if getattr(organisation, name) != changes[name]}
    if not before:
        return organisation
    after = {name: changes[name] for name in before}
    async with in_transaction() as connection:
        for name, value in after.items():
            setattr(organisation, name, value)
        await organisation.save(update_fields=[*after, "updated_at"], using_db=connection)
        await audit.record(
            "organisation.updated",
            actor=manager,
            organisation=organisation,
            target=organisation,
            before=before,
            after=after,
            client_address=client_address,
            using_db=connection,
        )
    return organisation


def _check_profile(changes: dict[str, object]) -> None:
    errors: dict[str, str] = {}
    website = str(changes["website"])
    if website:
        parts = urlsplit(website)
        if len(website) > WEBSITE_MAX or parts.scheme not in ("http", "https") or not parts.netloc or " " in website:
            errors["website"] = INVALID_WEBSITE
    if changes["size"] and changes["size"] not in SIZES:
        errors["size"] = INVALID_SIZE
    description = changes["description"]
    assert isinstance(description, dict)
    for lang, text in description.items():
        if len(text) > DESCRIPTION_MAX:
            errors[f"description_{lang}"] = TOO_LONG
    if "name_ja" in changes:
        if not changes["name_ja"]:
            errors["name_ja"] = NAME_REQUIRED
        for name in ("name_ja", "name_en"):
            if len(str(changes[name])) > NAME_MAX:
                errors[name] = TOO_LONG
    if errors:
        raise ValidationFailed(errors)
