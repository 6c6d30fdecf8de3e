"""Content-addressed document storage on disk: the bytes under the data directory, by SHA-256."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
import zipfile
from contextlib import suppress
from io import BytesIO
from pathlib import Path

MEDIA_TYPES = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document (.docx)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook (.xlsx)",
    "application/msword": "Word 97-2003 document (.doc)",
    "application/ofd": "OFD document",
    "text/plain": "plain text (UTF-8)",
}


def sniff(data: bytes) -> str | None:
    """The media type the bytes really are (by their signature), or None when not an accepted type."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/msword"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        if "xl/workbook.xml" in names:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if "OFD.xml" in names:
            return "application/ofd"
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if data and "\x00" not in text:
        return "text/plain"
    return None


FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


class DocumentStorageError(Exception):
    """The document directory cannot take the bytes: ``code`` is ``storage_full``, ``storage_read_only`` or
    ``storage_unavailable``."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error
        self.code = (
            "storage_full"
            if error.errno in FULL
            else "storage_read_only"
            if error.errno in READ_ONLY
            else "storage_unavailable"
        )


class DocumentStore:
    """Files named by their hash, written once, atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the bytes of ``sha256`` live."""
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Stores the bytes (once) and returns their SHA-256; ``DocumentStorageError`` when the directory cannot
        take them (nothing is left behind)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._write(target.parent, data, target)
            except OSError as e:
                raise DocumentStorageError(e) from e
        return digest

    @staticmethod
    def _write(directory: Path, data: bytes, target: Path | None) -> None:
        """Writes ``data`` to a temporary file in ``directory`` and moves it to ``target`` (or removes it: a probe);
        a partial file never stays behind, so that a full disk is not kept full by the failed upload."""
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            if target is None:
                os.unlink(tmp)
            else:
                os.replace(tmp, target)
        except BaseException:
            with suppress(OSError):
                os.unlink(tmp)
            raise

    def check(self) -> str | None:
        """Why the directory cannot take documents now (``storage_full``, ``storage_read_only``, …), or None: a small
        file is written, synced and removed (for ``/ready``)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._write(self.root, b"probe", None)
        except OSError as e:
            return DocumentStorageError(e).code
        return None

    def get(self, sha256: str) -> bytes | None:
        """The bytes, or None."""
        target = self.path(sha256)
        return target.read_bytes() if target.exists() else None
