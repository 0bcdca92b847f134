"""Unit checks of the pure pieces: stripe geometry, block codec, manifest encoding, Merkle root,
block CRCs."""

from __future__ import annotations

import hashlib
import itertools
import os

import crc32c as reference_crc32c
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awsemu.storage.blobs import codec
from awsemu.storage.blobs.checksums import crc32c
from awsemu.storage.blobs.manifest import COMPOSITE, INLINE, SHARDED, Manifest, merkle_root
from awsemu.storage.blobs.shards import block_crc, parse_shard_name


def test_geometry_of_a_body() -> None:
    g = codec.Geometry(size=2 * 1000 + 1, k=3, m=2, stripe_bytes=1000)
    assert g.n == 5 and g.stripes == 3
    assert g.full_block == 334  # 1000 / 3 rounded up: full stripes are padded by 2 bytes
    assert [g.stripe_len(s) for s in range(3)] == [1000, 1000, 1]
    assert g.block_len(2) == 1
    assert list(g.stripes_for(999, 1001)) == [0, 1]
    assert list(g.stripes_for(5, 5)) == []
    assert codec.Geometry(0, 4, 2, 1 << 20).stripes == 0


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 1000, 4096])
def test_any_k_blocks_rebuild_the_stripe(length: int) -> None:
    k, m = 4, 2
    data = os.urandom(length)
    blocks = codec.encode(codec.split(data, k), k, m)
    assert len(blocks) == k + m and len({len(b) for b in blocks}) == 1
    for chosen in itertools.combinations(range(k + m), k):
        rebuilt = codec.decode({j: blocks[j] for j in chosen}, k, m)
        assert b"".join(bytes(b) for b in rebuilt)[:length] == data
    with pytest.raises(ValueError):
        codec.decode({0: blocks[0]}, k, m)


def test_manifest_round_trip() -> None:
    inline = Manifest("a" * 32, INLINE, 5, "md5", {"CRC32": "x"}, 1.5, body=b"\x00\xffabc")
    assert Manifest.decode(inline.encode()) == inline
    sharded = Manifest(
        "b" * 32, SHARDED, 10 << 20, "m", {}, 2.0, k=4, m=2, stripe_bytes=1 << 20, rot=3, merkle="ab"
    )
    assert Manifest.decode(sharded.encode()) == sharded
    comp = Manifest("c" * 32, COMPOSITE, 7, None, {}, 3.0, parts=[("a" * 32, 5), ("d" * 32, 2)])
    assert Manifest.decode(comp.encode()) == comp
    with pytest.raises(ValueError):
        Manifest.decode(b"junk")


def test_merkle_root_shape() -> None:
    leaf = lambda c: hashlib.sha256(b"\x00" + c.to_bytes(4, "big")).digest()  # noqa: E731
    node = lambda a, b: hashlib.sha256(b"\x01" + a + b).digest()  # noqa: E731
    assert merkle_root([7]) == leaf(7).hex()
    assert merkle_root([1, 2, 3]) == node(node(leaf(1), leaf(2)), leaf(3)).hex()
    assert merkle_root([1, 2, 3]) != merkle_root([1, 2, 4]) != merkle_root([2, 1, 3])


def test_block_crc_is_bound_to_its_place() -> None:
    data = b"same bytes"
    crcs = {
        block_crc("a" * 32, 0, 0, data),
        block_crc("b" * 32, 0, 0, data),
        block_crc("a" * 32, 1, 0, data),
        block_crc("a" * 32, 0, 1, data),
    }
    assert len(crcs) == 4
    assert parse_shard_name("a" * 32 + ".5") == ("a" * 32, 5)
    assert parse_shard_name("a" * 32 + ".tmp") is None and parse_shard_name("notes.txt") is None


# The store's CRC32C (awscrt) must give exactly the ``crc32c`` package's values: shard trailers
# written before the switch still verify, and body checksums match what clients compute.
# Sizes reach past 5 KiB, where awscrt releases the GIL (another code path).
@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=20_000), previous=st.integers(0, 2**32 - 1), cut=st.integers(0, 20_000))
def test_crc32c_equals_the_crc32c_package(data: bytes, previous: int, cut: int) -> None:
    expected = reference_crc32c.crc32c(data, previous)
    assert crc32c(data, previous) == expected
    assert crc32c(memoryview(data), previous) == expected
    assert crc32c(bytearray(data), previous) == expected
    head, tail = memoryview(data)[:cut], memoryview(data)[cut:]  # continuing from a running CRC
    assert crc32c(tail, crc32c(head, previous)) == expected
    assert crc32c(data) == reference_crc32c.crc32c(data)


@pytest.mark.parametrize("size", [5 * 1024 - 1, 5 * 1024, 5 * 1024 + 1, 256 * 1024 + 3, 1 << 20])
def test_crc32c_equals_the_crc32c_package_on_large_blocks(size: int) -> None:
    data = os.urandom(size)
    assert crc32c(data) == reference_crc32c.crc32c(data)
    assert crc32c(memoryview(data)[1:], 12345) == reference_crc32c.crc32c(data[1:], 12345)


@settings(max_examples=100, deadline=None)
@given(
    pieces=st.lists(st.binary(max_size=9000), max_size=5),
    shard=st.integers(0, 255),
    stripe=st.integers(0, 10**6),
)
def test_block_crc_of_pieces_is_the_on_disk_format(pieces: list[bytes], shard: int, stripe: int) -> None:
    # the trailer format: CRC32C of the block seeded with CRC32C("<blob_id>:<shard>:<stripe>"),
    # written from pieces (parity) or whole blocks (data), read back over whole blocks
    blob_id = "c" * 32
    whole = b"".join(pieces)
    seed = reference_crc32c.crc32c(f"{blob_id}:{shard}:{stripe}".encode("ascii"))
    expected = reference_crc32c.crc32c(whole, seed)
    assert block_crc(blob_id, shard, stripe, [memoryview(p) for p in pieces]) == expected
    assert block_crc(blob_id, shard, stripe, whole) == expected
    assert block_crc(blob_id, shard, stripe, memoryview(whole)) == expected
