"""Forms: validated by the same pydantic schemas as the API; errors become messages in the user's language."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from models.core.errors import N_, ValidationFailed
from server.i18n import gettext as _
from server.text import CONTROL_CHARACTER, has_control_character

Schema = TypeVar("Schema", bound=BaseModel)

# pydantic error types -> message ids shown to people
_MESSAGES = {
    "missing": N_("This field is required."),
    "string_too_short": N_("This field is required."),
    "string_too_long": N_("This is too long."),
    "int_parsing": N_("Enter a whole number."),
    "literal_error": N_("Choose one of the options."),
    "enum": N_("Choose one of the options."),
    "float_parsing": N_("Enter a number."),
    "datetime_from_date_parsing": N_("Enter a date and time."),
    "datetime_parsing": N_("Enter a date and time."),
    "greater_than_equal": N_("This number is too small."),
    "less_than_equal": N_("This number is too large."),
}

Locator = Callable[[tuple[Any, ...]], str]


def translated_errors(errors: dict[str, str]) -> dict[str, str]:
    return {field: _(message) for field, message in errors.items()}


def errors_from(exc: ValidationError | ValidationFailed, by_field: dict[str, str] | None = None,
                locate: Locator | None = None) -> dict[str, str]:
    """Errors by field in the reader's language; `by_field` gives a field's own message id for any schema error;
    `locate` names the form field of an error's location when the form is not flat (a criterion's row)."""
    if isinstance(exc, ValidationFailed):
        return translated_errors(exc.errors)
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        field = (locate(tuple(error["loc"])) if locate else "") or (str(error["loc"][0]) if error["loc"] else "form")
        generic = re.sub(r"-\d+-", "-*-", field)  # "criterion-2-weight" -> "criterion-*-weight": a row's own message
        if field in (by_field or {}) or generic in (by_field or {}):
            message = (by_field or {}).get(field) or (by_field or {})[generic]
        elif error["type"] == "value_error":
            message = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            message = _MESSAGES.get(error["type"], N_("This value is not valid."))
        errors.setdefault(field, _(message))
    return errors


async def read_form(request: Request) -> dict[str, Any]:
    form = await request.form()
    values = {key: value for key, value in form.items() if key != "csrftoken"}
    refused = [key for key, value in values.items() if isinstance(value, str) and has_control_character(value)]
    if refused:
        raise ValidationFailed(dict.fromkeys(refused, CONTROL_CHARACTER))
    return values


async def parse_form(request: Request, schema: type[Schema], by_field: dict[str, str] | None = None,
                     ) -> tuple[Schema | None, dict[str, Any], dict[str, str]]:
    """(the valid data or None, what the person typed, errors by field in their language); `by_field` says what
    to do about a field in words of its own ("Enter your e-mail address") rather than "This field is required"."""
    values = await read_form(request)
    try:
        return schema.model_validate(values), values, {}
    except ValidationError as exc:
        return None, values, errors_from(exc, by_field)



def failed_fields(exc: ValidationError) -> set[str]:
    """The top-level fields a schema refused: what is left can still be checked, so that every error shows at once."""
    return {str(error["loc"][0]) for error in exc.errors(include_url=False) if error["loc"]}


def in_form_order(errors: dict[str, str], order: Iterable[str]) -> dict[str, str]:
    """The errors in the order their fields come on the page (the error summary reads top to bottom); a field
    named `<prefix>-…` or `<prefix>_…` sorts with `<prefix>`, unknown ones last."""
    rank = {name: index for index, name in enumerate(order)}

    def position(name: str) -> int:  # a stable sort: within a row, the schema's own order
        for key in (name, name.split("-")[0], name.rsplit("_", 1)[0]):
            if key in rank:
                return rank[key]
        return len(rank)

    return dict(sorted(errors.items(), key=lambda item: position(item[0])))
