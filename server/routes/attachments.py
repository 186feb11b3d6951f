"""Attachments on challenges: upload (page and API), download, removal.

Uploads are parsed by Starlette, which spools each file part to a temporary file past 1 MB; the body
is capped while it is read, so an oversized upload is refused without filling a disk. The domain
(models.challenges.attachments) then copies the bytes once more, hashing them, into the content-addressed store.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import BinaryIO
from urllib.parse import quote

from babel.numbers import format_decimal
from pydantic import BaseModel
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive

from models.challenges import attachments as domain
from models.challenges import lifecycle as lifecycle
from models.challenges.models import Attachment, Challenge
from models.core.errors import NotFound, StorageFull, ValidationFailed
from models.policy import Actor
from models.policy.challenges import is_public, may_change_attachments
from server import flash
from server.api import api
from server.caching import shared
from server.forms import errors_from
from server.i18n import TOKYO, get_locale
from server.i18n import gettext as _
from server.problems import page_message, signed_in
from server.storage import FileStore

log = logging.getLogger("kyoso.attachments")
SEE_OTHER = 303
FILE_FIELD = "file"
# The multipart envelope (boundary, headers, the CSRF field) around a file of the largest size.
BODY_SLACK = 64 * 1024
MAX_BODY = domain.MAX_BYTES + BODY_SLACK


class BodyTooLarge(Exception):
    pass


def store_for(request: Request) -> FileStore:
    return FileStore(request.app.state.settings.attachments_dir)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def _capped(receive: Receive, limit: int) -> Receive:
    received = 0

    async def capped_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge()
        return message

    return capped_receive


@asynccontextmanager
async def uploaded(request: Request) -> AsyncIterator[tuple[BinaryIO | None, str, dict[str, str]]]:
    """The uploaded file (or None), its name as sent, and the form's text fields (the CSRF token left out);
    the body is capped as it is read and the file's temporary file is closed afterwards. Other areas
    (a milestone's evidence) read their uploads through this too."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ValidationFailed({FILE_FIELD: domain.TOO_LARGE})
    limited = Request(request.scope, _capped(request.receive, MAX_BODY))
    try:
        form = await limited.form(max_files=1, max_fields=10)
    except BodyTooLarge:
        raise ValidationFailed({FILE_FIELD: domain.TOO_LARGE}) from None
    try:
        upload = form.get(FILE_FIELD)
        fields = {key: value for key, value in form.items() if isinstance(value, str) and key != "csrftoken"}
        if isinstance(upload, UploadFile) and (upload.filename or upload.size):
            yield upload.file, upload.filename or "", fields
        else:
            yield None, "", fields
    finally:
        await form.close()


async def _add(request: Request, actor: Actor, challenge: Challenge) -> Attachment:
    await domain.check_may_change(actor, challenge)  # before reading the body
    async with uploaded(request) as (source, filename, _fields):
        return await domain.add_attachment(
            actor, challenge, source, filename, store_for(request), client_address=_client_address(request)
        )


# --- API -------------------------------------------------------------------------------------


class AttachmentOut(BaseModel):
    id: int
    challenge_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str
    created_at: datetime

    @classmethod
    def of(cls, attachment: Attachment, base_url: str) -> AttachmentOut:
        return cls(
            id=attachment.id,
            challenge_id=attachment.challenge_id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            url=f"{base_url}/attachments/{attachment.id}",
            created_at=attachment.created_at.astimezone(TOKYO),
        )


@api.operation(
    "/challenges/{challenge_id:int}/attachments",
    "POST",
    summary="Attach a file to a challenge (multipart/form-data, field `file`: PDF, PNG, JPEG, docx, xlsx, "
            "pptx, text or CSV; at most 20 MB; the type is judged by the content)",
    response=AttachmentOut,
    status=201,
    tags=["challenges"],
    upload=True,
    errors=(507,),
)
async def attach_file(request: Request, actor: Actor, challenge_id: int) -> AttachmentOut:
    challenge = await lifecycle.get_challenge(actor, challenge_id)
    attachment = await _add(request, actor, challenge)
    return AttachmentOut.of(attachment, request.app.state.settings.base_url)


# --- pages -----------------------------------------------------------------------------------


async def upload_page(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    try:
        await _add(request, actor, challenge)
    except (ValidationFailed, StorageFull) as exc:
        # The challenge page again, with the message beside the file field (imported here: the
        # challenges module imports this one for its detail page).
        from server.routes import challenges as challenge_pages

        if isinstance(exc, StorageFull):
            return await challenge_pages._detail(request, actor, challenge, {FILE_FIELD: page_message(exc)}, exc.status)
        return await challenge_pages._detail(request, actor, challenge, errors_from(exc), 400)
    return flash.redirect(f"/challenges/{challenge.id}#attachments", "attachment.added")


async def remove_page(request: Request) -> Response:
    actor = signed_in(request)
    challenge = await lifecycle.get_challenge(actor, request.path_params["challenge_id"])
    await domain.remove_attachment(
        actor, challenge, request.path_params["attachment_id"], store_for(request),
        client_address=_client_address(request),
    )
    return flash.redirect(f"/challenges/{challenge.id}#attachments", "attachment.removed")


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the real one as RFC 5987/6266 `filename*`."""
    fallback = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def download(request: Request) -> Response:
    actor: Actor = request.state.actor
    attachment = await domain.get_for_download(actor, request.path_params["attachment_id"])
    path = store_for(request).path_for(attachment.sha256)
    if not path.is_file():
        log.error("attachment %s: its bytes %s are missing from the store", attachment.id, attachment.sha256)
        raise NotFound("the attachment's file is missing")
    headers = {
        "Content-Disposition": content_disposition(attachment.filename),
        "Cache-Control": "private, no-cache",  # visibility can change (a draft is published, or cancelled)
    }
    return FileResponse(path, media_type=attachment.content_type, headers=headers)


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(max(1, round(size / 1024)), locale=get_locale()))
    return _("%(size)s MB", size=format_decimal(round(size / (1024 * 1024), 1), locale=get_locale()))


async def detail_context(actor: Actor, challenge: Challenge) -> dict:
    """The challenge's attachments (shown to whoever sees the page) and whether the upload form shows."""
    return {
        "attachments": [
            {
                "id": attachment.id,
                "filename": attachment.filename,
                "kind": _(domain.kind_name(attachment.content_type)),
                "size": _size(attachment.size),
            }
            for attachment in await shared(("attachments", challenge.id), lambda: domain.attachments_of(challenge),
                                           public=is_public(challenge))
        ],
        "may_attach": await may_change_attachments(actor, challenge),
    }


routes: list[BaseRoute] = [
    Route("/challenges/{challenge_id:int}/attachments", upload_page, methods=["POST"], name="attach_file"),
    Route("/challenges/{challenge_id:int}/attachments/{attachment_id:int}/delete", remove_page, methods=["POST"],
          name="remove_attachment"),
    Route("/attachments/{attachment_id:int}", download, methods=["GET"], name="attachment"),
]
