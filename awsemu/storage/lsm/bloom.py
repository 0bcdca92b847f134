"""Bloom filters for SSTables (one per table, over all its keys).

A key is hashed once with CRC32C; the k probe positions come from double hashing
(h, h + d, h + 2d, ... with d a rotation of h), the way LevelDB does it. With b bits per key the
number of probes is k = round(b * ln 2), which minimises the false-positive rate (~1 % at 10
bits/key). Serialized form: the bit array followed by one byte holding k.

Callers hash a key once (`key_hash`) and probe every table's filter with the same pair, so a
point read that misses many tables pays for one CRC only.
"""

from __future__ import annotations

from collections.abc import Iterable

from crc32c import crc32c

_MASK = 0xFFFFFFFF


def key_hash(key: bytes) -> tuple[int, int]:
    h = crc32c(key)
    return h, ((h >> 17) | (h << 15)) & _MASK


def probes_for(bits_per_key: int) -> int:
    return max(1, min(30, round(bits_per_key * 0.69)))


class BloomBuilder:
    """Accumulates keys into a filter sized up front for `expected_keys` keys."""

    def __init__(self, expected_keys: int, bits_per_key: int) -> None:
        nbits = max(64, expected_keys * bits_per_key)
        self._nbytes = (nbits + 7) // 8
        self._nbits = self._nbytes * 8
        self._k = probes_for(bits_per_key)
        self._bits = bytearray(self._nbytes)

    def add_keys(self, keys: Iterable[bytes]) -> None:
        bits = self._bits
        nbits = self._nbits
        probes = range(self._k)
        for key in keys:
            h = crc32c(key)
            delta = ((h >> 17) | (h << 15)) & _MASK
            for _ in probes:
                pos = h % nbits
                bits[pos >> 3] |= 1 << (pos & 7)
                h = (h + delta) & _MASK

    def finish(self) -> bytes:
        return bytes(self._bits) + bytes((self._k,))


class BloomFilter:
    """A loaded filter; `may_contain` is False only for keys certainly absent."""

    __slots__ = ("_bits", "_nbits", "_k")

    def __init__(self, data: bytes) -> None:
        self._bits = data[:-1]
        self._nbits = len(self._bits) * 8
        self._k = data[-1] if data else 0

    def may_contain(self, h: int, delta: int) -> bool:
        bits = self._bits
        nbits = self._nbits
        if not nbits:
            return True
        for _ in range(self._k):
            pos = h % nbits
            if not bits[pos >> 3] & (1 << (pos & 7)):
                return False
            h = (h + delta) & _MASK
        return True
