"""An SMSC on loopback speaking the SMPP 3.4 PDUs an ESME transceiver uses, with faults on demand.

    smsc = Smsc(system_id="switchboard", password="secret")
    port = await smsc.start()
    ...                                   # the client binds; smsc.submits holds every submit_sm
    await smsc.deliver(source="79161234567", destination="4242", short_message=b"...")   # an MO SMS
    await smsc.receipt(message_id, "DELIVRD")   # a delivery receipt (esm_class 0x04, appendix B text)
    smsc.throttle(2)                      # answer the next 2 submit_sm with ESME_RTHROTTLED
    smsc.refuse_next(0x0B)                # answer the next submit_sm with that command_status
    smsc.hold = True                      # take submit_sm without answering
    smsc.silent = True                    # stop answering enquire_link
    await smsc.drop()                     # reset every connection (the client must reconnect)
    await smsc.send_raw(bytes)            # write anything, e.g. a malformed PDU
    await smsc.close()

It reads and writes PDUs with its own few lines of ``struct`` (not the connector's codec), so a
mistake in the codec cannot hide behind the same mistake on the other side.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field

BIND_TRANSCEIVER, BIND_TRANSCEIVER_RESP = 0x00000009, 0x80000009
SUBMIT_SM, SUBMIT_SM_RESP = 0x00000004, 0x80000004
DELIVER_SM, DELIVER_SM_RESP = 0x00000005, 0x80000005
ENQUIRE_LINK, ENQUIRE_LINK_RESP = 0x00000015, 0x80000015
UNBIND, UNBIND_RESP = 0x00000006, 0x80000006
GENERIC_NACK = 0x80000000
ESME_RTHROTTLED, ESME_RINVPASWD, ESME_RINVCMDID = 0x58, 0x0E, 0x03


def pdu(command: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    return struct.pack(">IIII", 16 + len(body), command, status, sequence) + body


def c(text: str) -> bytes:
    return text.encode("latin-1") + b"\0"


def short_message_body(
    *,
    source: str,
    destination: str,
    short_message: bytes,
    esm_class: int = 0,
    data_coding: int = 0,
    source_ton: int = 1,
    source_npi: int = 1,
    tlvs: bytes = b"",
) -> bytes:
    """A deliver_sm (or submit_sm) body, field by field as SMPP 3.4 section 4.6.1 lists them."""
    head = c("") + bytes((source_ton, source_npi)) + c(source) + bytes((1, 1)) + c(destination)
    head += bytes((esm_class, 0, 0)) + c("") + c("") + bytes((0, 0, data_coding, 0, len(short_message)))
    return head + short_message + tlvs


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


@dataclass(frozen=True)
class Answer:
    """How the ESME answered a request of the SMSC: the response's command_id and command_status."""

    command: int
    status: int


OK = Answer(DELIVER_SM_RESP, 0)


@dataclass(frozen=True)
class Submitted:
    """One submit_sm as the SMSC read it."""

    sequence: int
    service_type: str
    source_addr_ton: int
    source_addr_npi: int
    source_addr: str
    dest_addr_ton: int
    dest_addr_npi: int
    destination_addr: str
    esm_class: int
    registered_delivery: int
    data_coding: int
    short_message: bytes
    message_id: str | None


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def c(self) -> str:
        end = self.data.index(b"\0", self.at)
        text, self.at = self.data[self.at : end].decode("latin-1"), end + 1
        return text

    def u8(self) -> int:
        value, self.at = self.data[self.at], self.at + 1
        return value

    def octets(self, count: int) -> bytes:
        value, self.at = self.data[self.at : self.at + count], self.at + count
        return value


@dataclass(eq=False)
class _Link:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    bound: bool = False

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


@dataclass
class Smsc:
    system_id: str = "switchboard"
    password: str = "secret"
    hold: bool = False
    silent: bool = False
    submits: list[Submitted] = field(default_factory=list)
    binds: list[tuple[str, str]] = field(default_factory=list)
    enquire_links: int = 0
    unbinds: int = 0
    nacks: list[tuple[int, int]] = field(default_factory=list)  # (sequence, command_status) of generic_nacks received
    connections: int = 0
    _throttle: int = 0
    _refusals: list[int] = field(default_factory=list)
    _links: list[_Link] = field(default_factory=list)
    _waiting: dict[int, asyncio.Future[Answer]] = field(default_factory=dict)
    _sequence: int = 0
    _server: asyncio.Server | None = None
    port: int = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        await self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def drop(self) -> None:
        """Reset every open connection, as an SMSC that crashed or a network that broke."""
        for link in list(self._links):
            link.writer.transport.abort()
        self._links.clear()
        await asyncio.sleep(0)

    def throttle(self, count: int) -> None:
        self._throttle += count

    def refuse_next(self, status: int) -> None:
        self._refusals.append(status)

    @property
    def bound_links(self) -> int:
        return sum(link.bound for link in self._links)

    async def wait_bound(self, binds: int = 1, timeout: float = 5.0) -> None:
        """Wait until the SMSC has accepted ``binds`` binds in all and a session is bound now."""
        async with asyncio.timeout(timeout):
            while self.good_binds < binds or not self.bound_links:  # noqa: ASYNC110 - a test's polling wait
                await asyncio.sleep(0.01)

    @property
    def good_binds(self) -> int:
        return sum(1 for _, password in self.binds if password == self.password)

    # --- the SMSC speaking first ------------------------------------------------------------

    async def deliver(self, **fields: object) -> Answer:
        """Send a deliver_sm to the bound ESME and return its answer (``OK`` is deliver_sm_resp, ESME_ROK)."""
        return await self.request(DELIVER_SM, short_message_body(**fields))  # type: ignore[arg-type]

    async def receipt(self, message_id: str, stat: str = "DELIVRD", err: str = "000", *, tlvs: bytes = b"") -> Answer:
        """A delivery receipt as SMPP 3.4 appendix B shows it."""
        delivered = "001" if stat == "DELIVRD" else "000"
        text = (
            f"id:{message_id} sub:001 dlvrd:{delivered} submit date:2311221030 done date:2311221031 "
            f"stat:{stat} err:{err} text:Здравствуйте"
        )
        body = text.encode("utf-8")
        return await self.deliver(
            source="79161234567", destination="4242", short_message=body, esm_class=0x04, tlvs=tlvs
        )

    async def request(self, command: int, body: bytes = b"") -> Answer:
        link = self._bound_link()
        self._sequence += 1
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting[self._sequence] = future
        await link.send(pdu(command, self._sequence, body))
        async with asyncio.timeout(5):
            return await future

    async def send_raw(self, data: bytes) -> None:
        await self._bound_link().send(data)

    def _bound_link(self) -> _Link:
        bound = [link for link in self._links if link.bound]
        if not bound:
            raise AssertionError("no ESME is bound to the SMSC")
        return bound[-1]

    # --- the SMSC answering -----------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = _Link(reader, writer)
        self._links.append(link)
        self.connections += 1
        try:
            while True:
                head = await reader.readexactly(16)
                length, command, status, sequence = struct.unpack(">IIII", head)
                body = await reader.readexactly(length - 16)
                await self._answer(link, command, status, sequence, body)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            link.bound = False
            with contextlib.suppress(ValueError):
                self._links.remove(link)
            writer.transport.abort()

    async def _answer(self, link: _Link, command: int, status: int, sequence: int, body: bytes) -> None:
        if command == BIND_TRANSCEIVER:
            fields = _Reader(body)
            system_id, password = fields.c(), fields.c()
            self.binds.append((system_id, password))
            ok = (system_id, password) == (self.system_id, self.password)
            link.bound = ok
            await link.send(pdu(BIND_TRANSCEIVER_RESP, sequence, c("TestSMSC"), 0 if ok else ESME_RINVPASWD))
        elif command == SUBMIT_SM:
            await self._submit(link, sequence, body)
        elif command == ENQUIRE_LINK:
            self.enquire_links += 1
            if not self.silent:
                await link.send(pdu(ENQUIRE_LINK_RESP, sequence))
        elif command == UNBIND:
            self.unbinds += 1
            link.bound = False
            await link.send(pdu(UNBIND_RESP, sequence))
            link.writer.close()
        elif command in (DELIVER_SM_RESP, ENQUIRE_LINK_RESP, UNBIND_RESP, GENERIC_NACK):
            if command == GENERIC_NACK:
                self.nacks.append((sequence, status))
            future = self._waiting.pop(sequence, None)
            if future is not None and not future.done():
                future.set_result(Answer(command, status))
        else:
            await link.send(pdu(GENERIC_NACK, sequence, status=ESME_RINVCMDID))

    async def _submit(self, link: _Link, sequence: int, body: bytes) -> None:
        fields = _Reader(body)
        service_type = fields.c()
        source = (fields.u8(), fields.u8(), fields.c())
        dest = (fields.u8(), fields.u8(), fields.c())
        esm_class, _protocol, _priority = fields.u8(), fields.u8(), fields.u8()
        fields.c(), fields.c()  # schedule_delivery_time, validity_period
        registered, _replace, data_coding, _default = fields.u8(), fields.u8(), fields.u8(), fields.u8()
        short_message = fields.octets(fields.u8())
        status = 0
        if self.hold:
            message_id = None
        elif self._throttle:
            self._throttle -= 1
            status, message_id = ESME_RTHROTTLED, None
        elif self._refusals:
            status, message_id = self._refusals.pop(0), None
        else:
            message_id = f"{0x5000 + len(self.submits):X}"
        self.submits.append(
            Submitted(
                sequence, service_type, *source, *dest, esm_class, registered, data_coding, short_message, message_id
            )
        )
        if self.hold:
            return
        answer = c(message_id) if message_id is not None else b""
        await link.send(pdu(SUBMIT_SM_RESP, sequence, answer, status))

    @property
    def accepted(self) -> list[Submitted]:
        """The submit_sm the SMSC took (answered with a message id)."""
        return [submit for submit in self.submits if submit.message_id is not None]
