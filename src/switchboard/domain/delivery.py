"""When to try a failed send again: exponential backoff with jitter, the provider's own wait first.

A provider outage delays replies, never drops them: a retryable failure is tried again until
``give_up_after`` has passed since the reply was written; only then (or on a failure that can
never succeed) is the message marked failed, with the reason, for the operator to see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    first_delay: float = 2.0  # seconds before the second attempt
    factor: float = 2.0
    max_delay: float = 900.0  # 15 minutes between attempts at most
    give_up_after: timedelta = timedelta(hours=72)
    jitter: float = 0.2  # ± share of the delay, so a recovered provider is not hit by every channel at once


def retry_delay(policy: RetryPolicy, attempts: int, retry_after: float | None, unit_random: float) -> float:
    """Seconds to wait after the ``attempts``-th failure; ``unit_random`` in [0, 1) comes from the caller."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), policy.max_delay * 4)
    base = min(policy.first_delay * policy.factor ** max(attempts - 1, 0), policy.max_delay)
    return base * (1 + policy.jitter * (2 * unit_random - 1))


def should_give_up(policy: RetryPolicy, written_at: datetime, now: datetime) -> bool:
    return now - written_at >= policy.give_up_after
