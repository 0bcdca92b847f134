"""Fault tests: lost drives, rotten blocks, misplaced blocks, more losses than parity."""

from __future__ import annotations

import itertools
import os
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from awsemu.storage.blobs import BlobStore, BlobUnrecoverable
from awsemu.storage.blobs.shards import TRAILER, shard_path

STRIPE = 64 * 1024
SIZES = [0, 100, 4096, 4097, STRIPE - 1, STRIPE, 3 * STRIPE + 1, 10 * STRIPE + 12345]


def populate(store: BlobStore, blobio: Any) -> dict[str, bytes]:
    bodies = {}
    for size in SIZES:
        body = os.urandom(size)
        bodies[blobio.write(store, body).blob_id] = body
    return bodies


def shard_files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted((root / "drives").rglob("*.*")) if p.is_file()}


@pytest.fixture
def store(make_store: Any) -> BlobStore:
    return make_store(stripe_bytes=STRIPE, inline_max=4096)


def test_any_m_drives_lost_every_object_reads(store: BlobStore, blobio: Any, tmp_path: Path) -> None:
    bodies = populate(store, blobio)
    drives = store.drives
    for lost in itertools.combinations(range(len(drives)), store.m):
        for i in lost:
            drives[i].rename(drives[i].with_name(drives[i].name + ".away"))
        try:
            for blob_id, body in bodies.items():
                assert blobio.read(store, blob_id) == body, (lost, blob_id)
                assert (
                    blobio.read(store, blob_id, STRIPE - 3, 2 * STRIPE + 3)
                    == body[STRIPE - 3 : 2 * STRIPE + 3]
                )
        finally:
            for i in lost:
                shutil.rmtree(drives[i], ignore_errors=True)  # reads never create anything, but be sure
                drives[i].with_name(drives[i].name + ".away").rename(drives[i])
    assert store.stats()["bad_shards_read"] > 0
    assert store.stats()["unrecoverable_reads"] == 0


def test_lost_drives_are_rebuilt_by_scrub(store: BlobStore, blobio: Any, tmp_path: Path) -> None:
    bodies = populate(store, blobio)
    original = shard_files(tmp_path)
    shutil.rmtree(store.drives[1])
    shutil.rmtree(store.drives[4])
    first = store.scrub()
    assert first.objects_checked == len(bodies)
    assert first.bad_shards > 0 and first.repaired == first.bad_shards
    assert not first.unrecoverable and not first.merkle_mismatches
    assert shard_files(tmp_path) == original  # rebuilt byte for byte
    second = store.scrub()
    assert second.clean and second.bad_shards == 0 and second.repaired == 0
    assert store.last_scrub is second
    for blob_id, body in bodies.items():
        assert blobio.read(store, blob_id) == body


def _corrupt(path: Path, offset: int, rng: random.Random) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ (1 << rng.randrange(8))]))


def test_rotten_blocks_detected_reads_correct_scrub_heals(
    store: BlobStore, blobio: Any, tmp_path: Path
) -> None:
    rng = random.Random(5)
    bodies = populate(store, blobio)
    original = shard_files(tmp_path)
    corrupted = set()
    for blob_id in bodies:
        man = store.manifest(blob_id)
        if man.kind != "sharded":
            continue
        g = man.geometry
        for stripe in range(g.stripes):
            # up to m rotten blocks per stripe, anywhere in data or trailer
            for j in rng.sample(range(g.n), rng.randint(0, store.m)):
                path = shard_path(store.drives, blob_id, j, man.rot)
                base = stripe * (g.full_block + TRAILER)
                _corrupt(path, base + rng.randrange(g.block_len(stripe) + TRAILER), rng)
                corrupted.add((blob_id, stripe, j))
    assert corrupted
    for blob_id, body in bodies.items():
        assert blobio.read(store, blob_id) == body
        assert blobio.read(store, blob_id, 1, len(body) - 1) == body[1:-1]
    assert store.stats()["bad_blocks_read"] > 0
    report = store.scrub()
    found = {(d["blob_id"], d["stripe"], d["shard"]) for d in report.details}
    assert report.bad_shards == len(corrupted)
    assert len(corrupted) < 100 and found == corrupted  # (details keep the first 100)
    assert report.repaired == len(corrupted)
    assert not report.unrecoverable and not report.merkle_mismatches
    assert shard_files(tmp_path) == original
    assert store.scrub().clean


def test_truncated_and_overlong_shard_files_are_fixed(store: BlobStore, blobio: Any, tmp_path: Path) -> None:
    body = os.urandom(5 * STRIPE + 10)
    ref = blobio.write(store, body)
    original = shard_files(tmp_path)
    man = store.manifest(ref.blob_id)
    short = shard_path(store.drives, ref.blob_id, 0, man.rot)
    os.truncate(short, short.stat().st_size // 2)
    longer = shard_path(store.drives, ref.blob_id, 5, man.rot)
    with open(longer, "ab") as f:
        f.write(b"garbage")
    assert blobio.read(store, ref.blob_id) == body
    report = store.scrub()
    assert report.bad_shards > 0 and not report.unrecoverable
    assert shard_files(tmp_path) == original
    assert store.scrub().clean


def test_block_copied_from_elsewhere_is_detected(store: BlobStore, blobio: Any) -> None:
    a, b = os.urandom(2 * STRIPE), os.urandom(2 * STRIPE)
    ra, rb = blobio.write(store, a), blobio.write(store, b)
    ma, mb = store.manifest(ra.blob_id), store.manifest(rb.blob_id)
    # a well-formed block with a valid trailer, but from another blob: must not be accepted
    shutil.copyfile(
        shard_path(store.drives, ra.blob_id, 0, ma.rot), shard_path(store.drives, rb.blob_id, 0, mb.rot)
    )
    # and block 1 of stripe 0 swapped with stripe 1 within the same file
    p = shard_path(store.drives, rb.blob_id, 1, mb.rot)
    raw = p.read_bytes()
    half = len(raw) // 2
    p.write_bytes(raw[half:] + raw[:half])
    assert blobio.read(store, rb.blob_id) == b
    assert store.stats()["bad_shards_read"] == 2
    report = store.scrub()
    assert report.bad_shards == 4 and report.repaired == 4


def test_more_drives_lost_than_parity(store: BlobStore, blobio: Any, tmp_path: Path) -> None:
    bodies = populate(store, blobio)
    for i in (0, 2, 5):
        shutil.rmtree(store.drives[i])
    sharded = {b for b in bodies if store.manifest(b).kind == "sharded"}
    for blob_id, body in bodies.items():
        if blob_id in sharded:
            with pytest.raises(BlobUnrecoverable) as info:
                blobio.read(store, blob_id)
            assert info.value.blob_id == blob_id
            assert len(info.value.bad_shards) == 3
            assert blob_id in str(info.value) and "missing" in str(info.value)
        else:
            assert blobio.read(store, blob_id) == body  # inline objects keep serving
    # the store keeps working: new bodies are written to the recreated drives and read back
    fresh = os.urandom(3 * STRIPE)
    assert blobio.read(store, blobio.write(store, fresh).blob_id) == fresh
    report = store.scrub()
    assert sorted(report.unrecoverable) == sorted(sharded)
    assert store.stats()["unrecoverable_reads"] >= len(sharded)  # counts failed stripe reads


def test_fsync_mode_writes_and_repairs(make_store: Any, blobio: Any, tmp_path: Path) -> None:
    store = make_store(stripe_bytes=STRIPE, inline_max=4096, fsync=True)
    body = os.urandom(3 * STRIPE + 5)
    ref = blobio.write(store, body)
    original = shard_files(tmp_path)
    shutil.rmtree(store.drives[3])
    assert blobio.read(store, ref.blob_id) == body
    report = store.scrub()
    assert report.repaired == 4 and not report.unrecoverable
    assert shard_files(tmp_path) == original


def test_write_to_a_broken_drive_fails_cleanly(store: BlobStore, blobio: Any, tmp_path: Path) -> None:
    shutil.rmtree(store.drives[2])
    store.drives[2].write_bytes(b"not a directory")  # every shard file on it fails to open
    with pytest.raises(OSError):
        blobio.write(store, os.urandom(3 * STRIPE))
    store.close()  # waits for the clean-up job
    assert list(store.iter_blobs()) == []
    assert [p for p in (tmp_path / "drives").rglob("*") if p.is_file() and p != store.drives[2]] == []
