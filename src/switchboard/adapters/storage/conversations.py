"""Conversations, messages and the timeline in SQL."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import direct
from switchboard.adapters.storage import tables as t
from switchboard.application.ports.storage import ConversationQuery, NewMessage
from switchboard.domain.conversation import (
    Attachment,
    AuthorKind,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Message,
)
from switchboard.domain.source import Source
from switchboard.domain.timeline import TimelineEntry

SOURCE_COLUMNS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "landing_page",
    "dialled_number",
)


def source_values(source: Source) -> dict[str, Any]:
    values = {name: getattr(source, name) for name in SOURCE_COLUMNS}
    values["source_channel_id"] = source.channel_id
    values["source_line_id"] = source.line_id
    return values


def source_from_row(row: Any) -> Source:
    return Source(row.source_channel_id, row.source_line_id, *(getattr(row, name) for name in SOURCE_COLUMNS))


def conversation_from_row(row: Any) -> Conversation:
    return Conversation(
        id=row.id,
        contact_id=row.contact_id,
        line_id=row.line_id,
        channel_id=row.channel_id,
        status=ConversationStatus(row.status),
        opened_at=row.opened_at,
        last_message_at=row.last_message_at,
        assignee_id=row.assignee_id,
        closed_at=row.closed_at,
        subject=row.subject,
        source=source_from_row(row),
    )


# built once: values given at execute time, so the statement is compiled once and reused (a call's hot path)


class SqlConversations:
    def __init__(self, connection: AsyncConnection, is_sqlite: bool) -> None:
        self._c = connection
        self._lock_rows = not is_sqlite  # SQLite already has one writer

    async def add(
        self,
        contact_id: int,
        line_id: int,
        channel_id: int,
        status: ConversationStatus,
        at: datetime,
        source: Source,
    ) -> Conversation:
        values = {
            "contact_id": contact_id,
            "line_id": line_id,
            "channel_id": channel_id,
            "status": status.value,
            "opened_at": at,
            "last_message_at": at,
            **source_values(source),
        }
        conversation_id = await direct.add_row(self._c, t.conversations, values)
        return Conversation(conversation_id, contact_id, line_id, channel_id, status, at, at, source=source)

    async def get(self, conversation_id: int, *, for_update: bool = False) -> Conversation | None:
        statement = select(t.conversations).where(t.conversations.c.id == conversation_id)
        if for_update and self._lock_rows:
            statement = statement.with_for_update()
        row = (await self._c.execute(statement)).first()
        return conversation_from_row(row) if row else None

    async def find_latest(self, contact_id: int, channel_id: int) -> Conversation | None:
        statement = (
            select(t.conversations)
            .where(t.conversations.c.contact_id == contact_id, t.conversations.c.channel_id == channel_id)
            .order_by(t.conversations.c.id.desc())
            .limit(1)
        )
        if self._lock_rows:
            statement = statement.with_for_update()
        row = (await self._c.execute(statement)).first()
        return conversation_from_row(row) if row else None

    async def save(self, conversation: Conversation) -> None:
        await self._c.execute(
            update(t.conversations)
            .where(t.conversations.c.id == conversation.id)
            .values(
                status=conversation.status.value,
                assignee_id=conversation.assignee_id,
                closed_at=conversation.closed_at,
                last_message_at=conversation.last_message_at,
                subject=conversation.subject,
            )
        )

    async def get_many(self, conversation_ids: Sequence[int]) -> list[Conversation]:
        if not conversation_ids:
            return []
        c = t.conversations.c
        statement = select(t.conversations).where(c.id.in_(list(conversation_ids))).order_by(c.id)
        return [conversation_from_row(row) for row in await self._c.execute(statement)]

    async def list(self, query: ConversationQuery, limit: int, before_id: int | None) -> list[Conversation]:
        c = t.conversations.c
        statement = select(t.conversations).order_by(c.id.desc()).limit(limit)
        for column, value in (
            (c.line_id, query.line_id),
            (c.assignee_id, query.assignee_id),
            (c.contact_id, query.contact_id),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if query.status is not None:
            statement = statement.where(c.status == query.status.value)
        if before_id is not None:
            statement = statement.where(c.id < before_id)
        return [conversation_from_row(row) for row in await self._c.execute(statement)]


def message_from_row(row: Any) -> Message:
    return Message(
        id=row.id,
        conversation_id=row.conversation_id,
        channel_id=row.channel_id,
        direction=Direction(row.direction),
        author_kind=AuthorKind(row.author_kind),
        body=row.body,
        delivery_status=DeliveryStatus(row.delivery_status),
        created_at=row.created_at,
        author_id=row.author_id,
        external_id=row.external_id,
        attachments=tuple(Attachment(**a) for a in row.attachments),
        error=row.error,
    )


class SqlMessages:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, message: NewMessage) -> Message:
        attachments = [
            {"name": a.name, "content_type": a.content_type, "size": a.size, "url": a.url} for a in message.attachments
        ]
        result = await self._c.execute(
            insert(t.messages)
            .values(
                conversation_id=message.conversation_id,
                channel_id=message.channel_id,
                direction=message.direction.value,
                author_kind=message.author_kind.value,
                author_id=message.author_id,
                body=message.body,
                attachments=attachments,
                external_id=message.external_id,
                delivery_status=message.delivery_status.value,
                created_at=message.created_at,
            )
            .returning(t.messages.c.id)
        )
        return Message(
            result.scalar_one(),
            message.conversation_id,
            message.channel_id,
            message.direction,
            message.author_kind,
            message.body,
            message.delivery_status,
            message.created_at,
            message.author_id,
            message.external_id,
            message.attachments,
        )

    async def find_by_external_id(self, channel_id: int, external_id: str) -> Message | None:
        row = (
            await self._c.execute(
                select(t.messages).where(t.messages.c.channel_id == channel_id, t.messages.c.external_id == external_id)
            )
        ).first()
        return message_from_row(row) if row else None

    async def get(self, message_id: int) -> Message | None:
        row = (await self._c.execute(select(t.messages).where(t.messages.c.id == message_id))).first()
        return message_from_row(row) if row else None

    async def awaiting_receipt(self, channel_id: int, since: datetime, limit: int) -> list[str]:
        m = t.messages.c
        rows = await self._c.execute(
            select(m.external_id)
            .where(
                m.channel_id == channel_id,
                m.direction == Direction.OUT.value,
                m.delivery_status == DeliveryStatus.SENT.value,
                m.external_id.is_not(None),
                m.created_at >= since,
            )
            .order_by(m.id.desc())
            .limit(limit)
        )
        return [r.external_id for r in rows]

    async def set_external_id(self, message_id: int, external_id: str) -> None:
        await self._c.execute(update(t.messages).where(t.messages.c.id == message_id).values(external_id=external_id))

    async def set_delivery(self, message_id: int, status: DeliveryStatus, error: str | None) -> None:
        await self._c.execute(
            update(t.messages).where(t.messages.c.id == message_id).values(delivery_status=status.value, error=error)
        )

    async def list(self, conversation_id: int, limit: int, before_id: int | None) -> list[Message]:
        statement = (
            select(t.messages)
            .where(t.messages.c.conversation_id == conversation_id)
            .order_by(t.messages.c.id.desc())
            .limit(limit)
        )
        if before_id is not None:
            statement = statement.where(t.messages.c.id < before_id)
        return [message_from_row(row) for row in await self._c.execute(statement)]

    async def newest(self, conversation_ids: Sequence[int], limit: int) -> dict[int, list[Message]]:
        """One UNION ALL of per-conversation LIMIT queries: each walks its (conversation_id, id) index backwards,
        however long the conversation (a window function would number every message of each)."""
        found: dict[int, list[Message]] = {i: [] for i in conversation_ids}
        if not conversation_ids:
            return found
        m = t.messages.c
        parts = [
            select(t.messages).where(m.conversation_id == i).order_by(m.id.desc()).limit(limit).subquery()
            for i in conversation_ids
        ]
        statement = union_all(*(select(part) for part in parts))
        for row in await self._c.execute(statement):
            found[row.conversation_id].append(message_from_row(row))
        for messages in found.values():  # a UNION ALL promises no order
            messages.sort(key=lambda message: message.id, reverse=True)
        return found


@functools.cache
def timeline_page(before: bool, channel: bool) -> Select[Any]:
    """A page of the timeline, built once per shape (statement building was a third of the read's CPU)."""
    c = t.timeline.c
    statement = (
        select(t.timeline)
        .where(c.contact_id == bindparam("contact_id"))
        .order_by(c.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    if before:
        statement = statement.where(c.id < bindparam("before_id"))
    if channel:
        statement = statement.where(c.channel_kind == bindparam("channel_kind"))
    return statement


class SqlTimeline:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(
        self,
        contact_id: int,
        kind: str,
        ref_id: int,
        occurred_at: datetime,
        summary: str,
        conversation_id: int | None = None,
        channel_kind: str | None = None,
    ) -> None:
        row = {
            "contact_id": contact_id,
            "kind": kind,
            "ref_id": ref_id,
            "occurred_at": occurred_at,
            "summary": summary[:500],
            "conversation_id": conversation_id,
            "channel_kind": channel_kind,
        }
        await direct.add_rows(self._c, t.timeline, [row])

    async def page(
        self, contact_id: int, limit: int, before_id: int | None, channel_kind: str | None
    ) -> list[TimelineEntry]:
        """Newest first, from the contact's index, never counted: ``before_id`` is the keyset cursor."""
        statement = timeline_page(before_id is not None, channel_kind is not None)
        values: dict[str, object] = {"contact_id": contact_id, "limit": limit}
        if before_id is not None:
            values["before_id"] = before_id
        if channel_kind is not None:
            values["channel_kind"] = channel_kind
        return [
            TimelineEntry(
                row.id,
                row.contact_id,
                row.kind,
                row.ref_id,
                row.occurred_at,
                row.summary,
                row.conversation_id,
                row.channel_kind,
            )
            for row in await self._c.execute(statement, values)
        ]
