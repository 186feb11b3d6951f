"""A small iCalendar (RFC 5545) writer: a VCALENDAR of point-in-time VEVENTs, for deadline feeds.

No iCalendar library is among the project's dependencies and the subset needed is tiny: escaped
TEXT values, UTC DATE-TIME values, CRLF line endings and lines folded at 75 octets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

CRLF = "\r\n"
MAX_LINE_OCTETS = 75


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, newlines as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    # Other control characters are not allowed in a content line (§3.1); tabs are.
    return "".join(ch for ch in value if ch == "\t" or ord(ch) >= 0x20 and ord(ch) != 0x7F)


def utc(moment: datetime) -> str:
    """A DATE-TIME in UTC ("form #2"), e.g. 20260401T003000Z."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Split a content line into lines of at most 75 octets (§3.1), never inside a UTF-8 character.

    Each continuation line starts with one space, which counts towards its 75 octets.
    """
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    limit = MAX_LINE_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, MAX_LINE_OCTETS - 1
        current.append(ch)
        size += width
    pieces.append("".join(current))
    return (CRLF + " ").join(pieces)


def content_line(name: str, value: str) -> str:
    return fold(f"{name}:{value}")


@dataclass
class Event:
    """A moment in time (a deadline): DTSTART only, which RFC 5545 reads as an event of no duration."""

    uid: str
    start: datetime
    summary: str
    stamp: datetime  # when this event last changed (DTSTAMP; no METHOD, so it equals LAST-MODIFIED)
    url: str = ""
    description: str = ""
    cancelled: bool = False
    categories: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [
            "BEGIN:VEVENT",
            content_line("UID", escape_text(self.uid)),
            content_line("DTSTAMP", utc(self.stamp)),
            content_line("LAST-MODIFIED", utc(self.stamp)),
            content_line("DTSTART", utc(self.start)),
            content_line("SUMMARY", escape_text(self.summary)),
            "TRANSP:TRANSPARENT",  # a deadline does not make anyone busy
            "STATUS:CANCELLED" if self.cancelled else "STATUS:CONFIRMED",
        ]
        if self.description:
            lines.append(content_line("DESCRIPTION", escape_text(self.description)))
        if self.url:
            lines.append(content_line("URL", self.url))
        if self.categories:
            lines.append(content_line("CATEGORIES", ",".join(escape_text(c) for c in self.categories)))
        lines.append("END:VEVENT")
        return lines


def calendar(events: Iterable[Event], *, prodid: str, name: str = "", time_zone: str = "Asia/Tokyo") -> str:
    """The whole VCALENDAR as text with CRLF line endings (encode it as UTF-8)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        content_line("PRODID", escape_text(prodid)),
        "CALSCALE:GREGORIAN",
    ]
    if name:
        lines.append(content_line("X-WR-CALNAME", escape_text(name)))
    if time_zone:
        lines.append(content_line("X-WR-TIMEZONE", time_zone))
    for event in events:
        lines.extend(event.lines())
    lines.append("END:VCALENDAR")
    return CRLF.join(lines) + CRLF
