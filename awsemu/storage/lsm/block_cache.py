"""A bounded LRU cache of decoded SSTable blocks, shared by all tables of a DB.

Entries are keyed by (table number, block offset) and charged an estimate of the memory their
decoded form takes (raw bytes plus Python object overhead per entry), so the configured bound is a
bound on memory, not only on raw block bytes. Inserts and evictions take a lock; lookups rely on
the atomicity of single OrderedDict operations under the GIL.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class BlockCache:
    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self.used = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[int, int], tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> Any:
        # No lock: dict lookup and move_to_end are single atomic steps under the GIL, and a
        # concurrent eviction only turns the move into a KeyError. Counters are best effort.
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        try:
            self._entries.move_to_end(key)
        except KeyError:
            pass
        self.hits += 1
        return entry[0]

    def put(self, key: tuple[int, int], value: Any, charge: int) -> None:
        if charge > self.capacity:
            return
        with self._lock:
            entries = self._entries
            if key in entries:  # another reader inserted the same block meanwhile
                return
            entries[key] = (value, charge)
            self.used += charge
            while self.used > self.capacity:
                _, (_, evicted) = entries.popitem(last=False)
                self.used -= evicted

    def evict_table(self, number: int) -> None:
        """Drop every block of a table that no longer exists."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == number]:
                self.used -= self._entries.pop(key)[1]

    def __len__(self) -> int:
        return len(self._entries)
