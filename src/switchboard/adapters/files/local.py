"""A content-addressed file store on a local directory (the default attachment store).

A file lives at ``<root>/<aa>/<bb>/<sha256>``: the same bytes are stored once however often they
arrive, and a write is atomic (a temporary file in the same directory, fsync, then rename), so a
reader never sees half a file and a crash leaves at most a stray temporary file. Names and content
types belong to the message that carries the file, not to the bytes: ``put`` returns them in the
``StoredFile`` for the caller to record.

The port (``FileStore``) is in ``application/ports/files.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from switchboard.application.ports.files import DEFAULT_MAX_FILE_BYTES, FileTooLarge, StoredFile, StoredFileNotFound

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class LocalFileStore:
    """``FileStore`` on a directory. URLs are ``file://`` paths; a web route can serve them by sha256."""

    def __init__(self, root: Path | str, *, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise StoredFileNotFound(f"{sha256!r} is not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes, content_type: str, name: str) -> StoredFile:
        if len(data) > self.max_bytes:
            raise FileTooLarge(len(data), self.max_bytes)
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not (target.exists() and target.stat().st_size == len(data)):
            self._write_atomically(target, data)
        return StoredFile(digest, len(data), content_type, name, target.resolve().as_uri())

    def _write_atomically(self, target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError as error:
            raise StoredFileNotFound(f"no stored file {sha256}") from error

    def exists(self, sha256: str) -> bool:
        try:
            return self.path(sha256).is_file()
        except StoredFileNotFound:
            return False
