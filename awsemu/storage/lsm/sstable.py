"""SSTable files: immutable, sorted, checksummed key/value runs.

File layout::

    data block 0 | crc32c u32
    data block 1 | crc32c u32
    ...
    index block  | crc32c u32     one entry per data block: its last key -> (offset u64, length u32)
    bloom filter | crc32c u32     over every key of the table (see bloom.py)
    footer (44 bytes): index_offset u64, index_length u32, bloom_offset u64, bloom_length u32,
                       entry_count u64, magic u64, crc32c u32 of the preceding 40 bytes

Blocks (data and index) use the column-wise format of block.py. A data block ends at the first
entry that brings it to ``block_bytes`` (DBOptions) with at least MIN_BLOCK_ENTRIES entries, or to
MAX_BLOCK_FACTOR x ``block_bytes`` with fewer. Small entries (the usual metadata rows) make blocks
of ``block_bytes``; entries of about a kilobyte (DynamoDB items, say) make blocks of about 16 KiB
instead of 4-entry blocks. Why: in CPython a block has a fixed cost (encode, checksum, write; read,
verify, decode; a merge round) several times an entry's, so with 4-entry blocks it dominated
flushes and compactions, which now cost about half as much for such entries. A point read still
reads at most 4 x ``block_bytes`` plus the entry that crosses it.

A table holds at most one entry per key: the newest one of the data it was built from. Snapshots
do not need older versions inside a table because a snapshot pins the set of tables it was taken
on (see db.py).

Opening a table reads and verifies the footer, the index and the bloom filter. Index and filter
(TableMeta: about one key and 8 bytes per 4 KiB block, plus 10 bits per key) are charged to the
shared cache, which may evict them under memory pressure; a read then loads them again from the
file. Data blocks are read with ``pread`` on demand, verified against their checksum and kept in
the same cache. Any checksum or structure failure raises CorruptionError naming the file.
"""

from __future__ import annotations

import os
import struct
import sys
from array import array
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate, compress, repeat
from operator import add
from typing import BinaryIO

from crc32c import crc32c

from awsemu.storage.lsm.block import Block, encode_block
from awsemu.storage.lsm.block_cache import BlockCache, block_key
from awsemu.storage.lsm.bloom import BloomBuilder, BloomFilter
from awsemu.storage.lsm.errors import CorruptionError

MAGIC = 0x4C534D5353544231  # "LSMSSTB1"
_FOOTER = struct.Struct("<QIQIQQ")
FOOTER_SIZE = _FOOTER.size + 4
_U32 = struct.Struct("<I")
_HANDLE = struct.Struct("<QI")
CRC32C_RESIDUE = 0x48674BC7  # crc32c(data + crc32c(data).to_bytes(4, "little")), for any data

Value = bytes | None

# Block sizing (see the module docstring): a data block ends once it holds ``block_bytes`` and
# MIN_BLOCK_ENTRIES entries, or MAX_BLOCK_FACTOR x ``block_bytes`` whatever its entry count.
MIN_BLOCK_ENTRIES = 16
MAX_BLOCK_FACTOR = 4


class TableBuilder:
    """Writes one SSTable from entries added in strictly increasing key order."""

    def __init__(self, path: str, block_bytes: int, bits_per_key: int, expected_keys: int) -> None:
        self.path = path
        self._file: BinaryIO = open(path, "wb")
        self._block_bytes = block_bytes
        self._max_block_bytes = MAX_BLOCK_FACTOR * block_bytes
        self._bloom = BloomBuilder(expected_keys, bits_per_key)
        self._offset = 0
        self._keys: list[bytes] = []
        self._values: list[bytes] = []
        self._kinds = bytearray()
        self._pending = 0
        self._index_keys: list[bytes] = []
        self._index_handles: list[bytes] = []
        self.count = 0
        self.smallest: bytes | None = None
        self.largest: bytes | None = None

    def add(self, key: bytes, value: Value) -> None:
        self._keys.append(key)
        if value is None:
            self._values.append(b"")
            self._kinds.append(0)
            self._pending += len(key) + 9
        else:
            self._values.append(value)
            self._kinds.append(1)
            self._pending += len(key) + len(value) + 9
        if self._block_full():
            self._finish_block()

    def _block_full(self) -> bool:
        pending = self._pending
        return pending >= self._block_bytes and (
            len(self._keys) >= MIN_BLOCK_ENTRIES or pending >= self._max_block_bytes
        )

    @property
    def empty(self) -> bool:
        return self.count == 0 and not self._keys

    def add_many(self, keys: list[bytes], values: list[Value], drop_tombstones: bool = False) -> None:
        """Add sorted parallel lists (following everything added before) in a few C-level steps:
        sizes are summed with accumulate and blocks are cut where the running size crosses the
        block size (bisect)."""
        if not keys:
            return
        has_tombstones = None in values
        if has_tombstones and drop_tombstones:
            keep = [v is not None for v in values]
            keys = list(compress(keys, keep))
            values = list(compress(values, keep))
            has_tombstones = False
            if not keys:
                return
        if has_tombstones:
            kinds = bytes([v is not None for v in values])
            stored: list[bytes] = [b"" if v is None else v for v in values]
        else:
            kinds = b"\x01" * len(keys)
            stored = values  # type: ignore[assignment]
        sizes = map(add, map(add, map(len, keys), map(len, stored)), repeat(9))
        cum = list(accumulate(sizes))
        n = len(keys)
        i = 0
        consumed = 0  # cum value before item i
        while i < n:
            # j: the entry that makes the block full (_block_full): the first at which it has
            # block_bytes and MIN_BLOCK_ENTRIES entries, unless it reaches the largest size before
            j = max(
                bisect_left(cum, consumed + self._block_bytes - self._pending, i),
                i + MIN_BLOCK_ENTRIES - len(self._keys) - 1,
            )
            j = min(j, bisect_left(cum, consumed + self._max_block_bytes - self._pending, i))
            stop = min(n, j + 1)
            self._keys.extend(keys[i:stop])
            self._values.extend(stored[i:stop])
            self._kinds += kinds[i:stop]
            self._pending += cum[stop - 1] - consumed
            consumed = cum[stop - 1]
            i = stop
            if self._block_full():
                self._finish_block()

    def _write_block(self, block: bytes) -> tuple[int, int]:
        offset = self._offset
        self._file.write(block)
        self._file.write(_U32.pack(crc32c(block)))
        self._offset += len(block) + 4
        return offset, len(block)

    def _finish_block(self) -> None:
        keys = self._keys
        if not keys:
            return
        offset, length = self._write_block(encode_block(keys, self._values, bytes(self._kinds)))
        self._bloom.add_keys(keys)
        if self.smallest is None:
            self.smallest = keys[0]
        self.largest = keys[-1]
        self.count += len(keys)
        self._index_keys.append(keys[-1])
        self._index_handles.append(_HANDLE.pack(offset, length))
        self._keys = []
        self._values = []
        self._kinds = bytearray()
        self._pending = 0

    def finish(self) -> int:
        """Write index, filter and footer; fsync; return the file size."""
        self._finish_block()
        n = len(self._index_keys)
        index_offset, index_length = self._write_block(
            encode_block(self._index_keys, self._index_handles, b"\x01" * n)
        )
        bloom_offset, bloom_length = self._write_block(self._bloom.finish())
        footer = _FOOTER.pack(index_offset, index_length, bloom_offset, bloom_length, self.count, MAGIC)
        self._file.write(footer + _U32.pack(crc32c(footer)))
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return self._offset + FOOTER_SIZE

    def abandon(self) -> None:
        self._file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class TableMeta:
    """What reads need of a table besides its data blocks: the index (last key of each block and
    where each block starts) and the bloom filter. Held by the table while the shared cache keeps
    it charged (block_cache.py); ``charge`` is its memory, measured as for blocks."""

    __slots__ = ("index_keys", "offsets", "bloom", "charge")

    def __init__(self, index_keys: list[bytes], offsets: array[int], bloom: BloomFilter) -> None:
        self.index_keys = index_keys
        # block i spans [offsets[i], offsets[i + 1] - 4): blocks are contiguous, each followed by
        # its checksum, so one array of n + 1 positions replaces (offset, length) handles
        self.offsets = offsets
        self.bloom = bloom
        n = len(index_keys)
        self.charge = (
            sys.getsizeof(index_keys)
            + sum(map(len, index_keys))
            + n * INDEX_KEY_OVERHEAD
            + offsets.itemsize * len(offsets)
            + bloom.memory
            + META_OVERHEAD
        )


# Per index key: the bytes object's header with its allocator rounding. Per table: the TableMeta,
# array and BloomFilter objects and the cache's entry. Measured with tracemalloc
# (tests/storage/lsm/test_memory.py checks the charge against it).
INDEX_KEY_OVERHEAD = 40
META_OVERHEAD = 800

# Table.get's answer for "no entry for this key in this table" (None is a tombstone).
NOT_FOUND = object()


class Table:
    """An open, verified SSTable. Thread-safe: reads use pread and the shared cache.

    ``meta`` is the table's TableMeta while the cache keeps it charged, else None: readers call
    ``meta or load_meta()``. A table replaced by compaction is ``retire``d: it leaves the cache
    but stays readable (with its metadata) for the snapshots and scans that still hold it.
    """

    def __init__(self, path: str, number: int, cache: BlockCache) -> None:
        self.path = path
        self.number = number
        self.retired = False
        self.meta: TableMeta | None = None
        self._cache = cache
        self._key_base = block_key(number, 0)
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise CorruptionError(path, "SSTable listed in the MANIFEST is missing") from None
        try:
            self._open()
        except BaseException:
            os.close(self._fd)
            self._fd = -1
            raise

    def _open(self) -> None:
        size = os.fstat(self._fd).st_size
        self.size = size
        if size < FOOTER_SIZE:
            raise CorruptionError(self.path, "file too short for an SSTable footer")
        raw = os.pread(self._fd, FOOTER_SIZE, size - FOOTER_SIZE)
        footer, crc = raw[:-4], _U32.unpack(raw[-4:])[0]
        if crc32c(footer) != crc:
            raise CorruptionError(self.path, "SSTable footer checksum mismatch")
        index_offset, index_length, bloom_offset, bloom_length, count, magic = _FOOTER.unpack(footer)
        if magic != MAGIC:
            raise CorruptionError(self.path, "bad SSTable magic")
        if bloom_offset + bloom_length + 4 + FOOTER_SIZE != size or index_offset + index_length + 4 > bloom_offset:
            raise CorruptionError(self.path, "SSTable footer points outside the file")
        self.count = count
        self.index_offset = index_offset
        self.index_length = index_length
        self.bloom_offset = bloom_offset
        self.bloom_length = bloom_length
        meta = self._read_meta()
        index_keys = meta.index_keys
        self.block_count = len(index_keys)
        self.smallest = self._read_block(0, meta).key_at(0) if index_keys else b""
        self.largest = index_keys[-1] if index_keys else b""
        self._cache.admit_meta(self, meta)

    def _read_meta(self) -> TableMeta:
        """Read and verify the index and the bloom filter (at open, and after an eviction)."""
        index = self._read_raw(self.index_offset, self.index_length)
        try:
            index_keys, raw_handles = Block(index, self.index_length).entries()
            if None in raw_handles:
                raise ValueError("tombstone in an index block")
            handles = list(_HANDLE.iter_unpack(b"".join(raw_handles)))  # type: ignore[arg-type]
        except (struct.error, ValueError):
            raise CorruptionError(self.path, "malformed index block") from None
        if len(handles) != len(index_keys):
            raise CorruptionError(self.path, "malformed index block")
        starts = [h[0] for h in handles]
        ends = list(map(add, starts, [h[1] + 4 for h in handles]))
        if (starts and starts[0] != 0) or starts[1:] != ends[:-1] or (ends and ends[-1] != self.index_offset):
            raise CorruptionError(self.path, "malformed index block: blocks are not contiguous")
        starts.append(ends[-1] if ends else 0)
        offsets = array("Q", starts)
        bloom = BloomFilter(self._read_raw(self.bloom_offset, self.bloom_length)[: self.bloom_length])
        return TableMeta(index_keys, offsets, bloom)

    def load_meta(self) -> TableMeta:
        """The metadata, read back from the file if the cache evicted it."""
        meta = self.meta
        if meta is None:
            meta = self._read_meta()
            self._cache.admit_meta(self, meta)
            if self.retired:
                self.meta = meta  # outside the budget: owned by the readers of a replaced table
        return meta

    def hold_meta(self, meta: TableMeta | None) -> None:
        """Called by the cache, under its lock: keep (or drop, on eviction) the metadata."""
        if not self.retired:
            self.meta = meta

    def retire(self) -> None:
        """The table was replaced by compaction: uncharge it and free its cached blocks. Its
        metadata stays with it (uncharged) for the readers that still hold it."""
        self.retired = True
        self._cache.evict_table(self.number)

    def block_offset(self, i: int) -> int:
        """Where data block i starts in the file."""
        return (self.meta or self.load_meta()).offsets[i]

    def _read_raw(self, offset: int, length: int) -> bytes:
        """The verified block at offset, followed by its 4 checksum bytes (not sliced off, to
        avoid copying every block read)."""
        raw = os.pread(self._fd, length + 4, offset)
        if len(raw) != length + 4:
            raise CorruptionError(self.path, f"block at offset {offset} is truncated")
        # CRC-32C over a block followed by its own little-endian CRC always gives the same
        # residue: one C call checks the block without slicing it
        if crc32c(raw) != CRC32C_RESIDUE:
            raise CorruptionError(self.path, f"block at offset {offset}: checksum mismatch")
        return raw

    def _read_block(self, i: int, meta: TableMeta) -> Block:
        offsets = meta.offsets
        start = offsets[i]
        length = offsets[i + 1] - start - 4
        data = self._read_raw(start, length)
        try:
            return Block(data, length)
        except (struct.error, ValueError):
            raise CorruptionError(self.path, f"malformed data block {i}") from None

    def _block(self, i: int, meta: TableMeta, fill_cache: bool = True) -> Block:
        cache_key = self._key_base | i
        block = self._cache.get(cache_key)
        if block is None:
            block = self._read_block(i, meta)
            if fill_cache:
                self._cache.put(cache_key, block)
        return block  # type: ignore[return-value]

    def get(self, key: bytes, meta: TableMeta | None = None) -> Value | object:
        """The value, None for a tombstone, or NOT_FOUND."""
        if meta is None:
            meta = self.meta or self.load_meta()
        index = meta.index_keys
        i = bisect_left(index, key)
        if i == len(index):
            return NOT_FOUND
        block = self._cache.get(self._key_base | i)
        if block is None:
            block = self._read_block(i, meta)
            self._cache.put(self._key_base | i, block)
        j = block.find(key)  # type: ignore[attr-defined]
        return NOT_FOUND if j < 0 else block.value_at(j)  # type: ignore[attr-defined]

    def iter_blocks(
        self, start: bytes | None, end: bytes | None, reverse: bool = False, fill_cache: bool = True
    ) -> Iterator[tuple[list[bytes], list[Value]]]:
        """Yield the entries in [start, end) as (keys, values) chunks, keys ascending within a
        chunk, chunks in scan order (last first when `reverse`).

        The first chunk is one block (short scans read little); later chunks grow to 8 blocks,
        so that merging works on long runs. Compaction passes fill_cache=False so that a merge
        does not evict the blocks readers use.
        """
        meta = self.meta or self.load_meta()
        index = meta.index_keys
        nblocks = len(index)
        first = 0 if start is None else bisect_left(index, start)
        last = nblocks - 1 if end is None else min(nblocks - 1, bisect_left(index, end))
        order = range(last, first - 1, -1) if reverse else range(first, last + 1)
        group = 1
        keys: list[bytes] = []
        values: list[Value] = []
        pending = 0
        for i in order:
            block = self._block(i, meta, fill_cache)
            lo = 0 if start is None or i != first else block.lower_bound(start)
            hi = block.n if end is None or i != last else block.lower_bound(end)
            if lo >= hi:
                continue
            part_keys, part_values = block.entries(lo, hi)
            if reverse:
                part_keys += keys
                part_values += values
            else:
                keys += part_keys
                values += part_values
                part_keys, part_values = keys, values
            keys, values = part_keys, part_values
            pending += 1
            if pending >= group:
                yield keys, values
                keys, values, pending = [], [], 0
                group = min(8, group * 2)
        if keys:
            yield keys, values

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            os.close(fd)
            self._fd = -1
