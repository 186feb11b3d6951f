"""The review form as data (HotCRP's review form is the example): a round's rubric.

A rubric is the round's scored criteria (today the challenge's `Criterion` rows, 1 to 5, weighted) plus its
other fields, each with its kind, whether it is needed to submit, and who may read it besides the reviewer
who wrote it: the subject's "owners" (and operators), the other "reviewers" once they have submitted their
own, the "company" with the decision. A round stores its fields as JSON (`ReviewRound.rubric`); a round
that stores none uses its subject kind's default, below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from models.core.errors import N_

OWNERS, REVIEWERS, COMPANY = "owners", "reviewers", "company"
TEXT, SCALE = "text", "scale"


@dataclass(frozen=True)
class RubricField:
    key: str
    kind: str  # TEXT or SCALE
    label: str  # a message id
    visible_to: frozenset[str] = field(default_factory=lambda: frozenset({OWNERS, REVIEWERS}))
    required: bool = False  # needed to submit
    low: int = 1  # a SCALE's range
    high: int = 5

    def as_data(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "label": self.label, "visible_to": sorted(self.visible_to),
                "required": self.required, "low": self.low, "high": self.high}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RubricField:
        return cls(key=str(data["key"]), kind=str(data.get("kind", TEXT)), label=str(data.get("label", data["key"])),
                   visible_to=frozenset(data.get("visible_to", (OWNERS, REVIEWERS))),
                   required=bool(data.get("required", False)), low=int(data.get("low", 1)), high=int(data.get("high", 5)))


# The proposal review's fields: the review form's fixed fields until now, and the columns of `Review`.
PROPOSAL_FIELDS = (
    RubricField("strengths", TEXT, N_("Strengths")),
    RubricField("weaknesses", TEXT, N_("Weaknesses")),
    RubricField("feedback", TEXT, N_("Feedback for the company"), frozenset({OWNERS, REVIEWERS, COMPANY})),
    RubricField("confidence", SCALE, N_("Confidence"), required=True),
)
DEFAULT_FIELDS = {"proposal": PROPOSAL_FIELDS}


def fields_of(stored: Iterable[dict[str, Any]] | None, subject_kind: str = "proposal") -> tuple[RubricField, ...]:
    """A round's fields: those it stores, else its subject kind's default."""
    stored = list(stored or [])
    return tuple(RubricField.from_data(item) for item in stored) if stored else DEFAULT_FIELDS[subject_kind]


def visible_to(fields: Iterable[RubricField], reader: str) -> tuple[RubricField, ...]:
    return tuple(f for f in fields if reader in f.visible_to)


def field_errors(fields: Iterable[RubricField], values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with the values given (only those given: None means "not changed")."""
    errors = {}
    for f in fields:
        value = values.get(f.key)
        if value is not None and f.kind == SCALE and (isinstance(value, bool) or not isinstance(value, int)
                                                       or not f.low <= value <= f.high):
            errors[f.key] = SCALE_OUT_OF_RANGE.get(f.key, N_("Choose a whole number from 1 to 5."))
    return errors


def missing(fields: Iterable[RubricField], values: dict[str, Any]) -> dict[str, str]:
    """The required fields left empty, with what to say."""
    return {f.key: REQUIRED_MESSAGES.get(f.key, N_("This field is required."))
            for f in fields if f.required and values.get(f.key) in (None, "")}


# Messages kept as they were for the proposal review's fields.
SCALE_OUT_OF_RANGE = {"confidence": N_("Confidence is a whole number from 1 to 5.")}
REQUIRED_MESSAGES = {"confidence": N_("Say how confident you are, from 1 to 5.")}
