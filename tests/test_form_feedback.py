"""Forms tell people what is wrong all at once (issue 10): required fields say so in words, every error comes in one
summary at the top whose links point at fields that exist on the page, and what was typed is kept, in Japanese and
English."""

from __future__ import annotations

import re

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
