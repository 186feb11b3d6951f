"""Queueing an e-mail in the outbox, in the same transaction as the change that causes it.

The domain only says which mail to whom, in which language, with which facts; server/mail.py renders
the template and sends it. The payload holds plain values (ids and strings), never objects, so a mail
rendered tomorrow does not depend on what is in memory today.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise import timezone

from models.core import outbox
from models.core.outbox import OutboxMessage

TOPIC = "mail"
LOCALES = ("ja", "en")

Plain = str | int | float | bool | None


def _check_plain(context: dict[str, Any]) -> None:
    for name, value in context.items():
        values = value.values() if isinstance(value, dict) else [value]
        if not all(isinstance(item, Plain) for item in values):
            raise TypeError(f"mail context {name!r} must be a plain value (ids and strings), got {type(value).__name__}")


async def queue_mail(
    template: str,
    *,
    to: str,
    locale: str,
    context: dict[str, Any],
    key: str = "",
    secret: Iterable[str] = (),
    using_db: Any = None,
) -> OutboxMessage:
    """Queue the mail `templates/email/<template>.txt` to `to`, rendered in `locale`.

    `key` names the object the mail is about (mails about one object go out in order); `secret` names
    context entries (e.g. a one-time token) that are blanked in the outbox row once the mail is sent.
    Call it with the `using_db` of the transaction that makes the change.
    """
    _check_plain(context)
    secret = list(secret)
    unknown = set(secret) - set(context)
    if unknown:
        raise ValueError(f"secret names unknown context entries: {sorted(unknown)}")
    payload = {
        "template": template,
        "to": to,
        "locale": locale if locale in LOCALES else LOCALES[0],
        "context": context,
        "secret": secret,
    }
    return await outbox.enqueue(TOPIC, key or f"mail:{to}"[:64], payload, using_db=using_db)


async def cancel_queued(key: str, *, reason: str, using_db: Any = None) -> int:
    """Stop mails about `key` that have not gone out yet (e.g. an invitation revoked before it was sent).

    Their secret context entries are blanked too. A mail already being sent may still arrive.
    """
    cancelled = 0
    for message in await OutboxMessage.filter(topic=TOPIC, key=key, processed_at=None).using_db(using_db):
        message.payload = redacted(message.payload)
        message.processed_at = timezone.now()
        message.last_error = f"cancelled: {reason}"
        await message.save(update_fields=["payload", "processed_at", "last_error"], using_db=using_db)
        cancelled += 1
    return cancelled


def redacted(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its secret context entries blanked, to keep in the outbox after sending."""
    secret = set(payload.get("secret", []))
    context = {name: ("" if name in secret else value) for name, value in payload.get("context", {}).items()}
    return {**payload, "context": context}
