"""The write/read pipeline: heavy work off the event loop, memory bounded by a few stripes,
background scrub and counters."""

from __future__ import annotations

import asyncio
import random
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from awsemu.storage.blobs import BlobStore, codec


def test_encoding_and_hashing_run_off_the_event_loop(
    make_store: Any, blobio: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(stripe_bytes=64 * 1024, inline_max=1024)
    threads: set[str] = set()
    real_encode = codec.encode_parity  # the write path's encoder (ISA-L or zfec)

    def spy(*args: Any, **kw: Any) -> Any:
        threads.add(threading.current_thread().name)
        return real_encode(*args, **kw)

    monkeypatch.setattr(codec, "encode_parity", spy)
    loop_thread = threading.current_thread().name
    body = bytes(range(256)) * 2000
    ref = blobio.write(store, body, checksums=["SHA256"])
    assert threads and loop_thread not in threads
    assert all(t.startswith("blobs") for t in threads)
    assert blobio.read(store, ref.blob_id) == body


def test_write_and_read_memory_bounded_by_a_few_stripes(make_store: Any) -> None:
    stripe = 256 * 1024
    store = make_store(stripe_bytes=stripe, inline_max=1024)
    total = 64 * stripe  # 16 MiB through a 256 KiB-stripe store
    piece = bytes(64 * 1024)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(total // len(piece)):
            yield piece

    async def go() -> tuple[int, int]:
        tracemalloc.start()
        try:
            ref = await store.write(body(), checksums=["CRC32C"])
            write_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            n = 0
            async for chunk in store.read(ref.blob_id):
                n += len(chunk)
            assert n == total
            return write_peak, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    write_peak, read_peak = asyncio.run(go())
    # lanes hold at most max_inflight_stripes queued + 1 running each; parity adds m/k per stripe
    assert write_peak < 8 * stripe, write_peak
    assert read_peak < 5 * stripe, read_peak


def test_background_scrub_publishes_last_report(make_store: Any, blobio: Any) -> None:
    store: BlobStore = make_store(stripe_bytes=64 * 1024, inline_max=1024)
    blobio.write(store, bytes(200_000))
    store.start_background_scrub(0.05)
    deadline = time.monotonic() + 10
    while store.last_scrub is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store.last_scrub is not None
    report = store.last_scrub.to_dict()
    assert report["objects_checked"] == 1 and report["clean"] is True
    assert report["finished_at_iso"].endswith("+00:00")
    health = store.health()
    assert health["last_scrub"]["objects_checked"] == 1
    assert [d["present"] for d in health["drives"]] == [True] * 6
    assert health["stats"]["blobs_written"] == 1
    store.close()
    assert store.stats()["scrubs"] >= 1


def test_background_gc_frees_unreferenced_blobs(make_store: Any, blobio: Any) -> None:
    store: BlobStore = make_store(stripe_bytes=64 * 1024, inline_max=1024, gc_grace_s=0.0)
    ref = blobio.write(store, bytes(200_000))
    store.start_background_gc(0.05)
    deadline = time.monotonic() + 10
    while store.stats()["gc_blobs_deleted"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    store.close()
    assert [b for b, _, _ in store.iter_blobs()] == []
    assert ref.blob_id


def test_traffic_while_scrub_and_gc_run_in_background(make_store: Any, blobio: Any, tmp_path: Path) -> None:
    store: BlobStore = make_store(stripe_bytes=32 * 1024, inline_max=1024, gc_grace_s=0.2)
    store.start_background_scrub(0.01)
    store.start_background_gc(0.01)
    rng = random.Random(3)

    async def one(i: int) -> None:
        body = rng.randbytes(rng.randint(0, 300_000))
        ref = await store.write(blobio.chunked(body, [7000]))
        store.db.write_batch(store.ref_ops(ref.blob_id, f"t:{i}"))  # well within the grace period
        assert b"".join([bytes(c) async for c in store.read(ref.blob_id)]) == body
        store.db.write_batch(store.unref_ops(ref.blob_id, f"t:{i}"))

    async def go() -> None:
        for batch in range(4):
            await asyncio.gather(*(one(batch * 10 + i) for i in range(10)))

    asyncio.run(go())
    deadline = time.monotonic() + 20
    while list(store.iter_blobs()) and time.monotonic() < deadline:
        time.sleep(0.05)
    store.close()
    assert list(store.iter_blobs()) == []
    assert [p for p in (tmp_path / "drives").rglob("*") if p.is_file()] == []
    assert store.stats()["scrubs"] >= 1 and store.stats()["gc_blobs_deleted"] == 40
