"""Calls, the PBX's call events and callback tasks in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import direct
from switchboard.adapters.storage import tables as t
from switchboard.domain.voice.call import Call, CallDirection, CallStatus, Disposition
from switchboard.domain.voice.callbacks import Callback, CallbackReason, CallbackStatus

_CALL_FIELDS = (
    "channel_id",
    "pbx_call_id",
    "ani",
    "dnis",
    "contact_id",
    "conversation_id",
    "line_id",
    "operator_id",
    "started_at",
    "queued_at",
    "offered_at",
    "answered_at",
    "ended_at",
    "end_reason",
    "timed_out",
    "wait_s",
    "talk_s",
    "after_work_s",
    "missed_offers",
    "recording_url",
    "walk",
    "step_no",
    "step",
    "transferred_to",
    "expires_at",
    "language",
    "announced_at",
    "callback_id",
)
_CALLBACK_FIELDS = (
    "line_id",
    "channel_id",
    "contact_id",
    "number",
    "call_id",
    "conversation_id",
    "assignee_id",
    "attempts",
    "note",
    "due_at",
    "created_at",
    "done_at",
)


def _call_values(call: Call) -> dict[str, Any]:
    values = {name: getattr(call, name) for name in _CALL_FIELDS}
    values["direction"] = call.direction.value
    values["status"] = call.status.value
    values["disposition"] = call.disposition.value if call.disposition else None
    values["ivr_path"] = list(call.ivr_path)
    return values


def _call(row: Any) -> Call:
    call = Call(
        id=row.id,
        channel_id=row.channel_id,
        pbx_call_id=row.pbx_call_id,
        direction=CallDirection(row.direction),
        ani=row.ani,
        dnis=row.dnis,
        status=CallStatus(row.status),
        started_at=row.started_at,
    )
    for name in _CALL_FIELDS[4:]:
        setattr(call, name, getattr(row, name))
    call.disposition = Disposition(row.disposition) if row.disposition else None
    call.ivr_path = list(row.ivr_path or [])
    return call


def _callback_values(callback: Callback) -> dict[str, Any]:
    values = {name: getattr(callback, name) for name in _CALLBACK_FIELDS}
    values["reason"] = callback.reason.value
    values["status"] = callback.status.value
    return values


def _callback(row: Any) -> Callback:
    callback = Callback(
        id=row.id,
        line_id=row.line_id,
        number=row.number,
        reason=CallbackReason(row.reason),
        status=CallbackStatus(row.status),
        due_at=row.due_at,
        created_at=row.created_at,
    )
    for name in ("channel_id", "contact_id", "call_id", "conversation_id", "assignee_id", "attempts", "done_at"):
        setattr(callback, name, getattr(row, name))
    callback.note = row.note
    return callback


# built once: a statement with values given at execute time is compiled once and reused (the hot path)
_SAVE_CALL = update(t.calls).where(t.calls.c.id == bindparam("call_key"))


class SqlCalls:
    def __init__(self, connection: AsyncConnection, is_sqlite: bool) -> None:
        self._c = connection
        self._lock_rows = not is_sqlite  # SQLite already has one writer

    async def add(self, call: Call) -> Call:
        call.id = await direct.add_row(self._c, t.calls, _call_values(call))
        return call

    async def _one(self, condition: Any, for_update: bool) -> Call | None:
        statement = select(t.calls).where(condition).order_by(t.calls.c.id.desc()).limit(1)
        if for_update and self._lock_rows:
            statement = statement.with_for_update()
        row = (await self._c.execute(statement)).first()
        return _call(row) if row else None

    async def get(self, call_id: int, *, for_update: bool = False) -> Call | None:
        return await self._one(t.calls.c.id == call_id, for_update)

    async def find(self, channel_id: int | None, pbx_call_id: str, *, for_update: bool = False) -> Call | None:
        c = t.calls.c
        condition = c.pbx_call_id == pbx_call_id
        if channel_id is not None:
            condition = condition & (c.channel_id == channel_id)
        return await self._one(condition, for_update)

    async def by_conversation(self, conversation_id: int) -> Call | None:
        row = (
            await self._c.execute(
                select(t.calls).where(t.calls.c.conversation_id == conversation_id).order_by(t.calls.c.id).limit(1)
            )
        ).first()
        return _call(row) if row else None

    async def save(self, call: Call) -> None:
        await self._c.execute(_SAVE_CALL, {**_call_values(call), "call_key": call.id})

    async def expired(self, now: datetime, limit: int) -> list[int]:
        c = t.calls.c
        rows = await self._c.execute(
            select(c.id)
            .where(c.expires_at <= now, c.status != CallStatus.ENDED.value)
            .order_by(c.expires_at)
            .limit(limit)
        )
        return [r.id for r in rows]

    async def event_seen(self, channel_id: int, event_id: str) -> bool:
        e = t.call_events.c
        row = (
            await self._c.execute(select(e.id).where(e.channel_id == channel_id, e.event_id == event_id).limit(1))
        ).first()
        return row is not None

    async def add_event(
        self,
        channel_id: int,
        event_id: str,
        call_id: int,
        kind: str,
        occurred_at: datetime,
        received_at: datetime,
        applied: bool,
        payload: Mapping[str, Any],
    ) -> None:
        row = {
            "channel_id": channel_id,
            "event_id": event_id,
            "call_id": call_id,
            "kind": kind,
            "occurred_at": occurred_at,
            "received_at": received_at,
            "applied": applied,
            "payload": dict(payload),
        }
        await direct.add_rows(self._c, t.call_events, [row])


class SqlCallbacks:
    def __init__(self, connection: AsyncConnection, is_sqlite: bool) -> None:
        self._c = connection
        self._lock_rows = not is_sqlite

    async def add(self, callback: Callback) -> Callback:
        result = await self._c.execute(
            insert(t.callbacks).values(**_callback_values(callback)).returning(t.callbacks.c.id)
        )
        callback.id = result.scalar_one()
        return callback

    async def get(self, callback_id: int, *, for_update: bool = False) -> Callback | None:
        statement = select(t.callbacks).where(t.callbacks.c.id == callback_id)
        if for_update and self._lock_rows:
            statement = statement.with_for_update()
        row = (await self._c.execute(statement)).first()
        return _callback(row) if row else None

    async def save(self, callback: Callback) -> None:
        await self._c.execute(
            update(t.callbacks).where(t.callbacks.c.id == callback.id).values(**_callback_values(callback))
        )

    async def pending_for(self, line_id: int, number: str) -> Callback | None:
        c = t.callbacks.c
        pending = [CallbackStatus.OPEN.value, CallbackStatus.CALLING.value]
        row = (
            await self._c.execute(
                select(t.callbacks)
                .where(c.number == number, c.status.in_(pending), c.line_id == line_id)
                .order_by(c.id)
                .limit(1)
            )
        ).first()
        return _callback(row) if row else None

    async def for_call(self, call_id: int) -> list[Callback]:
        rows = await self._c.execute(select(t.callbacks).where(t.callbacks.c.call_id == call_id))
        return [_callback(r) for r in rows]

    async def list(
        self, line_ids: Sequence[int] | None, statuses: Sequence[CallbackStatus], limit: int
    ) -> list[Callback]:
        c = t.callbacks.c
        statement = select(t.callbacks).where(c.status.in_([s.value for s in statuses]))
        if line_ids is not None:
            statement = statement.where(c.line_id.in_(list(line_ids)))
        rows = await self._c.execute(statement.order_by(c.due_at, c.id).limit(limit))
        return [_callback(r) for r in rows]
