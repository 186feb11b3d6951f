"""Database ids at the edge: one bound for paths, query strings and bodies, so that a number the database's
integer column cannot hold is refused (404 in a path, 422 elsewhere) instead of failing in the query."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from starlette.convertors import Convertor, register_url_convertor

MAX_ID = 2**31 - 1  # the largest value of an integer column in PostgreSQL (and of Tortoise's IntField)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _at_most(limit: str) -> str:
    """A regular expression matching the ASCII numbers from 0 to `limit` (without leading zeros beyond it)."""
    shorter = f"[0-9]{{1,{len(limit) - 1}}}"
    same_length = [
        f"{limit[:i]}[0-{int(digit) - 1}][0-9]{{{len(limit) - i - 1}}}"
        for i, digit in enumerate(limit) if digit != "0"
    ]
    return "|".join([shorter, *same_length, limit])


class IdConvertor(Convertor[int]):
    """Starlette's `int` convertor, bounded: a path with a larger number matches no route (404)."""

    regex = f"(?:{_at_most(str(MAX_ID))})"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        assert 0 <= value <= MAX_ID, "ids are between 0 and MAX_ID"
        return str(value)


def bound_path_ids() -> None:
    """Make `{name:int}` in every route bounded; run before any route is declared (server/__init__.py)."""
    register_url_convertor("int", IdConvertor())


def id_or_none(text: object) -> int | None:
    """An id typed in a form or query string, or None if it cannot be one (not ASCII digits, out of range)."""
    value = str(text)
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID:
        return int(value)
    return None
