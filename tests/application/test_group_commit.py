"""Intake's group commit: messages that arrive together share one transaction, and every caller gets
the answer storing them one after another would give (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from switchboard.adapters.storage import tables as t
from switchboard.application.access import Principal
from switchboard.application.errors import InvalidInput
from switchboard.application.group_commit import GroupCommit, Pending
from switchboard.application.inbound import ThreadHint
from switchboard.application.intake import InboundMessage, IntakeResult, Sender, receive_message
from switchboard.bootstrap import Container, build
from switchboard.domain.operators import Role
from tests.support.desk import Desk

INTEGRATION = Principal(Role.INTEGRATION)


def message(channel_id: int, external_id: str, **sender: str) -> InboundMessage:
    return InboundMessage(channel_id, Sender(**sender), f"text of {external_id}", external_id=external_id)


async def together(container: Container, *messages: InboundMessage) -> list[IntakeResult | BaseException]:
    """Deliver the messages at once: they are queued before the writer runs, so they form one batch."""
    calls = [receive_message(container.services, INTEGRATION, m) for m in messages]
    return await asyncio.gather(*calls, return_exceptions=True)


async def count(container: Container, table: t.Table) -> int:
    async with container.database.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_batch_recognises_senders_seen_earlier_in_it(container: Container, desk: Desk) -> None:
    services = container.services
    # given a known customer with an open conversation, and one earlier delivery
    known = await receive_message(services, INTEGRATION, message(desk.channel_id, "k-0", phone="+79160000100"))
    batches = services.intake_queue.batches
    # when a new sender writes three times (phone, then phone + email, then the email alone), the known
    # customer writes again, the first new message and the earlier delivery are repeated, all at once
    answers = await together(
        container,
        message(desk.channel_id, "n-1", phone="+79160000200", name="Анна"),
        message(desk.channel_id, "n-2", phone="+79160000200", email="anna@example.com"),
        message(desk.channel_id, "n-3", email="Anna@Example.com"),
        message(desk.channel_id, "k-1", phone="+79160000100"),
        message(desk.channel_id, "n-1", phone="+79160000200", name="Анна"),
        message(desk.channel_id, "k-0", phone="+79160000100"),
    )
    first, second, third, again, repeat, old = answers
    # then they were written together
    assert services.intake_queue.batches == batches + 1
    assert isinstance(first, IntakeResult) and isinstance(second, IntakeResult) and isinstance(third, IntakeResult)
    # the new sender is one contact with one conversation and one lead; only the first message created them
    assert (first.contact_created, first.conversation_opened, first.lead_created) == (True, True, True)
    for later in (second, third):
        assert (later.contact_id, later.conversation_id) == (first.contact_id, first.conversation_id)
        assert (later.contact_created, later.conversation_opened, later.lead_created, later.duplicate) == (
            False,
            False,
            False,
            False,
        )
    # the known customer continues the conversation they have
    assert isinstance(again, IntakeResult)
    assert (again.contact_id, again.conversation_id, again.contact_created) == (
        known.contact_id,
        known.conversation_id,
        False,
    )
    # the repeats get their first delivery's answer and store nothing
    assert isinstance(repeat, IntakeResult) and isinstance(old, IntakeResult)
    assert repeat.duplicate and repeat.message_id == first.message_id and repeat.contact_created
    assert old.duplicate and old.message_id == known.message_id
    assert await count(container, t.contacts) == 2
    assert await count(container, t.identities) == 3
    assert await count(container, t.conversations) == 2
    assert await count(container, t.messages) == 5
    assert await count(container, t.leads) == 2


async def test_a_batch_writes_the_timeline_and_events_in_arrival_order(container: Container, desk: Desk) -> None:
    # when a new sender's two messages arrive together
    first, second = await together(
        container,
        message(desk.channel_id, "o-1", phone="+79160000300", name="Борис"),
        message(desk.channel_id, "o-2", phone="+79160000300", email="boris@example.com"),
    )
    assert isinstance(first, IntakeResult) and isinstance(second, IntakeResult)
    # then the timeline reads as if they had come one after another
    async with container.database.engine.connect() as connection:
        timeline = (
            await connection.execute(
                select(t.timeline.c.kind, t.timeline.c.ref_id)
                .where(t.timeline.c.contact_id == first.contact_id)
                .order_by(t.timeline.c.id)
            )
        ).all()
        events = (await connection.execute(select(t.outbox.c.name).order_by(t.outbox.c.id))).scalars().all()
        instants = (await connection.execute(select(t.messages.c.created_at).order_by(t.messages.c.id))).scalars().all()
    assert [tuple(row) for row in timeline] == [
        ("conversation_opened", first.conversation_id),
        ("message", first.message_id),
        ("lead", first.lead_id),
        ("message", second.message_id),
    ]
    assert events[-6:] == [
        "ContactCreated",
        "ConversationOpened",
        "LeadCreated",
        "MessageReceived",
        "IdentityAdded",
        "MessageReceived",
    ]
    # and each message has its own instant, so a replay can tell which delivery created what
    assert instants[0] < instants[1]


async def test_a_message_the_batch_cannot_take_fails_alone(container: Container, desk: Desk) -> None:
    # when a message to a channel that does not exist arrives with two good ones
    good, bad, other = await together(
        container,
        message(desk.channel_id, "b-1", phone="+79160000400"),
        message(desk.channel_id + 1000, "b-2", phone="+79160000401"),
        message(desk.channel_id, "b-3", phone="+79160000402"),
    )
    # then only that one is refused, naming the field, and the others are stored
    assert isinstance(bad, InvalidInput) and bad.field == "channel_id"
    assert isinstance(good, IntakeResult) and isinstance(other, IntakeResult)
    assert await count(container, t.messages) == 2


async def test_two_writers_with_the_same_new_sender_at_once_make_one_contact(container: Container, desk: Desk) -> None:
    # given a second service on the same database (another worker process), each with its own group commit
    other = build(container.settings, clock=container.services.clock, fast_hashing=True)
    try:
        # when both receive the first message of the same new sender at the same moment
        mine, theirs = await asyncio.gather(
            receive_message(container.services, INTEGRATION, message(desk.channel_id, "u-1", phone="+79160000500")),
            receive_message(other.services, INTEGRATION, message(desk.channel_id, "u-2", phone="+79160000500")),
        )
    finally:
        await other.database.dispose()
    # then there is one contact for the phone (the loser's batch is stored again message by message),
    # both messages are stored, and exactly one answer says the contact was created
    assert mine.contact_id == theirs.contact_id
    assert sorted([mine.contact_created, theirs.contact_created]) == [False, True]
    assert await count(container, t.contacts) == 1
    assert await count(container, t.messages) == 2


# --- the queue itself ------------------------------------------------------------------------------


async def test_callers_that_arrive_during_a_write_share_the_next_one() -> None:
    queue: GroupCommit[int, int] = GroupCommit()
    written: list[list[int]] = []
    gate = asyncio.Event()

    async def write(batch: list[Pending[int, int]]) -> None:
        written.append([p.item for p in batch])
        if len(written) == 1:
            await gate.wait()
        for pending in batch:
            pending.answer(pending.item * 10)

    # when one caller's write is under way and three more arrive, one of whom gives up
    first = asyncio.ensure_future(queue.submit(1, write))
    await asyncio.sleep(0)
    others = [asyncio.ensure_future(queue.submit(i, write)) for i in (2, 3, 4)]
    await asyncio.sleep(0)
    others[1].cancel()
    gate.set()
    # then the three waiting went out together, without the one who left, and each got its own answer
    assert await first == 10
    assert [await others[0], await others[2]] == [20, 40]
    assert written == [[1], [2, 4]]
    assert queue.batches == 2


async def test_a_writer_that_fails_fails_its_callers_and_the_next_batch_still_goes() -> None:
    queue: GroupCommit[int, int] = GroupCommit()

    async def write(batch: list[Pending[int, int]]) -> None:
        if batch[0].item == 1:
            raise RuntimeError("disk full")
        for pending in batch:
            pending.answer(pending.item)

    failed = asyncio.ensure_future(queue.submit(1, write))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="disk full"):
        await failed
    assert await queue.submit(2, write) == 2


async def test_a_caller_the_writer_forgets_is_told_rather_than_left_waiting() -> None:
    queue: GroupCommit[int, int] = GroupCommit()

    async def write(batch: list[Pending[int, int]]) -> None:
        return None

    with pytest.raises(RuntimeError, match="unanswered"):
        await asyncio.wait_for(queue.submit(1, write), timeout=5)


async def test_a_batch_threads_a_reply_to_a_message_earlier_in_it_and_to_a_stored_one(
    container: Container, desk: Desk
) -> None:
    services = container.services
    # given a stored message of Ann's (an email channel would send thread hints; the API channel stands in)
    stored = await receive_message(services, INTEGRATION, message(desk.channel_id, "a-1", email="ann@example.com"))
    batches = services.intake_queue.batches
    # when, all at once, Ann writes anew, her colleague answers that new mail (In-Reply-To), and another
    # colleague answers the stored one with a token that names Ann's conversation
    answers = await together(
        container,
        message(desk.channel_id, "a-2", email="ann@example.com"),
        replace(message(desk.channel_id, "b-1", email="boris@example.com"), thread=ThreadHint(("unknown", "a-2"))),
        replace(
            message(desk.channel_id, "c-1", email="clara@example.com"),
            thread=ThreadHint((), stored.conversation_id),
        ),
    )
    ann, boris, clara = answers
    assert services.intake_queue.batches == batches + 1
    assert isinstance(ann, IntakeResult) and isinstance(boris, IntakeResult) and isinstance(clara, IntakeResult)
    # then both colleagues' messages are in Ann's conversation, each under a new contact of their own
    assert ann.conversation_id == stored.conversation_id
    assert (boris.conversation_id, clara.conversation_id) == (stored.conversation_id, stored.conversation_id)
    assert len({ann.contact_id, boris.contact_id, clara.contact_id}) == 3
    assert (boris.contact_created, boris.conversation_opened, boris.lead_created) == (True, False, False)
    assert await count(container, t.conversations) == 1
    assert await count(container, t.leads) == 1  # Ann's, from her first mail
