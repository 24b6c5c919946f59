"""Password hashing and session tokens behind ports, so the application never touches crypto."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...


class SessionSigner(Protocol):
    def issue(self, user_id: int, at: datetime) -> str: ...
    def read(self, token: str, at: datetime) -> int | None:
        """The user id of a valid, unexpired token; None otherwise."""
