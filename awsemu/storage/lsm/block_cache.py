"""The engine's one bounded cache: SSTable data blocks and table metadata under one budget.

Two kinds of entries share ``capacity`` bytes, each charged what it really costs in memory (raw
bytes plus the CPython objects around them, measured with tracemalloc: see ``Block.charge`` and
``TableMeta.charge``):

* data blocks (``Block``), keyed by ``table number << 32 | block index``, in LRU order;
* the metadata of an open table (``TableMeta``: its index and bloom filter), like RocksDB's
  ``cache_index_and_filter_blocks`` with high priority: every point read consults the metadata of
  every table, so metadata is evicted only when no data block is left to evict. A table whose
  metadata was evicted reloads and re-verifies it from its file on its next read (sstable.py).

So ``capacity`` bounds blocks + indexes + filters together. Reads of metadata do not go through
the cache (a table holds its metadata while the cache keeps it charged, and drops it when the
cache evicts it), which keeps the point-read path free of cache bookkeeping per table.

Inserts and evictions take a lock; block lookups rely on the atomicity of single OrderedDict
operations under the GIL.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Protocol


class Charged(Protocol):
    charge: int


class MetaOwner(Protocol):
    """A table: the cache hands it its metadata to keep, and takes it back (None) on eviction."""

    number: int
    retired: bool

    def hold_meta(self, meta: Charged | None) -> None: ...


def block_key(table_number: int, index: int) -> int:
    return table_number << 32 | index


class BlockCache:
    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self.used = 0
        self.meta_used = 0
        self.hits = 0
        self.misses = 0
        self.meta_loads = 0
        self._blocks: OrderedDict[int, Charged] = OrderedDict()
        self._metas: OrderedDict[int, tuple[weakref.ref[MetaOwner], int]] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ data blocks

    def get(self, key: int) -> Charged | None:
        # No lock: dict lookup and move_to_end are single atomic steps under the GIL, and a
        # concurrent eviction only turns the move into a KeyError. Counters are best effort.
        block = self._blocks.get(key)
        if block is None:
            self.misses += 1
            return None
        try:
            self._blocks.move_to_end(key)
        except KeyError:
            pass
        self.hits += 1
        return block

    def put(self, key: int, block: Charged) -> None:
        charge = block.charge
        with self._lock:
            if key in self._blocks or charge > self.capacity - self.meta_used:
                return  # another reader inserted it meanwhile, or metadata leaves no room
            self._blocks[key] = block
            self.used += charge
            self._evict()

    # ------------------------------------------------------------------ table metadata

    def admit_meta(self, owner: MetaOwner, meta: Charged) -> None:
        """Charge `meta` and let `owner` hold it, evicting as needed. Nothing happens when it
        cannot fit, or when the owner's metadata is charged already (another thread loaded it
        first), or when the owner was retired: the caller then uses its copy for the read at hand
        only. Giving the metadata to the owner under the lock keeps "held" and "charged" the same
        thing; the newly admitted entry is the newest, so it is the last to go."""
        charge = meta.charge
        with self._lock:
            number = owner.number
            self.meta_loads += 1
            if number in self._metas or charge > self.capacity or owner.retired:
                return
            self._metas[number] = (weakref.ref(owner), charge)
            self.used += charge
            self.meta_used += charge
            owner.hold_meta(meta)
            self._evict()

    def release_meta(self, number: int) -> None:
        """Uncharge a table's metadata: the table is retired (replaced by compaction). It keeps
        what it holds for the readers still using it, and goes away with them."""
        with self._lock:
            entry = self._metas.pop(number, None)
            if entry is not None:
                self.used -= entry[1]
                self.meta_used -= entry[1]

    # ------------------------------------------------------------------ eviction

    def _evict(self) -> None:
        """Under the lock: evict data blocks (LRU), then metadata (oldest first), to capacity."""
        blocks = self._blocks
        while self.used > self.capacity and blocks:
            _, block = blocks.popitem(last=False)
            self.used -= block.charge
        metas = self._metas
        while self.used > self.capacity and metas:
            _, (ref, charge) = metas.popitem(last=False)
            self.used -= charge
            self.meta_used -= charge
            owner = ref()
            if owner is not None:
                owner.hold_meta(None)

    def evict_table(self, number: int) -> None:
        """Drop every block and the metadata of a table that no longer exists."""
        self.release_meta(number)
        lo = block_key(number, 0)
        hi = block_key(number + 1, 0)
        with self._lock:
            for key in [k for k in self._blocks if lo <= k < hi]:
                self.used -= self._blocks.pop(key).charge

    def __len__(self) -> int:
        return len(self._blocks)
