"""The memtable: recent writes in memory, sorted on demand.

Entries live in a dict ``key -> (seq, value)`` (value None is a tombstone), which makes a put one
dict store. Sorted order is kept lazily: keys new to the table are appended to a pending list and
merged into the sorted key list (in place: extend + timsort, which merges two runs in linear time)
only when a scan or a flush needs order. Point reads never need order.

Snapshots: every write gets a sequence number. A snapshot (and every scan, which is an implicit
snapshot) remembers the last published sequence number S. When a write overwrites a key whose
current version is visible to some live snapshot, the old ``(seq, value)`` is kept in a side
``history`` list, so a reader at S finds the newest version with seq <= S. Keys inserted after S
are simply skipped (their seq is > S and they have no history), and older layers answer for them.
With no live snapshot, nothing is kept: history costs only while someone reads the past.

Scans walk the sorted list in chunks located by bisection on the last key seen, not by index, so
concurrent inserts (which shift indexes) cannot make a scan skip or repeat keys.

Thread safety: mutations (`apply`, `ensure_sorted`, `drop_history`) run under the DB lock; reads
are single dict/list operations, atomic under the GIL.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator

Entry = tuple[int, bytes | None]
# CPython memory per entry beyond key and value bytes: two bytes-object headers, the (seq, value)
# tuple, the seq int, the dict slot and the sorted-list slot, with allocator rounding. Measured with
# tracemalloc (214 B traced; tests/storage/lsm/test_memory.py checks the count against it).
ENTRY_OVERHEAD = 232
# An old version kept for a snapshot: its tuple, its history-list slot and a share of the list
# (the value bytes are counted apart).
HISTORY_OVERHEAD = 96
_CHUNK = 128


class Memtable:
    def __init__(self, log_number: int) -> None:
        self.log_number = log_number
        self.entries: dict[bytes, Entry] = {}
        self.history: dict[bytes, list[Entry]] = {}
        self.sorted_keys: list[bytes] = []
        self._pending: list[bytes] = []
        self.approx_bytes = 0

    def __len__(self) -> int:
        return len(self.entries)

    def put(self, key: bytes, value: bytes | None, seq: int, keep_seq: int) -> None:
        """Store one version. `keep_seq`: the newest live snapshot's seq, or -1 if none."""
        entries = self.entries
        old = entries.get(key)
        if old is None:
            self._pending.append(key)
            self.approx_bytes += len(key) + ENTRY_OVERHEAD + (len(value) if value is not None else 0)
        elif old[0] <= keep_seq:
            # the old version stays for a snapshot: it keeps its memory (and a history list)
            self.history.setdefault(key, []).append(old)
            self.approx_bytes += (len(value) if value is not None else 0) + HISTORY_OVERHEAD
        else:
            self.approx_bytes += (len(value) if value is not None else 0) - (len(old[1]) if old[1] is not None else 0)
        entries[key] = (seq, value)

    def ensure_sorted(self) -> list[bytes]:
        pending = self._pending
        if pending:
            keys = self.sorted_keys
            if len(pending) < 8:
                for key in pending:
                    insort(keys, key)
            else:
                keys.extend(pending)
                keys.sort()
            self._pending = []
        return self.sorted_keys

    def drop_history(self) -> None:
        if self.history:
            self.approx_bytes -= sum(
                HISTORY_OVERHEAD + (len(value) if value is not None else 0)
                for versions in self.history.values()
                for _, value in versions
            )
            self.history = {}

    def lookup(self, key: bytes, snap_seq: int) -> Entry | None:
        """The newest version of `key` with seq <= snap_seq, or None if this table has none."""
        entry = self.entries.get(key)
        if entry is None or entry[0] <= snap_seq:
            return entry
        older = self.history.get(key)
        if older:
            for version in reversed(older):
                if version[0] <= snap_seq:
                    return version
        return None

    def iter_chunks(
        self, start: bytes | None, end: bytes | None, reverse: bool, snap_seq: int
    ) -> Iterator[tuple[list[bytes], list[bytes | None]]]:
        """Versions visible at snap_seq in [start, end) as (keys, values) chunks, keys ascending
        inside a chunk, chunks in scan order; tombstones as None.

        `ensure_sorted` must have run (under the DB lock) when the snapshot was taken.
        """
        keys = self.sorted_keys
        if not reverse:
            i = 0 if start is None else bisect_left(keys, start)
            while True:
                chunk = keys[i : i + _CHUNK]
                if not chunk:
                    return
                if end is not None and chunk[-1] >= end:
                    chunk = chunk[: bisect_left(chunk, end)]
                    if chunk:
                        yield self._visible(chunk, snap_seq)
                    return
                yield self._visible(chunk, snap_seq)
                i = bisect_right(keys, chunk[-1])
        else:
            i = len(keys) if end is None else bisect_left(keys, end)
            while i > 0:
                chunk = keys[max(0, i - _CHUNK) : i]
                if start is not None and chunk[0] < start:
                    chunk = chunk[bisect_left(chunk, start) :]
                    if chunk:
                        yield self._visible(chunk, snap_seq)
                    return
                yield self._visible(chunk, snap_seq)
                i = bisect_left(keys, chunk[0])

    def _visible(self, chunk: list[bytes], snap_seq: int) -> tuple[list[bytes], list[bytes | None]]:
        entries = self.entries
        found = [entries[k] for k in chunk]
        if not self.history and all(e[0] <= snap_seq for e in found):
            return chunk, [e[1] for e in found]
        keys: list[bytes] = []
        values: list[bytes | None] = []
        for key in chunk:
            entry = self.lookup(key, snap_seq)
            if entry is not None:
                keys.append(key)
                values.append(entry[1])
        return keys, values

    def sorted_items(self) -> tuple[list[bytes], list[bytes | None]]:
        """Newest value of every key in key order (for a flush of a frozen table)."""
        keys = self.ensure_sorted()
        entries = self.entries
        return keys, [entries[k][1] for k in keys]
