"""Web chat visitors' identity: a random id in a cookie signed with the secret key (HMAC-SHA256).

A token is ``<visitor id>.<issued, unix seconds>.<signature>``. The signing key is derived from the
secret key for this one purpose, so a visitor token can never pass for a session token or the reverse.
Rotating the secret key makes every visitor a new one (their contacts and history stay).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

_VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
_ISSUED = re.compile(r"^\d{1,12}$")


class ForgedVisitor(Exception):
    """A visitor token whose signature does not match: forged, tampered with, or signed with another key."""


class VisitorTokens:
    def __init__(self, secret_key: str) -> None:
        self._key = hmac.new(secret_key.encode(), b"switchboard/webchat/visitor/v1", hashlib.sha256).digest()

    @staticmethod
    def new_visitor() -> str:
        """A fresh visitor id: 128 random bits, URL-safe."""
        return secrets.token_urlsafe(16)

    def issue(self, visitor_id: str, issued_at: int) -> str:
        if not _VISITOR_ID.match(visitor_id):
            raise ValueError("a visitor id is 16 to 40 URL-safe characters")
        body = f"{visitor_id}.{issued_at}"
        return f"{body}.{self._sign(body)}"

    def read(self, token: str) -> str:
        """The visitor id of a genuine token; ForgedVisitor otherwise (never a partial answer)."""
        parts = token.split(".")
        if len(parts) != 3 or not _VISITOR_ID.match(parts[0]) or not _ISSUED.match(parts[1]):
            raise ForgedVisitor("the visitor token is malformed")
        body = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._sign(body), parts[2]):
            raise ForgedVisitor("the visitor token's signature does not match")
        return parts[0]

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
