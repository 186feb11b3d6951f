"""Similar challenges of other agencies: the pure ranking, the candidates it is given, and the pages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from models.challenges.models import Challenge
from models.challenges.similar import Profile, profile, rank, score, similar_to, title_words
from models.identity.orgs import Category, Organisation
from tests.helpers import _draft, _publish, complete_challenge
from tests.web import sign_in_as

NOW = datetime(2026, 4, 1, tzinfo=UTC)


# --- the pure part ---------------------------------------------------------------------------


def test_japanese_titles_are_compared_by_kanji_and_katakana_pairs():
    words = title_words("子育て支援の申請をオンラインで")
    assert {"支援", "申請", "オン", "ライ", "イン"} <= words
    assert not any(ch in word for word in words for ch in "のをで")  # particles separate, never count
    assert "子育" in words
    assert title_words("窓口の待ち時間") == {"窓口", "待", "時間"}  # a kanji alone between kana still counts
    assert title_words("Online Childcare Applications for the City") == {"online", "childcare", "applications", "city"}
    assert title_words("ＡＩチャットボット") == title_words("AIチャットボット")  # full-width folds to half-width


def test_the_score_rewards_category_tags_and_title_words():
    target = profile(1, ["子育て", "申請"], ["子育て支援の申請をオンライン化したい"])
    same_everything = profile(1, ["申請", "子育て"], ["子育て支援の申請をオンライン化したい"])
    related = profile(1, ["申請"], ["保育園の入園申請を簡単に"])
    category_only = profile(1, [], ["道路の補修"])
    nothing = profile(2, ["観光"], ["観光客の案内"])
    assert score(target, same_everything) == 5.0
    assert score(target, same_everything) > score(target, related) > score(target, category_only) == 1.0
    assert score(target, nothing) == 0.0
    assert score(Profile(), same_everything) == 0.0


def test_rank_keeps_the_best_five_and_breaks_ties_by_recency():
    target = profile(1, ["a"], ["library visitors"])
    candidates = [
        ("old-tie", profile(1, [], ["x"]), NOW - timedelta(days=30)),
        ("best", profile(1, ["a"], ["library visitors"]), NOW - timedelta(days=90)),
        ("unrelated", profile(9, ["z"], ["roads"]), NOW),
        ("new-tie", profile(1, [], ["y"]), NOW),
        ("tag", profile(None, ["a"], ["museum"]), NOW),
        ("no-date", profile(1, [], ["w"]), None),
    ]
    ranked = rank(target, candidates)
    assert [name for name, _ in ranked] == ["best", "tag", "new-tie", "old-tie", "no-date"]
    assert [name for name, _ in rank(target, candidates, limit=2)] == ["best", "tag"]
    assert rank(Profile(), candidates) == []


# --- with the database -----------------------------------------------------------------------


async def _by(client, cast, role: str, **fields) -> dict:
    response = await client.post("/api/v1/challenges", json=complete_challenge(**fields), headers=cast[role])
    assert response.status_code == 201, response.text
    return response.json()


async def _publish_as(client, cast, role: str, challenge_id: int) -> None:
    await client.post(f"/api/v1/challenges/{challenge_id}/transitions", json={"to": "in_review"}, headers=cast[role])
    response = await client.post(f"/api/v1/challenges/{challenge_id}/transitions", json={"to": "published"}, headers=cast["operator"])
    assert response.status_code == 200, response.text


async def _world(client, cast) -> dict:
    word = f"zq{uuid.uuid4().hex[:8]}"
    tags = [word, "観光案内"]
    title = {"ja": f"観光案内所の{word}を改善したい", "en": f"Improve {word} tourist information"}
    ours = await _draft(client, cast, title=title, tags=tags, category="tourism")
    close = await _by(client, cast, "other_agency", title=title, tags=tags, category="tourism")
    await _publish_as(client, cast, "other_agency", close["id"])
    words_only = await _by(client, cast, "other_agency", title={"en": f"The {word} question"}, tags=["x"], category="health")
    await _publish_as(client, cast, "other_agency", words_only["id"])
    secret = await _by(client, cast, "other_agency", title=title, tags=tags, category="tourism")  # a draft
    own = await _draft(client, cast, title=title, tags=tags, category="tourism")  # the same agency's
    await _publish(client, cast, own["id"])
    cancelled = await _by(client, cast, "other_agency", title=title, tags=tags, category="tourism")
    await _publish_as(client, cast, "other_agency", cancelled["id"])
    await client.post(f"/api/v1/challenges/{cancelled['id']}/transitions", json={"to": "cancelled", "reason": "中止"},
                      headers=cast["other_agency"])
    return {"word": word, "title": title, "tags": tags, "ours": ours, "close": close, "words_only": words_only,
            "never": {secret["id"], own["id"], cancelled["id"]}}


async def test_similar_challenges_are_public_ones_of_other_agencies_most_similar_first(client, cast):
    world = await _world(client, cast)
    ours = await Challenge.get(id=world["ours"]["id"])
    found = await similar_to(ours, exclude_owner_id=ours.owner_id, limit=50)
    ids = [challenge.id for challenge in found]
    assert ids[0] == world["close"]["id"]
    assert world["words_only"]["id"] in ids
    assert not world["never"] & set(ids) and ours.id not in ids
    shinjuku = await Organisation.get(municipality_code="131041")
    assert all(challenge.owner_id != shinjuku.id for challenge in found)
    assert all(challenge.status in ("published", "closed", "decided") for challenge in found)
    assert found[0].owner.name_ja == "文京区" and found[0].category.slug == "tourism"  # fetched for the page
    assert len(await similar_to(ours, exclude_owner_id=ours.owner_id)) <= 5

    # From form values, as the draft form has them.
    tourism = await Category.get(slug="tourism")
    assert tourism
    from_form = await similar_to(
        {"title_ja": world["title"]["ja"], "title_en": "", "category": "tourism", "tags": ", ".join(world["tags"])},
        exclude_owner_id={shinjuku.id},
    )
    assert from_form[0].id == world["close"]["id"]
    assert await similar_to({"languages": ["ja"]}, exclude_owner_id=shinjuku.id) == []


async def test_the_challenge_page_and_the_draft_form_show_similar_challenges(client, cast):
    world = await _world(client, cast)
    close_title = world["title"]["en"]
    await sign_in_as(client, cast["users"]["agency"])
    page = await client.get(f"/challenges/{world['ours']['id']}?lang=en")
    assert 'aria-labelledby="similar-heading"' in page.text
    assert f'<a href="/challenges/{world["close"]["id"]}">{close_title}</a>' in page.text
    for hidden in world["never"]:
        assert f'href="/challenges/{hidden}"' not in page.text

    edit = await client.get(f"/challenges/{world['ours']['id']}/edit?lang=en")
    assert f'href="/challenges/{world["close"]["id"]}"' in edit.text
    new = await client.get("/challenges/new?lang=en")
    assert new.status_code == 200 and "similar-heading" not in new.text  # nothing typed yet

    # A visitor sees the similar list beside the published one too.
    client.cookies.clear()
    public = await client.get(f"/challenges/{world['close']['id']}?lang=en")
    assert 'aria-labelledby="similar-heading"' in public.text
    assert f'href="/challenges/{world["ours"]["id"]}"' not in public.text  # a draft stays hidden
