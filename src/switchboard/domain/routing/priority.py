"""Queue priority with ageing.

Every boost is expressed in seconds of waiting: a VIP "has already waited" `vip_bonus_s`.
Effective priority = boost + (now - queued_at), so the order between two waiting
conversations never changes with time and a heap keyed by `queued_at - boost` is exact:
ageing costs nothing per tick and nothing starves (a regular who waited longer than a
VIP's boost goes first). Equal keys fall back to arrival order (FIFO).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PriorityPolicy:
    """How much each priority input is worth, in seconds of waiting."""

    vip_bonus_s: float = 300.0
    line_priority_step_s: float = 60.0
    dnis_priority_step_s: float = 60.0

    def boost(self, *, vip: bool, line_priority: int, dnis_priority: int) -> float:
        return (
            (self.vip_bonus_s if vip else 0.0)
            + line_priority * self.line_priority_step_s
            + dnis_priority * self.dnis_priority_step_s
        )

    def sort_key(self, queued_at: float, *, vip: bool, line_priority: int, dnis_priority: int) -> float:
        """Smaller goes first; time-invariant thanks to linear ageing."""
        return queued_at - self.boost(vip=vip, line_priority=line_priority, dnis_priority=dnis_priority)
