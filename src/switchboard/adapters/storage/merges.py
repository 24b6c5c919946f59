"""Merges (with what an undo needs) and the stored merge suggestions, in SQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.application.ports.storage import SuggestedPair
from switchboard.domain.matching import Reason
from switchboard.domain.merge import MergeRecord

MOVABLE: dict[str, Table] = {
    "identities": t.identities,
    "conversations": t.conversations,
    "leads": t.leads,
    "timeline": t.timeline,
}
CHUNK = 5_000  # ids per statement: under every driver's limit of bound parameters


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _record(row: Any) -> MergeRecord:
    return MergeRecord(
        id=row.id,
        survivor_id=row.survivor_id,
        duplicate_id=row.duplicate_id,
        merged_at=row.merged_at,
        merged_by=row.merged_by,
        survivor_before=dict(row.survivor_before),
        survivor_after=dict(row.survivor_after),
        duplicate_before=dict(row.duplicate_before),
        moved={name: list(ids) for name, ids in row.moved.items()},
        taken=dict(row.taken),
        undone_at=row.undone_at,
        undone_by=row.undone_by,
    )


class SqlMerges:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def move(self, table: str, from_contact: int, to_contact: int) -> list[int]:
        rows = MOVABLE[table]
        result = await self._c.execute(
            update(rows).where(rows.c.contact_id == from_contact).values(contact_id=to_contact).returning(rows.c.id)
        )
        return sorted(result.scalars())

    async def move_back(
        self, table: str, ids: Sequence[int], conversation_ids: Sequence[int], from_contact: int, to_contact: int
    ) -> None:
        rows = MOVABLE[table]
        for chunk in _chunks(ids):
            await self._c.execute(
                update(rows)
                .where(rows.c.contact_id == from_contact, rows.c.id.in_(chunk))
                .values(contact_id=to_contact)
            )
        if table in ("leads", "timeline"):
            for chunk in _chunks(conversation_ids):  # rows the conversations gained after the merge go with them
                await self._c.execute(
                    update(rows)
                    .where(rows.c.contact_id == from_contact, rows.c.conversation_id.in_(chunk))
                    .values(contact_id=to_contact)
                )

    async def add(self, record: MergeRecord) -> int:
        result = await self._c.execute(
            insert(t.merges)
            .values(
                survivor_id=record.survivor_id,
                duplicate_id=record.duplicate_id,
                merged_at=record.merged_at,
                merged_by=record.merged_by,
                survivor_before=record.survivor_before,
                survivor_after=record.survivor_after,
                duplicate_before=record.duplicate_before,
                moved=record.moved,
                taken=record.taken,
            )
            .returning(t.merges.c.id)
        )
        return int(result.scalar_one())

    async def get(self, merge_id: int) -> MergeRecord | None:
        row = (await self._c.execute(select(t.merges).where(t.merges.c.id == merge_id))).first()
        return _record(row) if row else None

    async def mark_undone(self, merge_id: int, at: datetime, by: int | None) -> None:
        await self._c.execute(update(t.merges).where(t.merges.c.id == merge_id).values(undone_at=at, undone_by=by))

    async def of_contact(self, contact_id: int) -> list[MergeRecord]:
        m = t.merges.c
        rows = await self._c.execute(
            select(t.merges)
            .where(or_(m.survivor_id == contact_id, m.duplicate_id == contact_id))
            .order_by(m.id.desc())
            .limit(100)
        )
        return [_record(row) for row in rows]


class SqlSuggestions:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def replace(self, pairs: Sequence[SuggestedPair]) -> None:
        await self._c.execute(delete(t.merge_suggestions))
        for start in range(0, len(pairs), CHUNK):
            await self._c.execute(
                insert(t.merge_suggestions),
                [
                    {
                        "a_id": pair.a_id,
                        "b_id": pair.b_id,
                        "score": pair.score,
                        "reasons": [[r.field, r.similarity, r.weight] for r in pair.reasons],
                        "found_at": pair.found_at,
                    }
                    for pair in pairs[start : start + CHUNK]
                ],
            )

    async def page(self, min_score: float, limit: int, offset: int) -> list[SuggestedPair]:
        s = t.merge_suggestions.c
        a, b = t.contacts.alias("a"), t.contacts.alias("b")
        rows = await self._c.execute(
            select(t.merge_suggestions)
            .join(a, a.c.id == s.a_id)
            .join(b, b.c.id == s.b_id)
            .where(s.score >= min_score, a.c.merged_into_id.is_(None), b.c.merged_into_id.is_(None))
            .order_by(s.score.desc(), s.a_id, s.b_id)
            .limit(limit)
            .offset(offset)
        )
        return [
            SuggestedPair(
                row.a_id,
                row.b_id,
                row.score,
                tuple(Reason(str(f), float(sim), float(w)) for f, sim, w in row.reasons),
                row.found_at,
            )
            for row in rows
        ]

    async def partners(self, contact_id: int) -> list[int]:
        s = t.merge_suggestions.c
        rows = await self._c.execute(
            select(s.a_id, s.b_id).where(or_(s.a_id == contact_id, s.b_id == contact_id)).limit(200)
        )
        return [row.b_id if row.a_id == contact_id else row.a_id for row in rows]
