"""The DB API beyond the model test: options, types, lifecycle, threads, background work."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from awsemu.storage.lsm import DB, DBClosedError, DBOptions, WriteBatch
from awsemu.storage.lsm.compaction import MAX_RUNS

SMALL = DBOptions(memtable_bytes=8 * 1024, block_bytes=512, background_compaction=False)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError):
        DBOptions(durability="sometimes")
    with pytest.raises(ValueError):
        DBOptions(memtable_bytes=0)
    assert DBOptions().memtable_bytes == 4 * 1024 * 1024
    assert DBOptions().block_cache_bytes == 64 * 1024 * 1024


def test_open_creates_directory_and_types(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b"
    with DB.open(path) as db:
        db.put(bytearray(b"k"), memoryview(b"v"))
        assert db.get(b"k") == b"v"
        with pytest.raises(TypeError):
            db.put("k", b"v")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            db.write_batch([(b"k", "v")])  # type: ignore[list-item]
        db.write_batch([])
        assert db.get(b"missing") is None
    assert (path / "MANIFEST").exists()


def test_close_is_idempotent_and_final(tmp_path: Path) -> None:
    db = DB.open(tmp_path)
    db.put(b"a", b"1")
    db.close()
    db.close()
    assert db.closed
    with pytest.raises(DBClosedError):
        db.put(b"a", b"2")
    with pytest.raises(DBClosedError):
        db.get(b"a")
    with DB.open(tmp_path) as again:
        assert again.get(b"a") == b"1"


def test_second_open_of_same_store_is_refused(tmp_path: Path) -> None:
    with DB.open(tmp_path):
        with pytest.raises(RuntimeError, match="already open"):
            DB.open(tmp_path)


def test_write_batch_object_last_op_wins(tmp_path: Path) -> None:
    with DB.open(tmp_path, SMALL) as db:
        batch = WriteBatch().put(b"k", b"1").delete(b"k").put(b"k", b"2").put(b"j", b"x").delete(b"j")
        assert len(batch) == 5
        db.write_batch(batch)
        assert db.get(b"k") == b"2" and db.get(b"j") is None


def test_scan_stays_on_its_snapshot_across_flush_and_compaction(tmp_path: Path) -> None:
    with DB.open(tmp_path, SMALL) as db:
        for i in range(300):
            db.put(b"k%04d" % i, b"v%d" % i)
        db.flush()
        it = db.scan(b"k0100", b"k0200")
        head = [next(it) for _ in range(10)]
        for i in range(300):
            db.put(b"k%04d" % i, b"changed")
            if i % 50 == 0:
                db.delete(b"k%04d" % (i + 150))
        db.compact()  # replaces and unlinks the files the scan is reading
        rest = list(it)
        assert head + rest == [(b"k%04d" % i, b"v%d" % i) for i in range(100, 200)]
        reverse = list(db.scan(b"k0100", b"k0105", reverse=True))
        assert reverse == [(b"k%04d" % i, b"changed") for i in range(104, 99, -1)]


def test_snapshot_context_manager_and_history_release(tmp_path: Path) -> None:
    with DB.open(tmp_path, SMALL) as db:
        db.put(b"a", b"1")
        with db.snapshot() as snap:
            db.put(b"a", b"2")
            db.delete(b"a")
            db.put(b"b", b"new")
            assert snap.get(b"a") == b"1" and snap.get(b"b") is None
            assert list(snap.scan()) == [(b"a", b"1")]
            assert db.stats()["live_snapshots"] == 1
        assert db.stats()["live_snapshots"] == 0
        with pytest.raises(ValueError):
            snap.get(b"a")
        abandoned = db.scan()
        assert db.stats()["live_snapshots"] == 1
        del abandoned  # an iterator dropped unconsumed releases its snapshot
        assert db.stats()["live_snapshots"] == 0


def test_concurrent_writers_readers_and_group_commit(tmp_path: Path) -> None:
    options = DBOptions(durability="fsync", memtable_bytes=64 * 1024, block_bytes=1024)
    errors: list[BaseException] = []
    with DB.open(tmp_path, options) as db:

        def writer(t: int) -> None:
            try:
                for i in range(150):
                    if i % 10 == 0:
                        db.write_batch([(b"t%d-%04d-%d" % (t, i, j), b"b") for j in range(3)])
                    else:
                        db.put(b"t%d-%04d" % (t, i), b"v" * 200)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        def reader() -> None:
            try:
                for _ in range(30):
                    items = list(db.scan(b"t0", b"t9"))
                    assert items == sorted(items)
                    # a batch is visible whole or not at all
                    batch_keys = [k for k, _ in items if k.count(b"-") == 2]
                    prefixes: dict[bytes, int] = {}
                    for k in batch_keys:
                        prefixes[k.rsplit(b"-", 1)[0]] = prefixes.get(k.rsplit(b"-", 1)[0], 0) + 1
                    assert all(n == 3 for n in prefixes.values())
            except BaseException as exc:  # pragma: no cover
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(6)]
        threads.append(threading.Thread(target=reader))
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert not errors
        stats = db.stats()
        assert stats["writes"] == 6 * 150
        assert stats["wal_appends"] < stats["writes"]  # writers shared log writes
        for t in range(6):
            assert db.get(b"t%d-%04d" % (t, 149)) == b"v" * 200
            assert db.get(b"t%d-%04d-2" % (t, 140)) == b"b"


def test_background_flush_and_compaction_run(tmp_path: Path) -> None:
    options = DBOptions(memtable_bytes=16 * 1024, block_bytes=512)
    with DB.open(tmp_path, options) as db:
        for i in range(4000):
            db.put(b"%06d" % (i % 1500), b"x" * 40)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            stats = db.stats()
            # background work settles: everything flushed, run count back under the policy bound
            if stats["compactions"] > 0 and stats["frozen_memtables"] == 0 and stats["sstables"] <= MAX_RUNS:
                break
            time.sleep(0.02)
        assert stats["flushes"] > 0 and stats["compactions"] > 0
        assert stats["sstables"] <= MAX_RUNS
        assert len(list(db.scan())) == 1500
    with DB.open(tmp_path, options) as db:
        assert len(list(db.scan())) == 1500
        assert db.get(b"%06d" % 1499) == b"x" * 40


def test_compaction_drops_tombstones_and_old_values(tmp_path: Path) -> None:
    with DB.open(tmp_path, SMALL) as db:
        for round_ in range(3):
            for i in range(200):
                db.put(b"%04d" % i, b"%d" % round_ * 30)
            db.flush()
        for i in range(100):
            db.delete(b"%04d" % i)
        db.compact()
        stats = db.stats()
        assert stats["sstables"] == 1
        assert stats["entries_in_tables"] == 100
        assert db.get(b"0150") == b"2" * 30


def test_usable_from_asyncio_via_threads(tmp_path: Path) -> None:
    async def main() -> list[bytes | None]:
        with DB.open(tmp_path) as db:
            await asyncio.gather(*(asyncio.to_thread(db.put, b"%d" % i, b"v") for i in range(20)))
            return await asyncio.gather(*(asyncio.to_thread(db.get, b"%d" % i) for i in range(20)))

    assert asyncio.run(main()) == [b"v"] * 20


def test_stats_shape(tmp_path: Path) -> None:
    with DB.open(tmp_path, SMALL) as db:
        db.put(b"a", b"1")
        db.flush()
        assert db.get(b"a") == b"1"
        stats = db.stats()
        for name in ("sstables", "levels", "bytes", "cache_hits", "cache_misses", "memtable_bytes", "flushes"):
            assert name in stats
        assert stats["sstables"] == 1 and stats["bytes"] > 0


def test_failed_log_write_is_undone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write whose log append fails (disk full) raises, and leaves no partial record behind
    that would hide later writes from recovery."""
    import os as real_os

    from awsemu.storage.lsm import wal

    with DB.open(tmp_path, SMALL) as db:
        db.put(b"before", b"1")
        calls = {"n": 0}
        real_write = real_os.write

        def half_then_fail(fd: int, data: bytes) -> int:
            calls["n"] += 1
            if calls["n"] == 1:
                real_write(fd, bytes(data)[:7])  # a partial record reaches the file
                raise OSError(28, "No space left on device")
            return real_write(fd, data)

        monkeypatch.setattr(wal.os, "write", half_then_fail)
        with pytest.raises(OSError):
            db.put(b"lost", b"x" * 50)
        assert db.get(b"lost") is None
        db.put(b"after", b"2")
        monkeypatch.undo()
    with DB.open(tmp_path, SMALL) as db:
        assert db.get(b"before") == b"1" and db.get(b"after") == b"2" and db.get(b"lost") is None
