"""The numbers of a call: the caller's (ANI) and the dialled one (DNIS), as the PBX sends them."""

from __future__ import annotations

import re
from functools import lru_cache

from switchboard.domain.errors import InvalidIdentity
from switchboard.domain.identity import normalize_phone

WITHHELD = frozenset({"", "anonymous", "unknown", "restricted", "private", "unavailable", "withheld"})
SHORT = re.compile(r"^[0-9*#]{1,20}$")


# an internal number never parses as a phone, and a refusal is not cached by normalize_phone: the few
# dialled numbers are remembered here (a caller's number is cached by normalize_phone itself)
@lru_cache(maxsize=1024)
def dialled_number(raw: str, region: str) -> str:
    """A dialled number in E.164 when it is a phone number, else an internal number (digits, * and #)."""
    text = raw.strip()
    try:
        return normalize_phone(text, region)
    except InvalidIdentity:
        pass
    if SHORT.match(text):
        return text
    raise InvalidIdentity(f"dnis {raw!r} is neither a phone number nor an internal number", field="dnis")


def caller_number(raw: str | None, region: str) -> str:
    """The caller's number in E.164; what is withheld or unparseable is kept as sent (never an identity)."""
    text = (raw or "").strip()
    if text.lower() in WITHHELD:
        return ""
    try:
        return normalize_phone(text, region)
    except InvalidIdentity:
        return text[:32]
