"""Outgoing mail: rendered in the recipient's language, queued in the outbox, sent by a real arq worker to
a real SMTP server (aiosmtpd), at least once and, barring a crash in the instant after sending, once."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from tortoise import timezone

from models.core.mail import queue_mail
from models.core.outbox import OutboxMessage
from server import i18n, mail
from server.devrun import free_port
from tests.workers import run_worker_once

CONTEXT = {
    "organisation_name": "Shibuya City",
    "inviter_name": "Hanako Yamada",
    "role": "admin",
    "expires_at": "2026-03-31T15:30:00+00:00",  # 00:30 on 1 April in Tokyo
    "token": "the-token",
}


def _address(label: str) -> str:
    return f"{label}-{secrets.token_hex(4)}@example.jp"


async def _queue(to: str, locale: str = "en") -> OutboxMessage:
    return await queue_mail("invitation", to=to, locale=locale, context=CONTEXT, key=f"test:{to}", secret=["token"])


def test_a_mail_is_rendered_in_the_recipients_language():
    english = mail.render("invitation", "en", CONTEXT, base_url="http://testserver")
    assert english.subject == "Invitation to join Shibuya City on Kyoso"
    assert "Hanako Yamada has invited you to join Shibuya City on Kyoso as an administrator." in english.body
    assert "http://testserver/invitations/the-token\n" in english.body
    assert "1 Apr 2026, 00:30 JST" in english.body

    japanese = mail.render("invitation", "ja", {**CONTEXT, "organisation_name": "渋谷区"}, base_url="http://testserver")
    with i18n.using_locale("ja"):
        subject = i18n.gettext("Invitation to join %(organisation)s on Kyoso", organisation="渋谷区")
    assert japanese.subject == subject
    assert "2026年4月1日 0:30 JST" in japanese.body
    assert "http://testserver/invitations/the-token\n" in japanese.body
    assert i18n.get_locale() == i18n.DEFAULT_LOCALE  # rendering a mail leaves the caller's language alone


async def test_the_worker_sends_a_queued_mail_once_with_a_message_id_from_the_outbox_row(app, migrated, smtp):
    to = _address("once")
    message = await _queue(to, locale="ja")
    assert smtp.messages_to(to) == []  # queued, not sent, until a worker drains the outbox

    await run_worker_once(migrated)

    [received] = smtp.messages_to(to)
    assert received.message["Message-ID"] == f"<kyoso.outbox.{message.id}@testserver>"
    assert received.message["Content-Language"] == "ja"
    assert received.message["From"] == migrated.mail_from
    assert received.sender == "no-reply@kyoso.localhost"
    assert "2026年4月1日 0:30 JST" in received.body
    await message.refresh_from_db()
    assert message.processed_at is not None
    assert message.payload["sent_at"]
    assert message.payload["context"]["token"] == ""  # the one-time token does not stay in the outbox
    assert message.payload["context"]["organisation_name"] == "Shibuya City"

    await run_worker_once(migrated)
    assert len(smtp.messages_to(to)) == 1


async def test_a_mail_sent_but_not_marked_processed_is_not_sent_again(app, migrated, smtp):
    # The worker stopped after the send was recorded on the row but before the drain marked it processed.
    to = _address("crash")
    message = await _queue(to)
    await run_worker_once(migrated)
    await OutboxMessage.filter(id=message.id).update(processed_at=None)

    await run_worker_once(migrated)

    assert len(smtp.messages_to(to)) == 1
    await message.refresh_from_db()
    assert message.processed_at is not None


async def test_without_smtp_mail_stays_queued_until_smtp_is_configured(app, migrated, smtp):
    to = _address("queued")
    message = await _queue(to)

    await run_worker_once(migrated.model_copy(update={"smtp_url": None}))

    await message.refresh_from_db()
    assert message.processed_at is None and message.attempts == 0
    assert smtp.messages_to(to) == []

    await run_worker_once(migrated)
    assert len(smtp.messages_to(to)) == 1


async def test_an_unreachable_smtp_server_means_a_retry_later(app, migrated, smtp):
    to = _address("retry")
    message = await _queue(to)

    await run_worker_once(migrated.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"}))

    await message.refresh_from_db()
    assert message.processed_at is None and message.attempts == 1
    assert message.last_error and message.available_at > timezone.now()
    assert message.payload["context"]["token"] == "the-token"  # still needed for the retry

    await OutboxMessage.filter(id=message.id).update(available_at=timezone.now() - timedelta(seconds=1))
    await run_worker_once(migrated)
    assert len(smtp.messages_to(to)) == 1


async def test_a_permanently_refused_recipient_is_not_retried(app, migrated, smtp):
    to = _address("bounce")
    message = await _queue(to)

    await run_worker_once(migrated)

    await message.refresh_from_db()
    assert message.processed_at is not None
    assert message.last_error.startswith("undeliverable")
    assert "550" in message.payload["undeliverable"]
    assert message.payload["context"]["token"] == ""
    assert smtp.messages_to(to) == []


async def test_the_consumer_refuses_to_run_unconfigured(app, migrated):
    message = await _queue(_address("unconfigured"))
    mail.configure(migrated.model_copy(update={"smtp_url": None}))
    try:
        with pytest.raises(mail.MailNotConfigured):
            await mail.send_mail_message(message)
    finally:
        mail.configure(migrated)
        await OutboxMessage.filter(id=message.id).delete()


async def test_mail_context_must_be_plain_values(app, migrated):
    with pytest.raises(TypeError):
        await queue_mail("invitation", to="x@example.jp", locale="en", context={"when": timezone.now()})
    with pytest.raises(ValueError):
        await queue_mail("invitation", to="x@example.jp", locale="en", context={}, secret=["token"])


def test_sign_in_links_and_sign_up_notices_are_written_in_both_languages():
    link = {"name": "Hanako", "purpose": "sign_in", "token": "the-token", "expires_at": "2026-03-31T15:30:00+00:00"}
    english = mail.render("sign_in_link", "en", link, base_url="http://testserver")
    assert english.subject == "Your one-time sign-in link for Kyoso"
    assert "http://testserver/login/link/the-token\n" in english.body and "wrong passwords" in english.body
    confirm = mail.render("sign_in_link", "ja", {**link, "purpose": "confirm_sign_up"}, base_url="http://testserver")
    assert confirm.subject == "Kyoso のメールアドレスの確認" and "ご登録ありがとうございます" in confirm.body
    notice = mail.render("sign_up_existing", "ja", {"name": "花子"}, base_url="http://testserver")
    assert notice.subject == "あなたのメールアドレスで Kyoso への登録が試みられました"
    assert "http://testserver/login\n" in notice.body
    assert "already have an account" in mail.render("sign_up_existing", "en", {"name": "Hanako"}, base_url="http://x").body
