"""Who may see and do what: the one place access is decided.

`Actor` is the person behind a request, job or CLI call (or a visitor, with no user). The functions
here answer "may this actor do this action on this object" and build the query filter for "which
objects may this actor list"; pages, API, search, exports, feeds and e-mails all ask them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.core.errors import NotAllowed
from models.identity.accounts import Membership, Role, User
from models.identity.orgs import Organisation, OrgKind


@dataclass(frozen=True)
class Actor:
    user: User | None = None
    memberships: tuple[Membership, ...] = field(default_factory=tuple)

    @property
    def is_visitor(self) -> bool:
        return self.user is None

    @property
    def is_operator(self) -> bool:
        return bool(self.user and self.user.is_active and self.user.is_operator)

    @property
    def is_reviewer(self) -> bool:
        return bool(self.user and self.user.is_active and self.user.is_reviewer)

    @property
    def organisation(self) -> Organisation | None:
        """The organisation the person acts for (their first membership)."""
        return self.memberships[0].organisation if self.memberships else None

    def organisation_ids(self, kind: OrgKind | None = None) -> set[int]:
        return {
            m.organisation_id
            for m in self.memberships
            if kind is None or m.organisation.kind == kind
        }

    def is_admin_of(self, organisation_id: int) -> bool:
        return any(m.organisation_id == organisation_id and m.role == Role.ADMIN for m in self.memberships)

    @property
    def roles(self) -> list[str]:
        """Role names as the API shows them, e.g. ["agency_admin", "reviewer"]."""
        names = [f"{m.organisation.kind}_{m.role}" for m in self.memberships]
        if self.is_reviewer:
            names.append("reviewer")
        if self.is_operator:
            names.append("operator")
        return names


VISITOR = Actor()


async def actor_for(user: User | None) -> Actor:
    if user is None or not user.is_active:
        return VISITOR
    memberships = await Membership.filter(user=user).select_related("organisation").order_by("id")
    return Actor(user=user, memberships=tuple(memberships))


def actor_with(user: User | None, memberships: list[Membership]) -> Actor:
    """`actor_for` when the memberships (with their organisations, in order) were read already."""
    if user is None or not user.is_active:
        return VISITOR
    return Actor(user=user, memberships=tuple(memberships))


def require_user(actor: Actor) -> User:
    if actor.user is None:
        raise NotAllowed("login required")
    return actor.user




def may_share_response(actor: Actor) -> bool:
    """Whether a page or API answer made for this actor may be kept by shared caches and revalidated by ETag
    (`Cache-Control: public`). Only the visitor's: a visitor sees only what is public, the same for every
    visitor in a language; anything made for a signed-in person may carry their name, roles or drafts."""
    return actor.is_visitor
