"""What the operator's desk and the supervisor's floor read and keep: notes, canned responses, the day's times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.application.ports.storage import ConversationTimes
from switchboard.domain.notes import CannedResponse, Note


def _note(row: Any) -> Note:
    return Note(row.id, row.conversation_id, row.author_id, row.body, row.created_at)


def _canned(row: Any) -> CannedResponse:
    return CannedResponse(row.id, row.shortcut, row.title, row.body, row.created_at)


class SqlNotes:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, conversation_id: int, author_id: int | None, body: str, at: datetime) -> Note:
        result = await self._c.execute(
            insert(t.notes)
            .values(conversation_id=conversation_id, author_id=author_id, body=body, created_at=at)
            .returning(t.notes.c.id)
        )
        return Note(result.scalar_one(), conversation_id, author_id, body, at)

    async def list(self, conversation_id: int, limit: int) -> list[Note]:
        n = t.notes.c
        rows = await self._c.execute(
            select(t.notes).where(n.conversation_id == conversation_id).order_by(n.id).limit(limit)
        )
        return [_note(r) for r in rows]

    async def list_many(self, conversation_ids: Sequence[int], limit: int) -> dict[int, list[Note]]:
        found: dict[int, list[Note]] = {i: [] for i in conversation_ids}
        if not conversation_ids:
            return found
        n = t.notes.c
        rows = await self._c.execute(
            select(t.notes).where(n.conversation_id.in_(list(conversation_ids))).order_by(n.id)
        )
        for row in rows:
            if len(found[row.conversation_id]) < limit:
                found[row.conversation_id].append(_note(row))
        return found


class SqlCannedResponses:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, shortcut: str, title: str, body: str, at: datetime) -> CannedResponse:
        result = await self._c.execute(
            insert(t.canned_responses)
            .values(shortcut=shortcut, title=title, body=body, created_at=at)
            .returning(t.canned_responses.c.id)
        )
        return CannedResponse(result.scalar_one(), shortcut, title, body, at)

    async def list(self) -> list[CannedResponse]:
        rows = await self._c.execute(select(t.canned_responses).order_by(t.canned_responses.c.shortcut))
        return [_canned(r) for r in rows]

    async def delete(self, canned_id: int) -> bool:
        result = await self._c.execute(delete(t.canned_responses).where(t.canned_responses.c.id == canned_id))
        return bool(result.rowcount == 1)


class SqlFloor:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def opened_since(self, since: datetime) -> list[ConversationTimes]:
        c = t.conversations.c
        rows = await self._c.execute(
            select(c.line_id, c.opened_at, c.queued_at, c.assigned_at, c.closed_at, c.assignee_id).where(
                c.opened_at >= since
            )
        )
        return [
            ConversationTimes(r.line_id, r.opened_at, r.queued_at, r.assigned_at, r.closed_at, r.assignee_id)
            for r in rows
        ]
