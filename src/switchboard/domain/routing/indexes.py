"""Operator-side indexes: who in a pool is free right now, best first, without scanning.

- `HeapIndex`: a heap of (key..., operator) with lazy deletion; an entry is live only while
  `live[operator] is entry`, so an update is one push and a removal one dict pop.
- `CyclicIndex`: Fenwick trees of member positions per (status rank, tier) group, giving
  "the next free member after position p, wrapping around" in O(log n).
- `GroupIndex`: plain membership per group, for broadcast (it offers to everyone anyway).
"""

from __future__ import annotations

from collections.abc import Set
from heapq import heapify, heappop, heappush
from typing import Any

Group = tuple[int, int]
HeapEntry = tuple[Any, ...]


class HeapIndex:
    __slots__ = ("heap", "live")

    def __init__(self) -> None:
        self.heap: list[HeapEntry] = []
        self.live: dict[str, HeapEntry] = {}

    def put(self, operator_id: str, entry: HeapEntry) -> None:
        """`entry` must end with the operator id and be unique before it."""
        self.live[operator_id] = entry
        heappush(self.heap, entry)
        if len(self.heap) > 4 * len(self.live) + 64:
            self.heap = list(self.live.values())
            heapify(self.heap)

    def discard(self, operator_id: str) -> None:
        self.live.pop(operator_id, None)

    def __len__(self) -> int:
        return len(self.live)

    def best(self, excluded: Set[str]) -> str | None:
        heap, live = self.heap, self.live
        aside: list[HeapEntry] = []
        found: str | None = None
        while heap:
            entry = heap[0]
            operator_id: str = entry[-1]
            if live.get(operator_id) is not entry:
                heappop(heap)
            elif operator_id in excluded:
                aside.append(heappop(heap))
            else:
                found = operator_id
                break
        for entry in aside:
            heappush(heap, entry)
        return found


class Fenwick:
    """Counts over positions 0..size-1 with prefix sums and k-th lookups."""

    __slots__ = ("count", "log", "size", "tree")

    def __init__(self, size: int) -> None:
        self.size = size
        self.tree = [0] * (size + 1)
        self.count = 0
        self.log = 1 << max(size.bit_length() - 1, 0) if size else 0

    def add(self, position: int, delta: int) -> None:
        self.count += delta
        i = position + 1
        tree = self.tree
        while i <= self.size:
            tree[i] += delta
            i += i & -i

    def prefix(self, position: int) -> int:
        """How many are set at positions <= `position`."""
        total, i = 0, min(position + 1, self.size)
        tree = self.tree
        while i > 0:
            total += tree[i]
            i -= i & -i
        return total

    def kth(self, k: int) -> int:
        """Position of the k-th set element (1-based k)."""
        position, step, tree = 0, self.log, self.tree
        while step:
            nxt = position + step
            if nxt <= self.size and tree[nxt] < k:
                position = nxt
                k -= tree[nxt]
            step >>= 1
        return position


class CyclicIndex:
    __slots__ = ("at", "groups", "order", "size", "where")

    def __init__(self, size: int) -> None:
        self.size = size
        self.groups: dict[Group, Fenwick] = {}
        self.order: list[Group] = []
        self.where: dict[str, tuple[Group, int]] = {}
        self.at: dict[tuple[Group, int], str] = {}

    def __len__(self) -> int:
        return len(self.where)

    def put(self, operator_id: str, group: Group, position: int) -> None:
        if self.where.get(operator_id) == (group, position):
            return
        self.discard(operator_id)
        tree = self.groups.get(group)
        if tree is None:
            tree = self.groups[group] = Fenwick(self.size)
            self.order = sorted(self.groups)
        tree.add(position, 1)
        self.where[operator_id] = (group, position)
        self.at[group, position] = operator_id

    def discard(self, operator_id: str) -> None:
        place = self.where.pop(operator_id, None)
        if place is not None:
            self.groups[place[0]].add(place[1], -1)
            del self.at[place]

    def next_after(self, cursor: int, excluded: Set[str]) -> tuple[str, int] | None:
        """The first free member after `cursor` (wrapping), best group first."""
        for group in self.order:
            found = self._walk(group, cursor, excluded)
            if found is not None:
                return found
        return None

    def _walk(self, group: Group, cursor: int, excluded: Set[str]) -> tuple[str, int] | None:
        tree = self.groups[group]
        for _ in range(min(tree.count, len(excluded) + 1)):
            before = tree.prefix(cursor) if cursor >= 0 else 0
            cursor = tree.kth(before + 1 if before < tree.count else 1)
            operator_id = self.at[group, cursor]
            if operator_id not in excluded:
                return operator_id, cursor
        return None


class GroupIndex:
    __slots__ = ("groups", "where")

    def __init__(self) -> None:
        self.groups: dict[Group, dict[str, int]] = {}
        self.where: dict[str, Group] = {}

    def __len__(self) -> int:
        return len(self.where)

    def put(self, operator_id: str, group: Group, position: int) -> None:
        self.discard(operator_id)
        self.groups.setdefault(group, {})[operator_id] = position
        self.where[operator_id] = group

    def discard(self, operator_id: str) -> None:
        group = self.where.pop(operator_id, None)
        if group is not None:
            del self.groups[group][operator_id]

    def everyone_in_best_group(self, excluded: Set[str]) -> list[str]:
        for group in sorted(self.groups):
            members = self.groups[group]
            chosen = sorted((p, o) for o, p in members.items() if o not in excluded)
            if chosen:
                return [o for _, o in chosen]
        return []
