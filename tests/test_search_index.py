"""The database backend's indexes (migrations 0012 to 0014) follow the challenge rows: an edited challenge is
found by its new words and no longer by its old ones, a deleted one is gone, and words of 3+ characters
(answered from the index) find what the LIKE scan finds, drafts never."""

from __future__ import annotations

import secrets
import string
from datetime import timedelta

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


async def _challenge(title: dict[str, str], summary: dict[str, str], tags: list[str], days_ago: int) -> Challenge:
    return await Challenge.create(
        owner=await Organisation.get(municipality_code="131016"), category=await Category.get(slug="childcare"),
        status="published", title=title, summary=summary, tags=tags,
        published_at=timezone.now() - timedelta(days=days_ago),
    )


async def test_a_challenge_with_the_words_in_its_title_comes_before_one_mentioning_them_in_its_text(app):
    word = f"kiosk{secrets.token_hex(3)}"
    in_title = await _challenge({"ja": f"{word}で窓口を案内", "en": f"A {word} at the counter"}, {}, [], days_ago=30)
    in_tags = await _challenge({"ja": "窓口の案内"}, {}, [word], days_ago=20)
    in_summary = await _challenge({"ja": "窓口の待ち時間"}, {"ja": f"{word}を置いた例がある。"}, [], days_ago=10)
    try:
        relevant = await DatabaseBackend().search(SearchQuery(q=f"窓口 {word.upper()}"))
        assert [hit["id"] for hit in relevant.hits] == [in_title.id, in_tags.id, in_summary.id]
        newest = await DatabaseBackend().search(SearchQuery(q=word, sort="newest"))
        assert [hit["id"] for hit in newest.hits] == [in_summary.id, in_tags.id, in_title.id]
    finally:
        await Challenge.filter(id__in=[in_title.id, in_tags.id, in_summary.id]).delete()


async def test_words_are_found_in_the_other_kana_full_width_letters_and_with_one_typo(app):
    marker = f"kana-{secrets.token_hex(3)}"
    waste = await _challenge({"ja": "粗大ごみの受付", "en": "Bulky waste collection requests"}, {}, [marker], days_ago=1)
    digital = await _challenge({"ja": "ＤＸで窓口を変える"}, {}, [marker], days_ago=2)
    try:
        async def found(q: str) -> list[int]:
            result = await DatabaseBackend().search(SearchQuery(q=q, tags=(marker,)))
            return [hit["id"] for hit in result.hits]

        assert await found("ゴミ") == [waste.id]
        assert await found("ＤＸ") == await found("DX") == [digital.id]
        assert await found("colection") == [waste.id]  # nothing matches as typed: one letter missing is forgiven
        assert await found("colection ごみ") == [waste.id]  # every word still has to match, one way or another
        assert await found("colection 窓口") == []
    finally:
        await Challenge.filter(id__in=[waste.id, digital.id]).delete()


def _letters(n: int) -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(n))


async def test_an_edited_challenge_is_found_by_its_new_two_character_word_and_a_typo_in_its_new_words(app):
    # 2 characters: no trigram of their own (PostgreSQL answers them from the index of bigrams, migration 0014).
    old_pair, new_pair = (chr(0x9C00 + secrets.randbelow(0x80)) + chr(0x9C80 + secrets.randbelow(0x80)) for _ in range(2))
    old_word, new_word = f"quokka{_letters(6)}", f"wombat{_letters(6)}"
    challenge = await _challenge({"ja": f"窓口{old_pair}の{old_word}を改善"}, {}, [], days_ago=1)
    try:
        assert await _found(old_pair) == {challenge.id}
        assert await _found(old_word[:4] + old_word[5:]) == {challenge.id}  # one letter missing
        challenge.title = {"ja": f"窓口{new_pair}の{new_word}を改善"}  # the word glued to Japanese, as often
        await challenge.save()
        assert await _found(new_pair) == {challenge.id}
        assert await _found(old_pair) == set()
        assert await _found(new_word[:3] + new_word[4] + new_word[3] + new_word[5:]) == {challenge.id}  # two swapped
        assert await _found("wxmbxt" + new_word[6:]) == set()  # two letters wrong
        assert await _found(old_word[:4] + old_word[5:]) == set()
    finally:
        await challenge.delete()


async def test_a_challenge_tagged_with_the_query_alone_comes_before_others_with_it_among_their_tags(app):
    tag = f"tag{secrets.token_hex(3)}"
    among = await _challenge({"ja": "窓口の案内"}, {}, [tag, "窓口"], days_ago=1)
    alone = await _challenge({"ja": "窓口の案内"}, {}, [tag], days_ago=2)  # older: newest first would put it last
    try:
        result = await DatabaseBackend().search(SearchQuery(q=tag.upper()))
        assert [hit["id"] for hit in result.hits] == [alone.id, among.id]
    finally:
        await Challenge.filter(id__in=[among.id, alone.id]).delete()


async def test_a_challenge_with_the_word_earlier_in_its_title_comes_first_on_every_page(app):
    word = f"ferry{secrets.token_hex(3)}"
    # Newest first would give the reverse order; a field further down always comes after the title.
    late = await _challenge({"ja": "窓口の案内", "en": f"Counter guidance and the {word}"}, {}, [], days_ago=1)
    middle = await _challenge({"ja": f"窓口の{word}"}, {}, [], days_ago=2)
    early = await _challenge({"ja": f"{word.upper()}の案内"}, {}, [], days_ago=3)
    tagged = await _challenge({"ja": "窓口の案内"}, {}, [word], days_ago=4)
    in_summary = await _challenge({"ja": "窓口"}, {"ja": f"{word}の例"}, [], days_ago=0)
    try:
        async def page(number: int, per_page: int, q: str = word) -> list[int]:
            result = await DatabaseBackend().search(SearchQuery(q=q, page=number, per_page=per_page))
            return [hit["id"] for hit in result.hits]

        expected = [early.id, middle.id, late.id, tagged.id, in_summary.id]
        assert await page(1, 10) == expected
        assert [await page(number, 1) for number in range(1, 6)] == [[id_] for id_ in expected]
        assert await page(1, 2) + await page(2, 2) + await page(3, 2) == expected
        assert await page(1, 10, q=f"{word} 窓口") == [middle.id, late.id, tagged.id, in_summary.id]  # both words
    finally:
        await Challenge.filter(id__in=[late.id, middle.id, early.id, tagged.id, in_summary.id]).delete()
