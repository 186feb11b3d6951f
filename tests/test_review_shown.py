"""What reviewers and owners see of a proposal: the last version submitted, never the company's working copy."""

from __future__ import annotations

from datetime import timedelta

from models.core.outbox import OutboxMessage
from models.proposals.models import Proposal
from models.review import reminders
from models.review.models import Assignment
from tests.review_helpers import closed_world
from tests.web import sign_in_as

EDITED = "作業中の題名（未提出）"


async def test_reviewers_and_owners_see_the_submitted_title_not_the_working_copy(client, migrated):
    w = await closed_world(client, migrated)
    # The company changed its working copy after submitting, without submitting again.
    await Proposal.filter(id=w.proposals["kou"]).update(title=EDITED)
    [first, *_] = await w.assignments("kou")
    reviewer = next(r for r in w.reviewers if r.id == first.reviewer_id)

    await sign_in_as(client, reviewer)
    inbox = await client.get("/reviews")
    assert "甲の提案" in inbox.text and EDITED not in inbox.text

    await sign_in_as(client, w.owner)
    for url in (f"/challenges/{w.challenge_id}/assignments", f"/challenges/{w.challenge_id}/ranking",
                f"/proposals/{w.proposals['kou']}/reviews"):
        page = await client.get(url)
        assert page.status_code in (200, 403), url
        assert EDITED not in page.text, url
    for url in (f"/challenges/{w.challenge_id}/assignments", f"/challenges/{w.challenge_id}/ranking"):
        page = await client.get(url)
        assert "甲の提案" in page.text, url
        api = await client.get(f"/api/v1{url}", headers=w.h[w.owner.id])
        assert "甲の提案" in api.text and EDITED not in api.text, url

    assignment = await Assignment.get(id=first.id)
    assert await reminders.send_reminders(now=assignment.due_at + timedelta(seconds=1))
    mails = await OutboxMessage.filter(topic="mail", key=f"assignment:{first.id}").values_list("payload", flat=True)
    titles = {m["context"]["proposal_title"] for m in mails if m["template"] in ("reminder", "review_overdue")}
    assert titles == {"甲の提案"}
