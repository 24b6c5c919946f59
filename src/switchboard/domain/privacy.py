"""Personal data as a role that does not need it sees it: enough to recognise, not enough to use.

An operator answers in the customer's channel and never needs the full phone or email to do so;
the masked value still tells two numbers apart ("+7916•••••67"). The full value is shown on an
explicit, audited reveal.
"""

from __future__ import annotations

import re

from switchboard.domain.identity import Identity, IdentityKind

DOT = "•"


def mask_value(kind: IdentityKind, value: str) -> str:
    """Phones keep the country and operator code and the last two digits; emails the first letter and the domain."""
    if kind is IdentityKind.PHONE:
        keep_head = min(5, max(len(value) - 4, 1))
        return value[:keep_head] + DOT * max(len(value) - keep_head - 2, 1) + value[-2:]
    if kind is IdentityKind.EMAIL and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}{DOT * 3}@{domain}"
    if len(value) <= 3:
        return DOT * 3
    return value[:1] + DOT * 3 + value[-2:]


def mask_identity(identity: Identity) -> Identity:
    return Identity(identity.kind, mask_value(identity.kind, identity.value))


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{5,}\d")


def mask_text(text: str) -> str:
    """Phones and emails inside a text we generated (a lead's title is the contact's name, which may be the phone)."""
    text = _EMAIL.sub(lambda m: mask_value(IdentityKind.EMAIL, m.group()), text)
    return _PHONE.sub(lambda m: mask_value(IdentityKind.PHONE, m.group()), text)
