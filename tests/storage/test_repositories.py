"""The storage port's contract, run on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from switchboard.adapters.storage.tables import metadata
from switchboard.application.ports.storage import Conflict, ContactQuery, ConversationQuery, NewMessage
from switchboard.bootstrap import Container
from switchboard.domain.channels import ChannelKind
from switchboard.domain.contacts import ContactTier
from switchboard.domain.conversation import AuthorKind, ConversationStatus, DeliveryStatus, Direction
from switchboard.domain.events import ContactCreated
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.lines import Line
from switchboard.domain.source import Source

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PHONE = Identity(IdentityKind.PHONE, "+79161234567")


async def _line_and_channel(container: Container) -> tuple[int, int]:
    async with container.services.uow() as uow:
        line = await uow.lines.add(Line(0, "L"), AT)
        channel = await uow.channels.add(ChannelKind.API, "C", line.id, {}, AT)
        await uow.commit()
    return line.id, channel.id


async def test_schema_from_migrations_equals_the_tables(container: Container) -> None:
    async with container.database.engine.connect() as connection:
        diff = await connection.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))
    assert diff == []


async def test_identity_belongs_to_one_contact(container: Container) -> None:
    # given a contact with a phone
    async with container.services.uow() as uow:
        first = await uow.contacts.add("A", ContactTier.REGULAR, AT)
        await uow.contacts.add_identity(first.id, PHONE, AT)
        await uow.commit()
    # when another contact claims the same phone, then the storage refuses and keeps nothing of it
    with pytest.raises(Conflict):
        async with container.services.uow() as uow:
            second = await uow.contacts.add("B", ContactTier.REGULAR, AT)
            await uow.contacts.add_identity(second.id, PHONE, AT)
            await uow.commit()
    async with container.services.uow(read_only=True) as uow:
        assert await uow.contacts.find_by_identity(PHONE) == first.id
        assert [c.name for c in await uow.contacts.search(ContactQuery(), 10, 0)] == ["A"]


async def test_cards_come_with_their_identities_and_a_page_counts_contacts_not_identities(
    container: Container,
) -> None:
    # given a contact with three identities, one with none, and one with a phone
    email, chat = Identity(IdentityKind.EMAIL, "a@example.com"), Identity(IdentityKind.TELEGRAM, "4242")
    async with container.services.uow() as uow:
        many = await uow.contacts.add("Many", ContactTier.REGULAR, AT)
        for identity in (PHONE, email, chat):
            await uow.contacts.add_identity(many.id, identity, AT)
        bare = await uow.contacts.add("Bare", ContactTier.REGULAR, AT)
        other = await uow.contacts.add("Other", ContactTier.REGULAR, AT)
        await uow.contacts.add_identity(other.id, Identity(IdentityKind.PHONE, "+79160000000"), AT)
        await uow.commit()
    async with container.services.uow(read_only=True) as uow:
        # when the cards are read one by one, together, by phone, and a page at a time
        one = await uow.contacts.get(many.id)
        together = await uow.contacts.get_many([other.id, bare.id, many.id])
        by_phone = await uow.contacts.search(ContactQuery(phone=PHONE.value), 50, 0)
        first_page = await uow.contacts.search(ContactQuery(), 2, 0)
        second_page = await uow.contacts.search(ContactQuery(), 2, 2)
    # then each card carries its own identities in the order they were added, and a page of 2 is 2 contacts
    assert one is not None and one.identities == [PHONE, email, chat]
    assert [(c.name, c.identities) for c in together] == [
        ("Many", [PHONE, email, chat]),
        ("Bare", []),
        ("Other", [Identity(IdentityKind.PHONE, "+79160000000")]),
    ]
    assert [(c.id, c.identities) for c in by_phone] == [(many.id, [PHONE, email, chat])]
    assert [c.name for c in first_page] == ["Other", "Bare"]
    assert [(c.name, len(c.identities)) for c in second_page] == [("Many", 3)]


async def test_times_come_back_aware_utc(container: Container) -> None:
    moscow = datetime(2026, 11, 2, 12, 0, tzinfo=UTC) + timedelta(hours=3)
    async with container.services.uow() as uow:
        contact = await uow.contacts.add("A", ContactTier.REGULAR, moscow.astimezone())
        await uow.commit()
    async with container.services.uow(read_only=True) as uow:
        stored = await uow.contacts.get(contact.id)
    assert stored is not None and stored.created_at == moscow and stored.created_at.tzinfo == UTC


async def test_a_failed_unit_of_work_leaves_nothing(container: Container) -> None:
    with pytest.raises(RuntimeError):
        async with container.services.uow() as uow:
            await uow.contacts.add("ghost", ContactTier.REGULAR, AT)
            uow.emit(ContactCreated(1, None), AT)
            raise RuntimeError("boom")
    async with container.services.uow(read_only=True) as uow:
        assert await uow.contacts.search(ContactQuery(), 10, 0) == []
    assert await container.outbox.unpublished(10) == []


async def test_external_id_is_unique_per_channel_only(container: Container) -> None:
    line_id, channel_id = await _line_and_channel(container)
    async with container.services.uow() as uow:
        other = await uow.channels.add(ChannelKind.TELEGRAM, "T", line_id, {}, AT)
        contact = await uow.contacts.add("A", ContactTier.REGULAR, AT)
        conversation = await uow.conversations.add(
            contact.id, line_id, channel_id, ConversationStatus.NEW, AT, Source(utm_source="ya")
        )
        for channel in (channel_id, other.id):
            await uow.messages.add(
                NewMessage(
                    conversation.id,
                    channel,
                    Direction.IN,
                    AuthorKind.CONTACT,
                    "hi",
                    DeliveryStatus.RECEIVED,
                    AT,
                    external_id="42",
                )
            )
        await uow.commit()
    with pytest.raises(Conflict):
        async with container.services.uow() as uow:
            await uow.messages.add(
                NewMessage(
                    conversation.id,
                    channel_id,
                    Direction.IN,
                    AuthorKind.CONTACT,
                    "again",
                    DeliveryStatus.RECEIVED,
                    AT,
                    external_id="42",
                )
            )
    async with container.services.uow(read_only=True) as uow:
        found = await uow.messages.find_by_external_id(channel_id, "42")
        listed = await uow.conversations.list(ConversationQuery(status=ConversationStatus.NEW), 10, None)
    assert found is not None and found.body == "hi"
    assert [c.source.utm_source for c in listed] == ["ya"]


async def test_outbox_keeps_events_until_marked_and_replays_after_an_id(container: Container) -> None:
    await container.relay.stop()  # the test plays the relay
    async with container.services.uow() as uow:
        for contact_id in (1, 2, 3):
            uow.emit(ContactCreated(contact_id, None), AT)
        await uow.commit()
    pending = await container.outbox.unpublished(10)
    assert [(e.name, e.payload["contact_id"]) for e in pending] == [
        ("ContactCreated", 1),
        ("ContactCreated", 2),
        ("ContactCreated", 3),
    ]
    await container.outbox.mark_published([pending[0].event_id], AT)
    assert [e.event_id for e in await container.outbox.unpublished(10)] == [e.event_id for e in pending[1:]]
    assert [e.event_id for e in await container.outbox.after(pending[0].event_id, 10)] == [
        e.event_id for e in pending[1:]
    ]
    assert await container.outbox.last_id() == pending[-1].event_id


async def test_the_relay_numbers_events_gap_free_and_a_republished_event_keeps_its_number(
    container: Container,
) -> None:
    await container.relay.stop()  # the test plays the relay
    async with container.services.uow() as uow:
        for contact_id in (1, 2, 3):
            uow.emit(ContactCreated(contact_id, None), AT)
        await uow.commit()
    # when a relay takes two, publishes them and dies before marking them
    async with container.outbox.relay_turn():
        first = await container.outbox.sequence_pending(2)
    assert [(e.payload["contact_id"], e.sequence) for e in first] == [(1, 1), (2, 2)]
    # (SQLite numbered all three as they were inserted; PostgreSQL's relay numbers what it takes)
    numbered = [e.sequence for e in await container.outbox.sequenced_after(0, 10)]
    assert numbered == ([1, 2, 3] if container.database.is_sqlite else [1, 2])
    assert await container.outbox.last_sequence() == 0  # nothing is marked published yet
    # then the next turn gives them again with the same numbers, and the next number to the third
    async with container.outbox.relay_turn():
        again = await container.outbox.sequence_pending(10)
        await container.outbox.mark_published([e.event_id for e in again], AT)
    assert [(e.payload["contact_id"], e.sequence) for e in again] == [(1, 1), (2, 2), (3, 3)]
    async with container.outbox.relay_turn():
        assert await container.outbox.sequence_pending(10) == []
    assert [e.sequence for e in await container.outbox.sequenced_after(1, 10)] == [2, 3]
    assert await container.outbox.last_sequence() == 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_numbers_events_as_they_are_inserted_and_the_relay_numbers_a_row_left_unnumbered(
    container: Container,
) -> None:
    from sqlalchemy import insert, update

    from switchboard.adapters.storage import tables as t

    await container.relay.stop()  # the test plays the relay
    # given two events committed through a unit of work: numbered at insert, before any relay
    async with container.services.uow() as uow:
        for contact_id in (1, 2):
            uow.emit(ContactCreated(contact_id, None), AT)
        await uow.commit()
    assert [e.sequence for e in await container.outbox.sequenced_after(0, 10)] == [1, 2]
    # and a third row left unnumbered (tables made without the migrations have no numbering trigger)
    async with container.database.engine.begin() as connection:
        payload = {"contact_id": 3, "channel_id": None}
        row = await connection.execute(
            insert(t.outbox).values(name="ContactCreated", payload=payload, occurred_at=AT).returning(t.outbox.c.id)
        )
        await connection.execute(update(t.outbox).where(t.outbox.c.id == row.scalar_one()).values(sequence=None))
    # when the relay takes its turn
    async with container.outbox.relay_turn():
        pending = await container.outbox.sequence_pending(10)
    # then the unnumbered row got the next number, after the ones numbered at commit
    assert [(e.payload["contact_id"], e.sequence) for e in pending] == [(1, 1), (2, 2), (3, 3)]


async def test_outbox_marks_exactly_the_ids_given_whatever_their_number(container: Container) -> None:
    # given seven unpublished events
    await container.relay.stop()  # the test plays the relay
    async with container.services.uow() as uow:
        for contact_id in range(1, 8):
            uow.emit(ContactCreated(contact_id, None), AT)
        await uow.commit()
    ids = [e.event_id for e in await container.outbox.unpublished(10)]
    # when three of them, not adjacent, are marked, then one more, then none
    await container.outbox.mark_published([ids[0], ids[2], ids[5]], AT)
    await container.outbox.mark_published([ids[6]], AT)
    await container.outbox.mark_published([], AT)
    # then exactly the others are still waiting
    assert [e.event_id for e in await container.outbox.unpublished(10)] == [ids[1], ids[3], ids[4]]


async def test_inbox_says_first_time_once(container: Container) -> None:
    assert await container.inbox.first_time("router", 7, AT) is True
    assert await container.inbox.first_time("router", 7, AT) is False
    assert await container.inbox.first_time("webhooks", 7, AT) is True


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_a_relay_turn_that_fails_leaves_the_relay_lock_free(container: Container) -> None:
    from sqlalchemy import text

    from switchboard.adapters.storage.outbox import RELAY_LOCK

    await container.relay.stop()  # the test plays the relay
    # given a relay turn that fails half-way (the broker refused, say)
    with pytest.raises(RuntimeError, match="broker"):
        async with container.outbox.relay_turn():
            raise RuntimeError("broker refused")
    # then another node can take the lock at once, and the next turn here works
    async with container.database.engine.connect() as other:
        taken = (await other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": RELAY_LOCK})).scalar_one()
        assert taken is True
        await other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": RELAY_LOCK})
    async with container.outbox.relay_turn():
        assert await container.outbox.sequence_pending(10) == []
