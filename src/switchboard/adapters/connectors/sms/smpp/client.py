"""One SMPP 3.4 transceiver session to one SMSC, kept alive for as long as the channel exists.

The session connects, binds as a transceiver, and then reads the stream: responses go to the
request that waits for them (by sequence number), deliver_sm goes to the handler and is answered
with what the handler says, enquire_link is answered. It asks ``enquire_link`` itself after a
quiet ``enquire_link_interval``; an unanswered one, a closed socket, an unbind from the SMSC or an
unreadable header ends the connection, and the session connects again after a backoff (doubling
from ``reconnect_min`` to ``reconnect_max``, back to the minimum once bound).

Submits wait up to ``bind_wait`` for a bound session, go out at most ``submit_rate`` per second
with at most ``window`` requests outstanding, and are tried again after ``throttle_pause`` when the
SMSC answers ESME_RTHROTTLED or ESME_RMSGQFUL. A submit whose connection drops before the SMSC
answered raises ``SmppUnavailable`` (it may or may not have gone: the caller retries later).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from switchboard.adapters.connectors.sms.smpp.pdu import (
    HEADER_SIZE,
    RESPONSE_BIT,
    BindTransceiver,
    Body,
    Command,
    DeliverSm,
    Empty,
    MessageIdResp,
    Pdu,
    PduError,
    Status,
    SubmitSm,
    decode,
    encode,
    read_header,
    response_to,
    status_name,
)
from switchboard.adapters.connectors.sms.smpp.settings import SmppSettings
from switchboard.application.tasks import stop_task, within

log = logging.getLogger("switchboard.sms.smpp")

DeliverHandler = Callable[[DeliverSm], Awaitable[Status]]
RETRY_LATER = (Status.RTHROTTLED, Status.RMSGQFUL)
MAX_SEQUENCE = 0x7FFFFFFF


class SmppUnavailable(Exception):
    """No bound session to submit through, or it went away before the SMSC answered: try later."""


class SubmitRefused(Exception):
    """The SMSC answered a submit_sm with an error status."""

    def __init__(self, status: int) -> None:
        super().__init__(status_name(status))
        self.status = status


class _ConnectionEnded(Exception):
    """The connection is over (closed, unbound, silent, unreadable); the session reconnects."""


class Pace:
    """At most ``rate`` submits per second, evenly spaced (an SMSC's contracted throughput)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        now = asyncio.get_running_loop().time()
        at = max(now, self._next)
        self._next = at + self._interval
        if at > now:
            await asyncio.sleep(at - now)


class SmppClient:
    def __init__(self, settings: SmppSettings, on_deliver: DeliverHandler, *, name: str = "smpp") -> None:
        self.settings = settings
        self.name = name
        self.last_error: str | None = None
        self.binds = 0  # times bound since start (a reconnect shows as a second bind)
        self._on_deliver = on_deliver
        self._bound = asyncio.Event()
        self._pending: dict[int, asyncio.Future[Pdu]] = {}
        self._sequence = 0
        self._window = asyncio.Semaphore(settings.window)
        self._pace = Pace(settings.submit_rate)
        self._writer: asyncio.StreamWriter | None = None
        self._write_lock = asyncio.Lock()
        self._last_read = 0.0
        self._task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._closing = False

    @property
    def bound(self) -> bool:
        return self._bound.is_set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"smpp:{self.name}")

    async def close(self) -> None:
        """Unbind politely (when bound), then stop for good."""
        self._closing = True
        if self.bound:
            with contextlib.suppress(Exception):
                await self._request(Command.UNBIND, Empty(), timeout=min(self.settings.response_timeout, 2.0))
        if self._task is not None:
            await stop_task(self._task)
        self._drop("closed")
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)

    async def wait_bound(self, timeout: float | None = None) -> None:
        wait = self.settings.bind_wait if timeout is None else timeout
        try:
            await within(wait, self._bound.wait())
        except TimeoutError as error:
            why = f" ({self.last_error})" if self.last_error else ""
            raise SmppUnavailable(f"smpp: not bound to {self._address()}{why}") from error

    async def submit(self, body: SubmitSm) -> str:
        """Submit one short message; return the SMSC's message id."""
        settings = self.settings
        for attempt in range(settings.throttle_retries + 1):
            await self.wait_bound()
            async with self._window:
                await self._pace.wait()
                answer = await self._request(Command.SUBMIT_SM, body, timeout=settings.response_timeout)
            if answer.status == Status.ROK and isinstance(answer.body, MessageIdResp):
                return answer.body.message_id
            if answer.status in RETRY_LATER and attempt < settings.throttle_retries:
                log.info(
                    "smpp %s: %s, submitting again in %gs",
                    self.name,
                    status_name(answer.status),
                    settings.throttle_pause,
                )
                await asyncio.sleep(settings.throttle_pause)
                continue
            raise SubmitRefused(answer.status)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- the connection ---------------------------------------------------------------------

    async def _run(self) -> None:
        delay = self.settings.reconnect_min
        while not self._closing:
            binds = self.binds
            try:
                await self._connection()
            except asyncio.CancelledError:
                raise
            except (OSError, ValueError, _ConnectionEnded, asyncio.IncompleteReadError, SmppUnavailable) as error:
                self.last_error = _describe(error)
                log.warning("smpp %s: connection to %s ended: %s", self.name, self._address(), self.last_error)
            finally:
                self._drop(self.last_error or "connection ended")
            if self._closing:
                return
            if self.binds > binds:
                delay = self.settings.reconnect_min
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.reconnect_max)

    async def _connection(self) -> None:
        settings = self.settings
        connecting = asyncio.open_connection(settings.host, settings.port)
        reader, writer = await within(settings.response_timeout, connecting)
        self._writer = writer
        self._last_read = asyncio.get_running_loop().time()
        reading = asyncio.create_task(self._read(reader, writer))
        running = [reading]
        try:
            await self._bind(reading)
            running.append(asyncio.create_task(self._keep_alive()))
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
            raise _ConnectionEnded("the connection ended")
        finally:
            for task in running:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _bind(self, reading: asyncio.Task[None]) -> None:
        settings = self.settings
        body = BindTransceiver(
            system_id=settings.system_id, password=settings.password, system_type=settings.system_type
        )
        request = asyncio.create_task(self._request(Command.BIND_TRANSCEIVER, body, timeout=settings.response_timeout))
        await asyncio.wait({request, reading}, return_when=asyncio.FIRST_COMPLETED)
        if not request.done():
            request.cancel()
            reading.result()
            raise _ConnectionEnded("the SMSC closed the connection before answering bind_transceiver")
        answer = request.result()
        if answer.status != Status.ROK:
            raise _ConnectionEnded(f"bind_transceiver refused: {status_name(answer.status)}")
        self.binds += 1
        self.last_error = None
        self._bound.set()
        log.info("smpp %s: bound to %s as %s", self.name, self._address(), settings.system_id)

    async def _keep_alive(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.settings.enquire_link_interval
        while True:
            quiet = loop.time() - self._last_read
            if quiet < interval:
                await asyncio.sleep(interval - quiet)
                continue
            try:
                await self._request(Command.ENQUIRE_LINK, Empty(), timeout=self.settings.response_timeout)
            except SmppUnavailable as error:
                raise _ConnectionEnded(f"no answer to enquire_link: {error}") from error

    def _drop(self, why: str) -> None:
        self._bound.clear()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.transport.abort()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(SmppUnavailable(f"smpp: the connection dropped before the SMSC answered ({why})"))

    # --- requests and responses -------------------------------------------------------------

    def _next_sequence(self) -> int:
        self._sequence = self._sequence % MAX_SEQUENCE + 1
        return self._sequence

    async def _request(self, command: Command, body: Body, *, timeout: float) -> Pdu:
        writer = self._writer
        if writer is None:
            raise SmppUnavailable(f"smpp: not connected to {self._address()}")
        sequence = self._next_sequence()
        future: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = future
        try:
            await self._send(writer, Pdu(command, sequence, body=body))
            return await within(timeout, future)
        except TimeoutError as error:
            raise SmppUnavailable(f"smpp: no answer to {command.name.lower()} within {timeout:g}s") from error
        except (OSError, RuntimeError) as error:
            raise SmppUnavailable(f"smpp: cannot write to {self._address()}: {_describe(error)}") from error
        finally:
            if self._pending.get(sequence) is future:
                del self._pending[sequence]

    async def _send(self, writer: asyncio.StreamWriter, pdu: Pdu) -> None:
        if writer.is_closing():
            raise SmppUnavailable("smpp: the connection is closed")
        async with self._write_lock:
            writer.write(encode(pdu))
            await writer.drain()

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        while True:
            head = await reader.readexactly(HEADER_SIZE)
            try:
                header = read_header(head)
            except PduError as error:
                # the stream cannot be framed any more: say so and start over on a new connection
                with contextlib.suppress(Exception):
                    await self._send(writer, Pdu(Command.GENERIC_NACK, 0, error.status))
                raise _ConnectionEnded(f"unreadable PDU header: {error.reason}") from error
            frame = head + await reader.readexactly(header.length - HEADER_SIZE)
            self._last_read = loop.time()
            try:
                pdu = decode(frame)
            except PduError as error:
                await self._refuse(writer, header.command_id, header.sequence, error)
                continue
            await self._dispatch(writer, pdu)

    async def _refuse(self, writer: asyncio.StreamWriter, command_id: int, sequence: int, error: PduError) -> None:
        log.warning("smpp %s: malformed PDU 0x%08x seq %d: %s", self.name, command_id, sequence, error.reason)
        future = self._pending.get(sequence)
        if command_id & RESPONSE_BIT:
            if future is not None and not future.done():
                future.set_exception(SmppUnavailable(f"smpp: malformed answer from the SMSC: {error.reason}"))
            return
        await self._send(writer, Pdu(Command.GENERIC_NACK, sequence, error.status))

    async def _dispatch(self, writer: asyncio.StreamWriter, pdu: Pdu) -> None:
        if pdu.is_response:
            future = self._pending.get(pdu.sequence)
            if future is None or future.done():
                log.warning("smpp %s: %s seq %d answers nothing we asked", self.name, pdu.command.name, pdu.sequence)
            else:
                future.set_result(pdu)
        elif pdu.command is Command.ENQUIRE_LINK:
            await self._send(writer, Pdu(Command.ENQUIRE_LINK_RESP, pdu.sequence))
        elif pdu.command is Command.UNBIND:
            self._bound.clear()
            await self._send(writer, Pdu(Command.UNBIND_RESP, pdu.sequence))
            raise _ConnectionEnded("the SMSC unbound")
        elif pdu.command is Command.DELIVER_SM and isinstance(pdu.body, DeliverSm):
            task = asyncio.create_task(self._deliver(writer, pdu.sequence, pdu.body))
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        else:
            log.warning("smpp %s: the SMSC sent %s, which an ESME does not take", self.name, pdu.command.name)
            await self._send(writer, Pdu(Command.GENERIC_NACK, pdu.sequence, Status.RINVCMDID))

    async def _deliver(self, writer: asyncio.StreamWriter, sequence: int, body: DeliverSm) -> None:
        """Hand one deliver_sm over; answer only afterwards, so the SMSC redelivers what we could not keep."""
        try:
            status = await self._on_deliver(body)
        except Exception:
            log.exception("smpp %s: deliver_sm seq %d was not taken in", self.name, sequence)
            status = Status.RX_T_APPN
        with contextlib.suppress(SmppUnavailable, OSError, RuntimeError):
            await self._send(writer, Pdu(response_to(Command.DELIVER_SM), sequence, status, MessageIdResp()))

    def _address(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"


def _describe(error: BaseException) -> str:
    if isinstance(error, asyncio.IncompleteReadError):
        return "the SMSC closed the connection"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
