"""State and action names come from one module, server/labels.py, in the reader's language."""

from __future__ import annotations

from server import labels
from server.i18n import using_locale
from server.templating import templates


def test_every_label_reads_in_both_languages_and_unknown_values_show_as_they_are():
    tables = [value for name, value in vars(labels).items()
              if name.isupper() and not name.startswith("_") and isinstance(value, dict)]  # _private: not labels
    assert len(tables) >= 12
    for table in tables:
        for message_id in table.values():
            with using_locale("ja"):
                assert labels._(message_id) != message_id, message_id
            with using_locale("en"):
                assert labels._(message_id) == message_id
    with using_locale("ja"):
        assert labels.status_name("no-such-state") == "no-such-state"
        assert labels.proposal_status_name("selected") == labels._("Selected")


def test_templates_get_the_label_functions():
    env = templates.env
    for name in ("status_name", "action_name", "proposal_status_name", "proposal_action_name",
                 "assignment_status_name", "decision_name", "role_name"):
        assert env.globals[name] is getattr(labels, name)
    with using_locale("en"):
        assert env.from_string("{{ status_name('in_review') }} / {{ role_name('admin') }}").render() == \
            "Waiting for approval / Administrator"
