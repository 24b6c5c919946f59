"""From a reply to submit_sm PDUs and from a deliver_sm to text: pure, so the exact PDUs are tested by value.

A reply that fits one SMS is one submit_sm without a header. A longer one is several, each with
esm_class UDHI and a 6-octet header ``05 00 03 <ref> <total> <n>``; the reference is the message id
modulo 256, so a retried message carries the same reference and a handset that got some parts the
first time can still put them together.
"""

from __future__ import annotations

from switchboard.adapters.connectors.sms.encoding import (
    ESM_UDHI,
    PartOf,
    Segments,
    concat_header,
    decode_text,
    encode_text,
    split_header,
)
from switchboard.adapters.connectors.sms.smpp.pdu import ShortMessage, SubmitSm, Tag
from switchboard.adapters.connectors.sms.smpp.settings import NPI_ISDN, TON_INTERNATIONAL, SmppSettings

REGISTERED_DELIVERY_FINAL = 0x01  # a receipt on final delivery or failure


def submit_pdus(settings: SmppSettings, destination: str, segments: Segments, reference: int) -> list[SubmitSm]:
    """The submit_sm bodies for one reply to ``destination`` (international digits, no plus)."""
    total = segments.count
    bodies = []
    for number, text in enumerate(segments.parts, start=1):
        payload = encode_text(text, segments.coding)
        header = concat_header(reference % 256, total, number) if total > 1 else b""
        bodies.append(
            SubmitSm(
                source_addr_ton=settings.source_ton,
                source_addr_npi=settings.source_npi,
                source_addr=settings.source_addr,
                dest_addr_ton=TON_INTERNATIONAL,
                dest_addr_npi=NPI_ISDN,
                destination_addr=destination,
                esm_class=ESM_UDHI if total > 1 else 0,
                registered_delivery=REGISTERED_DELIVERY_FINAL if settings.registered_delivery else 0,
                data_coding=segments.coding,
                short_message=header + payload,
            )
        )
    return bodies


def read_text(sm: ShortMessage) -> tuple[PartOf | None, str]:
    """The text of a received short message and, when it is one part of a long SMS, which part.

    The text is in ``short_message`` or, for long ones, in the ``message_payload`` TLV; parts are
    marked by a user data header (esm_class UDHI) or by the ``sar_*`` TLVs. ``ValueError`` when the
    message cannot be read as text.
    """
    payload = sm.short_message or sm.tlv(Tag.MESSAGE_PAYLOAD) or b""
    part: PartOf | None = None
    if sm.esm_class & ESM_UDHI:
        part, payload = split_header(payload)
    else:
        part = _sar_part(sm)
    return part, decode_text(payload, sm.data_coding)


def _sar_part(sm: ShortMessage) -> PartOf | None:
    reference = sm.tlv(Tag.SAR_MSG_REF_NUM)
    total = sm.tlv(Tag.SAR_TOTAL_SEGMENTS)
    number = sm.tlv(Tag.SAR_SEGMENT_SEQNUM)
    if reference is None or total is None or number is None:
        return None
    if len(reference) != 2 or len(total) != 1 or len(number) != 1 or not 1 <= number[0] <= total[0]:
        raise ValueError("the sar_* optional parameters do not describe a part")
    return PartOf(int.from_bytes(reference, "big"), total[0], number[0])
