"""How an SMS text travels: the GSM 03.38 default alphabet or UCS-2, and how a long text is cut into parts.

Pure functions (no I/O), shared by the SMPP client, which concatenates itself, and by the HTTP
providers' length check (Twilio and SMS.ru split long texts on their side, but refuse texts over
their own limits). A text every character of which is in the GSM 7-bit alphabet (with its escape
table) goes as data_coding 0, 160 septets in one SMS; anything else (Cyrillic, emoji) goes as
UCS-2, 70 UTF-16 units in one SMS. A longer text is sent as parts carrying a 6-octet user data
header (8-bit reference): 153 septets or 67 UTF-16 units each. An escaped character (``€``, ``[``…)
takes two septets and a surrogate pair two units; neither is ever split between parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

# GSM 03.38 basic character set, by septet value; 0x1B is the escape to the extension table.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
ESCAPE = 0x1B
GSM7_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

_BASIC_CODE = {char: code for code, char in enumerate(GSM7_BASIC) if code != ESCAPE}
_EXTENSION_CHAR = {code: char for char, code in GSM7_EXTENSION.items()}

SINGLE_GSM7 = 160  # septets in one SMS
SINGLE_UCS2 = 70  # UTF-16 units in one SMS
PART_GSM7 = 153  # septets in one part of a concatenated SMS (6-octet header)
PART_UCS2 = 67  # UTF-16 units in one part of a concatenated SMS
MAX_PARTS = 255  # an 8-bit part count


class DataCoding(IntEnum):
    """SMPP ``data_coding`` values we send and read."""

    DEFAULT = 0  # the SMSC default alphabet: GSM 03.38, one septet per octet (unpacked)
    IA5 = 1  # ASCII
    LATIN1 = 3
    UCS2 = 8  # UTF-16BE (UCS-2 plus surrogate pairs, as handsets do)


def is_gsm7(text: str) -> bool:
    return all(char in _BASIC_CODE or char in GSM7_EXTENSION for char in text)


def _septets_of(char: str) -> int:
    return 2 if char in GSM7_EXTENSION else 1


def septet_count(text: str) -> int:
    """Septets the text takes in the GSM 7-bit alphabet (escaped characters take two)."""
    return sum(_septets_of(char) for char in text)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-be")) // 2


def gsm7_encode(text: str) -> bytes:
    """One septet per octet (the unpacked form SMPP carries); ``ValueError`` on a character outside GSM 03.38."""
    out = bytearray()
    for char in text:
        if char in _BASIC_CODE:
            out.append(_BASIC_CODE[char])
        elif char in GSM7_EXTENSION:
            out += bytes((ESCAPE, GSM7_EXTENSION[char]))
        else:
            raise ValueError(f"{char!r} is not in the GSM 7-bit alphabet")
    return bytes(out)


def gsm7_decode(data: bytes) -> str:
    """Unpacked septets to text; an unknown escape reads as its basic character (GSM 03.38 says so)."""
    chars: list[str] = []
    escaped = False
    for octet in data:
        if octet > 0x7F:
            raise ValueError(f"octet 0x{octet:02x} is not a GSM 7-bit septet")
        if escaped:
            chars.append(_EXTENSION_CHAR.get(octet, GSM7_BASIC[octet] if octet != ESCAPE else " "))
            escaped = False
        elif octet == ESCAPE:
            escaped = True
        else:
            chars.append(GSM7_BASIC[octet])
    return "".join(chars)


def ucs2_encode(text: str) -> bytes:
    return text.encode("utf-16-be")


def ucs2_decode(data: bytes) -> str:
    if len(data) % 2:
        raise ValueError("UCS-2 text has an odd number of octets")
    return data.decode("utf-16-be", errors="replace")


def encode_text(text: str, coding: DataCoding) -> bytes:
    if coding is DataCoding.DEFAULT:
        return gsm7_encode(text)
    if coding is DataCoding.UCS2:
        return ucs2_encode(text)
    raise ValueError(f"we do not send data_coding {coding}")


def decode_text(data: bytes, data_coding: int) -> str:
    """Text of a received short message; ``ValueError`` for a coding that is not text (8-bit data)."""
    coding = data_coding & 0xFF
    if coding in (DataCoding.DEFAULT, 0xF0, 0xF1, 0xF2, 0xF3):
        return gsm7_decode(data)
    if coding == DataCoding.IA5:
        return data.decode("ascii", errors="replace")
    if coding == DataCoding.LATIN1:
        return data.decode("latin-1")
    if coding == DataCoding.UCS2 or coding & 0xFC == 0x18:
        return ucs2_decode(data)
    raise ValueError(f"data_coding 0x{coding:02x} is not a text encoding")


@dataclass(frozen=True, slots=True)
class Segments:
    """A text cut for sending: its coding and its parts (one part: no concatenation header)."""

    coding: DataCoding
    parts: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.parts)


def choose_coding(text: str) -> DataCoding:
    return DataCoding.DEFAULT if is_gsm7(text) else DataCoding.UCS2


def split_text(text: str) -> Segments:
    """Cut a text into the parts of a concatenated SMS (or one part when it fits)."""
    coding = choose_coding(text)
    if coding is DataCoding.DEFAULT:
        single, part, size = SINGLE_GSM7, PART_GSM7, _septets_of
    else:
        single, part, size = SINGLE_UCS2, PART_UCS2, _units_of
    if sum(size(char) for char in text) <= single:
        return Segments(coding, (text,))
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for char in text:
        width = size(char)
        if used + width > part:
            parts.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += width
    parts.append("".join(current))
    return Segments(coding, tuple(parts))


def _units_of(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def describe(segments: Segments) -> str:
    """How a text will travel, for an operator: '3 SMS in UCS-2 (67 characters each)'."""
    if segments.count == 1:
        return f"1 SMS in {_coding_name(segments.coding)}"
    each = PART_GSM7 if segments.coding is DataCoding.DEFAULT else PART_UCS2
    return f"{segments.count} SMS in {_coding_name(segments.coding)} ({each} characters each)"


def _coding_name(coding: DataCoding) -> str:
    return "GSM 7-bit" if coding is DataCoding.DEFAULT else "UCS-2"


# The concatenation user data header: IEI 0x00 (8-bit reference) or 0x08 (16-bit reference).
IEI_CONCAT_8 = 0x00
IEI_CONCAT_16 = 0x08
ESM_UDHI = 0x40  # esm_class bit: the short message starts with a user data header


@dataclass(frozen=True, slots=True)
class PartOf:
    """Where one received part belongs: the sender's reference, the number of parts and this part's number."""

    reference: int
    total: int
    number: int


def concat_header(reference: int, total: int, number: int) -> bytes:
    """UDH with one 8-bit-reference concatenation element: 05 00 03 ref total number."""
    if not (0 <= reference <= 0xFF and 1 <= number <= total <= MAX_PARTS):
        raise ValueError(f"part {number} of {total} (reference {reference}) cannot be concatenated")
    return bytes((5, IEI_CONCAT_8, 3, reference, total, number))


def split_header(short_message: bytes) -> tuple[PartOf | None, bytes]:
    """Take the user data header off a short message sent with UDHI; return its concatenation info and the rest."""
    if not short_message:
        raise ValueError("UDHI is set but the short message is empty")
    length = short_message[0]
    if length + 1 > len(short_message):
        raise ValueError(f"the user data header says {length} octets, the message has {len(short_message) - 1}")
    header, rest = short_message[1 : 1 + length], short_message[1 + length :]
    part: PartOf | None = None
    at = 0
    while at + 2 <= len(header):
        iei, size = header[at], header[at + 1]
        value = header[at + 2 : at + 2 + size]
        if len(value) != size:
            raise ValueError("a user data header element runs past the header")
        if iei == IEI_CONCAT_8 and size == 3:
            part = PartOf(value[0], value[1], value[2])
        elif iei == IEI_CONCAT_16 and size == 4:
            part = PartOf(int.from_bytes(value[:2], "big"), value[2], value[3])
        at += 2 + size
    if part is not None and not 1 <= part.number <= part.total:
        raise ValueError(f"part {part.number} of {part.total} is not a valid part")
    return part, rest
