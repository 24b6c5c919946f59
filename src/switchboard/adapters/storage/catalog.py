"""Channels, lines, users and API tokens in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.application.ports.storage import TokenRecord
from switchboard.domain.channels import Channel, ChannelHealth, ChannelKind
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role, User


def channel_from_row(row: Any) -> Channel:
    health = ChannelHealth(row.last_success_at, row.last_error_at, row.last_error)
    return Channel(row.id, ChannelKind(row.kind), row.name, row.line_id, row.active, dict(row.settings), health)


class SqlChannels:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(
        self, kind: ChannelKind, name: str, line_id: int, settings: Mapping[str, Any], at: datetime
    ) -> Channel:
        result = await self._c.execute(
            insert(t.channels)
            .values(
                kind=kind.value,
                name=name,
                line_id=line_id,
                settings=dict(settings),
                created_at=at,
            )
            .returning(t.channels.c.id)
        )
        return Channel(result.scalar_one(), kind, name, line_id, True, dict(settings))

    async def get(self, channel_id: int) -> Channel | None:
        row = (await self._c.execute(select(t.channels).where(t.channels.c.id == channel_id))).first()
        return channel_from_row(row) if row else None

    async def list(self) -> list[Channel]:
        return [channel_from_row(r) for r in await self._c.execute(select(t.channels).order_by(t.channels.c.id))]

    async def update(self, channel_id: int, fields: Mapping[str, Any]) -> None:
        if fields:
            await self._c.execute(update(t.channels).where(t.channels.c.id == channel_id).values(**dict(fields)))

    async def sealed_secrets(self, channel_id: int) -> str | None:
        query = select(t.channels.c.secrets).where(t.channels.c.id == channel_id)
        value = (await self._c.execute(query)).scalar_one_or_none()
        return str(value) if value else None

    async def set_sealed_secrets(self, channel_id: int, sealed: str | None) -> None:
        await self._c.execute(update(t.channels).where(t.channels.c.id == channel_id).values(secrets=sealed))

    async def record_health(self, channel_id: int, at: datetime, error: str | None) -> None:
        values = {"last_success_at": at} if error is None else {"last_error_at": at, "last_error": error[:1000]}
        await self._c.execute(update(t.channels).where(t.channels.c.id == channel_id).values(**values))


class SqlLines:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def _members(self, line_ids: Sequence[int]) -> dict[int, list[int]]:
        rows = await self._c.execute(
            select(t.line_operators)
            .where(t.line_operators.c.line_id.in_(line_ids))
            .order_by(t.line_operators.c.line_id, t.line_operators.c.position)
        )
        members: dict[int, list[int]] = {}
        for row in rows:
            members.setdefault(row.line_id, []).append(row.user_id)
        return members

    @staticmethod
    def _line(row: Any, operator_ids: list[int]) -> Line:
        return Line(
            row.id,
            row.name,
            row.time_zone,
            row.create_lead_for_new_contact,
            row.reopen_window_seconds,
            row.active,
            operator_ids,
            dict(row.routing),
        )

    async def add(self, line: Line, at: datetime) -> Line:
        result = await self._c.execute(
            insert(t.lines)
            .values(
                name=line.name.strip(),
                time_zone=line.time_zone,
                create_lead_for_new_contact=line.create_lead_for_new_contact,
                reopen_window_seconds=line.reopen_window_seconds,
                active=line.active,
                routing=line.routing,
                created_at=at,
            )
            .returning(t.lines.c.id)
        )
        return Line(
            result.scalar_one(),
            line.name.strip(),
            line.time_zone,
            line.create_lead_for_new_contact,
            line.reopen_window_seconds,
            line.active,
            [],
            dict(line.routing),
        )

    async def get(self, line_id: int) -> Line | None:
        row = (await self._c.execute(select(t.lines).where(t.lines.c.id == line_id))).first()
        if row is None:
            return None
        return self._line(row, (await self._members([line_id])).get(line_id, []))

    async def list(self) -> list[Line]:
        rows = (await self._c.execute(select(t.lines).order_by(t.lines.c.id))).all()
        members = await self._members([r.id for r in rows]) if rows else {}
        return [self._line(r, members.get(r.id, [])) for r in rows]

    async def update(self, line_id: int, fields: Mapping[str, Any]) -> None:
        if fields:
            await self._c.execute(update(t.lines).where(t.lines.c.id == line_id).values(**dict(fields)))

    async def set_operators(self, line_id: int, operator_ids: Sequence[int]) -> None:
        await self._c.execute(delete(t.line_operators).where(t.line_operators.c.line_id == line_id))
        if operator_ids:
            await self._c.execute(
                insert(t.line_operators),
                [
                    {"line_id": line_id, "user_id": user_id, "position": position}
                    for position, user_id in enumerate(operator_ids)
                ],
            )


def user_from_row(row: Any) -> User:
    return User(
        row.id,
        row.login,
        row.name,
        Role(row.role),
        row.active,
        row.email,
        dict(row.skills),
        dict(row.capacity),
        row.max_total,
        row.status,
        row.missed_offers,
    )


class SqlUsers:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, user: User, password_hash: str | None, at: datetime) -> User:
        result = await self._c.execute(
            insert(t.users)
            .values(
                login=user.login,
                name=user.name,
                email=user.email,
                role=user.role.value,
                password_hash=password_hash,
                active=user.active,
                skills=user.skills,
                capacity=user.capacity,
                max_total=user.max_total,
                status=user.status,
                created_at=at,
            )
            .returning(t.users.c.id)
        )
        return User(
            result.scalar_one(),
            user.login,
            user.name,
            user.role,
            user.active,
            user.email,
            dict(user.skills),
            dict(user.capacity),
            user.max_total,
            user.status,
        )

    async def get(self, user_id: int) -> User | None:
        row = (await self._c.execute(select(t.users).where(t.users.c.id == user_id))).first()
        return user_from_row(row) if row else None

    async def get_by_login(self, login: str) -> tuple[User, str | None] | None:
        row = (await self._c.execute(select(t.users).where(t.users.c.login == login))).first()
        return (user_from_row(row), row.password_hash) if row else None

    async def list(self, role: Role | None) -> list[User]:
        statement = select(t.users).order_by(t.users.c.id)
        if role is not None:
            statement = statement.where(t.users.c.role == role.value)
        return [user_from_row(r) for r in await self._c.execute(statement)]

    async def update(self, user_id: int, fields: Mapping[str, Any]) -> None:
        values = {k: (v.value if isinstance(v, Role) else v) for k, v in fields.items()}
        if values:
            await self._c.execute(update(t.users).where(t.users.c.id == user_id).values(**values))


class SqlTokens:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, name: str, token_hash: str, role: Role, user_id: int | None, at: datetime) -> int:
        result = await self._c.execute(
            insert(t.api_tokens)
            .values(
                name=name,
                token_hash=token_hash,
                role=role.value,
                user_id=user_id,
                created_at=at,
            )
            .returning(t.api_tokens.c.id)
        )
        return int(result.scalar_one())

    async def find(self, token_hash: str) -> TokenRecord | None:
        row = (
            await self._c.execute(
                select(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash, t.api_tokens.c.revoked_at.is_(None))
            )
        ).first()
        return TokenRecord(row.id, row.name, Role(row.role), row.user_id) if row else None
