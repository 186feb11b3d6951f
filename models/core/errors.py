"""Typed domain errors; server/problems.py maps each to a page message or a problem detail, in one place.

An error's message is either a message id (English, marked with `N_`, shown to people translated, with
its `params` filled in) or a plain English explanation for API clients and logs (pages then show a
general message for the error's status).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


class MessageId(str):
    """An English message id marked for the catalogues: people see it in their language."""


def N_(message: str) -> str:
    """Marks an English message id for the translation catalogues; server/ translates it when shown.
    (Typed as `str` so that tables of message ids stay plain `dict[str, str]` to the type checker.)"""
    return MessageId(message)


def _plain(value: object) -> object:
    """A parameter as the API shows it: times in Japan time, ISO 8601."""
    return value.astimezone(JST).isoformat(timespec="seconds") if isinstance(value, datetime) else value


class DomainError(Exception):
    status = 400

    def __init__(self, message: str = "", params: dict[str, Any] | None = None, **details: object) -> None:
        self.message_id: str | None = message if isinstance(message, MessageId) else None
        self.params = params or {}
        # English, for the API and logs; pages translate `message_id` with `params` (server/problems.py).
        self.message = message % {k: _plain(v) for k, v in self.params.items()} if self.params else str(message)
        super().__init__(self.message)
        self.details = details


class NotAllowed(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class InvalidTransition(DomainError):
    """`allowed` names the states the person may move the record to instead (see models/core/transitions.py)."""

    status = 409

    def __init__(self, message: str, allowed: list[str], params: dict[str, Any] | None = None, **details: object) -> None:
        super().__init__(message, params, allowed=allowed, **details)
        self.allowed = allowed


class StorageFull(DomainError):
    """The disk (or quota) that keeps uploaded files has no room left: nothing was kept, try again later."""

    status = 507


class ValidationFailed(DomainError):
    """`errors` maps a field name to an English message id, translated by server/."""

    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("validation failed", errors=errors)
        self.errors = errors
