"""The fast paths stay correct: batched run reads, recycled buffers, read-ahead, uncopied and
copied chunks, lanes under many concurrent writes and failing shard writes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import hashlib
import os
import random
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from awsemu.storage.blobs import BlobStore
from awsemu.storage.blobs.buffers import RecyclingBuffers
from awsemu.storage.blobs.readahead import ReadAhead
from awsemu.storage.blobs.shards import TRAILER, ShardReader, ShardWriter, shard_path

STRIPE = 4096
K, M = 3, 2  # 4096 / 3 is not whole: blocks carry padding


def test_buffer_is_reused_only_once_nothing_refers_to_it() -> None:
    pool = RecyclingBuffers(64, keep=2)
    first = pool.take(64)
    view = memoryview(first)[8:16]
    del first
    second = pool.take(64)  # `first` is still held through the view
    assert second is not view.obj
    del second
    third = pool.take(64)  # the second one is free again
    assert pool.reused == 1 and third is not view.obj
    del view
    fourth = pool.take(64)
    assert pool.reused == 2 and fourth is not third
    assert pool.take(10) is not fourth and len(pool.take(10)) == 10  # other sizes: fresh


def test_batched_runs_read_every_range(make_store: Any, blobio: Any) -> None:
    store: BlobStore = make_store(
        data_shards=K, parity_shards=M, stripe_bytes=STRIPE, inline_max=256, read_batch=3, read_ahead=2
    )
    rng = random.Random(5)
    body = rng.randbytes(17 * STRIPE + 123)
    ref = blobio.write(store, body, sizes=[1000, 5000])
    assert blobio.read(store, ref.blob_id) == body
    for _ in range(60):
        start = rng.randint(0, len(body))
        end = rng.randint(start, len(body) + 10)
        assert blobio.read(store, ref.blob_id, start, end) == body[start:end]
        assert b"".join(bytes(c) for c in store.iter_read(ref.blob_id, start, end)) == body[start:end]


def test_bad_block_inside_a_batched_run_is_rebuilt(make_store: Any, blobio: Any) -> None:
    store: BlobStore = make_store(
        data_shards=K, parity_shards=M, stripe_bytes=STRIPE, inline_max=256, read_batch=4
    )
    body = random.Random(6).randbytes(9 * STRIPE)
    ref = blobio.write(store, body)
    man = store.manifest(ref.blob_id)
    unit = man.geometry.full_block + TRAILER
    # flip a byte in data block 1 of stripe 5 (the middle of the second run)
    path = shard_path(store.drives, ref.blob_id, 1, man.rot)
    raw = bytearray(path.read_bytes())
    raw[5 * unit + 10] ^= 0xFF
    path.write_bytes(bytes(raw))
    # and cut the end off data shard 2: the last stripes of its run come up short
    short = shard_path(store.drives, ref.blob_id, 2, man.rot)
    os.truncate(short, 7 * unit + 3)
    assert blobio.read(store, ref.blob_id) == body
    lo, hi = 5 * STRIPE - 7, 8 * STRIPE + 9
    assert blobio.read(store, ref.blob_id, lo, hi) == body[lo:hi]
    stats = store.stats()
    assert stats["degraded_stripes_read"] >= 3 and stats["bad_shards_read"] >= 2


def test_consumer_may_keep_every_chunk(make_store: Any, blobio: Any) -> None:
    store: BlobStore = make_store(stripe_bytes=64 * 1024, inline_max=1024)
    bodies = [os.urandom(20 * 64 * 1024 + 5) for _ in range(2)]
    refs = [blobio.write(store, b) for b in bodies]

    async def go() -> None:
        kept = [c async for c in store.read(refs[0].blob_id)]  # views, not copies
        # more reads, which would reuse any buffer the store wrongly thought free
        for _ in range(2):
            assert b"".join([bytes(c) async for c in store.read(refs[1].blob_id)]) == bodies[1]
        assert b"".join(bytes(c) for c in kept) == bodies[0]

    asyncio.run(go())


def test_mutable_chunks_are_copied_not_kept(make_store: Any) -> None:
    store: BlobStore = make_store(stripe_bytes=64 * 1024, inline_max=1024)
    body = os.urandom(10 * 64 * 1024 + 99)

    async def reused_buffer() -> AsyncIterator[bytearray]:
        buf = bytearray(100 * 1024)
        for at in range(0, len(body), len(buf)):
            piece = body[at : at + len(buf)]
            buf[: len(piece)] = piece
            yield buf if len(piece) == len(buf) else bytearray(piece)
            buf[:] = bytes(len(buf))  # the producer scribbles over what it yielded

    ref = asyncio.run(store.write(reused_buffer()))
    assert ref.md5 == hashlib.md5(body).hexdigest()
    assert b"".join(bytes(c) for c in store.iter_read(ref.blob_id)) == body


def test_many_concurrent_writes_on_a_small_pool(db: Any, tmp_path: Path) -> None:
    """More writes than pool threads, each with several lanes: nobody waits on an idle lane job."""
    store = BlobStore.open(db, tmp_path, stripe_bytes=32 * 1024, inline_max=1024, workers=2)
    rng = random.Random(7)
    bodies = [rng.randbytes(rng.randint(40_000, 400_000)) for _ in range(12)]

    async def one(body: bytes) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for at in range(0, len(body), 10_000):
                yield body[at : at + 10_000]
                await asyncio.sleep(0)

        ref = await store.write(chunks(), checksums=["SHA256", "CRC32C"])
        assert ref.md5 == hashlib.md5(body).hexdigest()
        assert b"".join([bytes(c) async for c in store.read(ref.blob_id)]) == body

    async def go() -> None:
        await asyncio.wait_for(asyncio.gather(*(one(b) for b in bodies)), timeout=120)

    try:
        asyncio.run(go())
    finally:
        store.close()


def test_a_failing_shard_write_fails_the_write_and_leaves_nothing(
    make_store: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    store: BlobStore = make_store(stripe_bytes=32 * 1024, inline_max=1024)
    real = ShardWriter.write_blocks

    def disk_full_at_stripe_5(self: ShardWriter, stripe: int, first: int, blocks: Any) -> None:
        if stripe == 5 and first > 0:  # the parity lane fails, the data lane does not
            raise OSError(errno.ENOSPC, "no space left (test)")
        real(self, stripe, first, blocks)

    monkeypatch.setattr(ShardWriter, "write_blocks", disk_full_at_stripe_5)
    body = os.urandom(40 * 32 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        for at in range(0, len(body), 32 * 1024):
            yield body[at : at + 32 * 1024]

    with pytest.raises(OSError, match="no space left"):
        asyncio.run(store.write(chunks(), checksums=["SHA1"]))
    store.close()  # waits for the clean-up job
    assert [p for p in (tmp_path / "drives").rglob("*") if p.is_file()] == []
    assert list(store.iter_blobs()) == []


def test_read_ahead_keeps_order_and_window_and_closes_once() -> None:
    pool = concurrent.futures.ThreadPoolExecutor(4)
    lock = threading.Lock()
    state = {"running": 0, "most": 0, "taken": 0, "ahead_most": 0}
    idle_calls: list[int] = []

    def job(i: int) -> int:
        with lock:
            state["running"] += 1
            state["most"] = max(state["most"], state["running"])
            state["ahead_most"] = max(state["ahead_most"], i - state["taken"])
        time.sleep(random.random() / 500)
        with lock:
            state["running"] -= 1
        if i == 30:
            raise ValueError("job 30 failed")
        return i * i

    async def go() -> None:
        jobs = [(i,) for i in range(40)]
        ahead = ReadAhead(pool, job, jobs, window=3, workers=2, on_idle=lambda: idle_calls.append(1))
        try:
            for i in range(30):
                assert await ahead.next() == i * i
                with lock:
                    state["taken"] = i + 1
            with pytest.raises(ValueError, match="job 30"):
                await ahead.next()
        finally:
            ahead.close()

    try:
        asyncio.run(go())
    finally:
        pool.shutdown(wait=True)
    assert state["most"] <= 2  # workers
    assert state["ahead_most"] <= 3  # claimed at most `window` beyond what was taken
    assert idle_calls == [1]


def test_abandoned_read_closes_its_shard_files(make_store: Any, blobio: Any) -> None:
    store: BlobStore = make_store(stripe_bytes=32 * 1024, inline_max=1024)
    body = os.urandom(50 * 32 * 1024)
    ref = blobio.write(store, body)

    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = open_fds()

    async def go() -> bytes:
        got = b""
        async for chunk in store.read(ref.blob_id):
            got += bytes(chunk)
            if len(got) > 3 * 32 * 1024:
                break  # the client went away mid-body
        return got

    got = asyncio.run(go())
    assert body.startswith(got)
    deadline = time.monotonic() + 10
    while open_fds() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert open_fds() <= before


def test_read_ahead_consumer_helps_hands_back_and_stops_after_two_misses() -> None:
    pool = concurrent.futures.ThreadPoolExecutor(4)
    lock = threading.Lock()
    by_worker: list[int] = []
    by_consumer: list[int] = []
    tried_inline: list[int] = []
    state = {"taken": 0, "ahead_most": 0}
    consumer = threading.current_thread()

    def claimed(i: int) -> None:
        with lock:
            state["ahead_most"] = max(state["ahead_most"], i - state["taken"])

    def job(i: int) -> int:
        claimed(i)
        time.sleep(0.002 + random.random() / 1000)  # workers are slower than the consumer
        with lock:
            by_worker.append(i)
        return i * i

    def inline(i: int) -> int | None:
        assert threading.current_thread() is consumer
        claimed(i)
        tried_inline.append(i)
        if len(tried_inline) in (3, 6, 7):  # would block, or found a bad block: a worker runs it
            return None
        by_consumer.append(i)
        return i * i

    async def go() -> None:
        ahead = ReadAhead(pool, job, [(i,) for i in range(40)], window=3, workers=2, inline=inline)
        try:
            for i in range(40):
                assert await ahead.next() == i * i
                with lock:
                    state["taken"] = i + 1
        finally:
            ahead.close()

    try:
        asyncio.run(go())
    finally:
        pool.shutdown(wait=True)
    assert sorted(by_worker + by_consumer) == list(range(40))  # every job ran exactly once
    handed_back = {tried_inline[2], tried_inline[5], tried_inline[6]}
    assert handed_back <= set(by_worker)
    assert len(tried_inline) == 7  # a miss alone does not stop it; the second in a row does
    assert state["ahead_most"] <= 3  # the helping consumer stays inside the window too


def test_warm_reads_run_on_the_event_loop_and_bad_runs_on_workers(
    make_store: Any, blobio: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store: BlobStore = make_store(stripe_bytes=STRIPE, data_shards=K, parity_shards=M, inline_max=256)
    body = random.Random(8).randbytes(12 * STRIPE)
    ref = blobio.write(store, body)
    man = store.manifest(ref.blob_id)
    path = shard_path(store.drives, ref.blob_id, 1, man.rot)
    raw = bytearray(path.read_bytes())
    raw[9 * (man.geometry.full_block + TRAILER) + 3] ^= 0x01  # one bit of data block 1, stripe 9
    path.write_bytes(bytes(raw))

    calls: list[tuple[bool, bool, int]] = []  # (on the loop thread, nowait, first stripe)
    real = ShardReader.read_run

    def spy(self: ShardReader, lo: int, hi: int, take: Any, *, nowait: bool = False) -> Any:
        calls.append((threading.current_thread() is threading.main_thread(), nowait, lo // STRIPE))
        return real(self, lo, hi, take, nowait=nowait)

    monkeypatch.setattr(ShardReader, "read_run", spy)
    assert blobio.read(store, ref.blob_id) == body
    assert all(nowait == on_loop for on_loop, nowait, _ in calls)  # the loop never reads blocking
    assert any(nowait for _, nowait, _ in calls)  # warm runs were read on the loop
    assert (False, False, 9) in calls  # the bad run went to a worker, which rebuilt it
    stats = store.stats()
    assert stats["bad_blocks_read"] == 1 and stats["degraded_stripes_read"] == 1
    assert stats["bytes_read"] == len(body)  # nothing counted twice


def test_nowait_run_read_gives_up_on_anything_not_right(make_store: Any, blobio: Any) -> None:
    store: BlobStore = make_store(stripe_bytes=STRIPE, data_shards=K, parity_shards=M, inline_max=256)
    body = random.Random(9).randbytes(4 * STRIPE)
    ref = blobio.write(store, body)
    man = store.manifest(ref.blob_id)
    g = man.geometry
    reader = ShardReader(store.drives, ref.blob_id, g, man.rot)
    try:
        got = reader.read_run(0, 2 * STRIPE, bytearray, nowait=True)
        assert got is not None and [bytes(got[0][a:b]) for a, b in got[1]] == [
            body[:STRIPE],
            body[STRIPE : 2 * STRIPE],
        ]
    finally:
        reader.close()
    shard_path(store.drives, ref.blob_id, 2, man.rot).unlink()  # a lost data shard
    reader = ShardReader(store.drives, ref.blob_id, g, man.rot)
    try:
        assert reader.read_run(0, 2 * STRIPE, bytearray, nowait=True) is None
        into, spans = reader.read_run(0, 2 * STRIPE, bytearray)  # the careful caller's view
        assert spans == [None, None]
    finally:
        reader.close()
    assert blobio.read(store, ref.blob_id) == body
