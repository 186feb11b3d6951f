"""How companies join: sign-up with the first member (pending), then an operator approves or rejects."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import timezone
from tortoise.transactions import in_transaction

from models.core import audit
from models.core.errors import N_, InvalidTransition, NotAllowed, ValidationFailed
from models.core.identifiers import InvalidIdentifier, parse_corporate_number
from models.core.transitions import next_states
from models.identity.accounts import Membership, Role, User, hash_password
from models.identity.links import notify_sign_up_attempt, send_sign_in_link
from models.identity.orgs import Organisation, OrgKind, OrgStatus
from models.identity.people import password_problem
from models.policy import Actor
from models.policy.identity import may_use_console

# Who may move an organisation: operators approve or reject a pending company.
TRANSITIONS: dict[OrgStatus, dict[OrgStatus, str]] = {
    OrgStatus.PENDING: {OrgStatus.APPROVED: "operator", OrgStatus.REJECTED: "operator"},
}


@dataclass(frozen=True)
class CompanySignUp:
    company_name_ja: str
    company_name_en: str
    corporate_number: str
    person_name: str
    email: str
    password: str
    locale: str = "ja"


async def sign_up_company(form: CompanySignUp, *, next_path: str = "", client_address: str = "") -> User | None:
    """Create a pending company and its first member (its admin), all or nothing, and e-mail them a link
    that confirms the address and signs them in.

    When the address already has an account, nothing is created and its owner is told by e-mail instead
    (None is returned): the visitor sees the same answer either way, so sign-up reveals no addresses.
    """
    errors: dict[str, str] = {}
    try:
        number = parse_corporate_number(form.corporate_number)
    except InvalidIdentifier:
        errors["corporate_number"] = N_("Enter the 13-digit corporate number (法人番号) with its check digit.")
        number = ""
    email = form.email.strip().lower()
    if number and await Organisation.exists(corporate_number=number):
        errors["corporate_number"] = N_(
            "This company is already registered. Ask its administrator to invite you."
        )
    if problem := password_problem(form.password):
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    password_hash = hash_password(form.password)  # before the branch: both answers take as long
    existing = await User.get_or_none(email=email)
    if existing is not None:
        await notify_sign_up_attempt(existing, client_address=client_address)
        return None
    async with in_transaction():
        company = await Organisation.create(
            kind=OrgKind.COMPANY.value,
            status=OrgStatus.PENDING.value,
            corporate_number=number,
            name_ja=form.company_name_ja.strip(),
            name_en=form.company_name_en.strip(),
        )
        user = await User.create(
            email=email,
            name=form.person_name.strip(),
            password_hash=password_hash,
            locale=form.locale,
        )
        await Membership.create(user=user, organisation=company, role=Role.ADMIN.value)
        await audit.record(
            "organisation.signed_up",
            actor=user,
            organisation=company,
            target=company,
            after={"corporate_number": number, "name_ja": company.name_ja, "admin": email},
            client_address=client_address,
        )
        await send_sign_in_link(user, purpose="confirm_sign_up", next_path=next_path, client_address=client_address)
    return user


async def decide_organisation(actor: Actor, organisation: Organisation, approve: bool, reason: str = "") -> None:
    """An operator approves a pending company, or rejects it with a reason."""
    if not may_use_console(actor):
        raise NotAllowed("only operators approve organisations")
    if organisation.status != OrgStatus.PENDING:
        raise InvalidTransition("the organisation is not pending",
                                allowed=next_states(TRANSITIONS, OrgStatus(organisation.status), {"operator"}))
    before = organisation.status
    async with in_transaction():
        organisation.status = (OrgStatus.APPROVED if approve else OrgStatus.REJECTED).value
        organisation.approved_at = timezone.now() if approve else None
        await organisation.save(update_fields=["status", "approved_at"])
        await audit.record(
            "organisation.approved" if approve else "organisation.rejected",
            actor=actor.user,
            organisation=organisation,
            target=organisation,
            before={"status": before},
            after={"status": organisation.status, "reason": reason},
        )


async def pending_organisations() -> list[Organisation]:
    """Organisations waiting for an operator's decision, oldest first."""
    return await Organisation.filter(status=OrgStatus.PENDING.value).order_by("created_at")
