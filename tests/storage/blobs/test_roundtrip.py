"""What is read equals what was written: sizes at every boundary, random chunkings and ranges."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import random
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import crc32c
import pytest
from awscrt.checksums import crc64nvme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsemu.storage.blobs import BlobNotFound, BlobStore, UnsupportedChecksum
from awsemu.storage.lsm import DB

STRIPE = 4096  # small geometry so hypothesis explores many stripes quickly
K, M = 3, 2  # 4096 / 3 is not whole: exercises block padding
INLINE = 512


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlobStore]:
    root: Path = tmp_path_factory.mktemp("blobs-prop")
    db = DB.open(root / "meta")
    store = BlobStore.open(db, root, data_shards=K, parity_shards=M, stripe_bytes=STRIPE, inline_max=INLINE)
    yield store
    store.close()
    db.close()


BOUNDARY_SIZES = [
    0,
    1,
    INLINE - 1,
    INLINE,
    INLINE + 1,
    STRIPE - 1,
    STRIPE,
    STRIPE + 1,
    3 * STRIPE,
    3 * STRIPE + 7,
]
sizes = st.one_of(st.sampled_from(BOUNDARY_SIZES), st.integers(0, 12 * STRIPE))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=sizes, chunk_sizes=st.lists(st.integers(1, 3 * STRIPE), min_size=1, max_size=5), data=st.data())
def test_random_sizes_chunkings_and_ranges(
    small_store: BlobStore, blobio: Any, size: int, chunk_sizes: list[int], data: st.DataObject
) -> None:
    body = random.Random(size).randbytes(size)
    ref = blobio.write(small_store, body, sizes=chunk_sizes)
    assert ref.size == size
    assert ref.md5 == hashlib.md5(body).hexdigest()
    assert ref.kind == ("inline" if size <= INLINE else "sharded")
    assert blobio.read(small_store, ref.blob_id) == body
    for _ in range(3):
        start = data.draw(st.integers(0, size + 2), label="start")
        end = data.draw(st.integers(start, size + STRIPE), label="end")
        assert blobio.read(small_store, ref.blob_id, start, end) == body[start:end]
    assert b"".join(bytes(c) for c in small_store.iter_read(ref.blob_id, 1, size - 1)) == body[1 : size - 1]


@pytest.mark.parametrize(
    "size",
    [0, 1, 128 * 1024, 128 * 1024 + 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 5 * (1 << 20) + 77],
)
def test_default_geometry_round_trip(make_store: Any, blobio: Any, size: int) -> None:
    store = make_store()
    body = os.urandom(size)
    ref = blobio.write(store, body, sizes=[100_000, 7, 65536])
    assert ref.kind == ("inline" if size <= 128 * 1024 else "sharded")
    assert blobio.read(store, ref.blob_id) == body
    mib = 1 << 20
    for start, end in [
        (0, 1),
        (mib - 1, mib + 1),
        (mib, 2 * mib),
        (size // 3, 2 * size // 3),
        (size - 1, size + 5),
        (size, size + 1),
    ]:
        assert blobio.read(store, ref.blob_id, start, end) == body[start:end]
    assert store.stat(ref.blob_id).size == size


def test_range_reads_touch_only_needed_stripes(make_store: Any, blobio: Any) -> None:
    store = make_store(stripe_bytes=64 * 1024, inline_max=1024)
    body = os.urandom(10 * 64 * 1024)
    ref = blobio.write(store, body)
    before = store.stats()["stripes_read"]
    assert (
        blobio.read(store, ref.blob_id, 3 * 65536 + 5, 4 * 65536 + 9) == body[3 * 65536 + 5 : 4 * 65536 + 9]
    )
    assert store.stats()["stripes_read"] - before == 2


def test_checksums_match_published_check_values(make_store: Any, blobio: Any) -> None:
    # "123456789" check values from the CRC catalogue (CRC-32, CRC-32C, CRC-64/NVME)
    store = make_store()
    ref = blobio.write(store, b"123456789", checksums=["crc32", "CRC32C", "crc64nvme", "sha1", "SHA256"])
    assert base64.b64decode(ref.checksums["CRC32"]) == (0xCBF43926).to_bytes(4, "big")
    assert base64.b64decode(ref.checksums["CRC32C"]) == (0xE3069283).to_bytes(4, "big")
    assert base64.b64decode(ref.checksums["CRC64NVME"]) == (0xAE8B14860A799888).to_bytes(8, "big")
    assert ref.checksums["SHA1"] == base64.b64encode(hashlib.sha1(b"123456789").digest()).decode()
    assert ref.checksums["SHA256"] == base64.b64encode(hashlib.sha256(b"123456789").digest()).decode()
    assert ref.md5 == hashlib.md5(b"123456789").hexdigest()


def test_streamed_checksums_equal_one_shot_values(make_store: Any, blobio: Any) -> None:
    store = make_store(stripe_bytes=32 * 1024, inline_max=1024)
    body = os.urandom(300_001)
    ref = blobio.write(store, body, checksums=["CRC32", "CRC32C", "CRC64NVME"], sizes=[999, 40_000])
    assert ref.checksums == {
        "CRC32": base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode(),
        "CRC32C": base64.b64encode(crc32c.crc32c(body).to_bytes(4, "big")).decode(),
        "CRC64NVME": base64.b64encode(crc64nvme(body).to_bytes(8, "big")).decode(),
    }
    assert store.stat(ref.blob_id).checksums == ref.checksums


def test_unknown_checksum_is_rejected_before_writing(make_store: Any, blobio: Any, tmp_path: Path) -> None:
    store = make_store()
    with pytest.raises(UnsupportedChecksum):
        blobio.write(store, os.urandom(300_000), checksums=["MD4"])
    assert not [p for p in (tmp_path / "drives").rglob("*") if p.is_file()]


def test_unknown_blob_raises_not_found(make_store: Any, blobio: Any) -> None:
    store = make_store()
    with pytest.raises(BlobNotFound):
        blobio.read(store, "0" * 32)
    with pytest.raises(BlobNotFound):
        store.stat("0" * 32)


def test_concurrent_writes_and_reads(make_store: Any, blobio: Any) -> None:
    store = make_store(stripe_bytes=64 * 1024, inline_max=1024)
    bodies = [os.urandom(n) for n in (0, 1000, 70_000, 400_000, 1_000_003)]

    async def go() -> None:
        refs = await asyncio.gather(*(store.write(blobio.chunked(b, [5000])) for b in bodies))
        outs = await asyncio.gather(*(_collect(store, r.blob_id) for r in refs))
        assert outs == bodies

    asyncio.run(go())


async def _collect(store: BlobStore, blob_id: str) -> bytes:
    return b"".join([bytes(c) async for c in store.read(blob_id)])


@pytest.mark.long
def test_long_random_round_trips_default_geometry(make_store: Any, blobio: Any) -> None:
    store = make_store()
    rng = random.Random(7)
    mib = 1 << 20
    trials = 200 if os.environ.get("AWSEMU_TEST_LONG") else 30
    for _ in range(trials):
        size = rng.choice([0, 1, 128 * 1024, 128 * 1024 + 1, mib - 1, mib, mib + 1, rng.randint(0, 12 * mib)])
        body = rng.randbytes(size)
        ref = blobio.write(store, body, sizes=[rng.randint(1, 2 * mib) for _ in range(3)])
        assert blobio.read(store, ref.blob_id) == body
        for _ in range(5):
            start = rng.randint(0, size)
            end = rng.randint(start, size + 10)
            assert blobio.read(store, ref.blob_id, start, end) == body[start:end]
