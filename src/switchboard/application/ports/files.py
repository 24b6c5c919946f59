"""The file store port: attachment bytes kept by their SHA-256, shared by every connector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol

DEFAULT_MAX_FILE_BYTES = 25 * 1024 * 1024


class FileTooLarge(Exception):
    """A file is larger than the store (or the channel) accepts."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"file of {size} bytes exceeds the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class StoredFileNotFound(KeyError):
    """No file with this SHA-256 is in the store."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str
    name: str
    url: str


class FileStore(Protocol):
    def put(self, data: bytes, content_type: str, name: str) -> StoredFile: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...
