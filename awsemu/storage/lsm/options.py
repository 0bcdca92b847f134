"""Tuning knobs of the engine (the fixed public `DBOptions` dataclass) and the memory they bound."""

from __future__ import annotations

from dataclasses import dataclass

DURABILITY_MODES = ("flush", "fsync")
# Frozen memtables allowed to wait for their flush before writers stall (background mode).
MAX_FROZEN_MEMTABLES = 2


@dataclass
class DBOptions:
    """Options of `DB.open`.

    durability: "flush" writes every acknowledged write to the OS before returning (survives
        `kill -9` of the process); "fsync" also fdatasyncs the log (survives power loss).
    memtable_bytes: memory at which the memtable is frozen and written to an SSTable, counted as
        keys + values + CPython's per-entry overhead (memtable.py), not payload bytes only.
    block_cache_bytes: bound of the one cache of SSTable data blocks, indexes and bloom filters,
        each charged its real memory (block_cache.py).
    block_bytes: target size of an SSTable data block (blocks of large entries hold at least 16
        entries, up to 4 x block_bytes; see sstable.py).
    bloom_bits_per_key: bloom filter density (10 bits gives about 1 % false positives).
    background_compaction: when True a background thread flushes frozen memtables and merges
        SSTables; when False that work runs inline in the writer that triggers it (deterministic,
        handy for tests).
    """

    durability: str = "flush"
    memtable_bytes: int = 4 * 1024 * 1024
    block_cache_bytes: int = 64 * 1024 * 1024
    block_bytes: int = 4096
    bloom_bits_per_key: int = 10
    background_compaction: bool = True

    def __post_init__(self) -> None:
        if self.durability not in DURABILITY_MODES:
            raise ValueError(f"durability must be one of {DURABILITY_MODES}, not {self.durability!r}")
        if self.memtable_bytes <= 0 or self.block_bytes <= 0 or self.block_cache_bytes < 0:
            raise ValueError("memtable_bytes and block_bytes must be > 0, block_cache_bytes >= 0")
        if self.bloom_bits_per_key < 0:
            raise ValueError("bloom_bits_per_key must be >= 0")

    @property
    def memory_bound(self) -> int:
        """Bytes the engine's steady state stays within: the active memtable and up to
        MAX_FROZEN_MEMTABLES frozen ones, plus the cache of blocks, indexes and filters.

        Working memory of operations in progress comes on top (see the package docstring,
        "Memory"): the write group being applied, the table a flush or compaction is writing,
        the chunks of running scans, and tables replaced by compaction that old snapshots or
        scans still read.
        """
        return (1 + MAX_FROZEN_MEMTABLES) * self.memtable_bytes + self.block_cache_bytes
