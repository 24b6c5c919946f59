"""SMPP 3.4 PDUs as values: encode to and decode from the wire, nothing else (no I/O, no clock).

Only the operations an ESME transceiver needs: bind_transceiver, submit_sm, deliver_sm,
enquire_link, unbind, generic_nack and their responses. Every PDU is a 16-octet header
(command_length, command_id, command_status, sequence_number, big-endian) and a body of
C-octet strings, integers, the length-prefixed short message and optional TLVs. ``decode``
raises ``PduError`` carrying the command_status a peer should be answered with, so a bad PDU
gets a ``generic_nack`` and the session lives on.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, fields
from enum import IntEnum
from typing import Any, ClassVar

HEADER = struct.Struct(">IIII")
HEADER_SIZE = HEADER.size
MAX_PDU = 64 * 1024  # a longer command_length is taken as a broken stream
RESPONSE_BIT = 0x80000000
INTERFACE_VERSION = 0x34


class Command(IntEnum):
    GENERIC_NACK = 0x80000000
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015


class Status(IntEnum):
    """command_status values (SMPP 3.4 section 5.1.3) this client reads or answers with."""

    ROK = 0x00
    RINVMSGLEN = 0x01
    RINVCMDLEN = 0x02
    RINVCMDID = 0x03
    RINVBNDSTS = 0x04
    RALYBND = 0x05
    RSYSERR = 0x08
    RINVSRCADR = 0x0A
    RINVDSTADR = 0x0B
    RINVMSGID = 0x0C
    RBINDFAIL = 0x0D
    RINVPASWD = 0x0E
    RINVSYSID = 0x0F
    RMSGQFUL = 0x14
    RINVESMCLASS = 0x43
    RSUBMITFAIL = 0x45
    RTHROTTLED = 0x58
    RX_T_APPN = 0x64
    RX_P_APPN = 0x65
    RX_R_APPN = 0x66
    RUNKNOWNERR = 0xFF
    RINVDCS = 0x104


def status_name(status: int) -> str:
    try:
        return f"ESME_{Status(status).name}"
    except ValueError:
        return f"command_status 0x{status:08x}"


class Tag(IntEnum):
    """Optional parameter tags this client reads."""

    RECEIPTED_MESSAGE_ID = 0x001E
    SAR_MSG_REF_NUM = 0x020C
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    MESSAGE_STATE = 0x0427


class PduError(ValueError):
    """A PDU that cannot be read; ``status`` is what to answer it with (generic_nack or the command's resp)."""

    def __init__(self, reason: str, status: Status = Status.RINVCMDLEN) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes


# Body fields: ("c", max octets including the NUL) | ("u8",) | ("sm",) — the length-prefixed short message.
Spec = tuple[tuple[str, str, int], ...]


@dataclass(frozen=True, slots=True)
class Body:
    """A PDU's body; each subclass names its fields in wire order."""

    SPEC: ClassVar[Spec] = ()
    tlvs: tuple[Tlv, ...] = field(default=(), kw_only=True)

    def tlv(self, tag: int) -> bytes | None:
        return next((item.value for item in self.tlvs if item.tag == tag), None)


@dataclass(frozen=True, slots=True)
class Empty(Body):
    """enquire_link, unbind, generic_nack and their responses carry no body."""


@dataclass(frozen=True, slots=True)
class BindTransceiver(Body):
    SPEC: ClassVar[Spec] = (
        ("system_id", "c", 16),
        ("password", "c", 9),
        ("system_type", "c", 13),
        ("interface_version", "u8", 0),
        ("addr_ton", "u8", 0),
        ("addr_npi", "u8", 0),
        ("address_range", "c", 41),
    )
    system_id: str = ""
    password: str = field(default="", repr=False)
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(frozen=True, slots=True)
class BindResp(Body):
    SPEC: ClassVar[Spec] = (("system_id", "c", 16),)
    system_id: str = ""


@dataclass(frozen=True, slots=True)
class ShortMessage(Body):
    """submit_sm and deliver_sm share one layout (SMPP 3.4 sections 4.4.1 and 4.6.1)."""

    SPEC: ClassVar[Spec] = (
        ("service_type", "c", 6),
        ("source_addr_ton", "u8", 0),
        ("source_addr_npi", "u8", 0),
        ("source_addr", "c", 21),
        ("dest_addr_ton", "u8", 0),
        ("dest_addr_npi", "u8", 0),
        ("destination_addr", "c", 21),
        ("esm_class", "u8", 0),
        ("protocol_id", "u8", 0),
        ("priority_flag", "u8", 0),
        ("schedule_delivery_time", "c", 17),
        ("validity_period", "c", 17),
        ("registered_delivery", "u8", 0),
        ("replace_if_present_flag", "u8", 0),
        ("data_coding", "u8", 0),
        ("sm_default_msg_id", "u8", 0),
        ("short_message", "sm", 0),
    )
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""


@dataclass(frozen=True, slots=True)
class SubmitSm(ShortMessage):
    pass


@dataclass(frozen=True, slots=True)
class DeliverSm(ShortMessage):
    pass


@dataclass(frozen=True, slots=True)
class MessageIdResp(Body):
    """submit_sm_resp and deliver_sm_resp: the SMSC's message id (empty in deliver_sm_resp)."""

    SPEC: ClassVar[Spec] = (("message_id", "c", 65),)
    message_id: str = ""


BODIES: dict[Command, type[Body]] = {
    Command.GENERIC_NACK: Empty,
    Command.SUBMIT_SM: SubmitSm,
    Command.SUBMIT_SM_RESP: MessageIdResp,
    Command.DELIVER_SM: DeliverSm,
    Command.DELIVER_SM_RESP: MessageIdResp,
    Command.UNBIND: Empty,
    Command.UNBIND_RESP: Empty,
    Command.BIND_TRANSCEIVER: BindTransceiver,
    Command.BIND_TRANSCEIVER_RESP: BindResp,
    Command.ENQUIRE_LINK: Empty,
    Command.ENQUIRE_LINK_RESP: Empty,
}
# which bodies may carry optional parameters after their mandatory fields
_WITH_TLVS = (ShortMessage, BindResp, MessageIdResp)


@dataclass(frozen=True, slots=True)
class Pdu:
    command: Command
    sequence: int
    status: int = Status.ROK
    body: Body = field(default_factory=Empty)

    @property
    def is_response(self) -> bool:
        return bool(self.command & RESPONSE_BIT)


@dataclass(frozen=True, slots=True)
class Header:
    length: int
    command_id: int
    status: int
    sequence: int


def response_to(command: Command) -> Command:
    return Command(command | RESPONSE_BIT)


def encode(pdu: Pdu) -> bytes:
    """The PDU on the wire; ``ValueError`` when a field does not fit its SMPP size."""
    if not isinstance(pdu.body, BODIES[pdu.command]):
        raise ValueError(f"{pdu.command.name} cannot carry a {type(pdu.body).__name__} body")
    if not 0 <= pdu.sequence <= 0x7FFFFFFF:
        raise ValueError(f"sequence number {pdu.sequence} is out of range")
    body = _encode_body(pdu.body)
    return HEADER.pack(HEADER_SIZE + len(body), pdu.command, pdu.status, pdu.sequence) + body


def _encode_body(body: Body) -> bytes:
    out = bytearray()
    for name, kind, size in body.SPEC:
        value = getattr(body, name)
        if kind == "c":
            out += _c_string(name, value, size)
        elif kind == "u8":
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} {value} does not fit one octet")
            out.append(value)
        else:
            if len(value) > 254:
                raise ValueError(f"short_message is {len(value)} octets; at most 254 (use message_payload)")
            out.append(len(value))
            out += value
    for tlv in body.tlvs:
        if not 0 <= tlv.tag <= 0xFFFF or len(tlv.value) > 0xFFFF:
            raise ValueError(f"TLV 0x{tlv.tag:04x} does not fit")
        out += struct.pack(">HH", tlv.tag, len(tlv.value)) + tlv.value
    return bytes(out)


def _c_string(name: str, value: str, size: int) -> bytes:
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError as error:
        raise ValueError(f"{name} {value!r} is not Latin-1") from error
    if b"\0" in raw or len(raw) + 1 > size:
        raise ValueError(f"{name} {value!r} does not fit {size - 1} octets")
    return raw + b"\0"


def read_header(data: bytes) -> Header:
    """The 16-octet header; ``PduError`` when its length cannot be a PDU (the stream is then lost)."""
    length, command_id, status, sequence = HEADER.unpack(data[:HEADER_SIZE])
    if not HEADER_SIZE <= length <= MAX_PDU:
        raise PduError(f"command_length {length} is outside {HEADER_SIZE}..{MAX_PDU}")
    return Header(length, command_id, status, sequence)


def decode(frame: bytes) -> Pdu:
    """One whole PDU (header and body) to a value; ``PduError`` says what to answer."""
    if len(frame) < HEADER_SIZE:
        raise PduError(f"a PDU is at least {HEADER_SIZE} octets, got {len(frame)}")
    header = read_header(frame)
    if header.length != len(frame):
        raise PduError(f"command_length {header.length} but {len(frame)} octets")
    try:
        command = Command(header.command_id)
    except ValueError as error:
        raise PduError(f"unknown command_id 0x{header.command_id:08x}", Status.RINVCMDID) from error
    body_cls = BODIES[command]
    raw = frame[HEADER_SIZE:]
    if command & RESPONSE_BIT and header.status != Status.ROK and not raw:
        return Pdu(command, header.sequence, header.status, body_cls())  # an error resp may omit its body
    return Pdu(command, header.sequence, header.status, _decode_body(body_cls, raw))


def _decode_body(body_cls: type[Body], raw: bytes) -> Body:
    values: dict[str, Any] = {}
    at = 0
    for name, kind, size in body_cls.SPEC:
        if kind == "c":
            values[name], at = _read_c_string(raw, at, name, size)
        elif kind == "u8":
            values[name], at = _read_octets(raw, at, 1, name)[0], at + 1
        else:
            length = _read_octets(raw, at, 1, "sm_length")[0]
            values[name] = _read_octets(raw, at + 1, length, "short_message")
            at += 1 + length
    tlvs = _read_tlvs(raw, at) if issubclass(body_cls, _WITH_TLVS) else _no_more(raw, at, body_cls)
    return body_cls(**values, tlvs=tlvs)


def _read_octets(raw: bytes, at: int, count: int, name: str) -> bytes:
    if at + count > len(raw):
        raise PduError(f"the body ends inside {name}")
    return raw[at : at + count]


def _read_c_string(raw: bytes, at: int, name: str, size: int) -> tuple[str, int]:
    end = raw.find(b"\0", at, at + size)
    if end < 0:
        raise PduError(f"{name} has no NUL within {size} octets")
    return raw[at:end].decode("latin-1"), end + 1


def _read_tlvs(raw: bytes, at: int) -> tuple[Tlv, ...]:
    tlvs: list[Tlv] = []
    while at < len(raw):
        if at + 4 > len(raw):
            raise PduError("an optional parameter header is cut short")
        tag, length = struct.unpack_from(">HH", raw, at)
        tlvs.append(Tlv(tag, _read_octets(raw, at + 4, length, f"TLV 0x{tag:04x}")))
        at += 4 + length
    return tuple(tlvs)


def _no_more(raw: bytes, at: int, body_cls: type[Body]) -> tuple[Tlv, ...]:
    if at != len(raw):
        raise PduError(f"{len(raw) - at} octets after the end of a {body_cls.__name__} body")
    return ()


def field_names(body_cls: type[Body]) -> tuple[str, ...]:
    return tuple(item.name for item in fields(body_cls) if item.name != "tlvs")
