"""Creating people and putting them in organisations (the CLI and, later, sign-up and invitations)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from tortoise import timezone
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.core import audit
from models.core.errors import N_, NotAllowed, NotFound, ValidationFailed
from models.core.identifiers import identifier_kind, normalize_digits
from models.identity.accounts import (
    Membership,
    Role,
    Session,
    User,
    hash_password,
    revoke_all_api_tokens,
    verify_password,
)
from models.identity.orgs import Organisation, OrgKind, OrgStatus
from models.identity.sessions import end_all_sessions
from models.policy import Actor
from models.policy.identity import may_use_console
from models.seed.data import OPERATOR_ORG

PASSWORD_MIN, PASSWORD_MAX = 8, 128
COMMON_PASSWORDS_FILE = Path(__file__).parent.parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str) -> str | None:
    """Why a new password is refused (an English message id), or None when it is acceptable."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return N_("The password must be 8 to 128 characters long.")
    if password.lower() in common_passwords():
        return N_("This password is too common. Choose one that is harder to guess.")
    return None


def check_password(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise ValidationFailed({field: problem})


async def operator_organisation() -> Organisation:
    org, _ = await Organisation.get_or_create(
        kind=OrgKind.OPERATOR.value,
        defaults={"name_ja": OPERATOR_ORG[0], "name_en": OPERATOR_ORG[1], "status": OrgStatus.APPROVED.value},
    )
    return org


async def organisation_for_code(code: str, company_name: str | None) -> Organisation:
    """An agency by municipality code, or a company by corporate number (created, approved, if new)."""
    kind = identifier_kind(code)
    canonical = normalize_digits(code)
    if kind == "municipality":
        org = await Organisation.get_or_none(municipality_code=canonical)
        if org is None:
            raise NotFound(f"no agency with municipality code {canonical}; run `kyoso migrate` to seed them")
        return org
    if kind == "corporate":
        org = await Organisation.get_or_none(corporate_number=canonical)
        if org is None:
            if not company_name:
                raise ValidationFailed({"org_name": "A new company needs a name (--org-name)."})
            org = await Organisation.create(
                kind=OrgKind.COMPANY.value,
                status=OrgStatus.APPROVED.value,
                corporate_number=canonical,
                name_ja=company_name,
                name_en=company_name,
                approved_at=timezone.now(),
            )
        return org
    raise ValidationFailed(
        {"org": f"{code!r} is neither a municipality code (6 digits) nor a corporate number (13 digits)"}
    )


async def create_person(
    *,
    email: str,
    name: str,
    password: str,
    organisation: Organisation | None,
    role: Role = Role.MEMBER,
    reviewer: bool = False,
    operator: bool = False,
) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValidationFailed({"email": N_("Enter a valid e-mail address.")})
    if not name.strip():
        raise ValidationFailed({"name": N_("Enter a name.")})
    check_password(password)
    if await User.exists(email=email):
        raise ValidationFailed({"email": N_("A person with this e-mail address already exists.")})
    if operator and organisation is None:
        organisation = await operator_organisation()
    async with in_transaction():
        user = await User.create(
            email=email,
            name=name.strip(),
            password_hash=hash_password(password),
            is_reviewer=reviewer,
            is_operator=operator,
            email_verified=True,
        )
        await audit.record("user.created", target=user, after={"email": email, "reviewer": reviewer, "operator": operator})
        if organisation is not None:
            membership = await Membership.create(user=user, organisation=organisation, role=role.value)
            await audit.record(
                "membership.created",
                organisation=organisation,
                target=membership,
                after={"user": user.id, "role": role.value},
            )
    return user


async def change_password(
    user: User, current: str, new: str, *, current_session: Session | None = None, revoke_tokens: bool = False
) -> None:
    """A new password ends every session but `current_session` (whoever knew the old one is signed out),
    and revokes the person's API tokens too when they ask."""
    if not verify_password(user, current):
        raise ValidationFailed({"current_password": N_("The current password is not correct.")})
    check_password(new, field="new_password")
    user.password_hash = hash_password(new)
    async with in_transaction() as connection:
        await user.save(update_fields=["password_hash"], using_db=connection)
        ended = await end_all_sessions(user, keep=current_session, using_db=connection)
        revoked = await revoke_all_api_tokens(user, using_db=connection) if revoke_tokens else 0
        await audit.record("user.password_changed", actor=user, target=user,
                           after={"sessions_ended": ended, "tokens_revoked": revoked}, using_db=connection)


async def update_profile(user: User, *, name: str, locale: str, expertise: list[str]) -> None:
    if not name.strip():
        raise ValidationFailed({"name": N_("Enter a name.")})
    before = {"name": user.name, "locale": user.locale, "expertise": user.expertise}
    user.name, user.locale, user.expertise = name.strip(), locale, expertise
    async with in_transaction():
        await user.save(update_fields=["name", "locale", "expertise"])
        await audit.record("user.profile_changed", actor=user, target=user, before=before,
                           after={"name": user.name, "locale": locale, "expertise": expertise})


async def set_person_access(actor: Actor, person: User, *, active: bool, reviewer: bool, operator: bool) -> None:
    """An operator (de)activates a person or changes their platform roles; deactivation ends sessions."""
    if not may_use_console(actor):
        raise NotAllowed("only operators manage people")
    if actor.user is not None and person.id == actor.user.id and (not active or not operator):
        raise ValidationFailed({"person": N_("You cannot remove your own operator access.")})
    before = {"active": person.is_active, "reviewer": person.is_reviewer, "operator": person.is_operator}
    person.is_active, person.is_reviewer, person.is_operator = active, reviewer, operator
    async with in_transaction():
        await person.save(update_fields=["is_active", "is_reviewer", "is_operator"])
        if not active:  # and a person let back in later does not find their old tokens working again
            await end_all_sessions(person)
            await revoke_all_api_tokens(person)
        await audit.record("user.access_changed", actor=actor.user, target=person, before=before,
                           after={"active": active, "reviewer": reviewer, "operator": operator})


# --- the operator console -------------------------------------------------------------------------


async def platform_counts() -> dict[str, int]:
    """What the operator console counts: approved companies, agencies and active people."""
    return {
        "companies": await Organisation.filter(kind=OrgKind.COMPANY.value, status=OrgStatus.APPROVED.value).count(),
        "agencies": await Organisation.filter(kind=OrgKind.AGENCY.value).count(),
        "people": await User.filter(is_active=True).count(),
    }


async def search_people(text: str, limit: int = 200) -> list[User]:
    """People whose e-mail address or name contains `text` (everyone when blank), with their memberships."""
    found = User.all().order_by("email")
    if text:
        found = found.filter(Q(email__icontains=text) | Q(name__icontains=text))
    return await found.limit(limit).prefetch_related("memberships__organisation")


async def find_person(user_id: int) -> User:
    person = await User.get_or_none(id=user_id)
    if person is None:
        raise NotFound("no such person")
    return person
