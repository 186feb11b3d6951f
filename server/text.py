"""What text people may send: one rule for every JSON body, query string and form, applied where they are
read (server/api.py, server/forms.py), and the cleaning of titles and names."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from models.core.errors import N_

# C0 and C1 control characters but tab, line feed and carriage return (a textarea sends CRLF); PostgreSQL
# cannot store NUL, and none of them belongs in anything a person writes.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Embeddings, overrides and isolates, which can make a title or a name read differently from what it is.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")

CONTROL_CHARACTER = N_("Control characters (other than tab and new line) are not allowed.")


def has_control_character(text: str) -> bool:
    return _CONTROL.search(text) is not None


def without_bidi_controls(text: str) -> str:
    return _BIDI_CONTROLS.sub("", text)


Name = Annotated[str, AfterValidator(without_bidi_controls)]
"""A title or a name: its bidirectional controls are dropped."""
