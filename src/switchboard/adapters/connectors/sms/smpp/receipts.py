"""SMPP delivery receipts: reading them (SMPP 3.4 appendix B) and folding the receipts of a long SMS's parts.

A receipt is a deliver_sm whose esm_class says "SMSC delivery receipt" and whose text reads
``id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:…``;
the ``receipted_message_id`` and ``message_state`` TLVs, when present, win over the text (the
text's id is sometimes in another base than submit_sm_resp's).

A long reply goes as several submit_sm, each with its own SMSC id; the stored message knows the
first one. ``PartReceipts`` remembers (in memory, bounded) which part ids belong to which message, so
the message is delivered once every part is and failed as soon as one part fails. After a restart
the memory is empty and each receipt counts for the id it names: the first part's still sets the
message's status.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from switchboard.adapters.connectors.sms.smpp.pdu import ShortMessage, Tag
from switchboard.domain.conversation import DeliveryStatus

ESM_TYPE_MASK = 0x3C
ESM_DELIVERY_RECEIPT = 0x04
ESM_INTERMEDIATE = 0x20
ESM_MO = 0x00

STAT_STATUS = {
    "DELIVRD": DeliveryStatus.DELIVERED,
    "ACCEPTD": DeliveryStatus.SENT,
    "ENROUTE": DeliveryStatus.SENT,
    "EXPIRED": DeliveryStatus.FAILED,
    "DELETED": DeliveryStatus.FAILED,
    "UNDELIV": DeliveryStatus.FAILED,
    "REJECTD": DeliveryStatus.FAILED,
    "UNKNOWN": DeliveryStatus.FAILED,
}
# message_state TLV values (SMPP 3.4 section 5.2.28) by their receipt stat names
MESSAGE_STATE = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
STAT_MEANING = {
    "EXPIRED": "validity period expired",
    "DELETED": "deleted by the SMSC",
    "UNDELIV": "undeliverable",
    "REJECTD": "rejected by the SMSC",
    "UNKNOWN": "in an unknown state",
}

_FIELD = {name: re.compile(rf"(?:^|\s){name}:(\S*)", re.IGNORECASE) for name in ("id", "stat", "err")}


def is_receipt(esm_class: int) -> bool:
    return esm_class & ESM_TYPE_MASK in (ESM_DELIVERY_RECEIPT, ESM_INTERMEDIATE)


def is_mobile_originated(esm_class: int) -> bool:
    return esm_class & ESM_TYPE_MASK == ESM_MO


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    message_id: str
    stat: str
    err: str = ""

    @property
    def status(self) -> DeliveryStatus | None:
        return STAT_STATUS.get(self.stat)

    @property
    def reason(self) -> str | None:
        if self.status is not DeliveryStatus.FAILED:
            return None
        meaning = STAT_MEANING.get(self.stat, self.stat)
        return f"smpp: stat:{self.stat} ({meaning})" + (f" err:{self.err}" if self.err else "")


def read_receipt(sm: ShortMessage, text: str) -> DeliveryReceipt:
    """The receipt a deliver_sm carries; ``ValueError`` when it names no message or no state."""
    tlv_id = sm.tlv(Tag.RECEIPTED_MESSAGE_ID)
    tlv_state = sm.tlv(Tag.MESSAGE_STATE)
    message_id = tlv_id.rstrip(b"\0").decode("latin-1") if tlv_id else _text_field(text, "id")
    stat = MESSAGE_STATE.get(tlv_state[0], "") if tlv_state else ""
    stat = stat or _text_field(text, "stat").upper()
    if not message_id:
        raise ValueError(f"the receipt names no message id: {text[:100]!r}")
    if stat not in STAT_STATUS:
        raise ValueError(f"the receipt has no known stat: {text[:100]!r}")
    return DeliveryReceipt(message_id, stat, _text_field(text, "err"))


def _text_field(text: str, name: str) -> str:
    match = _FIELD[name].search(text)
    return match.group(1) if match else ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a receipt means for a stored message: its external id and new status."""

    external_id: str
    status: DeliveryStatus
    error: str | None = None


class PartReceipts:
    """Which SMSC ids are parts of which message, so part receipts become one status (bounded memory)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._waiting: OrderedDict[str, set[str]] = OrderedDict()  # message id -> parts not delivered yet
        self._message_of: dict[str, str] = {}  # part id -> message id

    def sent(self, part_ids: list[str]) -> str:
        """Remember a message's parts; its external id is the first part's."""
        message_id = part_ids[0]
        if len(part_ids) > 1:
            self._waiting[message_id] = set(part_ids)
            self._message_of.update(dict.fromkeys(part_ids, message_id))
            while len(self._waiting) > self._capacity:
                self._forget(next(iter(self._waiting)))
        return message_id

    def received(self, receipt: DeliveryReceipt) -> Outcome | None:
        """The message's new status, or None while other parts are still on their way."""
        status = receipt.status
        if status is None:
            return None
        message_id = self._message_of.get(receipt.message_id, receipt.message_id)
        waiting = self._waiting.get(message_id)
        if waiting is None:
            return Outcome(message_id, status, receipt.reason)
        if status is DeliveryStatus.FAILED:
            self._forget(message_id)
            return Outcome(message_id, status, receipt.reason)
        if status is DeliveryStatus.DELIVERED:
            waiting.discard(receipt.message_id)
            if not waiting:
                self._forget(message_id)
                return Outcome(message_id, status)
            return None
        return Outcome(message_id, status)

    def _forget(self, message_id: str) -> None:
        for part in self._waiting.pop(message_id, set()):
            self._message_of.pop(part, None)

    def __len__(self) -> int:
        return len(self._waiting)
