"""Waiting conversations of one pool, in priority order, with positions in O(log n).

A sorted list split into blocks (like `sortedcontainers`): insert = bisect over block
maxima + insort into one short block; the position of an entry = a Fenwick prefix sum over
block sizes + a bisect inside its block. Entries are (sort_key, seq, conversation_id);
`seq` is unique and increasing, so equal priorities stay first-in first-out.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

Entry = tuple[float, int, str]
BLOCK = 256


class WaitingQueue:
    __slots__ = ("_block", "_blocks", "_maxes", "_size", "_tree")

    def __init__(self, block: int = BLOCK) -> None:
        self._block = block
        self._blocks: list[list[Entry]] = []
        self._maxes: list[Entry] = []
        self._size = 0
        self._tree: list[int] | None = None

    def __len__(self) -> int:
        return self._size

    def push(self, entry: Entry) -> None:
        blocks, maxes = self._blocks, self._maxes
        self._size += 1
        if not blocks:
            blocks.append([entry])
            maxes.append(entry)
            self._tree = None
            return
        index = bisect_left(maxes, entry)
        if index == len(maxes):
            index -= 1
            blocks[index].append(entry)
            maxes[index] = entry
        else:
            insort(blocks[index], entry)
        if len(blocks[index]) > 2 * self._block:
            self._split(index)
        else:
            self._tree_add(index, 1)

    def first(self) -> Entry | None:
        return self._blocks[0][0] if self._blocks else None

    def ordered(self) -> Iterator[Entry]:
        """Entries best first (for look-ahead past a few unsuitable ones)."""
        for block in self._blocks:
            yield from block

    def remove(self, entry: Entry) -> bool:
        index = bisect_left(self._maxes, entry)
        if index == len(self._maxes):
            return False
        block = self._blocks[index]
        position = bisect_left(block, entry)
        if position == len(block) or block[position] != entry:
            return False
        del block[position]
        self._size -= 1
        if not block:
            del self._blocks[index]
            del self._maxes[index]
            self._tree = None
        else:
            self._maxes[index] = block[-1]
            self._tree_add(index, -1)
        return True

    def rank(self, entry: Entry) -> int:
        """How many entries are ahead of `entry` (0 = first)."""
        index = bisect_left(self._maxes, entry)
        if index == len(self._maxes):
            return self._size
        return self._prefix(index) + bisect_left(self._blocks[index], entry)

    def _split(self, index: int) -> None:
        block = self._blocks[index]
        half = len(block) // 2
        self._blocks[index : index + 1] = [block[:half], block[half:]]
        self._maxes[index : index + 1] = [block[half - 1], block[-1]]
        self._tree = None

    def _build(self) -> list[int]:
        tree = [0] * (len(self._blocks) + 1)
        for i, block in enumerate(self._blocks, 1):
            tree[i] += len(block)
            parent = i + (i & -i)
            if parent < len(tree):
                tree[parent] += tree[i]
        self._tree = tree
        return tree

    def _tree_add(self, index: int, delta: int) -> None:
        tree = self._tree
        if tree is None:
            return
        i = index + 1
        while i < len(tree):
            tree[i] += delta
            i += i & -i

    def _prefix(self, count: int) -> int:
        tree = self._tree if self._tree is not None else self._build()
        total, i = 0, count
        while i > 0:
            total += tree[i]
            i -= i & -i
        return total
