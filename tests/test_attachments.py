"""Attachments on challenges: type and size judged by content, content-addressed storage, who sees what."""

from __future__ import annotations

import asyncio
import hashlib
import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from models.challenges.attachments import MAX_BYTES, clean_filename, detect_type
from models.challenges.models import Attachment, Challenge
from models.core.audit import AuditEvent
from server.routes.attachments import content_disposition
from server.storage import FileStore
from tests.helpers import _draft as _challenge_draft
from tests.helpers import _publish, pdf
from tests.web import csrf_token, sign_in_as

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MAIN = {
    DOCX: ("word/document.xml", DOCX + ".main+xml"),
    XLSX: ("xl/workbook.xml", XLSX + ".main+xml"),
    PPTX: ("ppt/presentation.xml", PPTX + ".main+xml"),
}


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x11" * 32 + b"\xff\xd9"


def ooxml(main_part: str, main_type: str, *, declare: bool = True, include_part: bool = True) -> bytes:
    overrides = f'<Override PartName="/{main_part}" ContentType="{main_type}"/>' if declare else ""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>{overrides}</Types>',
        )
        package.writestr("_rels/.rels", "<Relationships/>")
        if include_part:
            package.writestr(main_part, "<document/>")
    return buffer.getvalue()


def office(kind: str) -> bytes:
    return ooxml(*MAIN[kind])


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("readme.txt", "hello")
    return buffer.getvalue()


async def _draft(client, cast) -> dict:
    # A title of its own: other tests look for the default title's absence from public pages.
    title = {"ja": "添付資料つきの課題", "en": "A challenge with attachments"}
    return await _challenge_draft(client, cast, title=title)


def store_of(app) -> FileStore:
    return FileStore(app.state.settings.attachments_dir)


async def _upload(client, cast, challenge_id: int, name: str, content: bytes, role: str = "agency"):
    return await client.post(
        f"/api/v1/challenges/{challenge_id}/attachments",
        files={"file": (name, content, "application/octet-stream")},
        headers=cast[role],
    )


def _incoming(app) -> list[Path]:
    incoming = store_of(app).incoming
    return list(incoming.iterdir()) if incoming.exists() else []


# --- what a file is --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (pdf(), "a.pdf", "application/pdf"),
        (png(), "a.png", "image/png"),
        (jpeg(), "a.jpg", "image/jpeg"),
        (office(DOCX), "a.docx", DOCX),
        (office(XLSX), "a.xlsx", XLSX),
        (office(PPTX), "a.pptx", PPTX),
        (pdf(), "named-like-a.png", "application/pdf"),  # the content decides, not the name
        (office(DOCX), "a.xlsx", DOCX),
        ("名前,人数\n新宿区,3\n".encode(), "data.csv", "text/csv; charset=utf-8"),
        ("名前,人数\r\n新宿区,3\r\n".encode("cp932"), "data.csv", "text/csv; charset=shift_jis"),
        (b"\xef\xbb\xbfplain text with a BOM\n", "notes.txt", "text/plain; charset=utf-8"),
        (b"<html><script>alert(1)</script></html>", "page.html", "text/plain; charset=utf-8"),
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00", "a.gif", None),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "a.pdf", None),
        (plain_zip(), "a.docx", None),
        (ooxml("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"), "a.docm", None),
        (ooxml("word/document.xml", MAIN[DOCX][1], include_part=False), "a.docx", None),
        (ooxml("word/document.xml", MAIN[DOCX][1], declare=False), "a.docx", None),
        (b"PK\x03\x04 not really a zip", "a.docx", None),
        (b"text with a bell \x07", "a.txt", None),
    ],
)
def test_the_type_is_judged_by_the_content(tmp_path, content, name, expected):
    path = tmp_path / "upload"
    path.write_bytes(content)
    assert detect_type(path, name) == expected


def test_file_names_are_cleaned_and_match_the_content():
    assert clean_filename("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert clean_filename("C:\\Users\\me\\提案書.PDF", "application/pdf") == "提案書.PDF"
    assert clean_filename("report.html", "application/pdf") == "report.html.pdf"
    assert clean_filename("photo.jpeg", "image/jpeg") == "photo.jpeg"
    assert clean_filename("invoice\u202efdp.exe", "application/pdf") == "invoicefdp.exe.pdf"  # no bidi tricks
    assert clean_filename(" \x00\n.hidden ", "text/plain; charset=utf-8") == "hidden.txt"
    assert clean_filename("", "image/png") == "attachment.png"
    assert clean_filename(None, "text/csv; charset=shift_jis") == "attachment.csv"
    long = clean_filename("あ" * 400 + ".docx", DOCX)
    assert len(long) == 200 and long.endswith(".docx")


def test_the_download_name_is_given_in_ascii_and_rfc_5987():
    header = content_disposition('提案 "書" 1.pdf')
    assert header == "attachment; filename=\"__ ___ 1.pdf\"; filename*=UTF-8''%E6%8F%90%E6%A1%88%20%22%E6%9B%B8%22%201.pdf"
    assert content_disposition("plain.pdf") == "attachment; filename=\"plain.pdf\"; filename*=UTF-8''plain.pdf"


# --- the store -------------------------------------------------------------------------------


def test_the_store_keeps_bytes_under_their_digest_and_only_whole_files(tmp_path):
    store = FileStore(tmp_path)
    content = pdf(b"x" * 3000)
    blob = store.spool(io.BytesIO(content), limit=10_000)
    digest = hashlib.sha256(content).hexdigest()
    assert (blob.size, blob.sha256) == (len(content), digest)
    assert blob.path.parent == store.incoming and not store.exists(digest)
    store.keep(blob)
    assert store.path_for(digest) == tmp_path / digest[:2] / digest
    assert store.path_for(digest).read_bytes() == content
    assert list(store.incoming.iterdir()) == []
    store.discard(blob)  # harmless once kept

    too_big = store.spool(io.BytesIO(b"y" * 50), limit=10)
    assert too_big.size == 11  # it stops reading after the limit
    store.discard(too_big)
    assert list(store.incoming.iterdir()) == []
    with pytest.raises(ValueError):
        store.path_for("../../etc/passwd")


async def test_the_store_lock_serialises_one_digest(tmp_path):
    store = FileStore(tmp_path)
    digest = "ab" + "0" * 62
    order: list[str] = []

    async def hold(name: str, pause: float) -> None:
        async with store.lock(digest):
            order.append(f"{name} in")
            await asyncio.sleep(pause)
            order.append(f"{name} out")

    first = asyncio.create_task(hold("first", 0.1))
    await asyncio.sleep(0.01)
    await hold("second", 0)
    await first
    assert order == ["first in", "first out", "second in", "second out"]


# --- through the API and the pages ----------------------------------------------------------


async def test_an_owner_attaches_a_file_through_the_api(app, client, cast):
    challenge = await _draft(client, cast)
    content = pdf(b"% the plan\n")
    response = await _upload(client, cast, challenge["id"], "計画書.pdf", content)
    assert response.status_code == 201, response.text
    body = response.json()
    digest = hashlib.sha256(content).hexdigest()
    assert body["filename"] == "計画書.pdf" and body["content_type"] == "application/pdf"
    assert body["size"] == len(content) and body["sha256"] == digest
    assert body["url"] == f"http://testserver/attachments/{body['id']}"
    assert store_of(app).path_for(digest).read_bytes() == content
    row = await Attachment.get(id=body["id"])
    assert row.challenge_id == challenge["id"] and row.uploaded_by_id == cast["users"]["agency"].id
    event = await AuditEvent.get(action="attachment.added", target_type="challenge", target_id=str(challenge["id"]))
    assert event.after["filename"] == "計画書.pdf" and event.after["sha256"] == digest
    assert event.actor_id == cast["users"]["agency"].id

    disguised = await _upload(client, cast, challenge["id"], "report.pdf", png())
    assert disguised.status_code == 201
    assert disguised.json()["content_type"] == "image/png" and disguised.json()["filename"] == "report.pdf.png"
    for kind, name in ((DOCX, "a.docx"), (XLSX, "b.xlsx"), (PPTX, "c.pptx")):
        assert (await _upload(client, cast, challenge["id"], name, office(kind))).json()["content_type"] == kind


async def test_wrong_empty_and_oversized_files_are_refused_and_nothing_is_kept(app, client, cast):
    challenge = await _draft(client, cast)
    before = await Attachment.filter(challenge_id=challenge["id"]).count()
    cases = [
        ("program.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", "This kind of file cannot be attached"),
        ("nothing.pdf", b"", "The file is empty."),
        ("huge.pdf", pdf() + b"\x00" * (MAX_BYTES - len(pdf()) + 1), "The file is larger than 20 MB."),
        ("macro.docm", ooxml("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
         "This kind of file cannot be attached"),
    ]
    for name, content, message in cases:
        response = await _upload(client, cast, challenge["id"], name, content)
        assert response.status_code == 422, (name, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        errors = response.json()["errors"]
        assert errors[0]["field"] == "file" and errors[0]["message"].startswith(message)
    huger = await _upload(client, cast, challenge["id"], "huger.pdf", pdf() + b"\x00" * (MAX_BYTES + 200_000))
    assert huger.status_code == 413  # past the multipart envelope: the body limit (server/limits.py) refuses it
    no_file = await client.post(f"/api/v1/challenges/{challenge['id']}/attachments", data={"x": "1"}, headers=cast["agency"])
    assert no_file.status_code == 422 and no_file.json()["errors"][0]["message"] == "Choose a file to upload."
    assert await Attachment.filter(challenge_id=challenge["id"]).count() == before
    assert _incoming(app) == []

    exactly = pdf() + b"\x00" * (MAX_BYTES - len(pdf()))
    accepted = await _upload(client, cast, challenge["id"], "big.pdf", exactly)
    assert accepted.status_code == 201 and accepted.json()["size"] == MAX_BYTES


async def test_only_owners_attach_and_only_while_the_challenge_is_changeable(client, cast):
    challenge = await _draft(client, cast)
    assert (await client.post(f"/api/v1/challenges/{challenge['id']}/attachments", files={"file": ("a.pdf", pdf())})).status_code == 401
    for role in ("other_agency", "company"):  # a draft does not exist for them
        assert (await _upload(client, cast, challenge["id"], "a.pdf", pdf(), role=role)).status_code == 404
    assert (await _upload(client, cast, challenge["id"], "a.pdf", pdf(), role="operator")).status_code == 403
    await _publish(client, cast, challenge["id"])
    for role in ("other_agency", "company", "operator"):
        assert (await _upload(client, cast, challenge["id"], "a.pdf", pdf(), role=role)).status_code == 403
    assert (await _upload(client, cast, challenge["id"], "a.pdf", pdf())).status_code == 201  # published: still open
    await Challenge.filter(id=challenge["id"]).update(status="closed")
    closed = await _upload(client, cast, challenge["id"], "a.pdf", pdf())
    assert closed.status_code == 409 and closed.json()["allowed"] == []


async def test_a_drafts_attachments_are_seen_only_by_those_who_see_the_draft(client, cast):
    challenge = await _draft(client, cast)
    content = pdf(b"% confidential draft\n")
    attachment = (await _upload(client, cast, challenge["id"], "下書き資料.pdf", content)).json()
    url = f"/attachments/{attachment['id']}"
    assert (await client.get(url)).status_code == 404
    for role in ("other_agency", "company"):
        await sign_in_as(client, cast["users"][role])
        refused = await client.get(url)
        assert refused.status_code == 404 and b"confidential" not in refused.content
    for role in ("agency", "operator"):
        await sign_in_as(client, cast["users"][role])
        allowed = await client.get(url)
        assert allowed.status_code == 200 and allowed.content == content
    client.cookies.clear()

    await _publish(client, cast, challenge["id"])
    public = await client.get(url)
    assert public.status_code == 200 and public.content == content
    assert public.headers["content-type"] == "application/pdf"
    assert public.headers["x-content-type-options"] == "nosniff"
    assert public.headers["content-disposition"] == (
        "attachment; filename=\"_____.pdf\"; filename*=UTF-8''%E4%B8%8B%E6%9B%B8%E3%81%8D%E8%B3%87%E6%96%99.pdf"
    )
    assert (await client.get("/attachments/999999999")).status_code == 404
    orphan = await Attachment.create(challenge=None, filename="x.pdf", content_type="application/pdf", size=1,
                                     sha256=attachment["sha256"])
    assert (await client.get(f"/attachments/{orphan.id}")).status_code == 404  # not a challenge's file


async def test_attaching_and_removing_through_the_pages(app, client, cast):
    challenge = await _draft(client, cast)
    cid = challenge["id"]
    await sign_in_as(client, cast["users"]["agency"])
    page = await client.get(f"/challenges/{cid}?lang=en")
    assert 'enctype="multipart/form-data"' in page.text and 'id="field-file"' in page.text
    token = await csrf_token(client, f"/challenges/{cid}")

    # The token also goes in the X-CSRFToken header: asgi-csrf 0.11 cannot read it from a multipart body
    # with python-multipart >= 0.0.26 (see test_a_browser_form_upload_passes_the_csrf_check below).
    csrf = {"x-csrftoken": token}
    refused = await client.post(f"/challenges/{cid}/attachments?lang=en", data={"csrftoken": token}, headers=csrf,
                                files={"file": ("tool.exe", b"MZ\x90\x00\x00\x00\x00")})
    assert refused.status_code == 400
    assert "This kind of file cannot be attached" in refused.text and 'aria-invalid="true"' in refused.text

    content = "区,件数\n新宿区,12\n".encode()
    added = await client.post(f"/challenges/{cid}/attachments", data={"csrftoken": token}, headers=csrf,
                              files={"file": ("集計.csv", content, "text/csv")})
    assert added.status_code == 303 and added.headers["location"] == f"/challenges/{cid}#attachments"
    again = await client.post(f"/challenges/{cid}/attachments", data={"csrftoken": token}, headers=csrf,
                              files={"file": ("copy.csv", content, "text/csv")})
    assert again.status_code == 303
    first, second = await Attachment.filter(challenge_id=cid).order_by("id")
    assert first.sha256 == second.sha256 and first.content_type == "text/csv; charset=utf-8"
    page = await client.get(f"/challenges/{cid}?lang=en")
    assert "集計.csv" in page.text and "copy.csv" in page.text and "CSV file" in page.text
    assert f'action="/challenges/{cid}/attachments/{first.id}/delete"' in page.text

    stored = store_of(app).path_for(first.sha256)
    assert (await client.post(f"/challenges/{cid}/attachments/{first.id}/delete", data={"csrftoken": token})).status_code == 303
    assert stored.exists()  # the other attachment still holds the same bytes
    assert (await client.post(f"/challenges/{cid}/attachments/{second.id}/delete", data={"csrftoken": token})).status_code == 303
    assert not stored.exists()
    assert await Attachment.filter(challenge_id=cid).count() == 0
    assert await AuditEvent.filter(action="attachment.removed", target_id=str(cid)).count() == 2
    assert (await client.post(f"/challenges/{cid}/attachments/{first.id}/delete", data={"csrftoken": token})).status_code == 404

    # Others see the list of a public challenge's files but neither the upload form nor the buttons.
    await client.post(f"/challenges/{cid}/attachments", data={"csrftoken": token}, headers=csrf,
                      files={"file": ("plan.pdf", pdf())})
    await _publish(client, cast, cid)
    client.cookies.clear()
    public = await client.get(f"/challenges/{cid}?lang=en")
    assert "plan.pdf" in public.text and 'id="field-file"' not in public.text and "/delete" not in public.text
    await sign_in_as(client, cast["users"]["other_agency"])
    token = await csrf_token(client, f"/challenges/{cid}")
    attachment = await Attachment.get(challenge_id=cid)
    assert (await client.post(f"/challenges/{cid}/attachments/{attachment.id}/delete", data={"csrftoken": token})).status_code == 403
    assert await Attachment.exists(id=attachment.id)


async def test_a_browser_form_upload_passes_the_csrf_check(client, cast):
    challenge = await _draft(client, cast)
    await sign_in_as(client, cast["users"]["agency"])
    token = await csrf_token(client, f"/challenges/{challenge['id']}")
    response = await client.post(f"/challenges/{challenge['id']}/attachments", data={"csrftoken": token},
                                 files={"file": ("plan.pdf", pdf())})
    assert response.status_code == 303
    # A file before the token, or no token at all, is still refused.
    missing = await client.post(f"/challenges/{challenge['id']}/attachments", files={"file": ("plan.pdf", pdf())})
    assert missing.status_code == 403


