"""Benchmark of the LSM engine against Python's sqlite3, same data, same durability, one run.

Workload (defaults; override with env AWSEMU_BENCH_LSM_KEYS / AWSEMU_BENCH_LSM_BIG_MB):
  * 1M random 16-byte keys -> 100-byte values;
  * random single puts (first 200k keys, one write per call), batched puts (the remaining keys in
    batches of 1000), random gets (200k), a mixed phase with caches full (100k pairs of an
    overwrite and a get, with the flushes and compactions the overwrites cause), a full ordered
    scan (MB/s of key+value bytes), reopen time of that store;
  * memory: RSS growth of the process over its baseline taken after the bench's own data exists,
    at its peak over the whole run (the kernel's high-water mark VmHWM, reset at the baseline)
    and at the end, against the engine's stated bound (``DBOptions.memory_bound``: memtables +
    cache of blocks, indexes and filters);
  * recovery: a ~1 GiB store (16-byte keys -> 1000-byte values) written by a child process that is
    then SIGKILLed; we time DB.open (WAL replay + manifest/table verification).

Durability is matched: the engine's default "flush" (every acknowledged write is in the OS, it
survives kill -9 of the process) against sqlite3 in WAL mode with synchronous=NORMAL (same
guarantee: commits survive a process crash, not necessarily power loss). Each engine runs in its
own forked process so RSS figures do not mix.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import tempfile
import time
from collections.abc import Callable
from typing import Any

import psutil

from awsemu.storage.lsm import DB, DBOptions
from awsemu.storage.lsm.options import MAX_FROZEN_MEMTABLES

KEYS = int(os.environ.get("AWSEMU_BENCH_LSM_KEYS", "1000000"))
BIG_MB = int(os.environ.get("AWSEMU_BENCH_LSM_BIG_MB", "1024"))
SINGLE = min(200_000, KEYS // 5)
GETS = min(200_000, KEYS)
MIXED = min(100_000, KEYS)
BATCH = 1000
VALUE = 100


def _rss_peak_reset() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_peak() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _data(seed: int) -> tuple[list[bytes], bytes]:
    rng = random.Random(seed)
    blob = rng.randbytes(16 * KEYS)
    keys = [blob[i : i + 16] for i in range(0, 16 * KEYS, 16)]
    return keys, rng.randbytes(VALUE * 1024 + VALUE)


def _value(values: bytes, i: int) -> bytes:
    j = (i * 7919) % 1024 * VALUE
    return values[j : j + VALUE]


class _SqliteKV:
    def __init__(self, path: str) -> None:
        self.con = sqlite3.connect(os.path.join(path, "kv.db"), isolation_level=None, check_same_thread=False)
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=NORMAL")
        self.con.execute("CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")

    def put(self, k: bytes, v: bytes) -> None:
        self.con.execute("INSERT OR REPLACE INTO kv VALUES (?, ?)", (k, v))

    def write_batch(self, ops: list[tuple[bytes, bytes]]) -> None:
        self.con.execute("BEGIN")
        self.con.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)", ops)
        self.con.execute("COMMIT")

    def get(self, k: bytes) -> bytes | None:
        row = self.con.execute("SELECT v FROM kv WHERE k = ?", (k,)).fetchone()
        return None if row is None else row[0]

    def scan(self) -> Any:
        return self.con.execute("SELECT k, v FROM kv ORDER BY k")

    def close(self) -> None:
        self.con.close()


def _open(engine: str, path: str) -> Any:
    return DB.open(path) if engine == "lsm" else _SqliteKV(path)


def _run_engine(engine: str, out: Any) -> None:
    keys, values = _data(1)
    # the bench's own data exists before the baseline: the growth is the engine's
    rng = random.Random(2)
    order = [rng.randrange(KEYS) for _ in range(GETS)]
    mixed = [rng.randrange(KEYS) for _ in range(2 * MIXED)]
    proc = psutil.Process()
    baseline = proc.memory_info().rss
    peak_known = _rss_peak_reset()
    path = tempfile.mkdtemp(prefix=f"bench-{engine}-")
    res: dict[str, float] = {}

    def timed(name: str, amount: float, started: tuple[float, float]) -> None:
        # wall-clock rate, and the rate per CPU second of this process (all its threads, user +
        # system): the latter is steadier when other work shares the machine
        res[name] = amount / (time.perf_counter() - started[0])
        res[name + "_cpu"] = amount / (time.process_time() - started[1])

    def now() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    try:
        db = _open(engine, path)
        t = now()
        for i in range(SINGLE):
            db.put(keys[i], _value(values, i))
        timed("put_single", SINGLE, t)
        t = now()
        for lo in range(SINGLE, KEYS, BATCH):
            db.write_batch([(keys[i], _value(values, i)) for i in range(lo, min(KEYS, lo + BATCH))])
        if engine == "lsm":
            _settle(db)  # the flushes and compactions the load caused are part of its cost
        timed("put_batched", KEYS - SINGLE, t)
        t = now()
        for i in order:
            if db.get(keys[i]) is None:
                raise AssertionError("lost key")
        timed("get", GETS, t)
        t = now()
        for n in range(MIXED):
            db.put(keys[mixed[2 * n]], _value(values, n))
            if db.get(keys[mixed[2 * n + 1]]) is None:
                raise AssertionError("lost key")
        if engine == "lsm":
            _settle(db)
        timed("mixed", 2 * MIXED, t)
        t = now()
        nbytes = 0
        count = 0
        for k, v in db.scan():
            nbytes += len(k) + len(v)
            count += 1
        timed("scan_mb_s", nbytes / (1 << 20), t)
        assert count == KEYS, count
        res["rss_mb"] = (proc.memory_info().rss - baseline) / (1 << 20)
        res["rss_peak_mb"] = (_rss_peak() - baseline) / (1 << 20) if peak_known else float("nan")
        if engine == "lsm":
            stats = db.stats()
            res["sstables"] = stats["sstables"]
            res["cache_mb"] = stats["cache_bytes"] / (1 << 20)
            res["cache_meta_mb"] = stats["cache_meta_bytes"] / (1 << 20)
            res["bound_mb"] = stats["memory_bound"] / (1 << 20)
        else:
            # sqlite3's own bound: its page cache (cache_size, in KiB when negative)
            (cache_size,) = db.con.execute("PRAGMA cache_size").fetchone()
            res["bound_mb"] = (-cache_size * 1024 if cache_size < 0 else cache_size * 4096) / (1 << 20)
        db.close()
        res["store_mb"] = _du(path) / (1 << 20)
        t = time.perf_counter()
        db = _open(engine, path)
        db.get(keys[0])
        res["reopen_s"] = time.perf_counter() - t
        db.close()
    finally:
        shutil.rmtree(path, ignore_errors=True)
    out.put(res)


def _settle(db: DB) -> None:
    """Wait until background flushes and the compaction they triggered are done."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        stats = db.stats()
        if not (stats["frozen_memtables"] or stats["compaction_running"] or stats["compaction_pending"]):
            return
        time.sleep(0.2)


def _du(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def _big_writer(path: str) -> None:
    """Child: write BIG_MB of 16 B -> 1000 B, report, then wait to be killed."""
    db = DB.open(path)
    rng = random.Random(3)
    value = rng.randbytes(1000)
    n = BIG_MB * (1 << 20) // 1016
    for lo in range(0, n, 500):
        db.write_batch([(rng.randbytes(16), value) for _ in range(min(500, n - lo))])
    print(f"    big store written: {n} keys", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


def _recovery() -> dict[str, float]:
    path = tempfile.mkdtemp(prefix="bench-lsm-big-")
    try:
        t = time.perf_counter()
        child = multiprocessing.get_context("fork").Process(target=_big_writer, args=(path,))
        child.start()
        child.join()
        build = time.perf_counter() - t
        size = _du(path)
        wal = _du(os.path.join(path, "wal"))
        t = time.perf_counter()
        db = DB.open(path)
        opened = time.perf_counter() - t
        stats = db.stats()
        db.close()
        return {
            "size_mb": size / (1 << 20),
            "wal_mb": wal / (1 << 20),
            "build_s": build,
            "open_s": opened,
            "sstables": stats["sstables"],
        }
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _in_child(fn: Callable[..., None], *args: object) -> dict[str, float]:
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=fn, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result  # type: ignore[no-any-return]


def _vs_bound(res: dict[str, float]) -> str:
    peak, bound = res["rss_peak_mb"], res["bound_mb"]
    return f"{peak:,.1f} / {bound:,.1f} ({peak / bound:.0%})"


def main() -> None:
    print(
        f"keys: {KEYS} x (16 B -> {VALUE} B); single puts: {SINGLE}; batches of {BATCH}; gets: {GETS}; "
        f"mixed: {MIXED} x (put + get)\n"
    )
    lsm = _in_child(_run_engine, "lsm")
    sql = _in_child(_run_engine, "sqlite")
    print("| figure | lsm | sqlite3 (WAL, synchronous=NORMAL) | lsm / sqlite3 |")
    print("|---|---:|---:|---:|")
    rows = [
        ("random put, single (ops/s)", "put_single", "{:,.0f}"),
        ("  same, per CPU second", "put_single_cpu", "{:,.0f}"),
        ("random put, batched x1000, incl. settling compaction (ops/s)", "put_batched", "{:,.0f}"),
        ("  same, per CPU second", "put_batched_cpu", "{:,.0f}"),
        ("random get (ops/s)", "get", "{:,.0f}"),
        ("  same, per CPU second", "get_cpu", "{:,.0f}"),
        ("mixed overwrite + get, caches full, incl. settling (ops/s)", "mixed", "{:,.0f}"),
        ("  same, per CPU second", "mixed_cpu", "{:,.0f}"),
        ("full scan (MB/s of key+value)", "scan_mb_s", "{:,.1f}"),
        ("  same, per CPU second", "scan_mb_s_cpu", "{:,.1f}"),
        ("reopen after close (s)", "reopen_s", "{:.3f}"),
        ("store size on disk (MB)", "store_mb", "{:,.1f}"),
        ("RSS growth at the end (MiB)", "rss_mb", "{:,.1f}"),
    ]
    for label, name, fmt in rows:
        ratio = lsm[name] / sql[name] if sql[name] else float("nan")
        print(f"| {label} | {fmt.format(lsm[name])} | {fmt.format(sql[name])} | {ratio:.2f}x |")
    print(
        f"| steady RSS growth: peak over the run / memory bound (MiB) | {_vs_bound(lsm)} | {_vs_bound(sql)} "
        f"| {'within' if lsm['rss_peak_mb'] <= lsm['bound_mb'] else 'OVER'} the lsm bound |"
    )
    options = DBOptions()
    print(
        f"\nlsm after the run: {lsm['sstables']:.0f} SSTables; cache {lsm['cache_mb']:.1f} MiB used, of which "
        f"{lsm['cache_meta_mb']:.1f} MiB indexes + filters. Bound {lsm['bound_mb']:.0f} MiB = "
        f"(1 + {MAX_FROZEN_MEMTABLES} frozen) x {options.memtable_bytes >> 20} MiB memtables + "
        f"{options.block_cache_bytes >> 20} MiB cache (blocks, indexes, filters at their real memory); "
        f"sqlite3's bound is its page cache."
    )
    if BIG_MB:
        big = _recovery()
        print("\n| recovery after SIGKILL | value |")
        print("|---|---:|")
        print(f"| store size (MB) | {big['size_mb']:,.0f} |")
        print(f"| of which WAL to replay (MB) | {big['wal_mb']:,.1f} |")
        print(f"| write time of the store (s) | {big['build_s']:,.1f} |")
        print(f"| DB.open time (s) | {big['open_s']:.2f} |")
        print(f"| SSTables at open | {big['sstables']:.0f} |")

