"""Forms tell people what is wrong all at once (issue 10): required fields say so in words, every error comes in one
summary at the top whose links point at fields that exist on the page, and what was typed is kept, in Japanese and
English."""

from __future__ import annotations

import re

from tests.helpers import _draft, _publish
from tests.web import post_form, sign_in_as


def summary_links(html: str) -> list[str]:
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'href="#([^"]+)"', summary)


def ids_on(html: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html))


async def test_a_new_challenge_shows_every_error_at_once(client, cast):
    await sign_in_as(client, cast["users"]["agency"])
    blank = await client.get("/challenges/new?lang=en")
    assert blank.text.count('class="required-tag"') == 1  # the title, in words
    assert "Needed to submit" in blank.text and "five score descriptions" in blank.text
    form = {
        "title_ja": "", "summary_ja": "窓口が混む。", "budget_min_yen": "500", "budget_max_yen": "100",
        "questions_deadline": "2030-05-01T10:00", "proposals_deadline": "2030-04-01T10:00",
        "criterion-0-name_ja": "効果", "criterion-0-weight": "many", "criterion-0-levels_ja": "1\n2\n3",
        "criterion-2-name_en": "Cost", "criterion-2-weight": "40", "criterion-2-levels_en": "a\nb\nc\nd\ne",
    }
    wrong = await post_form(client, "/challenges/new?lang=en", form, page="/challenges/new")
    assert wrong.status_code == 400
    links = summary_links(wrong.text)
    # the schema's errors and the domain's (budgets, deadlines) in one round, in the order of the page
    assert links == ["field-title", "field-budget_max_yen", "field-questions_deadline",
                     "field-criterion-0-weight", "field-criterion-0-levels_ja"], links
    assert set(links) <= ids_on(wrong.text)  # every link leads to something on this page
    assert "Describe each score from 1 to 5: five lines" in wrong.text
    assert "This value is not valid" not in wrong.text
    assert "There is a problem" in wrong.text and "Correct 5 items" in wrong.text
    assert ">窓口が混む。</textarea>" in wrong.text and 'value="500"' in wrong.text and ">a\nb\nc\nd\ne</textarea>" in wrong.text
    assert 'aria-invalid="true"' in wrong.text

    japanese = await post_form(client, "/challenges/new?lang=ja", form, page="/challenges/new")
    assert "入力内容に問題があります" in japanese.text and "必須" in japanese.text
    assert summary_links(japanese.text) == links


async def test_publishing_asks_on_a_page_of_its_own_and_then_says_what_happened(client, cast):
    draft = await _draft(client, cast)
    cid = draft["id"]
    await sign_in_as(client, cast["users"]["agency"])
    sent = await post_form(client, f"/challenges/{cid}/transitions?lang=en", {"to": "in_review"}, page=f"/challenges/{cid}")
    assert sent.status_code == 303
    shown = await client.get(sent.headers["location"] + "?lang=en")
    assert 'role="status"' in shown.text and "submitted for approval" in shown.text and "An operator checks it" in shown.text
    assert "submitted for approval" not in (await client.get(f"/challenges/{cid}?lang=en")).text  # once only

    client.cookies.clear()
    await sign_in_as(client, cast["users"]["operator"])
    detail = await client.get(f"/challenges/{cid}?lang=en")
    assert f'href="/challenges/{cid}/confirm/published"' in detail.text  # a link to a page, not a one-click button
    assert 'name="to" value="published"' not in detail.text
    page = await client.get(f"/challenges/{cid}/confirm/published?lang=en")
    assert page.status_code == 200 and "Approve and publish this challenge?" in page.text
    assert "cannot become a draft again" in page.text and 'name="to" value="published"' in page.text
    japanese = await client.get(f"/challenges/{cid}/confirm/published?lang=ja")
    assert "この課題を承認して公開しますか？" in japanese.text
    assert (await client.get(f"/challenges/{cid}/confirm/decided")).status_code == 409  # not possible now
    done = await post_form(client, f"/challenges/{cid}/transitions", {"to": "published", "confirm": "1"},
                           page=f"/challenges/{cid}")
    assert done.status_code == 303
    assert "approved and published" in (await client.get(f"/challenges/{cid}?lang=en")).text


async def test_a_refused_confirmation_comes_back_to_its_page_with_the_error(client, cast):
    draft = await _draft(client, cast)
    await _publish(client, cast, draft["id"])
    await sign_in_as(client, cast["users"]["agency"])
    cid = draft["id"]
    detail = await client.get(f"/challenges/{cid}?lang=en")
    assert 'class="danger-zone"' in detail.text and f"/challenges/{cid}/confirm/cancelled" in detail.text
    refused = await post_form(client, f"/challenges/{cid}/transitions?lang=en", {"to": "cancelled", "confirm": "1"},
                              page=f"/challenges/{cid}")
    assert refused.status_code == 400 and "Cancel this challenge?" in refused.text
    assert summary_links(refused.text) == ["field-reason"] and "field-reason" in ids_on(refused.text)


def test_every_banner_and_confirmation_is_written_in_japanese():
    from server.confirm import CHALLENGE, PROPOSAL
    from server.flash import MESSAGES
    from server.i18n import gettext, using_locale

    texts = [text for pair in MESSAGES.values() for text in pair if text]
    texts += [text for wording in (*CHALLENGE.values(), *PROPOSAL.values())
              for text in (wording.heading, wording.button, *wording.consequences)]
    with using_locale("ja"):
        untranslated = [text for text in texts if gettext(text) == text]
    assert not untranslated


async def test_a_refused_submission_links_each_gap_to_the_edit_form(client, cast):
    await sign_in_as(client, cast["users"]["agency"])
    created = await post_form(client, "/challenges/new", {"title_ja": "題名だけの下書き"}, page="/challenges/new")
    cid = int(created.headers["location"].rsplit("/", 1)[1])
    refused = await post_form(client, f"/challenges/{cid}/transitions?lang=en", {"to": "in_review"}, page=f"/challenges/{cid}")
    assert refused.status_code == 400
    summary = refused.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    links = re.findall(r'href="([^"]+)"', summary)
    assert f"/challenges/{cid}/edit#field-summary" in links and f"/challenges/{cid}/edit#field-criteria" in links
    edit = await client.get(f"/challenges/{cid}/edit")
    assert {link.split("#")[1] for link in links} <= ids_on(edit.text)  # each lands on a field of the edit form
