"""Files an operator uploads for a conversation, kept until (and after) a reply carries them.

The bytes live in the content-addressed file store; a row here says who uploaded them, for which
conversation, under which name and type, and which message sent them (so the customer's side,
the web chat widget for one, may fetch exactly the files it was sent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Upload:
    id: int
    conversation_id: int
    owner_id: int
    sha256: str
    name: str
    content_type: str
    size: int
    created_at: datetime
    message_id: int | None = None


class UploadRepository(Protocol):
    async def add(self, upload: Upload) -> Upload:
        """Store the row; the returned upload carries its new id."""

    async def get_many(self, upload_ids: Sequence[int]) -> dict[int, Upload]: ...

    async def mark_sent(self, upload_ids: Sequence[int], message_id: int) -> None: ...

    async def for_conversation(self, conversation_id: int, sha256: str) -> Upload | None:
        """An upload with these bytes made for, or sent in, this conversation."""

    async def sent_in_channel(self, channel_id: int, sha256: str) -> Upload | None:
        """An upload with these bytes that a reply in this channel carried."""
