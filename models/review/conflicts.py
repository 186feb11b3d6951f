"""Conflicts of interest between a person and a subject under review (a proposal; any kind registered in
`models.review.subjects`): declared by the person or detected, from the subject's company and the conflicts
its company declared.

Every conflict is a hard exclusion. A conflicted reviewer is never assigned to the subject (automatically
or by hand), and nobody conflicted with a subject (reviewer, owner or operator) sees its reviews.

A conflict is detected, without anyone declaring it, when the person
- is a member of the proposing company (`same_organisation`),
- lists the company among their declared affiliations, `User.affiliations`, or, as a partner of the talent
  pool, among the employers and clients on their profile (`models.partners.expertise`) (`affiliation`),
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
from models.partners.expertise import ReviewerProfile, reviewer_profiles
from models.proposals.models import Proposal
from models.review.models import Conflict, ConflictKind
from models.review.proposal_subjects import PROPOSAL, as_subjects
from models.review.subjects import Subject

# The recusal reason Kyoso writes on the assignments a declaration takes away (a message id). Such an assignment
# is hidden from its reviewer (models.policy.review), so that declaring reveals nothing about who submitted what.
CONFLICT_DECLARED = N_("Conflict of interest declared.")

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
    """A detected conflict of one person with one subject. `organisation_id` is the organisation the
    company declared a conflict with (for `declared_by_company`), else the company itself."""

    user_id: int
    subject_id: int
    organisation_id: int
    reason: Reason
    subject_kind: str = PROPOSAL

    @property
    def proposal_id(self) -> int:  # the proposal flow's name for it
        return self.subject_id


async def _subjects(items: Iterable[Subject | Proposal]) -> list[Subject]:
    """Subjects as given; proposals as subjects (with the conflicts their companies declared)."""
    items = list(items)
    proposals = [i for i in items if isinstance(i, Proposal)]
    converted = {s.id: s for s in await as_subjects(proposals, titles=False)} if proposals else {}
    return [converted[i.id] if isinstance(i, Proposal) else i for i in items]


def email_domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().lower() if "@" in address else ""


def is_free_mail(domain: str) -> bool:
    return any(domain == free or domain.endswith("." + free) for free in FREE_MAIL_DOMAINS)


async def _shared_domains(candidates: set[str]) -> set[str]:
    """The domains among `candidates` whose addresses belong to members of more than one organisation."""
    shared = set()
    for domain in sorted(candidates):
        organisations = await Membership.filter(user__email__iendswith="@" + domain).distinct().values_list(
            "organisation_id", flat=True)
        if len(set(organisations)) > 1:
            shared.add(domain)
    return shared


async def detect(users: Iterable[User], subjects: Iterable[Subject | Proposal],
                 partners: dict[int, ReviewerProfile] | None = None) -> set[Found]:
    """Every conflict the data shows between these people and these subjects (see the module docstring);
    `partners`: their partner profiles when the caller has read them already."""
    users, proposals = list(users), await _subjects(subjects)
    if not users or not proposals:
        return set()
    user_ids = [u.id for u in users]
    organisations: dict[int, set[int]] = {u.id: set() for u in users}
    for user_id, organisation_id in await Membership.filter(user_id__in=user_ids).values_list("user_id", "organisation_id"):
        organisations[user_id].add(organisation_id)
    company_ids = {p.company_id for p in proposals if p.company_id is not None}
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
    if partners is None:
        partners = await reviewer_profiles(user_ids)
    found: set[Found] = set()
    for user in users:
        own = organisations[user.id]
        affiliated = {int(i) for i in user.affiliations or [] if isinstance(i, int)}
        if user.id in partners:
            affiliated |= partners[user.id].affiliations
        domain = email_domain(user.email)
        for subject in proposals:
            company, kind = subject.company_id, subject.kind
            if company is not None:
                if company in own:
                    found.add(Found(user.id, subject.id, company, Reason.SAME_ORGANISATION, kind))
                if company in affiliated:
                    found.add(Found(user.id, subject.id, company, Reason.AFFILIATION, kind))
                if domain and not is_free_mail(domain) and domain in domains[company]:
                    found.add(Found(user.id, subject.id, company, Reason.EMAIL_DOMAIN, kind))
            for organisation_id in sorted(subject.declared_conflicts & (own | affiliated)):
                found.add(Found(user.id, subject.id, organisation_id, Reason.DECLARED_BY_COMPANY, kind))
    return found


async def stored_pairs(user_ids: Iterable[int], subjects: Iterable[Subject | Proposal]) -> set[tuple[int, int]]:
    """(user id, subject id) for every stored conflict: with the subject, or with its company. The subjects
    are of one kind."""
    user_ids = list(user_ids)
    given = [Subject(PROPOSAL, s.id, s.company_id, "") if isinstance(s, Proposal) else s for s in subjects]
    if not user_ids or not given:
        return set()
    kind = given[0].kind
    by_company: dict[int, list[int]] = {}
    for subject in given:
        if subject.company_id is not None:
            by_company.setdefault(subject.company_id, []).append(subject.id)
    subject_ids = {s.id for s in given}
    pairs = set()
    rows = await Conflict.filter(
        Q(organisation_id__in=list(by_company)) | Q(subject_kind=kind, subject_id__in=list(subject_ids)),
        reviewer_id__in=user_ids,
    ).values_list("reviewer_id", "organisation_id", "subject_kind", "subject_id")
    for user_id, organisation_id, subject_kind, subject_id in rows:
        if subject_id is not None:
            if subject_kind == kind and subject_id in subject_ids:
                pairs.add((user_id, subject_id))
        else:
            pairs.update((user_id, s) for s in by_company.get(organisation_id, []))
    return pairs


async def conflicted_pairs(users: Iterable[User], subjects: Iterable[Subject | Proposal]) -> set[tuple[int, int]]:
    """(user id, subject id) for every conflict, stored or detected: the pairs that are never assigned."""
    users, subjects = list(users), await _subjects(subjects)
    detected = {(f.user_id, f.subject_id) for f in await detect(users, subjects)}
    return detected | await stored_pairs([u.id for u in users], subjects)


async def is_conflicted(user: User | None, subject: Subject | Proposal) -> bool:
    if user is None:
        return False
    return bool(await conflicted_pairs([user], [subject]))


async def record_detected(found: Iterable[Found], using_db: Any = None) -> int:
    """Store detected conflicts not stored yet (idempotent); returns how many rows were written."""
    written = 0
    for item in sorted(found, key=lambda f: (f.subject_kind, f.user_id, f.subject_id, f.reason, f.organisation_id)):
        per_subject = item.reason == Reason.DECLARED_BY_COMPANY
        values: dict[str, Any] = {"reviewer_id": item.user_id, "detected": True, "note": _note(item)}
        if per_subject:
            values |= {"subject_kind": item.subject_kind, "subject_id": item.subject_id}
            if item.subject_kind == PROPOSAL:
                values["proposal_id"] = item.subject_id
            query = Conflict.filter(**values, organisation_id__isnull=True)
        else:
            values["organisation_id"] = item.organisation_id
            query = Conflict.filter(**values, subject_id__isnull=True)
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
