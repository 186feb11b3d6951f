"""Creating people and putting them in organisations (the CLI and, later, sign-up and invitations)."""

from __future__ import annotations

from tortoise import timezone
from tortoise.transactions import in_transaction

from models import audit
from models.accounts import Membership, Role, User, hash_password
from models.errors import NotFound, ValidationFailed
from models.identifiers import identifier_kind, normalize_digits
from models.orgs import Organisation, OrgKind, OrgStatus
from models.seed_data import OPERATOR_ORG

PASSWORD_MIN, PASSWORD_MAX = 8, 128


def check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationFailed({"password": "The password must be 8 to 128 characters long."})


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
        raise ValidationFailed({"email": "Enter a valid e-mail address."})
    if not name.strip():
        raise ValidationFailed({"name": "Enter a name."})
    check_password(password)
    if await User.exists(email=email):
        raise ValidationFailed({"email": "A person with this e-mail address already exists."})
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
