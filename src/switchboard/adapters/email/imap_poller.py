"""Inbound mail by IMAP (aioimaplib): fetch unseen messages, hand each to the same callback as the SMTP
server, and mark it \\Seen only after the callback succeeded. IDLE when the server offers it, polling
every N seconds otherwise, and reconnecting with exponential backoff after any failure.

A round that handed mail over searches again before it goes IDLE: mail that arrived while it fetched
and flagged is taken into the session's view by those commands without being announced (Dovecot), so
IDLE would not report it until the next change. Only a round whose search found nothing ends in IDLE,
and a server reports at IDLE's start what came after that search.

A message whose callback fails stays unseen and is tried again on the next round. A message whose
callback succeeded but whose \\Seen flag was lost with the connection comes again, so the callback must
be idempotent (the intake stores raw mail under channel + Message-ID, which makes it so).

aioimaplib offers plain IMAP or implicit TLS (port 993), not STARTTLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.utils import parseaddr
from enum import StrEnum
from typing import Any

import aioimaplib

from switchboard.application.tasks import within

log = logging.getLogger("switchboard.email.imap")

OnMessage = Callable[[bytes, str, list[str]], Awaitable[None]]
_FETCH_UID = re.compile(rb"\bUID (\d+)\b")


class ImapTls(StrEnum):
    NONE = "none"
    TLS = "tls"


class ImapError(Exception):
    """The IMAP server answered NO/BAD or something unexpected; the poller reconnects."""


@dataclass(frozen=True, slots=True)
class ImapSettings:
    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    tls: ImapTls = ImapTls.TLS
    ssl_context: ssl.SSLContext | None = None
    mailbox: str = "INBOX"
    address: str | None = None  # the mailbox's address, given to the callback as the recipient
    use_idle: bool = True
    poll_interval_seconds: float = 60.0
    idle_timeout_seconds: float = 29 * 60.0  # RFC 2177: re-issue IDLE at least every 29 minutes
    timeout_seconds: float = 30.0
    reconnect_initial_seconds: float = 1.0
    reconnect_max_seconds: float = 300.0
    batch_size: int = 100


@dataclass(frozen=True, slots=True)
class PollResult:
    delivered: int
    failed: int


def _ok(response: Any, what: str) -> Any:
    if response.result != "OK":
        detail = b" ".join(bytes(line) for line in response.lines).decode("utf-8", "replace")
        raise ImapError(f"{what} failed: {response.result} {detail}")
    return response


def _envelope_from(raw: bytes) -> str:
    headers = BytesHeaderParser().parsebytes(raw)
    return parseaddr(str(headers.get("Return-Path", "")))[1]


class ImapPoller:
    def __init__(
        self,
        settings: ImapSettings,
        on_message: OnMessage,
        *,
        after_search: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.settings = settings
        self.on_message = on_message
        self._after_search = after_search  # tests deliver mail here: the moment a message could be missed
        self._stopping = asyncio.Event()
        self._connection_lost = asyncio.Event()
        self.connected = asyncio.Event()  # set while logged in and selected: tests and health checks wait on it

    # --- one session --------------------------------------------------------------------------

    async def _connect(self) -> aioimaplib.IMAP4:
        s = self.settings
        context = None
        if s.tls is ImapTls.TLS:
            context = s.ssl_context or ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self._connection_lost.clear()
        client = aioimaplib.IMAP4(
            host=s.host,
            port=s.port,
            timeout=s.timeout_seconds,
            conn_lost_cb=lambda _exc: self._connection_lost.set(),
            ssl_context=context,
        )
        await client.wait_hello_from_server()
        _ok(await client.login(s.username, s.password), "LOGIN")
        _ok(await client.select(s.mailbox), f"SELECT {s.mailbox}")
        return client

    async def _unseen(self, client: aioimaplib.IMAP4) -> list[str]:
        response = _ok(await client.uid_search("UNSEEN"), "UID SEARCH UNSEEN")
        uids: list[str] = []
        for line in response.lines[:-1]:
            tokens = bytes(line).split()
            if tokens[:1] == [b"SEARCH"]:
                tokens = tokens[1:]
            uids.extend(token.decode() for token in tokens if token.isdigit())
        if self._after_search is not None:
            await self._after_search()
        return uids[: self.settings.batch_size]

    async def _fetch(self, client: aioimaplib.IMAP4, uid: str) -> bytes | None:
        response = _ok(await client.uid("fetch", uid, "(BODY.PEEK[])"), f"UID FETCH {uid}")
        for index, line in enumerate(response.lines):
            if isinstance(line, bytearray) and index > 0:
                header = bytes(response.lines[index - 1])
                match = _FETCH_UID.search(header)
                if match is None or match.group(1).decode() == uid:
                    return bytes(line)
        return None  # expunged meanwhile

    async def _process(self, client: aioimaplib.IMAP4) -> PollResult:
        delivered = failed = 0
        recipients = [self.settings.address or self.settings.username]
        for uid in await self._unseen(client):
            raw = await self._fetch(client, uid)
            if raw is None:
                continue
            try:
                await self.on_message(raw, _envelope_from(raw), list(recipients))
            except Exception:
                failed += 1
                log.exception("IMAP message uid %s could not be stored; left unseen for the next round", uid)
                continue
            _ok(await client.uid("store", uid, "+FLAGS.SILENT", "(\\Seen)"), f"UID STORE {uid}")
            delivered += 1
        return PollResult(delivered, failed)

    async def _close(self, client: aioimaplib.IMAP4) -> None:
        if not self._connection_lost.is_set():
            with contextlib.suppress(Exception):
                if client.has_pending_idle():
                    client.idle_done()
                await within(2.0, client.logout())
        transport = client.protocol.transport
        if transport is not None:
            transport.close()

    async def poll_once(self) -> PollResult:
        """Connect, hand over every unseen message, disconnect."""
        client = await self._connect()
        try:
            return await self._process(client)
        finally:
            await self._close(client)

    # --- the long-running loop ----------------------------------------------------------------

    async def _until(self, awaitable: Any, timeout: float) -> bool:
        """Wait for ``awaitable``, the connection's loss or stop(), whichever is first; True if it finished."""
        task = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(self._connection_lost.wait())
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait([task, lost, stopping], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in (lost, stopping):
                waiter.cancel()
            if not task.done():
                task.cancel()
        if task.done() and not task.cancelled() and task.exception() is not None:
            return False  # e.g. the IDLE push wait timed out: treat as "no news", poll anyway
        return task.done() and not task.cancelled()

    async def _wait_for_news(self, client: aioimaplib.IMAP4, retry_soon: bool) -> None:
        """Return when the mailbox may have news: an IDLE push, or the poll interval passed."""
        s = self.settings
        if not (s.use_idle and client.has_capability("IDLE")) or retry_soon:
            await self._until(asyncio.sleep(s.poll_interval_seconds), s.poll_interval_seconds + 1)
        else:
            idle = await client.idle_start(timeout=s.idle_timeout_seconds)
            await self._until(client.wait_server_push(timeout=s.idle_timeout_seconds + 5), s.idle_timeout_seconds + 5)
            if not self._connection_lost.is_set():
                client.idle_done()
                if not await self._until(asyncio.shield(idle), s.timeout_seconds) and not self._stopping.is_set():
                    raise ImapError("the server did not end IDLE")
        if self._connection_lost.is_set():
            raise ImapError("connection lost")

    async def _session(self) -> None:
        client = await self._connect()
        self.connected.set()
        try:
            while not self._stopping.is_set():
                result = await self._process(client)
                if self._stopping.is_set():
                    break
                if result.delivered:
                    continue  # mail that came while we fetched is not announced to IDLE: search again first
                await self._wait_for_news(client, retry_soon=result.failed > 0)
        finally:
            self.connected.clear()
            await self._close(client)

    async def run(self) -> None:
        """Poll until stop(); every failure is logged and followed by a reconnect after a growing delay."""
        s = self.settings
        delay = s.reconnect_initial_seconds
        while not self._stopping.is_set():
            try:
                await self._session()
                delay = s.reconnect_initial_seconds
            except Exception as error:  # any failure: log, back off, reconnect; cancellation still propagates
                log.warning("IMAP %s@%s:%s: %s; reconnecting in %.0fs", s.username, s.host, s.port, error, delay)
                with contextlib.suppress(TimeoutError):
                    await within(delay, self._stopping.wait())
                delay = min(delay * 2, s.reconnect_max_seconds)

    def stop(self) -> None:
        self._stopping.set()
