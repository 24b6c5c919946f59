"""The contact history routing reads when it admits a conversation: one statement, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.bootstrap import Container
from switchboard.domain.contacts import ContactTier
from switchboard.domain.conversation import ConversationStatus as S
from switchboard.domain.lines import Line
from switchboard.domain.source import Source
from tests.support.desk import Desk

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


async def test_history_says_whether_the_contact_came_before_and_who_last_took_them_on_this_line(
    container: Container, desk: Desk
) -> None:
    # given a customer served on the desk's line by olga, then on another line by ivan, then unassigned;
    # and a second customer with nothing before
    async with container.services.uow() as uow:
        other_line = await uow.lines.add(Line(0, "Other"), AT)
        regular = await uow.contacts.add("Regular", ContactTier.REGULAR, AT)
        newcomer = await uow.contacts.add("Newcomer", ContactTier.REGULAR, AT)

        async def conversation(contact_id: int, line_id: int, assignee: int | None) -> int:
            opened = await uow.conversations.add(
                contact_id, line_id, desk.channel_id, S.NEW, AT, Source(desk.channel_id, line_id)
            )
            if assignee is not None:
                assert await uow.routing.move(opened.id, (S.NEW,), S.ASSIGNED, AT, assignee_id=assignee)
            return opened.id

        await conversation(regular.id, desk.line_id, desk.operator_id)
        await conversation(regular.id, other_line.id, desk.other_operator_id)
        await conversation(regular.id, desk.line_id, None)
        now = await conversation(regular.id, desk.line_id, None)
        only = await conversation(newcomer.id, desk.line_id, None)
        later = await conversation(regular.id, desk.line_id, desk.other_operator_id)  # opened after `now`
        await uow.commit()
    async with container.services.uow(read_only=True) as uow:
        # when routing reads each one's history
        regular_history = await uow.routing.history(regular.id, desk.line_id, now)
        newcomer_history = await uow.routing.history(newcomer.id, desk.line_id, only)
        other_line_history = await uow.routing.history(regular.id, other_line.id, now)
        latest_history = await uow.routing.history(regular.id, desk.line_id, later)
    # then the regular came before, last taken on this line by olga (the unassigned one and ivan's
    # on another line do not count, nor a conversation opened after this one)
    assert regular_history == (True, desk.operator_id)
    assert newcomer_history == (False, None)
    assert other_line_history == (True, desk.other_operator_id)
    assert latest_history == (True, desk.operator_id)
