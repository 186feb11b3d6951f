"""The review form as data (HotCRP's review form is the example): a round's rubric.

A rubric is the round's scored criteria (1 to 5, weighted, weights summing to 100: a proposal round's are the
challenge's `Criterion` rows, another kind's are stored in the rubric as "score" entries) plus its other fields, each with its kind, whether it is needed to submit, and who may read it besides the reviewer
who wrote it: the subject's "owners" (and operators), the other "reviewers" once they have submitted their
own, the "company" with the decision. A round stores its fields as JSON (`ReviewRound.rubric`); a round
that stores none uses its subject kind's default (`models.review.subjects`). A label is a message id (the
defaults) or {"ja", "en"} (a rubric an owner wrote).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from models.core.errors import N_, ValidationFailed

OWNERS, REVIEWERS, COMPANY = "owners", "reviewers", "company"
READERS = (OWNERS, REVIEWERS, COMPANY)
TEXT, SCALE, SCORE = "text", "scale", "score"
Label = str | dict[str, str]


@dataclass(frozen=True)
class RubricCriterion:
    """A scored criterion: 1 to 5, weighted; a review's total weighs them (models.review.scoring)."""

    key: str
    label: Label
    weight: int
    levels: tuple[Label, ...] = ()  # what each score means, 1 to 5 (optional)

    def as_data(self) -> dict[str, Any]:
        return {"key": self.key, "kind": SCORE, "label": self.label, "weight": self.weight, "levels": list(self.levels)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RubricCriterion:
        return cls(key=str(data["key"]), label=data.get("label", data["key"]), weight=int(data.get("weight", 0)),
                   levels=tuple(data.get("levels") or ()))


@dataclass(frozen=True)
class RubricField:
    key: str
    kind: str  # TEXT or SCALE
    label: Label
    visible_to: frozenset[str] = field(default_factory=lambda: frozenset({OWNERS, REVIEWERS}))
    required: bool = False  # needed to submit
    low: int = 1  # a SCALE's range
    high: int = 5
    prompt: Label | None = None  # the form's label when it says more than `label`
    hint: Label | None = None  # shown under the form's label

    def as_data(self) -> dict[str, Any]:
        data = {"key": self.key, "kind": self.kind, "label": self.label, "visible_to": sorted(self.visible_to),
                "required": self.required, "low": self.low, "high": self.high}
        return data | {name: value for name in ("prompt", "hint") if (value := getattr(self, name)) is not None}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RubricField:
        label = data.get("label", data["key"])
        return cls(key=str(data["key"]), kind=str(data.get("kind", TEXT)), label=label if isinstance(label, dict) else str(label),
                   visible_to=frozenset(data.get("visible_to", (OWNERS, REVIEWERS))),
                   required=bool(data.get("required", False)), low=int(data.get("low", 1)), high=int(data.get("high", 5)),
                   prompt=data.get("prompt"), hint=data.get("hint"))


# The proposal review's fields: the review form's fixed fields until now, and the columns of `Review`.
PROPOSAL_FIELDS = (
    RubricField("strengths", TEXT, N_("Strengths"), prompt=N_("Strengths (for the panel and the owners)")),
    RubricField("weaknesses", TEXT, N_("Weaknesses"), prompt=N_("Weaknesses (for the panel and the owners)")),
    RubricField("feedback", TEXT, N_("Feedback for the company"), frozenset({OWNERS, REVIEWERS, COMPANY}),
                hint=N_("Sent to the company with the decision, without your name.")),
    RubricField("confidence", SCALE, N_("Confidence"), required=True,
                prompt=N_("Your confidence in this review (1: low, 5: high)")),
)


# A pilot's evaluation (issue 11): the default its kind registers; owners may change it before the round starts.
PILOT_RUBRIC = (
    RubricCriterion("kpi_achievement", {"ja": "KPIの達成度", "en": "KPI achievement"}, 40),
    RubricCriterion("satisfaction", {"ja": "住民の満足度", "en": "Residents' satisfaction"}, 20),
    RubricCriterion("cost", {"ja": "費用", "en": "Cost"}, 20),
    RubricCriterion("reusability", {"ja": "他の自治体での再利用性", "en": "Reusability by other municipalities"}, 20),
    RubricField("strengths", TEXT, N_("Strengths"), prompt=N_("Strengths (for the panel and the owners)")),
    RubricField("feedback", TEXT, N_("Feedback for the company"), frozenset({OWNERS, REVIEWERS, COMPANY}),
                hint=N_("Sent to the company with the decision, without your name.")),
    RubricField("confidence", SCALE, N_("Confidence"), required=True,
                prompt=N_("Your confidence in this review (1: low, 5: high)")),
)


def panel_discussion(fields: Iterable[RubricField]) -> tuple[RubricField, ...]:
    """What a reviewer reads of the others' reviews besides the scores: the text written for the panel (what
    is written for the company is read with the decision)."""
    return tuple(f for f in fields if f.kind == TEXT and REVIEWERS in f.visible_to and COMPANY not in f.visible_to)


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[RubricCriterion, ...]
    fields: tuple[RubricField, ...]

    def weights(self) -> dict[str, int]:
        return {c.key: c.weight for c in self.criteria}

    def as_data(self) -> list[dict[str, Any]]:
        return [c.as_data() for c in self.criteria] + [f.as_data() for f in self.fields]


def parse(items: Iterable[RubricField | RubricCriterion | dict[str, Any]]) -> Rubric:
    """Stored (or default) rubric entries, as criteria and fields."""
    criteria: list[RubricCriterion] = []
    fields: list[RubricField] = []
    for item in items:
        if isinstance(item, dict):
            item = RubricCriterion.from_data(item) if item.get("kind") == SCORE else RubricField.from_data(item)
        if isinstance(item, RubricCriterion):
            criteria.append(item)
        else:
            fields.append(item)
    return Rubric(tuple(criteria), tuple(fields))


KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
RESERVED_KEYS = frozenset({"scores", "comments", "no_conflict", "answers", "total", "status"})


def checked(items: Any, fixed_criteria: tuple[RubricCriterion, ...] | None) -> Rubric:
    """An owner's rubric, validated: fields with key, kind, label {ja, en}, required, visible_to; scored criteria
    weighing 100 in all. `fixed_criteria`: the kind takes its criteria elsewhere (a proposal round: the
    challenge's), so the rubric may only repeat them as they are."""
    errors: dict[str, str] = {}
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ValidationFailed({"rubric": N_("Give the review form as a list of fields.")})
    keys = [str(i.get("key", "")) for i in items]
    if any(not k or k[0].isdigit() and i.get("kind") != SCORE or set(k) - KEY_CHARACTERS or k in RESERVED_KEYS
           for k, i in zip(keys, items)) or len(set(keys)) != len(keys):
        errors["rubric"] = N_("Each field needs its own key of lower-case letters, digits and underscores.")
    for item in items:
        label, kind = item.get("label"), item.get("kind", TEXT)
        if kind not in (TEXT, SCALE, SCORE):
            errors["rubric"] = N_("A field is a text, a scale or a scored criterion.")
        elif not (isinstance(label, dict) and all(isinstance(label.get(lang), str) and label[lang].strip()
                                                   for lang in ("ja", "en"))):
            errors["rubric"] = N_("Give each field a label in Japanese and in English.")
        elif set(item.get("visible_to") or []) - set(READERS) or not isinstance(item.get("required", False), bool):
            errors["rubric"] = N_("Say who may read each field: owners, reviewers, company.")
        elif kind == SCORE and (isinstance(item.get("weight"), bool) or not isinstance(item.get("weight"), int)
                                or item["weight"] < 0):
            errors["rubric"] = N_("A criterion's weight is a whole number.")
    if errors:
        raise ValidationFailed(errors)
    rubric = parse({k: v for k, v in i.items() if k in ("key", "kind", "label", "visible_to", "required", "weight",
                                                          "levels")} for i in items)
    if fixed_criteria is not None:
        if rubric.criteria and rubric.weights() != {c.key: c.weight for c in fixed_criteria}:
            raise ValidationFailed({"rubric": N_("The scored criteria are the challenge's criteria.")})
        rubric = Rubric(fixed_criteria, rubric.fields)
    elif not rubric.criteria or sum(rubric.weights().values()) != 100:
        raise ValidationFailed({"rubric": N_("The criteria's weights add up to 100.")})
    return rubric


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
