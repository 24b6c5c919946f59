"""Operators' uploads in SQL (``UploadRepository``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.application.ports.uploads import Upload

_u = t.operator_uploads.c


def _upload(row: Any) -> Upload:
    return Upload(
        row.id,
        row.conversation_id,
        row.owner_id,
        row.sha256,
        row.name,
        row.content_type,
        row.size,
        row.created_at,
        row.message_id,
    )


class SqlUploads:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, upload: Upload) -> Upload:
        result = await self._c.execute(
            insert(t.operator_uploads)
            .values(
                conversation_id=upload.conversation_id,
                owner_id=upload.owner_id,
                sha256=upload.sha256,
                name=upload.name,
                content_type=upload.content_type,
                size=upload.size,
                created_at=upload.created_at,
                message_id=upload.message_id,
            )
            .returning(_u.id)
        )
        new_id = result.scalar_one()
        return Upload(
            new_id,
            upload.conversation_id,
            upload.owner_id,
            upload.sha256,
            upload.name,
            upload.content_type,
            upload.size,
            upload.created_at,
            upload.message_id,
        )

    async def get_many(self, upload_ids: Sequence[int]) -> dict[int, Upload]:
        if not upload_ids:
            return {}
        rows = await self._c.execute(select(t.operator_uploads).where(_u.id.in_(list(upload_ids))))
        return {r.id: _upload(r) for r in rows}

    async def mark_sent(self, upload_ids: Sequence[int], message_id: int) -> None:
        if upload_ids:
            await self._c.execute(
                update(t.operator_uploads).where(_u.id.in_(list(upload_ids))).values(message_id=message_id)
            )

    async def for_conversation(self, conversation_id: int, sha256: str) -> Upload | None:
        m = t.messages.c
        sent_here = select(m.id).where(m.conversation_id == conversation_id)
        row = (
            await self._c.execute(
                select(t.operator_uploads)
                .where(_u.sha256 == sha256, or_(_u.conversation_id == conversation_id, _u.message_id.in_(sent_here)))
                .order_by(_u.id)
                .limit(1)
            )
        ).first()
        return _upload(row) if row else None

    async def sent_in_channel(self, channel_id: int, sha256: str) -> Upload | None:
        m = t.messages.c
        row = (
            await self._c.execute(
                select(t.operator_uploads)
                .join(t.messages, m.id == _u.message_id)
                .where(_u.sha256 == sha256, m.channel_id == channel_id)
                .order_by(_u.id)
                .limit(1)
            )
        ).first()
        return _upload(row) if row else None
