"""Phone numbers at the SMS edge: whom a reply goes to, and who an inbound SMS is from.

An SMS sender is a phone identity whenever its address is a valid number in international form
(every provider here gives it so, with or without the ``+``): the application then normalises it to
E.164 and the customer is the same contact as on WhatsApp or the phone. A short code or an
alphanumeric sender is kept as an ``external`` identity (``sms:<address>``), so its messages are
stored rather than refused.
"""

from __future__ import annotations

from switchboard.application.intake import Sender
from switchboard.application.ports.connectors import OutboundMessage, SendFailed
from switchboard.domain.errors import InvalidIdentity
from switchboard.domain.identity import IdentityKind, normalize_phone


def recipient_or_none(message: OutboundMessage) -> str | None:
    return next((identity.value for identity in message.identities if identity.kind is IdentityKind.PHONE), None)


def recipient(message: OutboundMessage) -> str:
    """The contact's phone in E.164 (identities are stored normalised)."""
    phone = recipient_or_none(message)
    if phone is None:
        raise SendFailed("the contact has no phone number to send an SMS to", retryable=False)
    return phone


def digits(phone: str) -> str:
    """E.164 without the plus, as SMS.ru and SMPP (TON international) take it."""
    return phone.lstrip("+")


def sender(address: str, national_region: str | None = None) -> Sender:
    """Who sent an SMS; ``national_region`` reads a number in national form (``8916…``) when an SMSC sends one."""
    value = address.strip()
    number = value.removeprefix("+")
    if number.isdigit():
        for candidate, region in ((f"+{number}", "ZZ"), (number, national_region)):
            if region is None:
                continue
            try:
                return Sender(phone=normalize_phone(candidate, region))
            except InvalidIdentity:
                pass
    return Sender(external_kind=IdentityKind.EXTERNAL, external_id=f"sms:{value}")
