"""Tuning knobs of the engine (the fixed public `DBOptions` dataclass)."""

from __future__ import annotations

from dataclasses import dataclass

DURABILITY_MODES = ("flush", "fsync")


@dataclass
class DBOptions:
    """Options of `DB.open`.

    durability: "flush" writes every acknowledged write to the OS before returning (survives
        `kill -9` of the process); "fsync" also fdatasyncs the log (survives power loss).
    memtable_bytes: approximate size at which the memtable is frozen and written to an SSTable.
    block_cache_bytes: bound of the shared cache of decoded SSTable data blocks.
    block_bytes: target size of an SSTable data block.
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
