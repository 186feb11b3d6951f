"""What a signed-in reader of a challenge's page has of their own on it, told by one statement: whether they
asked questions still waiting for an answer, follow the challenge, and (for a company) have a proposal to it.
The panels that show these rows read only those the reader has; most readers have none of them, and their page
then makes this one statement instead of one per panel. Who may see what is not decided here: each panel still
asks models.policy, and reads the rows with the rules it always had (models.challenges.questions, follows,
models.proposals.lifecycle)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from models.challenges.models import Challenge, Follow, Question
from models.core.base import select_one
from models.identity.orgs import OrgKind
from models.policy import Actor
from models.policy.proposals import company_of
from models.proposals.models import Proposal


@dataclass(frozen=True)
class ReaderRows:
    waiting_questions: bool  # questions they or their company asked, not answered yet
    follows: bool
    has_proposal: bool  # their company's proposal (models.policy.proposals.company_of)


NOTHING = ReaderRows(waiting_questions=False, follows=False, has_proposal=False)


@cache
def _statement(companies: int, company: bool) -> str:
    asked = '"asker_id" = ?' + (f' OR "asker_organisation_id" IN ({", ".join("?" * companies)})' if companies else "")
    proposal = (f'EXISTS (SELECT 1 FROM "{Proposal._meta.db_table}" WHERE "challenge_id" = ? AND "company_id" = ?)'
                if company else "0")
    return (f'SELECT EXISTS (SELECT 1 FROM "{Question._meta.db_table}" WHERE "challenge_id" = ? '
            f'AND "answered_at" IS NULL AND ({asked})) AS "waiting", '
            f'EXISTS (SELECT 1 FROM "{Follow._meta.db_table}" WHERE "user_id" = ? AND "challenge_id" = ?) AS "follows", '
            f'{proposal} AS "proposal"')


async def reader_rows(actor: Actor, challenge: Challenge) -> ReaderRows:
    """Which of their own rows the reader has on this challenge (a visitor: none, without asking)."""
    if actor.user is None:
        return NOTHING
    companies = sorted(actor.organisation_ids(OrgKind.COMPANY))
    company = company_of(actor)
    values: list = [challenge.id, actor.user.id, *companies, actor.user.id, challenge.id]
    if company is not None:
        values += [challenge.id, company.id]
    row = await select_one(Question, _statement(len(companies), company is not None), values)
    return ReaderRows(waiting_questions=bool(row["waiting"]), follows=bool(row["follows"]),
                      has_proposal=bool(row["proposal"]))
