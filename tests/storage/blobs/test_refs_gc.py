"""References, garbage collection, composition and the start-up sweep."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from awsemu.storage.blobs import BlobNotFound, BlobStore
from awsemu.storage.blobs.codec import Geometry
from awsemu.storage.blobs.shards import ShardWriter
from awsemu.storage.lsm import DB

STRIPE = 64 * 1024


def files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "drives").rglob("*") if p.is_file())


@pytest.fixture
def store(make_store: Any) -> BlobStore:
    return make_store(stripe_bytes=STRIPE, inline_max=1024)


def test_reference_commits_with_the_callers_record(
    store: BlobStore, db: DB, blobio: Any, tmp_path: Path
) -> None:
    body = os.urandom(3 * STRIPE)
    ref = blobio.write(store, body)
    db.write_batch([(b"svc/record", ref.blob_id.encode()), *store.ref_ops(ref.blob_id, "svc:record")])
    assert store.references(ref.blob_id) == ["svc:record"]
    assert store.start_up_sweep().blobs_deleted == 0
    assert blobio.read(store, ref.blob_id) == body
    assert len(files(tmp_path)) == 6


def test_unreferenced_blobs_are_swept_at_start_up(store: BlobStore, blobio: Any, tmp_path: Path) -> None:
    small = blobio.write(store, b"tiny")
    big = blobio.write(store, os.urandom(2 * STRIPE))
    report = store.start_up_sweep()
    assert report.blobs_deleted == 2 and report.bytes_freed >= 2 * STRIPE
    assert files(tmp_path) == []
    for r in (small, big):
        with pytest.raises(BlobNotFound):
            store.stat(r.blob_id)


def test_gc_grace_protects_fresh_unreferenced_blobs(store: BlobStore, blobio: Any) -> None:
    ref = blobio.write(store, os.urandom(2 * STRIPE))
    assert store.collect_garbage(grace_s=3600).blobs_deleted == 0
    assert store.stat(ref.blob_id).size == 2 * STRIPE
    assert store.collect_garbage(grace_s=0).blobs_deleted == 1


def test_shared_blob_lives_until_last_owner_drops_it(
    store: BlobStore, db: DB, blobio: Any, tmp_path: Path
) -> None:
    body = os.urandom(2 * STRIPE + 1)
    ref = blobio.write(store, body)
    db.write_batch(store.ref_ops(ref.blob_id, "obj:a"))
    db.write_batch(store.ref_ops(ref.blob_id, "obj:b"))  # a copy shares the body
    db.write_batch(store.unref_ops(ref.blob_id, "obj:a"))
    assert store.collect_garbage(grace_s=0).blobs_deleted == 0
    assert blobio.read(store, ref.blob_id) == body
    db.write_batch(store.unref_ops(ref.blob_id, "obj:b"))
    report = store.collect_garbage(grace_s=0)
    assert report.blobs_deleted == 1 and report.bytes_freed > len(body)
    assert files(tmp_path) == []


def test_compose_reads_as_concatenation_without_copying(
    store: BlobStore, db: DB, blobio: Any, tmp_path: Path
) -> None:
    parts = [os.urandom(n) for n in (STRIPE + 5, 17, 3 * STRIPE)]
    refs = [blobio.write(store, p) for p in parts]
    for i, r in enumerate(refs):
        db.write_batch(store.ref_ops(r.blob_id, f"upload:1:part:{i}"))
    n_files = len(files(tmp_path))
    whole = asyncio.run(store.compose([r.blob_id for r in refs]))
    assert len(files(tmp_path)) == n_files
    body = b"".join(parts)
    assert whole.size == len(body) and whole.kind == "composite" and whole.md5 is None
    assert blobio.read(store, whole.blob_id) == body
    for start, end in [
        (0, 1),
        (STRIPE, STRIPE + 30),
        (STRIPE + 4, len(body) - 2),
        (len(body) - 1, len(body)),
    ]:
        assert blobio.read(store, whole.blob_id, start, end) == body[start:end]
    # composites of composites are flattened
    twice = asyncio.run(store.compose([whole.blob_id, refs[1].blob_id]))
    assert store.manifest(twice.blob_id).parts == store.manifest(whole.blob_id).parts + [
        (refs[1].blob_id, 17)
    ]
    assert blobio.read(store, twice.blob_id) == body + parts[1]
    # complete the upload: the object references the composite, the upload drops its parts
    db.write_batch(
        [*store.ref_ops(whole.blob_id, "obj:k")]
        + [op for i, r in enumerate(refs) for op in store.unref_ops(r.blob_id, f"upload:1:part:{i}")]
    )
    assert store.collect_garbage(grace_s=0).blobs_deleted == 1  # only `twice`
    assert blobio.read(store, whole.blob_id) == body
    db.write_batch(store.unref_ops(whole.blob_id, "obj:k"))
    report = store.collect_garbage(grace_s=0)
    assert report.blobs_deleted == 4  # the composite, then its three parts
    assert files(tmp_path) == []


def test_orphan_shard_files_are_swept(store: BlobStore, blobio: Any, tmp_path: Path) -> None:
    keep = blobio.write(store, os.urandom(2 * STRIPE))
    store.db.write_batch(store.ref_ops(keep.blob_id, "o"))
    # shards written, then a crash before the manifest commit
    w = ShardWriter(store.drives, "ab" * 16, Geometry(STRIPE, 4, 2, STRIPE), 3, fsync=False)
    w.append_stripe(0, [bytes(STRIPE // 4)] * 6)
    w.finish()
    assert len(files(tmp_path)) == 12
    report = store.start_up_sweep()
    assert report.orphan_files_removed == 6 and report.blobs_deleted == 0
    assert len(files(tmp_path)) == 6
    assert store.collect_garbage(grace_s=0).orphan_files_removed == 0


def test_failed_write_leaves_nothing_visible(store: BlobStore, tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield os.urandom(STRIPE)
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        asyncio.run(store.write(broken()))
    store.close()  # waits for the clean-up job
    assert files(tmp_path) == []
    assert list(store.iter_blobs()) == []
