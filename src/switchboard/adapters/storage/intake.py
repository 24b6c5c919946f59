"""Set-based writes for a batch of inbound messages (group commit): one statement per table, not per message.

Each ``add_*`` inserts many rows with one multi-row ``INSERT … RETURNING`` and returns their ids in
the order of the rows given, so callers can pair them: one writer numbers the rows of one
statement in order, so the returned ids, sorted, are the rows' ids.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, any_, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.adapters.storage.bulk import as_arrays, insert_rows, inserted_ids, unnest_update
from switchboard.adapters.storage.contacts import match_name, searchable
from switchboard.adapters.storage.conversations import conversation_from_row, source_values
from switchboard.application.ports.storage import NewLead, NewMessage, TimelineRow
from switchboard.domain.contacts import ContactTier
from switchboard.domain.conversation import Conversation
from switchboard.domain.identity import Identity
from switchboard.domain.leads import LeadStatus

_SAVE = (
    update(t.conversations)
    .where(t.conversations.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        assignee_id=bindparam("b_assignee_id"),
        closed_at=bindparam("b_closed_at"),
        last_message_at=bindparam("b_last_message_at"),
        subject=bindparam("b_subject"),
    )
)


# PostgreSQL reads the batch's keys as arrays joined against the indexes: one prepared statement
# whatever the batch size. A row-value ``IN`` list is a new statement per length and PostgreSQL
# runs it slowly (~5 ms for 50 keys against well under 1 ms this way).
def _wanted(*columns: tuple[str, Any]) -> Any:
    arrays = [bindparam(name, type_=ARRAY(kind)) for name, kind in columns]
    return func.unnest(*arrays).table_valued(*(name for name, _ in columns)).render_derived().alias("wanted")


def _answered_pg() -> Any:
    m = t.messages.c
    wanted = _wanted(("channels", BigInteger), ("external_ids", String))
    return select(m.channel_id, m.external_id, m.conversation_id).join_from(
        t.messages,
        wanted,
        (m.channel_id == wanted.c.channels) & (m.external_id == wanted.c.external_ids),
    )


def _newest_pg() -> Any:
    """The newest conversation id of each (contact, channel) pair."""
    c = t.conversations.c
    wanted = _wanted(("contacts", BigInteger), ("channels", BigInteger))
    return (
        select(func.max(c.id))
        .join_from(t.conversations, wanted, (c.contact_id == wanted.c.contacts) & (c.channel_id == wanted.c.channels))
        .group_by(c.contact_id, c.channel_id)
    )


# Locked by primary key alone, in id order (no deadlock between batches). Locking through a join or a
# semi-join instead can drop a row that another batch updated while this one waited for its lock
# (PostgreSQL re-checks the join for the new row version), and the message would open a second
# conversation.
_LOCK_CONVERSATIONS_PG = (
    select(t.conversations)
    .where(t.conversations.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .order_by(t.conversations.c.id)
    .with_for_update()
)


_ANSWERED_PG = _answered_pg()

# SQLite: the keys as one JSON text, so each statement is one text for any count (a row-value ``IN``
# list is rendered and prepared anew on every call).
_ANSWERED_SQLITE = text(
    "SELECT m.channel_id, m.external_id, m.conversation_id FROM messages AS m JOIN json_each(:wanted) AS wanted"
    " ON m.channel_id = json_extract(wanted.value, '$[0]') AND m.external_id = json_extract(wanted.value, '$[1]')"
)
_CONVERSATIONS_SQLITE = (
    select(t.conversations)
    .where(
        t.conversations.c.id.in_(
            text(
                "SELECT max(c.id) FROM conversations AS c JOIN json_each(:pairs) AS wanted"
                " ON c.contact_id = json_extract(wanted.value, '$[0]')"
                " AND c.channel_id = json_extract(wanted.value, '$[1]')"
                " GROUP BY c.contact_id, c.channel_id"
                " UNION ALL SELECT value FROM json_each(:ids)"
            )
        )
    )
    .order_by(t.conversations.c.id)
)
_NEWEST_PG = _newest_pg()


class SqlIntakeStore:
    def __init__(self, connection: AsyncConnection, is_sqlite: bool) -> None:
        self._c = connection
        self._unnest = not is_sqlite  # PostgreSQL: one prepared statement per table, not one per batch size

    async def _ids(self, table: Any, rows: list[dict[str, Any]]) -> list[int]:
        return await inserted_ids(self._c, table, rows, unnest=self._unnest)

    async def _answered(self, keys: Sequence[tuple[int, str]]) -> Any:
        """Stored messages with these (channel, external id) keys."""
        if self._unnest:
            channels, external_ids = [k[0] for k in keys], [k[1] for k in keys]
            return await self._c.execute(_ANSWERED_PG, {"channels": channels, "external_ids": external_ids})
        return await self._c.execute(_ANSWERED_SQLITE, {"wanted": json.dumps(list(keys), ensure_ascii=False)})

    async def _insert_all(self, table: Any, rows: list[dict[str, Any]]) -> None:
        await insert_rows(self._c, table, rows, unnest=self._unnest)

    async def delivered(self, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        if not keys:
            return set()
        return {(int(r.channel_id), str(r.external_id)) for r in await self._answered(keys)}

    async def answered_conversations(self, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], int]:
        if not keys:
            return {}
        return {(int(r.channel_id), str(r.external_id)): int(r.conversation_id) for r in await self._answered(keys)}

    async def conversations(
        self, pairs: Sequence[tuple[int, int]], ids: Sequence[int]
    ) -> tuple[dict[tuple[int, int], Conversation], dict[int, Conversation]]:
        if not pairs and not ids:
            return {}, {}
        if self._unnest:
            chosen = set(ids)
            if pairs:
                newest = {"contacts": [p[0] for p in pairs], "channels": [p[1] for p in pairs]}
                chosen.update(int(i) for i in (await self._c.execute(_NEWEST_PG, newest)).scalars())
            rows = await self._c.execute(_LOCK_CONVERSATIONS_PG, {"ids": sorted(chosen)})
        else:
            values = {"pairs": json.dumps(list(pairs)), "ids": json.dumps(list(ids))}
            rows = await self._c.execute(_CONVERSATIONS_SQLITE, values)
        by_id = {row.id: conversation_from_row(row) for row in rows}
        asked = set(pairs)
        latest: dict[tuple[int, int], Conversation] = {}
        for conversation in by_id.values():  # in id order: the last one of a pair is its latest
            if (pair := (conversation.contact_id, conversation.channel_id)) in asked:
                latest[pair] = conversation
        return latest, {i: by_id[i] for i in ids if i in by_id}

    async def add_contacts(self, contacts: Sequence[tuple[str, ContactTier, datetime]]) -> list[int]:
        return await self._ids(
            t.contacts,
            [
                {
                    "name": name,
                    "search_name": searchable(name),
                    "match_name": match_name(name, None, None, None),  # the duplicate matcher's name key
                    "tier": tier.value,
                    "created_at": at,
                    "updated_at": at,
                }
                for name, tier, at in contacts
            ],
        )

    async def add_identities(self, identities: Sequence[tuple[int, Identity, datetime]]) -> None:
        await self._insert_all(
            t.identities,
            [
                {"contact_id": contact_id, "kind": i.kind.value, "value": i.value, "created_at": at}
                for contact_id, i, at in identities
            ],
        )

    async def add_conversations(self, conversations: Sequence[Conversation]) -> list[int]:
        return await self._ids(
            t.conversations,
            [
                {
                    "contact_id": x.contact_id,
                    "line_id": x.line_id,
                    "channel_id": x.channel_id,
                    "status": x.status.value,
                    "assignee_id": x.assignee_id,
                    "subject": x.subject,
                    "opened_at": x.opened_at,
                    "closed_at": x.closed_at,
                    "last_message_at": x.last_message_at,
                    **source_values(x.source),
                }
                for x in conversations
            ],
        )

    async def save_conversations(self, conversations: Sequence[Conversation]) -> None:
        if not conversations:
            return
        rows = [
            {
                "id": x.id,
                "status": x.status.value,
                "assignee_id": x.assignee_id,
                "closed_at": x.closed_at,
                "last_message_at": x.last_message_at,
                "subject": x.subject,
            }
            for x in conversations
        ]
        if self._unnest:
            columns, arrays = as_arrays(t.conversations, rows)
            await self._c.exec_driver_sql(unnest_update("conversations", columns), arrays)
        else:  # an UPDATE's bind names must differ from its columns'
            await self._c.execute(_SAVE, [{f"b_{name}": value for name, value in row.items()} for row in rows])

    async def add_messages(self, messages: Sequence[NewMessage]) -> list[int]:
        return await self._ids(
            t.messages,
            [
                {
                    "conversation_id": m.conversation_id,
                    "channel_id": m.channel_id,
                    "direction": m.direction.value,
                    "author_kind": m.author_kind.value,
                    "author_id": m.author_id,
                    "body": m.body,
                    "attachments": [
                        {"name": a.name, "content_type": a.content_type, "size": a.size, "url": a.url}
                        for a in m.attachments
                    ],
                    "external_id": m.external_id,
                    "delivery_status": m.delivery_status.value,
                    "error": None,
                    "created_at": m.created_at,
                }
                for m in messages
            ],
        )

    async def add_leads(self, leads: Sequence[NewLead]) -> list[int]:
        return await self._ids(
            t.leads,
            [
                {
                    "contact_id": x.contact_id,
                    "conversation_id": x.conversation_id,
                    "title": x.title,
                    "status": LeadStatus.NEW.value,
                    "automatic": x.automatic,
                    "created_by": None,
                    "created_at": x.at,
                    **source_values(x.source),
                }
                for x in leads
            ],
        )

    async def add_timeline(self, rows: Sequence[TimelineRow]) -> None:
        await self._insert_all(
            t.timeline,
            [
                {
                    "contact_id": r.contact_id,
                    "kind": r.kind,
                    "ref_id": r.ref_id,
                    "occurred_at": r.occurred_at,
                    "summary": r.summary[:500],
                    "conversation_id": r.conversation_id,
                    "channel_kind": r.channel_kind,
                }
                for r in rows
            ],
        )
