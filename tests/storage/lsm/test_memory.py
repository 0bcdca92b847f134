"""Memory accounting: what the engine charges against its bounds is what it really holds.

tracemalloc measures the Python-level allocations of a memtable, of cached blocks and of table
metadata; the engine's counts must not be below them (they may be a little above: tracemalloc
does not see allocator rounding). The cache must hold its capacity with indexes and filters
charged, evict them last, and still answer correctly when they do not fit at all.
"""

from __future__ import annotations

import gc
import threading
import random
import tracemalloc
from pathlib import Path

import pytest

from awsemu.storage.lsm import DB, DBOptions
from awsemu.storage.lsm.block_cache import BlockCache
from awsemu.storage.lsm.memtable import ENTRY_OVERHEAD, Memtable
from awsemu.storage.lsm.options import MAX_FROZEN_MEMTABLES
from awsemu.storage.lsm.sstable import NOT_FOUND, Table, TableBuilder


def _traced(action):  # type: ignore[no-untyped-def]
    """(result of action(), bytes it left allocated according to tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = action()
        gc.collect()
        return result, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def _items(n: int, key_len: int, value_len: int, seed: int = 1) -> list[tuple[bytes, bytes]]:
    rng = random.Random(seed)
    return sorted({rng.randbytes(key_len): rng.randbytes(value_len) for _ in range(n)}.items())


def _table(tmp_path: Path, items: list[tuple[bytes, bytes]], name: str = "t.sst") -> str:
    path = str(tmp_path / name)
    builder = TableBuilder(path, 4096, 10, len(items))
    builder.add_many([k for k, _ in items], [v for _, v in items])
    builder.finish()
    return path


@pytest.mark.parametrize(("key_len", "value_len"), [(16, 100), (48, 8), (8, 1000)])
def test_memtable_counts_its_real_memory(key_len: int, value_len: int) -> None:
    items = _items(20_000, key_len, value_len)
    # the table owns its keys and values, as it does when a write arrives (fresh objects)
    fresh = [(bytes(bytearray(k)), bytes(bytearray(v))) for k, v in items]

    def fill() -> Memtable:
        mem = Memtable(0)
        for seq, (k, v) in enumerate(fresh, 1):
            mem.put(k, v, seq, -1)
        mem.ensure_sorted()
        return mem

    owned = sum(len(k) + len(v) + 2 * 33 for k, v in fresh)  # the bytes objects existed before
    mem, traced = _traced(fill)
    real = traced + owned
    # the count is an upper bound: the dict's share per entry varies with its fill (its table
    # grows by powers of two) and the count takes the fuller case
    assert real <= mem.approx_bytes <= 1.25 * real


def test_memtable_counts_versions_kept_for_snapshots() -> None:
    mem = Memtable(0)
    mem.put(b"k", b"v" * 100, 1, -1)
    plain = mem.approx_bytes
    mem.put(b"k", b"w" * 100, 2, 1)  # a snapshot at seq 1 still needs the first version
    assert mem.approx_bytes >= plain + 100
    mem.drop_history()
    assert mem.approx_bytes == plain
    mem.put(b"k", b"x" * 10, 3, -1)  # no snapshot: replaced in place
    assert mem.approx_bytes == plain - 90


def test_cached_blocks_and_table_metadata_are_charged_their_real_memory(tmp_path: Path) -> None:
    path = _table(tmp_path, _items(30_000, 16, 100))
    cache = BlockCache(1 << 40)
    table, traced_meta = _traced(lambda: Table(path, 1, cache))
    meta = table.meta
    assert meta is not None and cache.meta_used == meta.charge
    assert traced_meta <= meta.charge <= 1.25 * traced_meta

    def read_all_blocks() -> None:
        for i in range(table.block_count):
            table._block(i, meta)

    _, traced_blocks = _traced(read_all_blocks)
    block_charges = cache.used - cache.meta_used
    assert len(cache) == table.block_count
    assert traced_blocks <= block_charges <= 1.05 * traced_blocks
    table.close()


def test_metadata_is_evicted_last_and_reloaded_on_demand(tmp_path: Path) -> None:
    first = _items(3000, 16, 100, seed=1)
    second = _items(3000, 16, 100, seed=2)
    probe = BlockCache(1 << 40)
    meta_charge = Table(_table(tmp_path, first, "probe.sst"), 9, probe).meta.charge  # type: ignore[union-attr]
    # room for two tables' metadata and a block or two, not for a third table's metadata
    cache = BlockCache(2 * meta_charge + meta_charge // 2)
    assert meta_charge // 2 > 5000
    a = Table(_table(tmp_path, first, "a.sst"), 1, cache)
    b = Table(_table(tmp_path, second, "b.sst"), 2, cache)
    for k, v in first[::50]:
        assert a.get(k) == v
    assert cache.used <= cache.capacity
    assert a.meta is not None and b.meta is not None  # blocks went, metadata stayed
    assert 0 < len(cache) <= meta_charge // 2 // 4096

    # a third table's metadata does not fit beside the others: the oldest metadata goes
    c = Table(_table(tmp_path, _items(3000, 16, 100, seed=3), "c.sst"), 3, cache)
    assert cache.used <= cache.capacity
    assert a.meta is None and c.meta is not None
    loads = cache.meta_loads
    assert a.get(first[7][0]) == first[7][1]  # read back from the file, verified
    assert cache.meta_loads == loads + 1 and a.meta is not None
    assert cache.used <= cache.capacity

    # a retired table leaves the cache, but keeps serving the readers that still hold it
    b.retire()
    assert 2 not in {key >> 32 for key in cache._blocks} and cache.used <= cache.capacity
    assert b.get(second[3][0]) == second[3][1]
    for table in (a, b, c):
        table.close()


def test_store_answers_with_a_cache_too_small_for_any_metadata(tmp_path: Path) -> None:
    options = DBOptions(memtable_bytes=32 * 1024, block_bytes=512, block_cache_bytes=64, background_compaction=False)
    items = _items(2000, 12, 40)
    with DB.open(tmp_path, options) as db:
        for lo in range(0, len(items), 100):
            db.write_batch(items[lo : lo + 100])
        db.flush()
        stats = db.stats()
        assert stats["sstables"] >= 1 and stats["cache_bytes"] == 0
        for k, v in items[::37]:
            assert db.get(k) == v
        assert db.get(b"\xff" * 12) is None
        assert list(db.scan()) == items


def test_store_stays_within_its_cache_bound(tmp_path: Path) -> None:
    options = DBOptions(memtable_bytes=64 * 1024, block_bytes=1024, block_cache_bytes=96 * 1024, background_compaction=False)
    items = _items(8000, 16, 60)
    with DB.open(tmp_path, options) as db:
        for lo in range(0, len(items), 200):
            db.write_batch(items[lo : lo + 200])
        rng = random.Random(4)
        for _ in range(3000):
            k, v = items[rng.randrange(len(items))]
            assert db.get(k) == v
        stats = db.stats()
        assert 0 < stats["cache_meta_bytes"] <= stats["cache_bytes"] <= options.block_cache_bytes
        # the memtable is frozen when full before a write: it may pass the mark by one write
        last_batch = 200 * (16 + 60 + ENTRY_OVERHEAD)
        assert stats["memtable_bytes"] <= options.memtable_bytes + last_batch
        assert stats["memory_bound"] == options.memory_bound
        assert options.memory_bound == (1 + MAX_FROZEN_MEMTABLES) * 64 * 1024 + 96 * 1024
        for table in db._tables:
            assert table.get(b"absent-key-0000") is NOT_FOUND


def test_readers_racing_evictions_flushes_and_compactions_read_right(tmp_path: Path) -> None:
    # a cache that holds about one table's metadata: readers keep evicting and reloading it
    # while a writer flushes and compaction retires tables under them
    options = DBOptions(memtable_bytes=48 * 1024, block_bytes=512, block_cache_bytes=12 * 1024)
    items = _items(4000, 16, 30)
    errors: list[str] = []
    with DB.open(tmp_path, options) as db:
        db.write_batch(items[:1000])
        db.flush()
        stop = threading.Event()

        def reader(seed: int) -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                k, v = items[rng.randrange(1000)]
                got = db.get(k)
                if got != v:
                    errors.append(f"{k!r}: {got!r}")

        threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(3)]
        for thread in threads:
            thread.start()
        try:
            for lo in range(1000, len(items), 100):
                db.write_batch(items[lo : lo + 100])
            db.compact()
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert not errors
        stats = db.stats()
        assert stats["cache_meta_loads"] > stats["sstables"]  # metadata was evicted and reread
        assert stats["cache_bytes"] <= options.block_cache_bytes
        assert dict(db.scan()) == dict(items)
