"""The set-based reads behind GET /desk/heads, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.application.ports.storage import NewMessage
from switchboard.bootstrap import Container
from switchboard.domain.channels import ChannelKind
from switchboard.domain.contacts import ContactTier
from switchboard.domain.conversation import AuthorKind, ConversationStatus, DeliveryStatus, Direction
from switchboard.domain.lines import Line
from switchboard.domain.source import Source

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def test_the_newest_messages_and_the_notes_of_several_conversations_in_one_read(container: Container) -> None:
    # given three conversations: 7 messages and 2 notes, 1 message, none (the messages interleaved in time)
    async with container.services.uow() as uow:
        line = await uow.lines.add(Line(0, "L"), AT)
        channel = await uow.channels.add(ChannelKind.API, "C", line.id, {}, AT)
        contact = await uow.contacts.add("A", ContactTier.REGULAR, AT)
        long, short, empty = [
            await uow.conversations.add(contact.id, line.id, channel.id, ConversationStatus.NEW, AT, Source())
            for _ in range(3)
        ]
        for n in range(7):
            for conversation in (long, short) if n == 3 else (long,):
                text = f"{conversation.id}:{n}"
                at = AT + timedelta(seconds=n)
                await uow.messages.add(
                    NewMessage(
                        conversation.id, channel.id, Direction.IN, AuthorKind.CONTACT, text, DeliveryStatus.RECEIVED, at
                    )
                )
        for text in ("first", "second"):
            await uow.notes.add(long.id, None, text, AT)
        await uow.commit()
    # when the newest three of each, their notes (at most one) and the conversations are read at once
    async with container.services.uow(read_only=True) as uow:
        newest = await uow.messages.newest([short.id, long.id, empty.id], 3)
        notes = await uow.notes.list_many([long.id, empty.id], 1)
        found = await uow.conversations.get_many([empty.id, long.id, 999_999])
        nothing = (await uow.messages.newest([], 3), await uow.notes.list_many([], 1))
    # then each conversation has its own newest first, notes oldest first, cut at the limit
    assert {i: [m.body for m in ms] for i, ms in newest.items()} == {
        short.id: [f"{short.id}:3"],
        long.id: [f"{long.id}:6", f"{long.id}:5", f"{long.id}:4"],
        empty.id: [],
    }
    assert {i: [n.body for n in ns] for i, ns in notes.items()} == {long.id: ["first"], empty.id: []}
    # and the conversations that exist come in id order
    assert [c.id for c in found] == [long.id, empty.id]
    assert nothing == ({}, {})
