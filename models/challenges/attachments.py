"""Attachments on challenges: who may add and remove them, what a file is (by its content), the audit.

The bytes live in a `BlobStore` (server.storage.FileStore on disk), content-addressed by SHA-256. A
row is committed only after its file is in place, so every row's bytes exist; adding and removing
hold the store's lock for the digest, so removing one row never deletes bytes another row needs.
"""

from __future__ import annotations

import asyncio
import codecs
import errno
import logging
import unicodedata
import zipfile
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from xml.etree import ElementTree as ET

from tortoise.transactions import in_transaction

from models.challenges import lifecycle as challenge_lifecycle
from models.challenges.models import Attachment, Challenge
from models.core import audit
from models.core.errors import N_, InvalidTransition, NotAllowed, NotFound, StorageFull, ValidationFailed
from models.policy import Actor
from models.policy.challenges import ATTACHMENTS_CHANGEABLE, may_view_challenge, owns_challenge

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
# The errors of a write that found no room: the disk is full, a quota is spent, a file-size limit is reached.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
STORAGE_FULL = N_("The file could not be stored: there is no room left for attachments. Nothing was kept; "
                  "please try again later.")
MAX_FILENAME = 200

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TEXT = "text/plain"
CSV = "text/csv"

# An OOXML package names its main part's content type in [Content_Types].xml; macro-enabled
# variants (docm, xlsm, pptm) declare other types and are refused.
OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
CONTENT_TYPES_PART = "[Content_Types].xml"
CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
MAX_CONTENT_TYPES_BYTES = 1024 * 1024

EXTENSIONS = {
    PDF: ("pdf",),
    PNG: ("png",),
    JPEG: ("jpg", "jpeg"),
    DOCX: ("docx",),
    XLSX: ("xlsx",),
    PPTX: ("pptx",),
    TEXT: ("txt",),
    CSV: ("csv",),
}
KIND_NAMES = {
    PDF: N_("PDF document"),
    PNG: N_("PNG image"),
    JPEG: N_("JPEG image"),
    DOCX: N_("Word document"),
    XLSX: N_("Excel workbook"),
    PPTX: N_("PowerPoint presentation"),
    TEXT: N_("Text file"),
    CSV: N_("CSV file"),
}
# Text in UTF-8, or in Shift_JIS (as Excel in Japan saves CSV); tried in this order.
TEXT_ENCODINGS = (("utf-8-sig", "utf-8"), ("cp932", "shift_jis"))
ALLOWED_CONTROL = {"\t", "\n", "\r", "\f"}

TOO_LARGE = N_("The file is larger than 20 MB.")
EMPTY = N_("The file is empty.")
NO_FILE = N_("Choose a file to upload.")
WRONG_TYPE = N_("This kind of file cannot be attached. Attach a PDF, PNG or JPEG image, Word, Excel or "
                "PowerPoint file (docx, xlsx, pptx), or a plain text or CSV file.")


class SpooledBlob(Protocol):
    path: Path
    size: int
    sha256: str
    head: bytes


class BlobStore(Protocol):
    def spool(self, source: BinaryIO, limit: int) -> SpooledBlob: ...
    def keep(self, blob: SpooledBlob) -> None: ...
    def discard(self, blob: SpooledBlob) -> None: ...
    def remove(self, digest: str) -> None: ...
    def lock(self, digest: str) -> AbstractAsyncContextManager[None]: ...


# --- what a file is --------------------------------------------------------------------------


def detect_type(path: Path, filename: str = "") -> str | None:
    """The content type of the file at `path`, judged by its bytes; None when it is not allowed.

    The name only chooses between text/plain and text/csv once the content is known to be text.
    """
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_type(path)
    encoding = _text_encoding(path)
    if encoding is None:
        return None
    kind = CSV if filename.lower().endswith(".csv") else TEXT
    return f"{kind}; charset={encoding}"


def _ooxml_type(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
            info = package.getinfo(CONTENT_TYPES_PART) if CONTENT_TYPES_PART in names else None
            if info is None or info.file_size > MAX_CONTENT_TYPES_BYTES:
                return None
            root = ET.fromstring(package.read(info))
    except (zipfile.BadZipFile, ET.ParseError, OSError, RuntimeError, NotImplementedError, EOFError, ValueError):
        return None
    if root.tag != f"{CONTENT_TYPES_NS}Types":
        return None
    for override in root.iter(f"{CONTENT_TYPES_NS}Override"):
        kind = OOXML_MAIN_PARTS.get((override.get("ContentType") or "").strip().lower())
        part = (override.get("PartName") or "").lstrip("/")
        if kind and part in names:
            return kind
    return None


def _text_encoding(path: Path) -> str | None:
    for codec, charset in TEXT_ENCODINGS:
        decoder = codecs.getincrementaldecoder(codec)(errors="strict")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1024 * 1024):
                    if b"\x00" in chunk or not _printable(decoder.decode(chunk)):
                        return None  # binary: no other encoding will make it text
                if not _printable(decoder.decode(b"", final=True)):
                    return None
        except UnicodeDecodeError:
            continue
        return charset
    return None


def _printable(text: str) -> bool:
    return all(ch in ALLOWED_CONTROL or unicodedata.category(ch) != "Cc" for ch in text)


def base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip()


def kind_name(content_type: str) -> str:
    """The English message id naming the kind of file (translate it to show it)."""
    return KIND_NAMES.get(base_type(content_type), N_("File"))


def clean_filename(raw: str | None, content_type: str) -> str:
    """A name safe to show and to offer for download: no path, no control or bidi characters, and an
    extension that matches the content (so "report.html" holding a PDF becomes "report.html.pdf")."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).strip(" .")
    extensions = EXTENSIONS.get(base_type(content_type), ())
    stem, dot, extension = name.rpartition(".")
    if extensions and not (dot and extension.lower() in extensions):
        stem, extension = name, extensions[0]
    stem = (stem or "attachment")[: MAX_FILENAME - len(extension) - 1]
    return f"{stem}.{extension}" if extension else stem


# --- who may do what -------------------------------------------------------------------------


async def check_may_change(actor: Actor, challenge: Challenge) -> None:
    """Owners add and remove attachments while the challenge is a draft, sent back, or open."""
    if not await owns_challenge(actor, challenge):
        raise NotAllowed("only the challenge's owners change its attachments")
    if challenge.status not in ATTACHMENTS_CHANGEABLE:
        raise InvalidTransition(
            N_("Attachments can only be changed while the challenge is a draft, sent back for changes, or open for proposals."),
            allowed=await challenge_lifecycle.allowed_transitions(actor, challenge),
        )


async def attachments_of(challenge: Challenge) -> list[Attachment]:
    """A challenge's attachments, oldest first (show them only to those who may see the challenge)."""
    return await Attachment.filter(challenge_id=challenge.id).order_by("id")


async def get_for_download(actor: Actor, attachment_id: int) -> Attachment:
    """An attachment is visible exactly when its challenge is; others' files do not exist for them."""
    attachment = await Attachment.get_or_none(id=attachment_id)
    if attachment is None or attachment.challenge_id is None:
        raise NotFound("no such attachment")  # proposal attachments are served by their own area
    challenge = await Challenge.get_or_none(id=attachment.challenge_id)
    if challenge is None or not await may_view_challenge(actor, challenge):
        raise NotFound("no such attachment")
    return attachment


# --- the two changes -------------------------------------------------------------------------


async def add_attachment(
    actor: Actor,
    challenge: Challenge,
    source: BinaryIO | None,
    filename: str | None,
    store: BlobStore,
    *,
    client_address: str = "",
) -> Attachment:
    """Check, store and record one file; `source` is read once, in chunks, in a worker thread."""
    await check_may_change(actor, challenge)
    async with kept_file(source, filename, store) as kept:
        async with in_transaction():
            attachment = await Attachment.create(challenge=challenge, uploaded_by=actor.user, **kept)
            await audit.record(
                "attachment.added", actor=actor.user, organisation=await challenge.owner,
                target=challenge, after=_described(attachment), client_address=client_address,
            )
    return attachment


@asynccontextmanager
async def kept_file(source: BinaryIO | None, filename: str | None, store: BlobStore) -> AsyncIterator[dict[str, Any]]:
    """Check and store one file, then, holding the store's lock for its digest, give the fields of the
    `Attachment` row to create (the caller creates it, in its own transaction, inside this block).
    Other areas (a pilot milestone's evidence) attach files through this too."""
    if source is None:
        raise ValidationFailed({"file": NO_FILE})
    try:
        blob = await asyncio.to_thread(store.spool, source, MAX_BYTES)  # removes its temporary file if it fails
    except OSError as exc:
        _refuse_when_full(exc)
        raise
    try:
        if blob.size == 0:
            raise ValidationFailed({"file": EMPTY})
        if blob.size > MAX_BYTES:
            raise ValidationFailed({"file": TOO_LARGE})
        content_type = await asyncio.to_thread(detect_type, blob.path, filename or "")
        if content_type is None:
            raise ValidationFailed({"file": WRONG_TYPE})
        async with store.lock(blob.sha256):
            try:
                await asyncio.to_thread(store.keep, blob)
            except OSError as exc:
                _refuse_when_full(exc)
                raise
            yield {"filename": clean_filename(filename, content_type), "content_type": content_type,
                   "size": blob.size, "sha256": blob.sha256}
    finally:
        await asyncio.to_thread(store.discard, blob)  # a no-op once kept


def _refuse_when_full(exc: OSError) -> None:
    """A write that found no room becomes a clear refusal (and an error in the log for the operators)."""
    if exc.errno in NO_ROOM:
        log.error("attachments: no room left to store an upload: %s", exc)
        raise StorageFull(STORAGE_FULL) from exc


async def remove_attachment(
    actor: Actor, challenge: Challenge, attachment_id: int, store: BlobStore, *, client_address: str = ""
) -> None:
    """Forget one attachment; its bytes go too unless another attachment has the same content."""
    await check_may_change(actor, challenge)
    attachment = await Attachment.get_or_none(id=attachment_id, challenge_id=challenge.id)
    if attachment is None:
        raise NotFound("no such attachment on this challenge")
    async with store.lock(attachment.sha256):
        async with in_transaction():
            await attachment.delete()
            await audit.record(
                "attachment.removed", actor=actor.user, organisation=await challenge.owner,
                target=challenge, before=_described(attachment), client_address=client_address,
            )
        if not await Attachment.exists(sha256=attachment.sha256):
            await asyncio.to_thread(store.remove, attachment.sha256)


def _described(attachment: Attachment) -> dict:
    return {
        "attachment": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }
