"""The block format shared by SSTable data and index blocks, and its reader.

A block holds n entries sorted by key, laid out column-wise::

    n u32 | offsets: 2n + 2 x u32 | kinds: n bytes (1 = value, 0 = tombstone) | keys | values

The offsets are absolute positions inside the block: key i is ``block[off[i]:off[i+1]]`` and
value i is ``block[off[n+1+i]:off[n+2+i]]``, so off[n] == off[n+1] (keys end where values
begin) and off[2n+1] is the block length.

Why this shape: reading a block must not cost a Python loop over its entries. A block in memory is
its raw bytes plus its offsets loaded into an array (one C call). A point read finds its key with
a C-level substring search over the key area confirmed at entry boundaries (``Block.find``); a
seek bisects by slicing about log2(n) keys. Neither builds the other keys. Scans build the key and value lists of a block with one list comprehension each.
A cached block therefore costs its raw bytes plus 8 bytes per entry and a few hundred bytes of
objects (``Block.charge``, what the block cache counts).
"""

from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_right
from itertools import accumulate

_U32 = struct.Struct("<I")
_OFFSET_TYPE = "I" if array("I").itemsize == 4 else "L"
_BIG_ENDIAN = sys.byteorder == "big"
# CPython memory of a cached Block beyond its raw bytes and its offsets: the bytes, Block and
# array objects with their allocator headers, the cache's int key and OrderedDict slot. Measured
# with tracemalloc (tests/storage/lsm/test_memory.py checks the charge against it).
BLOCK_OVERHEAD = 400

Value = bytes | None


def encode_block(keys: list[bytes], values: list[bytes], kinds: bytes) -> bytes:
    """Encode parallel lists (tombstones as b"" with kind 0) into one block."""
    n = len(keys)
    header = 4 + 8 * (n + 1) + n
    key_offsets = list(accumulate(map(len, keys), initial=header))
    value_offsets = accumulate(map(len, values), initial=key_offsets[-1])
    return (
        struct.pack(f"<I{2 * n + 2}I", n, *key_offsets, *value_offsets)
        + kinds
        + b"".join(keys)
        + b"".join(values)
    )


class Block:
    """A decoded view of one block: bisect by key, slice out single entries, or list them all."""

    __slots__ = ("data", "n", "_offsets", "charge")

    def __init__(self, data: bytes, size: int | None = None) -> None:
        """Parse the header; raises ValueError if the structure is inconsistent.

        `size` is the block's length when `data` carries more bytes after it (the block checksum
        read along with it: keeping them avoids copying the block).
        """
        if size is None:
            size = len(data)
        n = int.from_bytes(data[:4], "little")
        end = 12 + 8 * n  # of the offsets
        if end + n > size:
            raise ValueError("block header longer than the block")
        offsets = array(_OFFSET_TYPE, data[4:end])
        if _BIG_ENDIAN:
            offsets.byteswap()
        if offsets[0] != end + n or offsets[n] != offsets[n + 1] or offsets[-1] != size:
            raise ValueError("block offsets do not match its length")
        self.data = data
        self.n = n
        self._offsets = offsets
        self.charge = len(data) + end + BLOCK_OVERHEAD

    def lower_bound(self, key: bytes) -> int:
        """Index of the first entry whose key is >= `key` (n if none)."""
        data = self.data
        offsets = self._offsets
        lo = 0
        hi = self.n
        while lo < hi:
            mid = (lo + hi) >> 1
            if data[offsets[mid] : offsets[mid + 1]] < key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def find(self, key: bytes) -> int:
        """Index of the entry with exactly this key, or -1.

        A point read does not bisect in Python: it searches the key area of the block for the key
        bytes with one C-level ``bytes.find`` and confirms that the match starts and ends at entry
        boundaries (a C-level bisect over the offsets). A match that straddles entries is skipped;
        after a few of those (keys made of repeated patterns) it falls back to the bisection.
        """
        offsets = self._offsets
        n = self.n
        size = len(key)
        if size:
            data = self.data
            end = offsets[n]
            at = data.find(key, offsets[0], end)
            for _ in range(3):
                if at < 0:
                    return -1
                i = bisect_right(offsets, at, 0, n) - 1  # the last entry starting there
                if offsets[i] == at and offsets[i + 1] - at == size:
                    return i
                at = data.find(key, at + 1, end)
        i = self.lower_bound(key)
        return i if i < n and self.key_at(i) == key else -1

    def key_at(self, i: int) -> bytes:
        offsets = self._offsets
        return self.data[offsets[i] : offsets[i + 1]]

    def value_at(self, i: int) -> Value:
        n = self.n
        data = self.data
        if not data[4 + 8 * (n + 1) + i]:
            return None
        offsets = self._offsets
        return data[offsets[n + 1 + i] : offsets[n + 2 + i]]

    def entries(self, lo: int = 0, hi: int | None = None) -> tuple[list[bytes], list[Value]]:
        """Keys and values of entries [lo, hi) as two lists; None for tombstones."""
        n = self.n
        if hi is None:
            hi = n
        data = self.data
        offs = self._offsets.tolist()
        key_offs = offs[lo : hi + 1]
        val_offs = offs[n + 1 + lo : n + 2 + hi]
        keys = [data[a:b] for a, b in zip(key_offs, key_offs[1:])]
        values: list[Value] = [data[a:b] for a, b in zip(val_offs, val_offs[1:])]
        kinds_at = 4 + 8 * (n + 1)
        kinds = data[kinds_at + lo : kinds_at + hi]
        if kinds.count(0):
            for i, kind in enumerate(kinds):
                if not kind:
                    values[i] = None
        return keys, values
