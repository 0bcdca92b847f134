"""K-way merge of sorted sources, a chunk at a time, so that the per-entry work runs in C.

Sources are given newest first. Each yields chunks ``(keys, values)``: parallel lists with keys
ascending inside a chunk; chunks come in iteration order (ascending, or descending for a reverse
scan). A value of None is a tombstone and is passed through: the caller decides to drop it.

Each round takes the smallest "last key" among the sources' current chunks as a bound (the
largest "first key" in reverse): every entry on the right side of the bound, in every source, is
known, so these entries can be merged without looking further. They are tagged with their
source's age, concatenated and sorted with list.sort (timsort merges the presorted runs in C);
equal keys end up adjacent with the newest last, so ``dict(zip(keys, values))`` keeps the newest
value of each key in sorted order. Entries of one key never straddle two rounds, because a round
takes every entry up to the bound from every source.

When a single source is left, its chunks pass through untouched.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from itertools import repeat
from operator import itemgetter

Value = bytes | None
Chunk = tuple[list[bytes], list[Value]]

_first = itemgetter(0)
_third = itemgetter(2)


class _Cursor:
    __slots__ = ("age", "keys", "values", "lo", "hi", "source")

    def __init__(self, age: int, source: Iterator[Chunk]) -> None:
        self.age = age
        self.source = source
        self.keys: list[bytes] = []
        self.values: list[Value] = []
        self.lo = 0
        self.hi = 0

    def advance(self) -> bool:
        """Load the next non-empty chunk; False when the source is exhausted."""
        for keys, values in self.source:
            if keys:
                self.keys = keys
                self.values = values
                self.lo = 0
                self.hi = len(keys)
                return True
        return False


def _in_order(keys: list[bytes], values: list[Value], reverse: bool) -> Chunk:
    return (keys[::-1], values[::-1]) if reverse else (keys, values)


def merge_chunks(sources: list[Iterator[Chunk]], reverse: bool = False) -> Iterator[Chunk]:
    """Merge newest-first sources into chunks in iteration order, newest version per key."""
    n = len(sources)
    active = []
    for rank, source in enumerate(sources):
        cursor = _Cursor(n - rank, source)
        if cursor.advance():
            active.append(cursor)
    while len(active) > 1:
        if reverse:
            bound = max(c.keys[c.lo] for c in active)
        else:
            bound = min(c.keys[c.hi - 1] for c in active)
        combined: list[tuple[bytes, int, Value]] = []
        still = []
        for c in active:
            keys, values, lo, hi = c.keys, c.values, c.lo, c.hi
            if reverse:
                cut = bisect_left(keys, bound, lo, hi)
                take_lo, take_hi = cut, hi
                c.hi = cut
                tag = -c.age
            else:
                cut = bisect_right(keys, bound, lo, hi)
                take_lo, take_hi = lo, cut
                c.lo = cut
                tag = c.age
            if take_lo < take_hi:
                if take_lo == 0 and take_hi == len(keys):
                    combined.extend(zip(keys, repeat(tag), values))
                else:
                    combined.extend(zip(keys[take_lo:take_hi], repeat(tag), values[take_lo:take_hi]))
            if c.lo < c.hi or c.advance():
                still.append(c)
        active = still
        combined.sort(reverse=reverse)
        newest = dict(zip(map(_first, combined), map(_third, combined)))
        yield list(newest), list(newest.values())
    if active:
        c = active[0]
        keys, values = c.keys, c.values
        if c.lo != 0 or c.hi != len(keys):
            keys, values = keys[c.lo : c.hi], values[c.lo : c.hi]
        yield _in_order(keys, values, reverse)
        for keys, values in c.source:
            if keys:
                yield _in_order(keys, values, reverse)
