"""What travels on the bus: the JSON body of an envelope, and the names that route it.

Both backends use this one format, so an event the in-process bus accepts is one
RabbitMQ accepts too (a payload that is not JSON fails at ``publish`` on both).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from switchboard.application.ports.bus import Envelope

CONTENT_TYPE = "application/json"

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_:-]+(\.[A-Za-z0-9_:-]+)*$")
_TOPIC_WORD = re.compile(r"^([A-Za-z0-9_:-]+|\*|#)$")
DEAD_SUFFIX = ".dead"


def encode(envelope: Envelope) -> bytes:
    """JSON body: ``event_id``, ``name``, ``occurred_at`` (ISO-8601), ``payload`` (and ``sequence`` when set).

    Raises TypeError when the payload holds something JSON cannot carry.
    """
    document = {
        "event_id": envelope.event_id,
        "name": envelope.name,
        "occurred_at": envelope.occurred_at.isoformat(),
        "payload": envelope.payload,
    }
    if envelope.sequence:
        document["sequence"] = envelope.sequence
    try:
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as error:  # ValueError: NaN, infinity, circular reference
        raise TypeError(f"event {envelope.event_id} payload is not JSON: {error}") from error


def decode(body: bytes) -> Envelope:
    """The inverse of :func:`encode`; raises ValueError on a malformed body."""
    try:
        document: Any = json.loads(body)
        event_id = document["event_id"]
        name = document["name"]
        occurred_at = datetime.fromisoformat(document["occurred_at"])
        payload = document["payload"]
        sequence = document.get("sequence", 0)
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"malformed envelope body: {error}") from error
    if not isinstance(event_id, int) or isinstance(event_id, bool):
        raise ValueError("malformed envelope body: event_id is not an integer")
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        raise ValueError("malformed envelope body: sequence is not an integer")
    if not isinstance(name, str) or not isinstance(payload, dict):
        raise ValueError("malformed envelope body: name or payload has the wrong type")
    return Envelope(event_id=event_id, name=name, occurred_at=occurred_at, payload=payload, sequence=sequence)


def check_queue_name(queue: str) -> str:
    """A named queue is dot-separated words; ``*.dead`` is taken by dead letters."""
    if not _QUEUE_NAME.match(queue):
        raise ValueError(f"invalid queue name {queue!r}: use letters, digits, '_', '-', ':' and dots")
    if queue.endswith(DEAD_SUFFIX):
        raise ValueError(f"invalid queue name {queue!r}: the suffix {DEAD_SUFFIX!r} is for dead letters")
    return queue


def check_topics(topics: Sequence[str]) -> tuple[str, ...]:
    """Binding patterns as AMQP topic exchanges read them: words, ``*`` (one word), ``#`` (any)."""
    if isinstance(topics, str):
        raise TypeError("topics must be a sequence of patterns, not a single string")
    checked = tuple(topics)
    if not checked:
        raise ValueError("topics must not be empty")
    for pattern in checked:
        if not all(_TOPIC_WORD.match(word) for word in pattern.split(".")):
            raise ValueError(f"invalid topic pattern {pattern!r}")
    return checked


def check_max_attempts(max_attempts: int) -> int:
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    return max_attempts
