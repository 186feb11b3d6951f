"""Typed domain errors; server/ maps each to a page message or a problem detail once."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks an English message id for the translation catalogues; server/ translates it when shown."""
    return message


class DomainError(Exception):
    status = 400

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotAllowed(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class InvalidTransition(DomainError):
    status = 409

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message, allowed=allowed)
        self.allowed = allowed


class ValidationFailed(DomainError):
    """`errors` maps a field name to an English message id, translated by server/."""

    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("validation failed", errors=errors)
        self.errors = errors
