"""Which conversation an inbound email says it continues (intake resolves it: ``application/thread_hints``).

First by the message ids it answers (In-Reply-To, then References from the newest), then by a reply
token: our outgoing mail carries ``Reply-To: support+c123.ab12cd34ef@example.com``, a plus-address
whose tag names the conversation and is signed with HMAC-SHA256 so nobody can post into another
customer's conversation by guessing numbers. Mail clients that drop the threading headers still
reply to that address.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.adapters.email.model import ParsedEmail
from switchboard.application.inbound import ThreadHint

log = logging.getLogger("switchboard.email")

SIGNATURE_LENGTH = 10
_SHAPE = re.compile(r"^c[0-9]+\.")
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

    def forged(self, addresses: Iterable[str]) -> list[str]:
        """Addresses shaped like this mailbox's tokens whose signature does not verify."""
        base_local, base_domain = _split(self.base_address)
        shaped = []
        for address in addresses:
            try:
                local, domain = _split(address)
            except ValueError:
                continue
            user, plus, tag = local.partition("+")
            ours = plus and user.lower() == base_local.lower() and domain == base_domain and _SHAPE.match(tag.lower())
            if ours and conversation_from_address(address, self.base_address, self.secret) is None:
                shaped.append(address)
        return shaped


def referenced_ids(parsed: ParsedEmail) -> list[str]:
    """The message ids this email answers, most specific first: In-Reply-To, then References newest first."""
    ordered = ([parsed.in_reply_to] if parsed.in_reply_to else []) + list(reversed(parsed.references))
    return list(dict.fromkeys(ordered))


def thread_hint(
    parsed: ParsedEmail, tokens: ReplyTokens | None = None, envelope_recipients: Iterable[str] = ()
) -> ThreadHint | None:
    """What the email says it continues, for intake to resolve: the ids it answers and a verified token.

    The token is looked for in the envelope recipients, To and Cc. One that looks like ours but does
    not verify is logged and ignored: it never names a conversation.
    """
    ids = tuple(referenced_ids(parsed))
    named = None
    if tokens is not None:
        candidates = [*envelope_recipients, *(a.address for a in parsed.to), *(a.address for a in parsed.cc)]
        named = tokens.conversation(candidates)
        if named is None:
            for address in tokens.forged(candidates):
                log.warning("email.forged_reply_token %s in mail from %s", address, parsed.from_.address)
    return ThreadHint(ids, named) if ids or named is not None else None


def reply_secret(secret_key: str) -> bytes:
    """The reply tokens' key, derived from the application's secret key (never the key itself)."""
    return hmac.new(secret_key.encode(), b"switchboard/email/reply-token/v1", hashlib.sha256).digest()


def channel_tokens(settings: Mapping[str, Any], secret: bytes | None) -> ReplyTokens | None:
    """A channel's reply tokens, on unless ``settings.reply_token`` is false; the plus-address is made on
    the first address the channel receives mail at (``settings.addresses``), else its ``from_address``."""
    if secret is None or settings.get("reply_token", True) is False:
        return None
    addresses = settings.get("addresses") or []
    base = addresses[0] if addresses else settings.get("from_address")
    if not isinstance(base, str) or "@" not in base:
        return None
    return ReplyTokens(base, secret)
