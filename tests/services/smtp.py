"""A real SMTP server (aiosmtpd) on a free loopback port that keeps every message it accepts.

Recipients whose local part starts with "bounce" are refused with 550, to test permanent failures.
It can be stopped and started again on the same port (an outage), and made slow (`rcpt_delay`: seconds it
takes to accept each recipient, before any message is accepted) so that a client can be killed mid-send.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from server.devrun import free_port


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return self.message.get_content().replace("\r\n", "\n")


class MailCollector:
    """The aiosmtpd handler; runs in the controller's thread, so the list is guarded by a lock."""

    def __init__(self, rcpt_delay: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._received: list[ReceivedMail] = []
        self.rcpt_delay = rcpt_delay

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if address.split("@")[0].lower().startswith("bounce"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[arg-type]
        with self._lock:
            self._received.append(ReceivedMail(str(envelope.mail_from), tuple(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    @property
    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._received)


class SmtpServer:
    def __init__(self, rcpt_delay: float = 0.0) -> None:
        self.collector = MailCollector(rcpt_delay)
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self._controller: Controller | None = None

    def start(self) -> None:
        """Start, or start again after `stop` on the same port, keeping what was received."""
        self._controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[ReceivedMail]:
        return self.collector.received

    def messages_to(self, address: str) -> list[ReceivedMail]:
        return [mail for mail in self.received if address.lower() in (r.lower() for r in mail.recipients)]


@contextmanager
def smtp_server(rcpt_delay: float = 0.0) -> Iterator[SmtpServer]:
    server = SmtpServer(rcpt_delay)
    server.start()
    try:
        yield server
    finally:
        server.stop()
