"""``write(..., commit=fn)``: the caller commits the manifest in its own batch, on the store's
worker; and the stripe cutter, which must hand back exactly the body it was fed."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awsemu.storage.blobs import BlobRef, BlobStore
from awsemu.storage.blobs.shards import iter_shard_files
from awsemu.storage.blobs.stripes import StripeCutter
from awsemu.storage.lsm import DB

STRIPE = 64 * 1024
SIZES = [0, 100, 1024, 1025, STRIPE, 3 * STRIPE + 7]  # empty, inline, sharded below and above a stripe


@pytest.fixture
def store(make_store: Any) -> BlobStore:
    return make_store(stripe_bytes=STRIPE, inline_max=1024)


def shard_files(store: BlobStore) -> set[str]:
    return {blob_id for _, blob_id in iter_shard_files(store.drives)}


@pytest.mark.parametrize("size", SIZES)
def test_commit_writes_manifest_with_the_callers_record_in_one_batch(
    store: BlobStore, db: DB, blobio: Any, size: int
) -> None:
    body = os.urandom(size)
    seen: dict[str, Any] = {}

    def commit(ref: BlobRef, ops: list[tuple[bytes, bytes | None]]) -> str:
        seen["thread"] = threading.current_thread().name
        seen["visible_before"] = [b for b, has_manifest, _ in store.iter_blobs() if has_manifest]
        db.write_batch([(b"svc/rec", ref.blob_id.encode()), *ops, *store.ref_ops(ref.blob_id, "svc:rec")])
        return f"committed {ref.blob_id}"

    result = blobio.write(store, body, checksums=["CRC32C"], commit=commit)
    blob_id = db.get(b"svc/rec").decode()
    assert result == f"committed {blob_id}"
    assert seen["thread"].startswith("blobs")  # the store's worker: one hop for blob and record
    assert seen["visible_before"] == []  # the manifest is not in the LSM before the caller commits
    assert store.references(blob_id) == ["svc:rec"]
    ref = store.stat(blob_id)
    assert ref.size == size and ref.md5 == hashlib.md5(body).hexdigest()
    assert blobio.read(store, blob_id) == body
    assert store.start_up_sweep().blobs_deleted == 0  # referenced from the first moment
    assert store.stats()["blobs_written"] == 1


@pytest.mark.parametrize("size", SIZES)
def test_commit_that_raises_abandons_the_blob(store: BlobStore, db: DB, blobio: Any, size: int) -> None:
    def refuse(ref: BlobRef, ops: list[tuple[bytes, bytes | None]]) -> None:
        raise ValueError(f"BadDigest for {ref.size} bytes")

    with pytest.raises(ValueError, match=f"BadDigest for {size} bytes"):
        blobio.write(store, os.urandom(size), commit=refuse)
    store.close()  # waits for the clean-up job
    assert list(store.iter_blobs()) == []
    assert shard_files(store) == set()  # removed at once, not left for the GC
    assert store.stats()["blobs_written"] == 0


def test_commit_that_wrote_its_batch_and_then_raised_keeps_the_blob(store: BlobStore, db: DB, blobio: Any) -> None:
    body = os.urandom(3 * STRIPE)

    def commit_then_fail(ref: BlobRef, ops: list[tuple[bytes, bytes | None]]) -> None:
        db.write_batch([*ops, *store.ref_ops(ref.blob_id, "svc:rec")])
        raise RuntimeError("after the batch")

    with pytest.raises(RuntimeError, match="after the batch"):
        blobio.write(store, body, commit=commit_then_fail)
    store.close()
    (blob_id, has_manifest, owners), = store.iter_blobs()
    assert has_manifest and owners == ["svc:rec"]
    assert b"".join(bytes(c) for c in store.iter_read(blob_id)) == body  # every shard still there


def test_cancelled_write_whose_commit_still_runs_keeps_what_it_committed(store: BlobStore, db: DB) -> None:
    """The caller gives up while its commit runs on the worker: the commit's outcome decides."""
    body = os.urandom(2 * STRIPE)
    entered, release = threading.Event(), threading.Event()

    def slow_commit(ref: BlobRef, ops: list[tuple[bytes, bytes | None]]) -> None:
        entered.set()
        release.wait(10)
        db.write_batch([*ops, *store.ref_ops(ref.blob_id, "svc:rec")])

    async def chunks() -> Any:
        yield body

    async def go() -> None:
        task = asyncio.ensure_future(store.write(chunks(), commit=slow_commit))
        await asyncio.get_running_loop().run_in_executor(None, entered.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()

    asyncio.run(go())
    store.close()  # the commit job, then the clean-up check, have run
    (blob_id, has_manifest, owners), = store.iter_blobs()
    assert has_manifest and owners == ["svc:rec"]
    assert b"".join(bytes(c) for c in store.iter_read(blob_id)) == body


def test_plain_write_still_commits_its_own_manifest(store: BlobStore, blobio: Any) -> None:
    ref = blobio.write(store, os.urandom(2 * STRIPE + 1))
    (blob_id, has_manifest, owners), = store.iter_blobs()
    assert (blob_id, has_manifest, owners) == (ref.blob_id, True, [])


# -- the stripe cutter ----------------------------------------------------------------------------


def test_body_shorter_than_a_stripe_is_neither_copied_nor_buffered() -> None:
    cutter = StripeCutter(STRIPE, keep_buffers=4)
    chunk = os.urandom(4096)
    assert list(cutter.feed(chunk)) == []
    assert cutter.tail() is chunk  # the very object fed: no copy
    assert cutter._buffers._pool == []  # no stripe buffer was ever allocated


@settings(max_examples=60, deadline=None)
@given(
    pieces=st.lists(
        st.tuples(st.integers(0, 3 * STRIPE), st.sampled_from(["bytes", "bytearray", "memoryview"])), max_size=12
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_cutter_gives_back_exactly_the_body(pieces: list[tuple[int, str]], seed: int) -> None:
    """Whatever the chunk sizes and types, stripes + tail are the body; mutable chunks the
    producer scribbles over after each feed do not leak into stripes handed out earlier."""
    rng = random.Random(seed)
    cutter = StripeCutter(STRIPE, keep_buffers=2)
    body = bytearray()
    out: list[bytes] = []
    for size, kind in pieces:
        data = rng.randbytes(size)
        body += data
        chunk: bytes | bytearray | memoryview = data
        if kind != "bytes":
            chunk = bytearray(data) if kind == "bytearray" else memoryview(bytearray(data))
        for stripe in cutter.feed(chunk):
            assert len(stripe) == STRIPE
            out.append(bytes(stripe))  # a consumer done with the stripe right away: buffers recycle
        if kind != "bytes":
            chunk[:] = bytes(len(chunk))  # the producer reuses its buffer
    out.append(cutter.tail())
    assert b"".join(out) == bytes(body) and cutter.total == len(body)


def test_tail_after_held_and_copied_pieces() -> None:
    cutter = StripeCutter(STRIPE, keep_buffers=2)
    a, b = os.urandom(STRIPE // 2), os.urandom(STRIPE // 2 + 10)  # a is held, b completes the stripe
    stripes = [bytes(s) for s in cutter.feed(a)] + [bytes(s) for s in cutter.feed(b)]
    assert stripes == [(a + b)[:STRIPE]]
    assert cutter.tail() == (a + b)[STRIPE:]
