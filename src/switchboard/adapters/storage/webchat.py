"""Web chat visitors, their sessions, files and ratings in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.adapters.storage.conversations import message_from_row
from switchboard.application.ports.webchat import Rating, Session, UploadedFile, Visitor, VisitorMessage
from switchboard.domain.conversation import Message

V, S, M, F = t.webchat_visitors, t.webchat_sessions, t.messages, t.webchat_files


class SqlWebchat:
    def __init__(self, connection: AsyncConnection, is_sqlite: bool) -> None:
        self._c = connection
        self._insert = sqlite_insert if is_sqlite else pg_insert

    async def visitor(self, visitor_id: str) -> Visitor | None:
        row = (await self._c.execute(select(V).where(V.c.id == visitor_id))).first()
        if row is None:
            return None
        return Visitor(row.id, row.channel_id, row.created_at, row.name, row.phone, row.email, row.consent_at)

    async def add_visitor(self, visitor_id: str, channel_id: int, at: datetime) -> None:
        statement = self._insert(V).values(id=visitor_id, channel_id=channel_id, created_at=at, seen_at=at)
        await self._c.execute(statement.on_conflict_do_update(index_elements=[V.c.id], set_={"seen_at": at}))

    async def introduce(
        self, visitor_id: str, name: str | None, phone: str | None, email: str | None, consent_at: datetime | None
    ) -> None:
        await self._c.execute(
            update(V).where(V.c.id == visitor_id).values(name=name, phone=phone, email=email, consent_at=consent_at)
        )

    async def join(self, visitor_id: str, conversation_id: int, first_message_id: int, at: datetime) -> bool:
        statement = self._insert(S).values(
            visitor_id=visitor_id, conversation_id=conversation_id, first_message_id=first_message_id, joined_at=at
        )
        result = await self._c.execute(statement.on_conflict_do_nothing())
        return bool(result.rowcount)

    async def sessions(self, visitor_id: str, channel_id: int) -> list[Session]:
        rows = await self._c.execute(
            select(S.c.conversation_id, S.c.first_message_id)
            .join(t.conversations, t.conversations.c.id == S.c.conversation_id)
            .where(S.c.visitor_id == visitor_id, t.conversations.c.channel_id == channel_id)
            .order_by(S.c.conversation_id)
        )
        return [Session(row.conversation_id, row.first_message_id) for row in rows]

    def _visible(self, visitor_id: str) -> Any:
        """Messages of the visitor's sessions from the message they joined at, with the author's name."""
        return (
            select(M, t.users.c.name.label("operator_name"))
            .join(S, and_(S.c.conversation_id == M.c.conversation_id, M.c.id >= S.c.first_message_id))
            .outerjoin(t.users, and_(t.users.c.id == M.c.author_id, M.c.author_kind == "operator"))
            .where(S.c.visitor_id == visitor_id)
        )

    async def history(self, visitor_id: str, channel_id: int, after_id: int | None, limit: int) -> list[VisitorMessage]:
        statement = self._visible(visitor_id).where(M.c.channel_id == channel_id)
        if after_id is not None:
            rows = await self._c.execute(statement.where(M.c.id > after_id).order_by(M.c.id).limit(limit))
            return [_visitor_message(row) for row in rows]
        rows = await self._c.execute(statement.order_by(M.c.id.desc()).limit(limit))
        return [_visitor_message(row) for row in reversed(rows.all())]

    async def message(self, message_id: int) -> VisitorMessage | None:
        row = (
            await self._c.execute(
                select(M, t.users.c.name.label("operator_name"))
                .outerjoin(t.users, and_(t.users.c.id == M.c.author_id, M.c.author_kind == "operator"))
                .where(M.c.id == message_id)
            )
        ).first()
        return _visitor_message(row) if row else None

    async def visitor_messages(self, visitor_id: str, message_ids: Sequence[int]) -> list[Message]:
        if not message_ids:
            return []
        rows = await self._c.execute(self._visible(visitor_id).where(M.c.id.in_(list(message_ids))).order_by(M.c.id))
        return [message_from_row(row) for row in rows]

    async def add_file(self, uploaded: UploadedFile) -> None:
        await self._c.execute(
            insert(F).values(
                channel_id=uploaded.channel_id,
                visitor_id=uploaded.visitor_id,
                sha256=uploaded.sha256,
                name=uploaded.name,
                content_type=uploaded.content_type,
                size=uploaded.size,
                created_at=uploaded.created_at,
            )
        )

    async def file(self, channel_id: int, sha256: str) -> UploadedFile | None:
        row = (
            await self._c.execute(
                select(F).where(F.c.channel_id == channel_id, F.c.sha256 == sha256).order_by(F.c.id).limit(1)
            )
        ).first()
        return _file(row) if row else None

    async def visitor_file(self, visitor_id: str, sha256: str) -> UploadedFile | None:
        row = (
            await self._c.execute(
                select(F).where(F.c.visitor_id == visitor_id, F.c.sha256 == sha256).order_by(F.c.id.desc()).limit(1)
            )
        ).first()
        return _file(row) if row else None

    async def add_rating(self, rating: Rating) -> None:
        await self._c.execute(
            insert(t.conversation_ratings).values(
                conversation_id=rating.conversation_id,
                score=rating.score,
                comment=rating.comment,
                operator_id=rating.operator_id,
                visitor_id=rating.visitor_id,
                created_at=rating.created_at,
            )
        )

    async def rating(self, conversation_id: int) -> Rating | None:
        r = t.conversation_ratings
        row = (await self._c.execute(select(r).where(r.c.conversation_id == conversation_id))).first()
        if row is None:
            return None
        return Rating(row.conversation_id, row.score, row.comment, row.operator_id, row.visitor_id, row.created_at)


def _visitor_message(row: Any) -> VisitorMessage:
    return VisitorMessage(message_from_row(row), row.operator_name)


def _file(row: Any) -> UploadedFile:
    return UploadedFile(
        row.channel_id, row.visitor_id, row.sha256, row.name, row.content_type, row.size, row.created_at
    )
