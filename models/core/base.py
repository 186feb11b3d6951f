from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from tortoise import fields
from tortoise.exceptions import MultipleObjectsReturned
from tortoise.models import Model

_to_db_value = fields.DatetimeField.to_db_value


def _utc_to_db_value(self: fields.DatetimeField, value: Any, instance: Any) -> Any:
    """Every time goes to the database in UTC. Tortoise passes an aware time on with its own offset
    (say +09:00, from a form or the API), and SQLite stores and compares the text: a deadline written
    as Japan time was never reached by `<=` against UTC. Filters' values pass through here too."""
    value = _to_db_value(self, value, instance)
    return value.astimezone(UTC) if isinstance(value, datetime) and value.tzinfo is not None else value


fields.DatetimeField.to_db_value = _utc_to_db_value  # type: ignore[method-assign]


class TimestampedModel(Model):
    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


def translated(value: dict[str, str] | None, locale: str) -> str:
    """Pick the text of a {"ja": ..., "en": ...} field in the reader's language, else the other."""
    if not value:
        return ""
    return value.get(locale) or next((text for text in value.values() if text), "")


M = TypeVar("M", bound=Model)


# Raw statements for the few look-ups made at every request, where Tortoise's building of the query costs more
# than running it: the columns are named and rows made into instances here, as the ORM itself would.
def columns_of(model: type[Model], alias: str | None = None) -> str:
    """The model's columns for a SELECT; with `alias` (a joined table), as `alias."column" AS "alias.column"`."""
    columns = model._meta.fields_db_projection.values()
    if alias is None:
        return ", ".join(f'"{column}"' for column in columns)
    return ", ".join(f'{alias}."{column}" AS "{alias}.{column}"' for column in columns)


def from_row(model: type[M], row: Any, alias: str | None = None) -> M:
    """The instance a row of `columns_of(model, alias)` holds."""
    prefix = "" if alias is None else f"{alias}."
    return model._init_from_db(**{column: row[prefix + column] for column in model._meta.fields_db_projection.values()})


@cache
def numbered(statement: str, dialect: str) -> str:
    """A statement written with `?` for each value, as the database's driver takes it ($1, $2, ... for asyncpg)."""
    if dialect != "postgres":
        return statement
    numbers = iter(range(1, statement.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(numbers)}", statement)


@cache
def _lookup_statement(model: type[Model], names: tuple[str, ...], dialect: str) -> str:
    columns = model._meta.fields_db_projection
    where = " AND ".join(f'"{columns[name]}" = ?' for name in names)
    return numbered(f'SELECT {columns_of(model)} FROM "{model._meta.db_table}" WHERE {where} LIMIT 2', dialect)


async def one_or_none(model: type[M], **equal: Any) -> M | None:
    """`model.get_or_none(**equal)` for equalities on the model's own columns (`user_id=…`), the statement made once
    for each set of columns: Tortoise builds it again at every call, which costs more than running it (on the
    pages every signed-in request makes)."""
    db = model._meta.db
    names = tuple(sorted(equal))
    fields_map = model._meta.fields_map
    values = [fields_map[name].to_db_value(equal[name], model) for name in names]
    _, rows = await db.execute_query(_lookup_statement(model, names, db.capabilities.dialect), values)
    if len(rows) > 1:
        raise MultipleObjectsReturned(model)
    return from_row(model, rows[0]) if rows else None


@cache
def _select_statement(model: type[Model], where: str, order_by: str) -> str:
    return f'SELECT {columns_of(model)} FROM "{model._meta.db_table}" WHERE {where}' + (f" ORDER BY {order_by}" if order_by else "")


async def select_where(model: type[M], where: str, values: Sequence[Any], order_by: str = "") -> list[M]:
    """The rows of `model` matching `where` (SQL on the model's own columns, each value a `?`), the statement made
    once for each text, as `one_or_none`: for the few queries each signed-in page makes, where building it with
    Tortoise costs more than running it. Only for values the columns take as they are (ids, text)."""
    db = model._meta.db
    statement = numbered(_select_statement(model, where, order_by), db.capabilities.dialect)
    _, rows = await db.execute_query(statement, list(values))
    return [from_row(model, row) for row in rows]


async def select_one(model: type[Model], statement: str, values: Sequence[Any]) -> dict[str, Any]:
    """The one row a statement of plain SQL (each value a `?`) gives, on `model`'s database, as a dict."""
    db = model._meta.db
    _, rows = await db.execute_query(numbered(statement, db.capabilities.dialect), list(values))
    return dict(rows[0])
