"""The database backend's trigram index (migration 0011) follows the challenge rows: an edited challenge is
found by its new words and no longer by its old ones, a deleted one is gone, and words of 3+ characters
(answered from the index) find what the LIKE scan finds, drafts never."""

from __future__ import annotations

import secrets

from tortoise import timezone

from models.challenges.models import Challenge
from models.identity.orgs import Category, Organisation
from search.backend import SearchQuery
from search.database import DatabaseBackend


async def _found(q: str, backend: DatabaseBackend | None = None) -> set[int]:
    result = await (backend or DatabaseBackend()).search(SearchQuery(q=q, per_page=100))
    return {hit["id"] for hit in result.hits}


async def test_an_edited_or_deleted_challenge_is_found_by_its_words_of_now(app):
    old, new = f"旧語{secrets.token_hex(3)}", f"newword{secrets.token_hex(3)}"
    challenge = await Challenge.create(
        owner=await Organisation.get(municipality_code="131016"), category=await Category.get(slug="childcare"),
        status="published", title={"ja": f"窓口の{old}を改善", "en": "Counter"}, summary={}, tags=[],
        published_at=timezone.now(),
    )
    draft = await Challenge.create(
        owner=await Organisation.get(municipality_code="131016"), category=await Category.get(slug="childcare"),
        status="draft", title={"ja": f"下書き {new}"}, summary={}, tags=[],
    )
    try:
        assert await _found(old) == {challenge.id}
        assert await _found(new) == set()  # the draft carries it: never found
        challenge.title = {"ja": "窓口を改善", "en": f"Counter {new.upper()}"}  # any case
        await challenge.save()
        assert await _found(old) == set()
        assert await _found(new) == {challenge.id}
        assert await _found(f"counter {new}") == {challenge.id}  # every word
        assert await _found(new, DatabaseBackend(trigram=False)) == {challenge.id}  # as the LIKE scan
        await challenge.delete()
        assert await _found(new) == set()
    finally:
        await Challenge.filter(id__in=[challenge.id, draft.id]).delete()
