"""Routing state in SQL: offers, presence, conditional moves and durable timers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.application.ports.routing import ActiveConversation, OpenOffer, RoutableOperator
from switchboard.domain.conversation import OPEN_STATUSES, ConversationStatus

S = ConversationStatus

OPEN = "open"


def _active(row: Any) -> ActiveConversation:
    return ActiveConversation(
        id=row.id,
        line_id=row.line_id,
        channel_id=row.channel_id,
        channel_kind=row.kind,
        contact_id=row.contact_id,
        contact_name=row.name,
        vip=row.tier == "vip",
        responsible_operator_id=row.responsible_operator_id,
        status=ConversationStatus(row.status),
        opened_at=row.opened_at,
        queued_at=row.queued_at,
        assigned_at=row.assigned_at,
        assignee_id=row.assignee_id,
        dialled_number=row.dialled_number,
    )


def _operator(r: Any) -> RoutableOperator:
    return RoutableOperator(
        r.id, dict(r.capacity), r.max_total, r.status, r.status_reason, r.status_since, r.logged_in, r.missed_offers
    )


_ACTIVE = (
    select(
        t.conversations.c.id,
        t.conversations.c.line_id,
        t.conversations.c.channel_id,
        t.channels.c.kind,
        t.conversations.c.contact_id,
        t.contacts.c.name,
        t.contacts.c.tier,
        t.contacts.c.responsible_operator_id,
        t.conversations.c.status,
        t.conversations.c.opened_at,
        t.conversations.c.queued_at,
        t.conversations.c.assigned_at,
        t.conversations.c.assignee_id,
        t.conversations.c.dialled_number,
    )
    .join(t.channels, t.channels.c.id == t.conversations.c.channel_id)
    .join(t.contacts, t.contacts.c.id == t.conversations.c.contact_id)
)


def _history() -> Any:
    c, other = t.conversations.c, t.conversations.alias("other").c
    seen_before = exists().where(other.contact_id == bindparam("contact"), other.id != bindparam("id"))
    last_operator = (
        select(c.assignee_id)
        .where(
            c.contact_id == bindparam("contact"),
            c.line_id == bindparam("line"),
            c.id < bindparam("id"),
            c.assignee_id.is_not(None),
        )
        .order_by(c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(seen_before.label("seen_before"), last_operator.label("last_operator_id"))


_HISTORY = _history()


class SqlRouting:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def operators(self) -> list[RoutableOperator]:
        u = t.users.c
        rows = await self._c.execute(select(t.users).where(u.role == "operator", u.active.is_(True)).order_by(u.id))
        return [_operator(r) for r in rows]

    async def operator(self, operator_id: int) -> RoutableOperator | None:
        row = (await self._c.execute(select(t.users).where(t.users.c.id == operator_id))).first()
        return _operator(row) if row is not None and row.role == "operator" and row.active else None

    async def active_conversations(self) -> list[ActiveConversation]:
        statuses = [s.value for s in OPEN_STATUSES]
        rows = await self._c.execute(
            _ACTIVE.where(t.conversations.c.status.in_(statuses)).order_by(t.conversations.c.id)
        )
        return [_active(r) for r in rows]

    async def conversation(self, conversation_id: int) -> ActiveConversation | None:
        row = (await self._c.execute(_ACTIVE.where(t.conversations.c.id == conversation_id))).first()
        return _active(row) if row else None

    async def open_offers(
        self, *, conversation_id: int | None = None, operator_id: int | None = None
    ) -> list[OpenOffer]:
        o = t.offers.c
        statement = select(t.offers).where(o.state == OPEN).order_by(o.id)
        if conversation_id is not None:
            statement = statement.where(o.conversation_id == conversation_id)
        if operator_id is not None:
            statement = statement.where(o.operator_id == operator_id)
        return [
            OpenOffer(r.conversation_id, r.operator_id, r.line_id, r.deadline) for r in await self._c.execute(statement)
        ]

    async def add_offers(
        self, conversation_id: int, line_id: int, operator_ids: Sequence[int], at: datetime, deadline: datetime
    ) -> None:
        o = t.offers.c
        rounds = (
            await self._c.execute(
                select(func.count()).select_from(t.offers).where(o.conversation_id == conversation_id)
            )
        ).scalar_one()
        await self._c.execute(
            insert(t.offers),
            [
                {
                    "conversation_id": conversation_id,
                    "operator_id": operator_id,
                    "line_id": line_id,
                    "round": rounds + 1,
                    "state": OPEN,
                    "offered_at": at,
                    "deadline": deadline,
                }
                for operator_id in operator_ids
            ],
        )

    async def settle_offers(
        self, conversation_id: int, operator_ids: Sequence[int] | None, state: str, at: datetime
    ) -> list[int]:
        o = t.offers.c
        condition = and_(o.conversation_id == conversation_id, o.state == OPEN)
        if operator_ids is not None:
            condition = and_(condition, o.operator_id.in_(list(operator_ids)))
        settled = [r.operator_id for r in await self._c.execute(select(o.operator_id).where(condition))]
        if settled:
            await self._c.execute(update(t.offers).where(condition).values(state=state, decided_at=at))
        return settled

    async def take_offer(self, conversation_id: int, operator_id: int, at: datetime) -> bool:
        """The conversation row first, then the offer: one lock order, so simultaneous accepts queue, never deadlock."""
        o, c = t.offers.c, t.conversations.c
        mine = (
            select(o.id)
            .where(
                o.conversation_id == conversation_id, o.operator_id == operator_id, o.state == OPEN, o.deadline >= at
            )
            .exists()
        )
        assigned = await self._c.execute(
            update(t.conversations)
            .where(c.id == conversation_id, c.status == ConversationStatus.OFFERED.value, mine)
            .values(status=ConversationStatus.ASSIGNED.value, assignee_id=operator_id, assigned_at=at)
        )
        if assigned.rowcount != 1:
            return False
        await self._c.execute(
            update(t.offers)
            .where(o.conversation_id == conversation_id, o.operator_id == operator_id, o.state == OPEN)
            .values(state="accepted", decided_at=at)
        )
        return True

    async def move(
        self,
        conversation_id: int,
        from_statuses: Sequence[ConversationStatus],
        to: ConversationStatus,
        at: datetime,
        *,
        assignee_id: int | None = None,
        line_id: int | None = None,
        fresh_queue: bool = False,
    ) -> bool:
        c = t.conversations.c
        values: dict[str, Any] = {"status": to.value}
        if to is ConversationStatus.QUEUED:
            values["queued_at"] = at if fresh_queue else func.coalesce(c.queued_at, at)
            values["assignee_id"] = None
        if to is ConversationStatus.ASSIGNED:
            values["assignee_id"], values["assigned_at"] = assignee_id, at
        if to is ConversationStatus.CLOSED:
            values["closed_at"] = at
        if line_id is not None:
            values["line_id"] = line_id
        result = await self._c.execute(
            update(t.conversations)
            .where(c.id == conversation_id, c.status.in_([s.value for s in from_statuses]))
            .values(**values)
        )
        return bool(result.rowcount == 1)

    async def handled_since(self, since: datetime) -> dict[int, int]:
        c = t.conversations.c
        rows = await self._c.execute(
            select(c.assignee_id, func.count())
            .where(c.assigned_at >= since, c.assignee_id.is_not(None))
            .group_by(c.assignee_id)
        )
        return {r[0]: int(r[1]) for r in rows}

    async def history(self, contact_id: int, line_id: int, conversation_id: int) -> tuple[bool, int | None]:
        row = (await self._c.execute(_HISTORY, {"contact": contact_id, "line": line_id, "id": conversation_id})).one()
        return bool(row.seen_before), row.last_operator_id

    async def set_presence(self, user_id: int, status: str, reason: str, since: datetime, logged_in: bool) -> None:
        await self._c.execute(
            update(t.users)
            .where(t.users.c.id == user_id)
            .values(status=status, status_reason=reason, status_since=since, logged_in=logged_in)
        )

    async def set_missed_offers(self, user_id: int, missed: int) -> None:
        await self._c.execute(update(t.users).where(t.users.c.id == user_id).values(missed_offers=missed))

    async def release_operator(self, operator_id: int, at: datetime) -> list[int]:
        c, o = t.conversations.c, t.offers.c
        held = [S.ASSIGNED.value, S.WAITING.value]
        ids = [
            r.id for r in await self._c.execute(select(c.id).where(c.assignee_id == operator_id, c.status.in_(held)))
        ]
        if ids:
            await self._c.execute(
                update(t.conversations)
                .where(c.id.in_(ids))
                .values(status=S.QUEUED.value, assignee_id=None, queued_at=func.coalesce(c.queued_at, at))
            )
        await self._c.execute(
            update(t.offers)
            .where(o.operator_id == operator_id, o.state == OPEN)
            .values(state="withdrawn", decided_at=at)
        )
        return ids

    async def schedule_timer(self, key: str, due_at: datetime, at: datetime) -> None:
        moved = await self._c.execute(update(t.timers).where(t.timers.c.key == key).values(due_at=due_at))
        if moved.rowcount == 0:
            await self._c.execute(
                insert(t.timers).values(key=key, kind=key.split(":", 1)[0], due_at=due_at, payload={}, created_at=at)
            )

    async def cancel_timer(self, key: str) -> None:
        await self._c.execute(delete(t.timers).where(t.timers.c.key == key))

    async def due_timers(self, now: datetime, limit: int) -> list[tuple[str, datetime]]:
        rows = await self._c.execute(
            select(t.timers.c.key, t.timers.c.due_at)
            .where(t.timers.c.due_at <= now)
            .order_by(t.timers.c.due_at, t.timers.c.id)
            .limit(limit)
        )
        return [(r.key, r.due_at) for r in rows]

    async def timers(self) -> list[tuple[str, datetime]]:
        rows = await self._c.execute(select(t.timers.c.key, t.timers.c.due_at).order_by(t.timers.c.id))
        return [(r.key, r.due_at) for r in rows]

    async def claim_timer(self, key: str) -> bool:
        result = await self._c.execute(delete(t.timers).where(t.timers.c.key == key))
        return bool(result.rowcount == 1)
