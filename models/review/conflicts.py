"""Conflicts of interest between a person and a proposal: declared by the person or detected.

Every conflict is a hard exclusion. A conflicted reviewer is never assigned to the proposal (automatically
or by hand), and nobody conflicted with a proposal (reviewer, owner or operator) sees its reviews.

A conflict is detected, without anyone declaring it, when the person
- is a member of the proposing company (`same_organisation`),
- lists the company among their declared affiliations, `User.affiliations` (`affiliation`),
- has an e-mail address at the domain of one of the company's members (`email_domain`), unless the
  domain says nothing about an employer: free mail, or a domain that members of other organisations
  use too (a provider's, a shared office's, a demo's),
- belongs to, or is affiliated with, an organisation the company declared a conflict with in its
  proposal, `Proposal.declared_conflicts` (`declared_by_company`).

Detection is computed from the current data whenever it matters (assignment, reading reviews), so a
membership added yesterday counts today; the assignment job also stores what it found as `Conflict`
rows (`detected=True`), for the record and for the policy's queries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q

from models.core.errors import N_
from models.identity.accounts import Membership, User
from models.proposals.models import Proposal, ProposalVersion
from models.review.models import Conflict, ConflictKind

# Addresses anyone can get: sharing one of these domains says nothing about an employer.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.co.jp", "yahoo.com", "ymail.com", "outlook.com", "outlook.jp",
    "hotmail.com", "hotmail.co.jp", "live.com", "live.jp", "msn.com", "icloud.com", "me.com", "mac.com",
    "aol.com", "proton.me", "protonmail.com", "gmx.com", "mail.com", "zoho.com", "docomo.ne.jp",
    "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp", "ymobile.ne.jp", "nifty.com", "biglobe.ne.jp",
    "so-net.ne.jp", "ocn.ne.jp", "excite.co.jp", "infoseek.jp", "rakuten.jp",
})
CONFLICT_KINDS = tuple(kind.value for kind in ConflictKind)
KIND_NAMES = {
    ConflictKind.EMPLOYED_BY.value: N_("Employed by the organisation"),
    ConflictKind.ADVISED.value: N_("Advised the organisation"),
    ConflictKind.FINANCIAL_INTEREST.value: N_("Financial interest"),
    ConflictKind.FAMILY.value: N_("Family relationship"),
    ConflictKind.OTHER.value: N_("Other"),
}


class Reason(StrEnum):
    DECLARED = "declared"
    SAME_ORGANISATION = "same_organisation"
    AFFILIATION = "affiliation"
    EMAIL_DOMAIN = "email_domain"
    DECLARED_BY_COMPANY = "declared_by_company"


_DETECTED_KIND = {
    Reason.SAME_ORGANISATION: ConflictKind.EMPLOYED_BY,
    Reason.EMAIL_DOMAIN: ConflictKind.EMPLOYED_BY,
    Reason.AFFILIATION: ConflictKind.OTHER,
    Reason.DECLARED_BY_COMPANY: ConflictKind.OTHER,
}


@dataclass(frozen=True)
class Found:
    """A detected conflict of one person with one proposal. `organisation_id` is the organisation the
    company declared a conflict with (for `declared_by_company`), else the company itself."""

    user_id: int
    proposal_id: int
    organisation_id: int
    reason: Reason


def email_domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower() if "@" in address else ""


def is_free_mail(domain: str) -> bool:
    return any(domain == free or domain.endswith("." + free) for free in FREE_MAIL_DOMAINS)


async def _declared_by_companies(proposals: list[Proposal]) -> dict[int, set[int]]:
    """Organisations each company declared a conflict with: the working copy and every submitted version."""
    declared = {p.id: {int(i) for i in p.declared_conflicts or [] if isinstance(i, int)} for p in proposals}
    for version in await ProposalVersion.filter(proposal_id__in=list(declared)).only("proposal_id", "content"):
        declared[version.proposal_id] |= {int(i) for i in (version.content or {}).get("declared_conflicts") or []
                                          if isinstance(i, int)}
    return declared


async def _shared_domains(candidates: set[str]) -> set[str]:
    """The domains among `candidates` whose addresses belong to members of more than one organisation."""
    shared = set()
    for domain in sorted(candidates):
        organisations = await Membership.filter(user__email__iendswith="@" + domain).distinct().values_list(
            "organisation_id", flat=True)
        if len(set(organisations)) > 1:
            shared.add(domain)
    return shared


async def detect(users: Iterable[User], proposals: Iterable[Proposal]) -> set[Found]:
    """Every conflict the data shows between these people and these proposals (see the module docstring)."""
    users, proposals = list(users), list(proposals)
    if not users or not proposals:
        return set()
    user_ids = [u.id for u in users]
    organisations: dict[int, set[int]] = {u.id: set() for u in users}
    for user_id, organisation_id in await Membership.filter(user_id__in=user_ids).values_list("user_id", "organisation_id"):
        organisations[user_id].add(organisation_id)
    company_ids = {p.company_id for p in proposals}
    domains: dict[int, set[str]] = {company_id: set() for company_id in company_ids}
    for organisation_id, address in await Membership.filter(organisation_id__in=list(company_ids)).values_list(
        "organisation_id", "user__email"
    ):
        domain = email_domain(address)
        if domain and not is_free_mail(domain):
            domains[organisation_id].add(domain)
    wanted = {email_domain(u.email) for u in users} & set().union(*domains.values())
    for domain in await _shared_domains(wanted):
        for company_domains in domains.values():
            company_domains.discard(domain)
    declared = await _declared_by_companies(proposals)
    found: set[Found] = set()
    for user in users:
        own = organisations[user.id]
        affiliated = {int(i) for i in user.affiliations or [] if isinstance(i, int)}
        domain = email_domain(user.email)
        for proposal in proposals:
            company = proposal.company_id
            if company in own:
                found.add(Found(user.id, proposal.id, company, Reason.SAME_ORGANISATION))
            if company in affiliated:
                found.add(Found(user.id, proposal.id, company, Reason.AFFILIATION))
            if domain and not is_free_mail(domain) and domain in domains[company]:
                found.add(Found(user.id, proposal.id, company, Reason.EMAIL_DOMAIN))
            for organisation_id in sorted(declared[proposal.id] & (own | affiliated)):
                found.add(Found(user.id, proposal.id, organisation_id, Reason.DECLARED_BY_COMPANY))
    return found


async def stored_pairs(user_ids: Iterable[int], proposals: Iterable[Proposal]) -> set[tuple[int, int]]:
    """(user id, proposal id) for every stored conflict: with the proposal, or with its company."""
    user_ids, proposals = list(user_ids), list(proposals)
    if not user_ids or not proposals:
        return set()
    by_company: dict[int, list[int]] = {}
    for proposal in proposals:
        by_company.setdefault(proposal.company_id, []).append(proposal.id)
    proposal_ids = {p.id for p in proposals}
    pairs = set()
    rows = await Conflict.filter(
        Q(organisation_id__in=list(by_company)) | Q(proposal_id__in=list(proposal_ids)), reviewer_id__in=user_ids
    ).values_list("reviewer_id", "organisation_id", "proposal_id")
    for user_id, organisation_id, proposal_id in rows:
        if proposal_id is not None and proposal_id in proposal_ids:
            pairs.add((user_id, proposal_id))
        elif proposal_id is None:
            pairs.update((user_id, p) for p in by_company.get(organisation_id, []))
    return pairs


async def conflicted_pairs(users: Iterable[User], proposals: Iterable[Proposal]) -> set[tuple[int, int]]:
    """(user id, proposal id) for every conflict, stored or detected: the pairs that are never assigned."""
    users, proposals = list(users), list(proposals)
    detected = {(f.user_id, f.proposal_id) for f in await detect(users, proposals)}
    return detected | await stored_pairs([u.id for u in users], proposals)


async def is_conflicted(user: User | None, proposal: Proposal) -> bool:
    if user is None:
        return False
    return bool(await conflicted_pairs([user], [proposal]))


async def record_detected(found: Iterable[Found], using_db: Any = None) -> int:
    """Store detected conflicts not stored yet (idempotent); returns how many rows were written."""
    written = 0
    for item in sorted(found, key=lambda f: (f.user_id, f.proposal_id, f.reason, f.organisation_id)):
        per_proposal = item.reason == Reason.DECLARED_BY_COMPANY
        values: dict[str, Any] = {"reviewer_id": item.user_id, "detected": True, "note": _note(item)}
        if per_proposal:
            values["proposal_id"] = item.proposal_id
            query = Conflict.filter(**values, organisation_id__isnull=True)
        else:
            values["organisation_id"] = item.organisation_id
            query = Conflict.filter(**values, proposal_id__isnull=True)
        if await query.using_db(using_db).exists():
            continue
        await Conflict.create(kind=_DETECTED_KIND[item.reason].value, using_db=using_db, **values)
        written += 1
    return written


def _note(item: Found) -> str:
    if item.reason == Reason.DECLARED_BY_COMPANY:
        return f"{item.reason.value}:{item.organisation_id}"
    return item.reason.value


def reason_of(conflict: Conflict) -> str:
    """The `Reason` value of a stored conflict."""
    return conflict.note.split(":", 1)[0] if conflict.detected else Reason.DECLARED.value


async def conflicts_of(user: User) -> list[Conflict]:
    return await Conflict.filter(reviewer_id=user.id).order_by("-id").prefetch_related("organisation")
