"""Distribution modes as strategy objects over a pool's operator index.

Every automatic mode ranks free operators by (status rank, tier, mode key..., list position):
available operators before "last"-effect ones, tier 1 before tier 2, then the mode decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from switchboard.domain.routing.indexes import CyclicIndex, GroupIndex, HeapIndex
from switchboard.domain.routing.model import Mode

if TYPE_CHECKING:
    from switchboard.domain.routing.state import ConversationState, OperatorState, Pool, PoolMember

KeyFn = Callable[["OperatorState", "PoolMember"], tuple[Any, ...]]


class Strategy(Protocol):
    mode: Mode

    def new_index(self, size: int) -> Any: ...

    def place(self, pool: Pool, operator: OperatorState, member: PoolMember) -> None:
        """Record that `operator` is free for this pool (or that its ranking changed)."""

    def choose(self, pool: Pool, conversation: ConversationState) -> list[str]:
        """Operators to offer to now (one, or all for broadcast); empty when nobody fits."""

    def chosen(self, pool: Pool, conversation: ConversationState, member: PoolMember) -> None:
        """Remember who was offered (round-robin memory, strict-order cursor)."""


class RankedStrategy:
    """Best-first by a key: evenly, longest idle, fewest handled, least talk time, best skill."""

    def __init__(self, mode: Mode, key: KeyFn) -> None:
        self.mode = mode
        self.key = key

    def new_index(self, size: int) -> HeapIndex:
        return HeapIndex()

    def place(self, pool: Pool, operator: OperatorState, member: PoolMember) -> None:
        entry = (operator.rank, member.tier, *self.key(operator, member), member.ordinal, operator.id)
        pool.index.put(operator.id, entry)

    def choose(self, pool: Pool, conversation: ConversationState) -> list[str]:
        found: str | None = pool.index.best(conversation.tried)
        return [] if found is None else [found]

    def chosen(self, pool: Pool, conversation: ConversationState, member: PoolMember) -> None:
        conversation.cursor = member.ordinal


class CyclicStrategy:
    """List order from a cursor, wrapping: strict order (cursor per conversation, starts at the
    top) or round robin (cursor per line: the one after the last one offered)."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self.per_line = mode is Mode.ROUND_ROBIN

    def new_index(self, size: int) -> CyclicIndex:
        return CyclicIndex(size)

    def place(self, pool: Pool, operator: OperatorState, member: PoolMember) -> None:
        pool.index.put(operator.id, (operator.rank, member.tier), member.ordinal)

    def choose(self, pool: Pool, conversation: ConversationState) -> list[str]:
        cursor = pool.line.cursor if self.per_line else conversation.cursor
        found = pool.index.next_after(cursor, conversation.tried)
        return [] if found is None else [found[0]]

    def chosen(self, pool: Pool, conversation: ConversationState, member: PoolMember) -> None:
        conversation.cursor = member.ordinal
        if self.per_line:
            pool.line.cursor = member.ordinal


class BroadcastStrategy:
    """To everyone at once: every free operator of the best group; the first accept wins."""

    mode = Mode.BROADCAST

    def new_index(self, size: int) -> GroupIndex:
        return GroupIndex()

    def place(self, pool: Pool, operator: OperatorState, member: PoolMember) -> None:
        pool.index.put(operator.id, (operator.rank, member.tier), member.ordinal)

    def choose(self, pool: Pool, conversation: ConversationState) -> list[str]:
        chosen: list[str] = pool.index.everyone_in_best_group(conversation.tried)
        return chosen

    def chosen(self, pool: Pool, conversation: ConversationState, member: PoolMember) -> None:
        conversation.cursor = member.ordinal


class ManualStrategy:
    """Nobody is offered anything: operators pick from the waiting pool."""

    mode = Mode.MANUAL

    def new_index(self, size: int) -> GroupIndex:
        return GroupIndex()

    def place(self, pool: Pool, operator: OperatorState, member: PoolMember) -> None:
        pool.index.put(operator.id, (operator.rank, member.tier), member.ordinal)

    def choose(self, pool: Pool, conversation: ConversationState) -> list[str]:
        return []

    def chosen(self, pool: Pool, conversation: ConversationState, member: PoolMember) -> None:
        conversation.cursor = member.ordinal


def _evenly(op: OperatorState, m: PoolMember) -> tuple[Any, ...]:
    return (op.total, op.last_idle_at)


def _longest_idle(op: OperatorState, m: PoolMember) -> tuple[Any, ...]:
    return (op.total > 0, op.last_idle_at)


def _fewest_handled(op: OperatorState, m: PoolMember) -> tuple[Any, ...]:
    return (op.handled_today, op.total, op.last_idle_at)


def _least_talk(op: OperatorState, m: PoolMember) -> tuple[Any, ...]:
    return (op.talk_time, op.total, op.last_idle_at)


def _best_skill(op: OperatorState, m: PoolMember) -> tuple[Any, ...]:
    return (-m.proficiency, op.total, op.last_idle_at)


def strategy_for(mode: Mode) -> Strategy:
    """One strategy object per mode (they hold no per-line state)."""
    ranked: dict[Mode, KeyFn] = {
        Mode.EVENLY: _evenly,
        Mode.LONGEST_IDLE: _longest_idle,
        Mode.FEWEST_HANDLED_TODAY: _fewest_handled,
        Mode.LEAST_TALK_TIME: _least_talk,
        Mode.BEST_SKILL: _best_skill,
    }
    if mode in ranked:
        return RankedStrategy(mode, ranked[mode])
    if mode in (Mode.STRICT_ORDER, Mode.ROUND_ROBIN):
        return CyclicStrategy(mode)
    if mode is Mode.BROADCAST:
        return BroadcastStrategy()
    return ManualStrategy()
