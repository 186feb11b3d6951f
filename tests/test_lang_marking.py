"""Text shown in the other language than the page's is marked with `lang` (WCAG 3.1.2)."""

from __future__ import annotations

from server import i18n
from server.templating import environment

TEMPLATE = environment.from_string("<h1{{ title | lang_attr }}>{{ title | tr }}</h1>")


def test_an_english_only_title_on_a_japanese_page_is_marked_english():
    with i18n.using_locale("ja"):
        assert TEMPLATE.render(title={"en": "Cooler bus stops"}) == '<h1 lang="en">Cooler bus stops</h1>'
        assert TEMPLATE.render(title={"ja": "", "en": "Cooler bus stops"}) == '<h1 lang="en">Cooler bus stops</h1>'


def test_text_in_the_page_language_is_not_marked():
    with i18n.using_locale("en"):
        assert TEMPLATE.render(title={"ja": "窓口", "en": "Counter"}) == "<h1>Counter</h1>"
        assert TEMPLATE.render(title={"ja": "窓口"}) == '<h1 lang="ja">窓口</h1>'
        assert TEMPLATE.render(title={}) == "<h1></h1>"
        assert TEMPLATE.render(title={"fr": "<script>"}) == "<h1>&lt;script&gt;</h1>"  # never an unknown code
