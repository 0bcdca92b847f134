"""Intel's ISA-L for the write path's two slowest kernels: zfec parity (5x faster) and CRC32.

The write path's largest cost after MD5 was zfec computing the m parity blocks of each stripe
(~1.1 ms per MiB on one core: a table lookup per byte). ISA-L's ``ec_encode_data`` does the same
Galois-field arithmetic with SIMD (SSE/AVX2/AVX-512, picked by the library at run time): ~0.2 ms
per MiB here, and it releases the GIL like zfec does.

Why the output is identical, so the on-disk format stays zfec's and zfec still decodes it: both
work in GF(2^8) with the polynomial x^8+x^4+x^3+x^2+1, and parity block p of a systematic code is
the sum over data blocks i of ``c[p][i] * block_i``. zfec does not export its matrix, so it is read
off zfec itself: encoding unit vectors (data block i = the byte 1, the others 0) yields
``c[p][i]`` as parity block p's single byte. ISA-L is then told that matrix. A test checks
equality on random data, geometries and lengths (including blocks shorter than a SIMD register).

CRC32 (the checksum boto3 and the aws CLI send with every upload by default) is zlib's at about
2 GB/s; ISA-L's ``crc32_gzip_refl`` is the same function (zlib's polynomial, reflection and
pre/post inversion; a test checks equality) with carry-less multiplication, ~10x faster on a
stripe. Below ``CRC32_MIN`` bytes zlib is used: the ctypes call costs more than it saves there.

ISA-L is a system library (Debian's ``libisal2``, installed by ``make system-deps``), loaded with
ctypes. Without it, or with ``AWSEMU_ISAL=0``, ``available()`` is false and the codec uses zfec.
Decoding (rebuilding lost blocks on read and scrub) stays with zfec: it is rare and not hot.
"""

from __future__ import annotations

import ctypes
import functools
import os
import zlib
from collections.abc import Callable, Sequence

import zfec

_NAMES = ("libisal.so.2", "libisal.so")


class _Buffer(ctypes.Structure):
    """CPython's ``Py_buffer``: how a read-only buffer (bytes, a memoryview of it) gives its address."""

    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.c_void_p),
        ("strides", ctypes.c_void_p),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


def _load() -> ctypes.CDLL | None:
    if os.environ.get("AWSEMU_ISAL", "1") == "0":
        return None
    # find_library runs ldconfig (tens of ms at start-up): only when the usual names fail
    for name in (*_NAMES, None):
        if name is None:
            from ctypes.util import find_library  # 7 ms of import: only when needed

            name = find_library("isal")
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)  # CDLL (not PyDLL): calls release the GIL
        except OSError:
            continue
        lib.ec_init_tables.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
        lib.ec_init_tables.restype = None
        lib.ec_encode_data.argtypes = [
            ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.ec_encode_data.restype = None
        lib.crc32_gzip_refl.argtypes = [ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint64]
        lib.crc32_gzip_refl.restype = ctypes.c_uint32
        return lib
    return None


_LIB = _load()
_get_buffer = ctypes.pythonapi.PyObject_GetBuffer
_get_buffer.argtypes = [ctypes.py_object, ctypes.POINTER(_Buffer), ctypes.c_int]
_get_buffer.restype = ctypes.c_int
_release_buffer = ctypes.pythonapi.PyBuffer_Release
_release_buffer.argtypes = [ctypes.POINTER(_Buffer)]
_release_buffer.restype = None


def available() -> bool:
    """Whether parity is computed by ISA-L (else the codec falls back to zfec)."""
    return _LIB is not None


def zfec_matrix(k: int, m: int) -> bytes:
    """zfec's parity coefficients, row p (parity block k+p) by column i (data block i)."""
    encoder = zfec.Encoder(k, k + m)
    rows = bytearray()
    for p in range(k, k + m):
        for i in range(k):
            unit = [b"\x01" if j == i else b"\x00" for j in range(k)]
            rows += encoder.encode(unit, [p])[0]
    return bytes(rows)


@functools.lru_cache(maxsize=16)
def _tables(k: int, m: int) -> ctypes.Array[ctypes.c_char]:
    """ISA-L's expanded multiplication tables for zfec's matrix (32 bytes per coefficient)."""
    assert _LIB is not None
    matrix = ctypes.create_string_buffer(zfec_matrix(k, m), k * m)
    tables = ctypes.create_string_buffer(32 * k * m)
    _LIB.ec_init_tables(k, m, matrix, tables)
    return tables


def encode_parity(data_blocks: Sequence[bytes | bytearray | memoryview], m: int) -> list[bytearray]:
    """The m parity blocks of a stripe whose k equal-length data blocks are given (needs ISA-L)."""
    assert _LIB is not None, "ISA-L is not loaded: check available() first"
    k = len(data_blocks)
    length = len(data_blocks[0])
    out = [bytearray(length) for _ in range(m)]
    if not m or not length:
        return out
    buffers = [_Buffer() for _ in range(k)]
    taken: list[_Buffer] = []
    try:
        for block, buf in zip(data_blocks, buffers, strict=True):
            if len(block) != length:
                raise ValueError("data blocks must have equal lengths")
            _get_buffer(block, ctypes.byref(buf), 0)  # PyBUF_SIMPLE: contiguous bytes
            taken.append(buf)
        sources = (ctypes.c_void_p * k)(*(b.buf for b in buffers))
        targets = (ctypes.c_void_p * m)(*(ctypes.addressof(ctypes.c_char.from_buffer(o)) for o in out))
        _LIB.ec_encode_data(length, k, m, _tables(k, m), sources, targets)
    finally:
        for buf in taken:
            _release_buffer(ctypes.byref(buf))
    return out


#: Shorter buffers go to zlib (same result; the ctypes round trip costs more than it saves).
CRC32_MIN = 64 * 1024


def _crc32_isal(data: bytes | bytearray | memoryview, previous: int = 0) -> int:
    """CRC32 as ``zlib.crc32(data, previous)`` computes it, by ISA-L for long buffers."""
    if len(data) < CRC32_MIN:
        return zlib.crc32(data, previous)
    assert _LIB is not None
    buf = _Buffer()
    _get_buffer(data, ctypes.byref(buf), 0)
    try:
        return int(_LIB.crc32_gzip_refl(previous, buf.buf, buf.len))
    finally:
        _release_buffer(ctypes.byref(buf))


#: ``crc32(data, previous=0) -> int``, equal to ``zlib.crc32``: ISA-L's when loaded.
crc32: Callable[..., int] = _crc32_isal if _LIB is not None else zlib.crc32
