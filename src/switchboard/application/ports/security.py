"""Password hashing and session tokens behind ports, so the application never touches crypto."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...


class SessionSigner(Protocol):
    def issue(self, user_id: int, at: datetime) -> str: ...
    def read(self, token: str, at: datetime) -> int | None:
        """The user id of a valid, unexpired token; None otherwise."""


class SecretBox(Protocol):
    """Seals a channel's credentials for storage with the secret key, and opens them for its connector."""

    def seal(self, secrets: Mapping[str, str]) -> str: ...
    def open(self, sealed: str) -> dict[str, str]:
        """The secrets; raises ``SecretsUnreadable`` when the key changed or the value was tampered with."""
        ...


class SecretsUnreadable(Exception):
    """Sealed secrets that this secret key cannot open."""
