"""ISA-L must equal zfec (parity) and zlib (CRC32) byte for byte: the on-disk format is zfec's.

``make test`` installs ISA-L (Debian's libisal2, ``make system-deps``); where it is missing the
store runs on zfec alone and these tests fail with a message naming the package, rather than
skip, so a machine without the accelerator is noticed.
"""

from __future__ import annotations

import base64
import itertools
import os
import random
import zlib
from typing import Any

import pytest
import zfec
from hypothesis import given, settings
from hypothesis import strategies as st

from awsemu.storage.blobs import codec, isal
from awsemu.storage.blobs.shards import shard_path


def require_isal() -> None:
    assert isal.available(), (
        "ISA-L not loaded: install Debian's libisal2 (make system-deps does) and leave AWSEMU_ISAL unset"
    )


def zfec_parity(blocks: list[memoryview], k: int, m: int) -> list[bytes]:
    return [bytes(b) for b in zfec.Encoder(k, k + m).encode(tuple(blocks), list(range(k, k + m)))]


@settings(max_examples=150, deadline=None)
@given(
    k=st.integers(1, 12),
    m=st.integers(1, 6),
    length=st.one_of(st.integers(1, 100), st.sampled_from([63, 64, 65, 4095, 4096, 65537, 262144])),
    seed=st.integers(0, 2**32),
)
def test_isal_parity_equals_zfec(k: int, m: int, length: int, seed: int) -> None:
    require_isal()
    data = random.Random(seed).randbytes(k * length)
    blocks = codec.split(data, k)
    assert [bytes(b) for b in isal.encode_parity(blocks, m)] == zfec_parity(blocks, k, m)


def test_random_stripe_as_the_store_cuts_it() -> None:
    require_isal()
    k, m = 4, 2
    data = os.urandom((1 << 20) - 3)  # a tail stripe: split() pads it
    blocks = codec.split(data, k)
    parity = codec.encode_parity(blocks, k, m)
    assert [b"".join(bytes(p) for p in pieces) for pieces in parity] == zfec_parity(blocks, k, m)
    # and zfec rebuilds the stripe from any k blocks that include ISA-L's parity
    full = [bytes(b) for b in blocks] + [b"".join(bytes(p) for p in pieces) for pieces in parity]
    for chosen in itertools.combinations(range(k + m), k):
        rebuilt = codec.decode({j: full[j] for j in chosen}, k, m)
        assert b"".join(bytes(b) for b in rebuilt) == b"".join(full[:k])


def test_the_matrix_read_off_zfec_gives_each_columns_coefficient() -> None:
    # Parity of an all-zero stripe is zero and of one set byte is that column's coefficient.
    require_isal()
    k, m = 4, 2
    matrix = isal.zfec_matrix(k, m)
    assert len(matrix) == k * m and all(matrix)  # an MDS code has no zero coefficient
    for i in range(k):
        blocks = [memoryview(b"\x00\x00\x01" if j == i else b"\x00\x00\x00") for j in range(k)]
        parity = isal.encode_parity(blocks, m)
        assert [bytes(p) for p in parity] == [bytes([0, 0, matrix[p * k + i]]) for p in range(m)]


def test_unequal_blocks_are_refused() -> None:
    require_isal()
    with pytest.raises(ValueError, match="equal lengths"):
        isal.encode_parity([memoryview(b"ab"), memoryview(b"a")], 1)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(0, 300_000), previous=st.integers(0, 2**32 - 1), offset=st.integers(0, 7))
def test_isal_crc32_equals_zlib(size: int, previous: int, offset: int) -> None:
    require_isal()
    data = memoryview(random.Random(size).randbytes(size + offset))[offset:]  # unaligned views too
    assert isal.crc32(data, previous) == zlib.crc32(data, previous)
    assert isal.crc32(bytes(data)) == zlib.crc32(data)


def test_crc32_chained_over_stripes_equals_one_pass() -> None:
    require_isal()
    body = os.urandom(3 * isal.CRC32_MIN + 5)
    crc = 0
    for at in range(0, len(body), isal.CRC32_MIN + 1):
        crc = isal.crc32(memoryview(body)[at : at + isal.CRC32_MIN + 1], crc)
    assert crc == zlib.crc32(body)


def test_store_written_with_isal_parity_reads_back_through_zfec_decode(make_store: Any, blobio: Any) -> None:
    # The store's write path uses ISA-L; losing two data shards forces a zfec decode from its parity.
    require_isal()
    store = make_store()
    body = os.urandom(3 * store.stripe_bytes + 12345)
    ref = blobio.write(store, body, checksums=["CRC32"])
    assert ref.checksums["CRC32"] == base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    man = store.manifest(ref.blob_id)
    for j in (0, 2):
        shard_path(store.drives, ref.blob_id, j, man.rot).unlink()
    assert blobio.read(store, ref.blob_id) == body
    assert store.stats()["degraded_stripes_read"] >= 4
