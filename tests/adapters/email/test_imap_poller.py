"""The IMAP poller against a real Dovecot started by the tests (see dovecot.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from switchboard.adapters.email.imap_poller import ImapError, ImapPoller, ImapSettings, ImapTls, PollResult
from tests.adapters.email import mails
from tests.adapters.email.dovecot import PASSWORD, Dovecot


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Inbox:
    received: list[tuple[bytes, str, list[str]]] = field(default_factory=list)
    fail: bool = False
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_message(self, raw: bytes, envelope_from: str, rcpt_tos: list[str]) -> None:
        if self.fail:
            raise RuntimeError("database is down")
        self.received.append((raw, envelope_from, rcpt_tos))
        self.arrived.set()


def _settings(dovecot: Dovecot, user: str, **overrides: object) -> ImapSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": dovecot.port,
        "tls": ImapTls.NONE,
        "username": user,
        "password": PASSWORD,
        "address": f"{user}@desk.example",
        "poll_interval_seconds": 300.0,
        "timeout_seconds": 10.0,
        "reconnect_initial_seconds": 0.1,
    }
    values.update(overrides)
    return ImapSettings(**values)  # type: ignore[arg-type]


def _mail(message_id: str, body: str = "Hello") -> bytes:
    return mails.plain(body).replace(b"<reply-1@example.com>", f"<{message_id}>".encode())


async def test_unseen_messages_are_handed_over_and_marked_seen(dovecot: Dovecot) -> None:
    # Given a mailbox with one read and two unread messages, one with a Return-Path
    new_one = _mail("new-1@example.com")
    new_two = b"Return-Path: <ann@example.com>\r\n" + _mail("new-2@example.com", "Привет")
    await dovecot.deliver("agent1", _mail("old@example.com"), seen=True)
    await dovecot.deliver("agent1", new_one)
    await dovecot.deliver("agent1", new_two)
    inbox = Inbox()
    poller = ImapPoller(_settings(dovecot, "agent1"), inbox.on_message)
    # When the poller runs once
    result = await poller.poll_once()
    # Then the callback got exactly the two unread messages, in order, byte for byte
    assert result == PollResult(delivered=2, failed=0)
    assert inbox.received == [
        (new_one, "", ["agent1@desk.example"]),
        (new_two, "ann@example.com", ["agent1@desk.example"]),
    ]
    # And all three are now \Seen, so the next round hands over nothing
    assert {mid: "\\Seen" in flags for mid, flags in (await dovecot.flags("agent1")).items()} == {
        "old@example.com": True,
        "new-1@example.com": True,
        "new-2@example.com": True,
    }
    assert await poller.poll_once() == PollResult(delivered=0, failed=0)


async def test_a_failing_callback_leaves_the_message_unseen_for_the_next_round(dovecot: Dovecot) -> None:
    await dovecot.deliver("agent2", _mail("keep@example.com"))
    inbox = Inbox(fail=True)
    poller = ImapPoller(_settings(dovecot, "agent2"), inbox.on_message)
    assert await poller.poll_once() == PollResult(delivered=0, failed=1)
    assert "\\Seen" not in (await dovecot.flags("agent2"))["keep@example.com"]
    # When storage is back, the next round delivers it
    inbox.fail = False
    assert await poller.poll_once() == PollResult(delivered=1, failed=0)
    assert [raw for raw, _, _ in inbox.received] == [_mail("keep@example.com")]
    assert "\\Seen" in (await dovecot.flags("agent2"))["keep@example.com"]


async def test_idle_delivers_new_mail_without_waiting_for_the_poll_interval(dovecot: Dovecot) -> None:
    # Given a running poller (poll interval 300 s, so only IDLE can be this fast)
    inbox = Inbox()
    poller = ImapPoller(_settings(dovecot, "agent3"), inbox.on_message)
    task = asyncio.create_task(poller.run())
    try:
        await asyncio.wait_for(poller.connected.wait(), 10)
        await asyncio.sleep(0.3)  # let it enter IDLE
        # When a message arrives
        await dovecot.deliver("agent3", _mail("pushed@example.com"))
        # Then it is handed over within seconds
        await asyncio.wait_for(inbox.arrived.wait(), 10)
    finally:
        poller.stop()
        await asyncio.wait_for(task, 10)
    assert [raw for raw, _, _ in inbox.received] == [_mail("pushed@example.com")]
    assert "\\Seen" in (await dovecot.flags("agent3"))["pushed@example.com"]


async def test_the_poller_reconnects_after_the_server_drops_it(dovecot: Dovecot) -> None:
    inbox = Inbox()
    poller = ImapPoller(_settings(dovecot, "agent4"), inbox.on_message)
    task = asyncio.create_task(poller.run())
    try:
        await asyncio.wait_for(poller.connected.wait(), 10)
        await asyncio.sleep(0.3)
        # When the server disconnects the session
        await asyncio.to_thread(dovecot.kick, "agent4")
        for _ in range(100):
            if not poller.connected.is_set():
                break
            await asyncio.sleep(0.05)
        # Then the poller comes back and still delivers new mail
        await asyncio.wait_for(poller.connected.wait(), 10)
        await asyncio.sleep(0.3)
        await dovecot.deliver("agent4", _mail("after-kick@example.com"))
        await asyncio.wait_for(inbox.arrived.wait(), 10)
    finally:
        poller.stop()
        await asyncio.wait_for(task, 10)
    assert [raw for raw, _, _ in inbox.received] == [_mail("after-kick@example.com")]


async def test_polling_without_idle(dovecot: Dovecot) -> None:
    inbox = Inbox()
    poller = ImapPoller(_settings(dovecot, "agent5", use_idle=False, poll_interval_seconds=0.2), inbox.on_message)
    task = asyncio.create_task(poller.run())
    try:
        await asyncio.wait_for(poller.connected.wait(), 10)
        await dovecot.deliver("agent5", _mail("polled@example.com"))
        await asyncio.wait_for(inbox.arrived.wait(), 10)
    finally:
        poller.stop()
        await asyncio.wait_for(task, 10)
    assert [raw for raw, _, _ in inbox.received] == [_mail("polled@example.com")]


async def test_a_wrong_password_is_a_clear_error(dovecot: Dovecot) -> None:
    poller = ImapPoller(_settings(dovecot, "agent6", password="wrong"), Inbox().on_message)
    with pytest.raises(ImapError, match="LOGIN failed: NO"):
        await poller.poll_once()


@pytest.mark.parametrize("waiting", [0, 1], ids=["empty mailbox", "one unseen mail"])
async def test_mail_arriving_between_the_search_and_idle_does_not_wait_for_the_next_round(
    dovecot: Dovecot, waiting: int
) -> None:
    # given a mailbox (empty, or with one unseen mail the first round hands over) and a poller whose
    # poll interval and IDLE timeout are far longer than the test
    user = f"agent{7 + waiting}"
    for n in range(waiting):
        await dovecot.deliver(user, _mail(f"waiting-{n}@example.com"))
    inbox = Inbox()
    delivered_in_gap = asyncio.Event()

    async def deliver_once_after_the_first_search() -> None:
        if not delivered_in_gap.is_set():
            delivered_in_gap.set()
            await dovecot.deliver(user, _mail("in-the-gap@example.com"))

    settings = _settings(dovecot, user, idle_timeout_seconds=600.0)
    poller = ImapPoller(settings, inbox.on_message, after_search=deliver_once_after_the_first_search)
    task = asyncio.create_task(poller.run())
    try:
        # when a mail lands right after the first SEARCH, before the poller goes IDLE
        await asyncio.wait_for(delivered_in_gap.wait(), 10)

        # then it is handed over without waiting for another round
        async def handed_over() -> None:
            while len(inbox.received) < waiting + 1:
                inbox.arrived.clear()
                await inbox.arrived.wait()

        await asyncio.wait_for(handed_over(), 10)
    finally:
        poller.stop()
        await asyncio.wait_for(task, 10)
    expected = [_mail(f"waiting-{n}@example.com") for n in range(waiting)] + [_mail("in-the-gap@example.com")]
    assert [raw for raw, _, _ in inbox.received] == expected
