"""Putting a long inbound SMS back together from its parts (pure: the time comes in as an argument).

Parts are kept until every one has arrived and the whole message was taken in; a message whose
parts stop coming is let out after ``timeout`` seconds with a ``[…]`` where a part is missing, so
the customer's words are late rather than lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MISSING = "[…]"

# (sender, our address, the sender's reference, number of parts)
PartsKey = tuple[str, str, int, int]


@dataclass(slots=True)
class _Parts:
    since: float
    texts: dict[int, str] = field(default_factory=dict)


class LongMessages:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._pending: dict[PartsKey, _Parts] = {}

    def add(self, key: PartsKey, number: int, text: str, now: float) -> str | None:
        """Keep one part; the whole text once every part is here (call ``done`` when it is stored)."""
        parts = self._pending.setdefault(key, _Parts(now))
        parts.texts[number] = text
        total = key[3]
        if len(parts.texts) < total:
            return None
        return "".join(parts.texts[n] for n in range(1, total + 1))

    def done(self, key: PartsKey) -> None:
        self._pending.pop(key, None)

    def overdue(self, now: float) -> list[tuple[PartsKey, str]]:
        """Messages whose missing parts waited too long, with the gaps marked (they stay until ``done``)."""
        late = []
        for key, parts in self._pending.items():
            if now - parts.since >= self.timeout:
                texts = [parts.texts.get(n, MISSING) for n in range(1, key[3] + 1)]
                late.append((key, "".join(texts)))
        return late

    def __len__(self) -> int:
        return len(self._pending)
