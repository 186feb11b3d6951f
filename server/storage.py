"""Attachment bytes on the local filesystem, content-addressed: `<root>/<sha256[:2]>/<sha256>`.

Plain file I/O, kept in server/ with the other pieces that know about the machine (settings, paths),
so the domain (models.challenges.attachments) sees only the small `BlobStore` interface and a different store
(object storage) could replace this one without touching it.

A file reaches its final name only by an atomic rename of a complete, fsynced temporary file in the
same directory tree, so a crash never leaves a half-written file under a digest's name. Temporary
files of a crashed upload stay in `<root>/.incoming/`, where nothing ever reads them.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
LOCK_POLL_SECONDS = 0.02
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass
class SpooledBlob:
    """Bytes received into a temporary file; `size` is at most limit + 1 (then the rest was not read)."""

    path: Path
    size: int
    sha256: str
    head: bytes


class FileStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.incoming = self.root / ".incoming"
        self.locks = self.root / ".locks"

    def path_for(self, digest: str) -> Path:
        if not _DIGEST.fullmatch(digest):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / digest[:2] / digest

    def exists(self, digest: str) -> bool:
        return self.path_for(digest).is_file()

    def spool(self, source: BinaryIO, limit: int) -> SpooledBlob:
        """Copy `source` into a temporary file, hashing as it goes; stop after limit + 1 bytes."""
        self.incoming.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        handle = tempfile.NamedTemporaryFile(dir=self.incoming, prefix="upload-", delete=False)
        try:
            with handle:
                while size <= limit:
                    chunk = source.read(min(CHUNK, limit + 1 - size))
                    if not chunk:
                        break
                    if len(head) < 64:
                        head = (head + chunk)[:64]
                    digest.update(chunk)
                    handle.write(chunk)
                    size += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
        return SpooledBlob(path=Path(handle.name), size=size, sha256=digest.hexdigest(), head=head)

    def keep(self, blob: SpooledBlob) -> None:
        """Move a spooled blob to its final name (atomically; the same bytes may already be there)."""
        final = self.path_for(blob.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(blob.path, final)
        _fsync_directory(final.parent)

    def discard(self, blob: SpooledBlob) -> None:
        blob.path.unlink(missing_ok=True)

    def remove(self, digest: str) -> None:
        path = self.path_for(digest)
        path.unlink(missing_ok=True)
        _fsync_directory(path.parent)

    @asynccontextmanager
    async def lock(self, digest: str) -> AsyncIterator[None]:
        """Serialise "store and record" with "forget and delete" for one digest, across processes.

        An advisory lock per digest prefix (256 lock files that are never removed); polled rather than
        blocking in a thread, so a cancelled request never leaves a lock taken behind it.
        """
        self.locks.mkdir(parents=True, exist_ok=True)
        self.path_for(digest)  # validates
        fd = os.open(self.locks / digest[:2], os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(LOCK_POLL_SECONDS)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
