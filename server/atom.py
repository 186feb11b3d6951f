"""A small Atom 1.0 (RFC 4287) writer on the standard library's ElementTree, which does the escaping."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MEDIA_TYPE = "application/atom+xml"
# Characters XML 1.0 does not allow at all (people's text can hold them); they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udfff]")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Category:
    term: str
    label: str = ""


@dataclass
class Entry:
    id: str
    title: str
    updated: datetime
    link: str
    author: str
    published: datetime | None = None
    summary: str = ""
    categories: list[Category] = field(default_factory=list)


@dataclass
class Feed:
    id: str
    title: str
    updated: datetime
    self_url: str
    alternate_url: str = ""
    subtitle: str = ""
    language: str = ""
    generator: str = ""
    entries: list[Entry] = field(default_factory=list)


def _text(parent: ET.Element, tag: str, value: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    element.text = xml_text(value)
    return element


def _entry(parent: ET.Element, entry: Entry) -> None:
    element = ET.SubElement(parent, "entry")
    _text(element, "id", entry.id)
    _text(element, "title", entry.title, type="text")
    _text(element, "updated", rfc3339(entry.updated))
    if entry.published is not None:
        _text(element, "published", rfc3339(entry.published))
    ET.SubElement(element, "link", {"rel": "alternate", "type": "text/html", "href": entry.link})
    author = ET.SubElement(element, "author")
    _text(author, "name", entry.author)
    for category in entry.categories:
        attributes = {"term": xml_text(category.term)}
        if category.label:
            attributes["label"] = xml_text(category.label)
        ET.SubElement(element, "category", attributes)
    if entry.summary:
        _text(element, "summary", entry.summary, type="text")


def render(feed: Feed) -> bytes:
    """The feed document as UTF-8 bytes, with its XML declaration."""
    root = ET.Element("feed", {"xmlns": ATOM_NS})
    if feed.language:
        root.set(XML_LANG, feed.language)
    _text(root, "id", feed.id)
    _text(root, "title", feed.title, type="text")
    if feed.subtitle:
        _text(root, "subtitle", feed.subtitle, type="text")
    _text(root, "updated", rfc3339(feed.updated))
    ET.SubElement(root, "link", {"rel": "self", "type": MEDIA_TYPE, "href": feed.self_url})
    if feed.alternate_url:
        ET.SubElement(root, "link", {"rel": "alternate", "type": "text/html", "href": feed.alternate_url})
    if feed.generator:
        _text(root, "generator", feed.generator)
    for entry in feed.entries:
        _entry(root, entry)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
