"""The web chat's storage: visitors, the conversations each visitor sees, their uploaded files, ratings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from switchboard.domain.conversation import Message


@dataclass(frozen=True, slots=True)
class Visitor:
    """A browser that opened the widget; the pre-chat form's answers, normalized, once given."""

    id: str
    channel_id: int
    created_at: datetime
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    consent_at: datetime | None = None

    @property
    def introduced(self) -> bool:
        return bool(self.name or self.phone or self.email)


@dataclass(frozen=True, slots=True)
class Session:
    """A conversation a visitor takes part in, seen from ``first_message_id`` on (never earlier history)."""

    conversation_id: int
    first_message_id: int


@dataclass(frozen=True, slots=True)
class VisitorMessage:
    """A message as the widget shows it: the operator's display name instead of their id."""

    message: Message
    operator_name: str | None = None


@dataclass(frozen=True, slots=True)
class UploadedFile:
    channel_id: int
    visitor_id: str
    sha256: str
    name: str
    content_type: str
    size: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Rating:
    conversation_id: int
    score: int
    comment: str
    operator_id: int | None
    visitor_id: str | None
    created_at: datetime


class WebchatRepository(Protocol):
    async def visitor(self, visitor_id: str) -> Visitor | None: ...
    async def add_visitor(self, visitor_id: str, channel_id: int, at: datetime) -> None:
        """Record a visitor the first time they come; a known one only gets ``seen_at`` updated."""

    async def introduce(
        self, visitor_id: str, name: str | None, phone: str | None, email: str | None, consent_at: datetime | None
    ) -> None: ...
    async def join(self, visitor_id: str, conversation_id: int, first_message_id: int, at: datetime) -> bool:
        """The visitor takes part in the conversation from this message on; False when they already did."""

    async def sessions(self, visitor_id: str, channel_id: int) -> list[Session]: ...
    async def history(self, visitor_id: str, channel_id: int, after_id: int | None, limit: int) -> list[VisitorMessage]:
        """The visitor's messages after ``after_id`` in id order; the latest ``limit`` when ``after_id`` is None."""

    async def message(self, message_id: int) -> VisitorMessage | None: ...
    async def visitor_messages(self, visitor_id: str, message_ids: Sequence[int]) -> list[Message]:
        """Those of ``message_ids`` the visitor may see (their sessions), for receipts."""

    async def add_file(self, uploaded: UploadedFile) -> None: ...
    async def file(self, channel_id: int, sha256: str) -> UploadedFile | None: ...
    async def visitor_file(self, visitor_id: str, sha256: str) -> UploadedFile | None: ...
    async def add_rating(self, rating: Rating) -> None: ...
    async def rating(self, conversation_id: int) -> Rating | None: ...
