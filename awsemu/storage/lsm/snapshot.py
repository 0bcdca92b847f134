"""Consistent reads: a View of the store at one sequence number, and Snapshot on top of it.

A View pins what a reader needs: the sequence number S it reads at, the mutable memtable, the
frozen memtables and the SSTables (newest first) as they were when the view was taken. Memtables
answer "the newest version with seq <= S" (see memtable.py); tables are immutable and stay
readable even after compaction replaced and unlinked them, because the Table objects keep their
file descriptors open for as long as a view references them.

A scan merges one sorted source per layer (merge.py), chunk by chunk, keeping the newest version
of each key; tombstones are dropped last.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from itertools import compress

from awsemu.storage.lsm.bloom import key_hash
from awsemu.storage.lsm.memtable import Memtable
from awsemu.storage.lsm.merge import Chunk, merge_chunks
from awsemu.storage.lsm.sstable import NOT_FOUND, Table


class View:
    __slots__ = ("seq", "mem", "imms", "tables")

    def __init__(self, seq: int, mem: Memtable, imms: tuple[Memtable, ...], tables: tuple[Table, ...]) -> None:
        self.seq = seq
        self.mem = mem
        self.imms = imms
        self.tables = tables

    def get(self, key: bytes) -> bytes | None:
        seq = self.seq
        entry = self.mem.lookup(key, seq)
        if entry is not None:
            return entry[1]
        for imm in self.imms:
            entry = imm.lookup(key, seq)
            if entry is not None:
                return entry[1]
        return get_from_tables(self.tables, key)

    def scan_chunks(self, start: bytes | None, end: bytes | None, reverse: bool) -> Iterator[Chunk]:
        """Merged (keys, values) chunks in scan order; tombstones still present as None."""
        if start is not None and end is not None and start >= end:
            return iter(())
        sources: list[Iterator[Chunk]] = []
        seq = self.seq
        for mem in (self.mem, *self.imms):
            if mem.entries:
                sources.append(mem.iter_chunks(start, end, reverse, seq))
        for table in self.tables:
            if (end is None or table.smallest < end) and (start is None or table.largest >= start):
                sources.append(table.iter_blocks(start, end, reverse))
        return merge_chunks(sources, reverse)


def get_from_tables(tables: tuple[Table, ...], key: bytes) -> bytes | None:
    if not tables:
        return None
    h1, h2 = key_hash(key)
    for table in tables:
        meta = table.meta or table.load_meta()
        bloom = meta.bloom  # BloomFilter.may_contain, inlined: this loop is the read hot path
        n = bloom.n
        if n:
            mask = bloom.masks[h2]
            if bloom.words[h1 % n] & mask != mask:
                continue
        value = table.get(key, meta)
        if value is not NOT_FOUND:
            return value  # type: ignore[return-value]
    return None


class Snapshot:
    """A consistent read-only view of the DB at the moment `DB.snapshot()` was called.

    Release it with `close()` (or use it as a context manager): while snapshots are open, the
    memtable keeps overwritten versions they may need.
    """

    def __init__(self, view: View, release: Callable[[], None]) -> None:
        self._view: View | None = view
        self._finalizer = weakref.finalize(self, release)

    @property
    def sequence(self) -> int:
        return self._live().seq

    def _live(self) -> View:
        if self._view is None:
            raise ValueError("snapshot is closed")
        return self._view

    def get(self, key: bytes) -> bytes | None:
        return self._live().get(key)

    def scan(
        self,
        start: bytes | None = None,
        end: bytes | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> Iterator[tuple[bytes, bytes]]:
        # bound to self so the snapshot lives as long as the iterator does
        return _scan_holding(self, self._live(), start, end, reverse, limit, close_after=False)

    def close(self) -> None:
        self._view = None
        self._finalizer()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _scan_holding(
    owner: Snapshot,
    view: View,
    start: bytes | None,
    end: bytes | None,
    reverse: bool,
    limit: int | None,
    close_after: bool,
) -> Iterator[tuple[bytes, bytes]]:
    """The items of a scan; holds `owner` (the snapshot) alive while it runs.

    Works chunk by chunk: tombstones are filtered and the limit applied per chunk, and items are
    handed out with ``yield from zip(...)``, which keeps the per-item cost in C.
    """
    try:
        if limit is not None and limit <= 0:
            return
        remaining = limit
        for keys, values in view.scan_chunks(start, end, reverse):
            if None in values:
                keep = [v is not None for v in values]
                keys = list(compress(keys, keep))
                values = list(compress(values, keep))
            if remaining is not None:
                if len(keys) >= remaining:
                    yield from zip(keys[:remaining], values[:remaining])  # type: ignore[misc]
                    return
                remaining -= len(keys)
            yield from zip(keys, values)  # type: ignore[misc]
    finally:
        if close_after:
            owner.close()


def scan_once(
    snapshot: Snapshot,
    start: bytes | None,
    end: bytes | None,
    reverse: bool,
    limit: int | None,
) -> Iterator[tuple[bytes, bytes]]:
    """A scan owning its implicit snapshot: released when exhausted, closed or garbage-collected."""
    return _scan_holding(snapshot, snapshot._live(), start, end, reverse, limit, close_after=True)
