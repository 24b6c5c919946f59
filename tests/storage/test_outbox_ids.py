"""A commit hands this process's listeners its events with the ids the outbox gave them, in one INSERT."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from switchboard.adapters.storage import tables as t
from switchboard.application.ports.bus import Envelope
from switchboard.bootstrap import Container
from switchboard.domain.events import ContactCreated
from tests.support.statements import sent

AT = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


async def test_listeners_get_each_event_with_its_outbox_id_from_one_insert(container: Container) -> None:
    # given a listener of this process's commits, and a count of the INSERTs into the outbox
    heard: list[Envelope] = []
    container.database.on_events(heard.extend)
    inserts: list[str] = []

    def count(statement: str, _context: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            inserts.append(statement)

    try:
        # when one unit of work emits 40 events
        with sent(container, count):
            async with container.services.uow() as uow:
                for contact_id in range(1, 41):
                    uow.emit(ContactCreated(contact_id, None), AT)
                await uow.commit()
    finally:
        container.database.off_events(heard.extend)
    # then they went in with one statement, and each envelope names its own row
    assert len(inserts) == 1
    async with container.database.engine.connect() as connection:
        rows = (await connection.execute(select(t.outbox.c.id, t.outbox.c.payload).order_by(t.outbox.c.id))).all()
    stored = {int(r.id): r.payload["contact_id"] for r in rows}
    assert [(e.event_id, e.payload["contact_id"]) for e in heard] == [(i, stored[i]) for i in sorted(stored)]
    assert [e.payload["contact_id"] for e in heard] == list(range(1, 41))
