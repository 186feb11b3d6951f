"""Outgoing e-mail: the outbox consumer for topic "mail".

A mail is queued by the domain (`models.core.mail.queue_mail`) in the transaction of the change that causes
it, then rendered here from `templates/email/<template>.txt` in the recipient's language and sent over
SMTP (`SMTP_URL`, from `MAIL_FROM`). The first line of a template is the subject, the rest the body.
Context entries whose names end in `_at` hold ISO 8601 times and reach the template as datetimes.

Delivery: at least once, and never twice per event in practice. The outbox row is marked as sent right
after the SMTP server accepts the mail, then as processed by the drain. A crash of the worker (or the
database going away) in the instant between the server's acceptance and that first write leaves the row
unmarked, and the mail is sent again on the next drain. Such a duplicate carries the same Message-ID,
derived from the outbox row id, so mail clients and humans can recognise it.

Without `SMTP_URL` the consumer is not registered (see `server.jobs`): mails stay queued in the outbox
and go out once SMTP is configured. `kyoso run` has no SMTP server, so in development they stay queued.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
from tortoise import timezone

from models.core.mail import TOPIC, redacted
from models.core.outbox import OutboxMessage
from server import i18n
from server.settings import Settings
from server.templating import environment

log = logging.getLogger("kyoso.mail")

SMTP_TIMEOUT = 30.0
__all__ = ["TOPIC", "configure", "render", "send_mail_message"]


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


class MailNotConfigured(RuntimeError):
    """Raised (so the message is retried later) when a mail is handed over before `configure`."""


_settings: Settings | None = None


def configure(settings: Settings) -> bool:
    """Give the consumer its settings; True when mail can be sent (SMTP_URL is set)."""
    global _settings
    _settings = settings if settings.smtp_url else None
    if _settings is None:
        log.info("SMTP_URL is unset: e-mails stay queued in the outbox until it is set")
        return False
    i18n.compile_catalogues()  # the worker may start before the web process has compiled them
    return True


def _template_context(context: dict[str, Any]) -> dict[str, Any]:
    values = dict(context)
    for name, value in context.items():
        if name.endswith("_at") and isinstance(value, str) and value:
            values[name] = datetime.fromisoformat(value)
    return values


def render(template: str, locale: str, context: dict[str, Any], *, base_url: str) -> RenderedMail:
    """Render `templates/email/<template>.txt` in `locale`: first line the subject, then the body."""
    with i18n.using_locale(locale):
        text = environment.get_template(f"email/{template}.txt").render(
            **_template_context(context), base_url=base_url
        )
    first_line, _, rest = text.lstrip().partition("\n")
    subject = " ".join(first_line.split())
    if not subject:
        raise ValueError(f"email/{template}.txt renders no subject line")
    return RenderedMail(subject=subject, body=rest.strip("\n") + "\n")


def _message_id(message: OutboxMessage, settings: Settings) -> str:
    host = urlsplit(settings.base_url).hostname or "kyoso.localhost"
    return f"<kyoso.outbox.{message.id}@{host}>"


def build_message(message: OutboxMessage, settings: Settings) -> EmailMessage:
    payload = message.payload
    locale = payload.get("locale", i18n.DEFAULT_LOCALE)
    mail = render(payload["template"], locale, payload.get("context", {}), base_url=settings.base_url)
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = payload["to"]
    email["Subject"] = mail.subject
    email["Date"] = rfc2822_date(timezone.now())
    email["Message-ID"] = _message_id(message, settings)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(mail.body, charset="utf-8", cte="quoted-printable")
    email["Content-Language"] = locale  # after set_content, which replaces the Content-* headers
    return email


def _smtp_options(smtp_url: str) -> dict[str, Any]:
    parts = urlsplit(smtp_url)
    secure = parts.scheme == "smtps"
    return {
        "hostname": parts.hostname or "127.0.0.1",
        "port": parts.port or (465 if secure else 25),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_tls": secure,
        "timeout": SMTP_TIMEOUT,
    }


def _permanently_refused(exc: Exception) -> bool:
    """5xx answers about the recipient or the content: retrying would not help."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= refusal.code < 600 for refusal in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return 500 <= exc.code < 600
    return False


async def send_mail_message(message: OutboxMessage) -> None:
    """Outbox consumer: send one queued mail. Raising leaves the message queued, to be retried."""
    settings = _settings
    if settings is None or not settings.smtp_url:
        raise MailNotConfigured("SMTP_URL is not configured")
    if message.payload.get("sent_at"):
        # Sent by an earlier attempt that stopped before the drain marked the row processed.
        return
    email = build_message(message, settings)
    try:
        await aiosmtplib.send(email, **_smtp_options(settings.smtp_url))
    except Exception as exc:
        if not _permanently_refused(exc):
            raise
        log.warning("mail %s to %s refused for good: %s", message.id, message.payload.get("to"), exc)
        message.payload = {**redacted(message.payload), "undeliverable": str(exc)[:500]}
        message.last_error = f"undeliverable: {exc}"[:2000]
        await message.save(update_fields=["payload", "last_error"])
        return
    message.payload = {**redacted(message.payload), "sent_at": timezone.now().isoformat()}
    await message.save(update_fields=["payload"])
