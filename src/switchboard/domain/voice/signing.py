"""Signed call control: HMAC-SHA256 over the timestamp and the body, with the channel's secret.

    X-Switchboard-Timestamp: 1767225600
    X-Switchboard-Signature: sha256=<hex of HMAC-SHA256(secret, "1767225600." + body)>

A request older or newer than the window is refused, so a captured request cannot be replayed
later; inside the window a repeat is harmless because every call-control input is idempotent.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "x-switchboard-timestamp"
SIGNATURE_HEADER = "x-switchboard-signature"
WINDOW_S = 300
MIN_SECRET = 16


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_problem(
    secret: str, timestamp: str | None, given: str | None, body: bytes, now: float, window_s: float = WINDOW_S
) -> str | None:
    """Why the request is not genuine, or None when it is."""
    if not timestamp or not given:
        return "the request is not signed: send X-Switchboard-Timestamp and X-Switchboard-Signature"
    if not timestamp.isdigit():
        return "X-Switchboard-Timestamp must be whole seconds since the epoch"
    if abs(now - int(timestamp)) > window_s:
        return f"X-Switchboard-Timestamp is more than {int(window_s)} seconds away from now: a replay or a wrong clock"
    if not hmac.compare_digest(signature(secret, timestamp, body).encode(), given.strip().encode()):
        return "the signature does not match"
    return None
