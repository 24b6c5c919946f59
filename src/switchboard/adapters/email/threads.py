"""Which conversation an inbound email belongs to.

First by the message ids it answers (In-Reply-To, then References from the newest), then by a reply
token: our outgoing mail carries ``Reply-To: support+c123.ab12cd34ef@example.com``, a plus-address
whose tag names the conversation and is signed with HMAC-SHA256 so nobody can post into another
customer's conversation by guessing numbers. Mail clients that drop the threading headers still
reply to that address.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from switchboard.adapters.email.model import ParsedEmail

SIGNATURE_LENGTH = 10
_TAG = re.compile(rf"^c(?P<conversation>[1-9][0-9]{{0,18}})\.(?P<signature>[0-9a-f]{{{SIGNATURE_LENGTH}}})$")


def _secret_bytes(secret: bytes | str) -> bytes:
    data = secret.encode("utf-8") if isinstance(secret, str) else secret
    if len(data) < 16:
        raise ValueError("the reply-token secret must be at least 16 bytes")
    return data


def _split(address: str) -> tuple[str, str]:
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at or not local or not domain:
        raise ValueError(f"{address!r} is not an email address")
    return local, domain.lower()


def _signature(base_address: str, conversation_id: int, secret: bytes | str) -> str:
    local, domain = _split(base_address)
    text = f"{local.lower()}@{domain}:{conversation_id}".encode()
    return hmac.new(_secret_bytes(secret), text, hashlib.sha256).hexdigest()[:SIGNATURE_LENGTH]


def reply_address(base_address: str, conversation_id: int, secret: bytes | str) -> str:
    """``support@example.com``, 123 → ``support+c123.<signature>@example.com``."""
    if conversation_id <= 0:
        raise ValueError("conversation_id must be positive")
    local, domain = _split(base_address)
    return f"{local}+c{conversation_id}.{_signature(base_address, conversation_id, secret)}@{domain}"


def conversation_from_address(address: str, base_address: str, secret: bytes | str) -> int | None:
    """The conversation id in a reply address made by ``reply_address``, or None if absent or forged."""
    try:
        local, domain = _split(address)
        base_local, base_domain = _split(base_address)
    except ValueError:
        return None
    user, plus, tag = local.partition("+")
    if not plus or domain != base_domain or user.lower() != base_local.lower():
        return None
    match = _TAG.match(tag.lower())
    if match is None:
        return None
    conversation_id = int(match["conversation"])
    expected = _signature(base_address, conversation_id, secret)
    return conversation_id if hmac.compare_digest(expected, match["signature"]) else None


@dataclass(frozen=True, slots=True)
class ReplyTokens:
    """One mailbox's token settings: its address and the secret the tokens are signed with."""

    base_address: str
    secret: bytes | str

    def address(self, conversation_id: int) -> str:
        return reply_address(self.base_address, conversation_id, self.secret)

    def conversation(self, addresses: Iterable[str]) -> int | None:
        for address in addresses:
            found = conversation_from_address(address, self.base_address, self.secret)
            if found is not None:
                return found
        return None


def referenced_ids(parsed: ParsedEmail) -> list[str]:
    """The message ids this email answers, most specific first: In-Reply-To, then References newest first."""
    ordered = ([parsed.in_reply_to] if parsed.in_reply_to else []) + list(reversed(parsed.references))
    return list(dict.fromkeys(ordered))


def thread_key(
    parsed: ParsedEmail,
    known_message_ids: Callable[[list[str]], int | None],
    *,
    tokens: ReplyTokens | None = None,
    envelope_recipients: Iterable[str] = (),
) -> int | None:
    """The conversation this email continues, or None for a new one.

    ``known_message_ids`` receives the referenced ids in priority order and returns the conversation
    of the first it knows. The reply token is looked for in the envelope recipients, To and Cc.
    """
    ids = referenced_ids(parsed)
    if ids and (found := known_message_ids(ids)) is not None:
        return found
    if tokens is None:
        return None
    candidates = [*envelope_recipients, *(a.address for a in parsed.to), *(a.address for a in parsed.cc)]
    return tokens.conversation(candidates)
