"""Blob store throughput and memory versus a plain file on the same disk.

A 256 MiB body (set ``AWSEMU_BENCH_BLOB_MIB`` to change it) is written from 1 MiB chunks and
read back whole, once through the blob store (4+2 zfec, 1 MiB stripes, MD5 on the way, CRC32C on
every shard block) and once as a plain file written and read with 1 MiB ``write``/``read`` calls in
the same directory. Each figure is the best of three runs.

Three comparisons:
- page cache: nothing is fsynced (the store's default ``fsync=False``); reads hit the page cache.
- durable: the plain file is fsynced before the clock stops, the store runs with ``fsync=True``.
- cold read: the files are evicted from the page cache (``posix_fadvise(DONTNEED)``, only our
  own files) before reading, so both reads come from the disk.

The write path must compute the body's MD5 (the ETag), and MD5 is sequential: it runs on one core
whatever else the store does in parallel. So the MD5 of the body alone, timed in the same run,
is the ceiling for any write through the store, and the table gives it as a row of its own
("write ceiling: MD5 alone") next to the write it bounds. The CPU table below adds the other work
every write does (zfec parity, CRC32C of every block), each alone on one core, and the rate all
of it would allow if it were split perfectly over two cores (computed from the measured rates).

Peak RSS growth is sampled every 2 ms during each phase by a thread (psutil) and reported above
the RSS right before the phase; the store's bound is a few stripes (each write lane has at most 2
stripes queued besides the one it works on; a read has at most 3 stripes read ahead plus the one
the consumer holds).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import psutil

from awsemu.storage.blobs import BlobStore, codec
from awsemu.storage.blobs.checksums import crc32c
from awsemu.storage.lsm import DB

MiB = 1 << 20
SIZE = int(os.environ.get("AWSEMU_BENCH_BLOB_MIB", "256")) * MiB
RUNS = 3


class PeakRss:
    """Samples this process's RSS on a thread; ``growth`` is the peak above the starting RSS."""

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self.start_rss: int = self._proc.memory_info().rss
        self.peak: int = self.start_rss
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.start_rss


def evict(paths: Iterator[Path]) -> None:
    """Drop our own files from the page cache (they must be clean: sync first)."""
    os.sync()
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def measure(fn: Callable[[], None]) -> tuple[float, int]:
    """(seconds, peak RSS growth) of one run."""
    os.sync()  # earlier phases' dirty pages must not throttle this one
    with PeakRss() as rss:
        started = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - started
    return elapsed, rss.growth


def plain_write(path: Path, chunk: bytes, fsync: bool) -> None:
    with open(path, "wb") as f:
        for _ in range(SIZE // len(chunk)):
            f.write(chunk)
        if fsync:
            f.flush()
            os.fsync(f.fileno())


def plain_read(path: Path) -> None:
    with open(path, "rb", buffering=0) as f:
        while f.read(MiB):
            pass


async def body(chunk: bytes) -> AsyncIterator[bytes]:
    for _ in range(SIZE // len(chunk)):
        yield chunk


def store_write(store: BlobStore, chunk: bytes, out: list[str]) -> None:
    ref = asyncio.run(store.write(body(chunk)))
    assert ref.size == SIZE
    out.append(ref.blob_id)


def store_read(store: BlobStore, blob_id: str) -> None:
    async def go() -> int:
        n = 0
        async for piece in store.read(blob_id):
            n += len(piece)
        return n

    assert asyncio.run(go()) == SIZE


def md5_alone(chunk: bytes) -> None:
    md5 = hashlib.md5()
    for _ in range(SIZE // len(chunk)):
        md5.update(chunk)


def best(results: list[tuple[float, int]]) -> tuple[float, int]:
    """Best throughput (MiB/s) and the largest RSS growth seen over the runs."""
    return SIZE / MiB / min(t for t, _ in results), max(g for _, g in results)


def run_mode(root: Path, chunk: bytes, *, fsync: bool, cold: bool) -> dict[str, tuple[float, int]]:
    plain = root / "plain.bin"
    db = DB.open(root / "meta")
    store = BlobStore.open(db, root, fsync=fsync)
    figures: dict[str, list[tuple[float, int]]] = {
        "plain_w": [],
        "plain_r": [],
        "store_w": [],
        "store_r": [],
        "md5": [],
    }
    try:
        for _ in range(RUNS):
            figures["plain_w"].append(measure(lambda: plain_write(plain, chunk, fsync)))
            if cold:
                evict(iter([plain]))
            figures["plain_r"].append(measure(lambda: plain_read(plain)))
            plain.unlink()
            ids: list[str] = []
            if not fsync:  # the ceiling of the page-cache write, timed between the runs it bounds
                figures["md5"].append(measure(lambda: md5_alone(chunk)))
            figures["store_w"].append(measure(lambda: store_write(store, chunk, ids)))  # noqa: B023
            if cold:
                evict(p for d in store.drives for p in d.rglob("*.*") if p.is_file())
            blob_id = ids[0]
            figures["store_r"].append(measure(lambda: store_read(store, blob_id)))  # noqa: B023
            store.collect_garbage(grace_s=0)  # unreferenced: frees the shards for the next run
    finally:
        store.close()
        db.close()
    return {k: best(v) for k, v in figures.items() if v}


def cpu_bounds(chunk: bytes) -> dict[str, float]:
    """MiB/s of the CPU work every write must do, alone on one core: they bound the write rate."""
    out: dict[str, float] = {}
    md5 = hashlib.md5()
    started = time.perf_counter()
    for _ in range(SIZE // len(chunk)):
        md5.update(chunk)
    out["MD5 (hashlib, one core)"] = SIZE / MiB / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(SIZE // len(chunk)):
        codec.encode(codec.split(chunk, 4), 4, 2)
    out["zfec 4+2 parity (one core)"] = SIZE / MiB / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(SIZE // len(chunk)):
        crc32c(chunk)
    out["CRC32C (awscrt, one core)"] = SIZE / MiB / (time.perf_counter() - started)
    return out


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="awsemu-bench-blobs-", dir=os.environ.get("AWSEMU_BENCH_DIR")))
    chunk = os.urandom(MiB)
    bounds = cpu_bounds(chunk)
    try:
        rows: list[tuple[str, dict[str, tuple[float, int]]]] = [
            ("page cache (no fsync)", run_mode(root / "warm", chunk, fsync=False, cold=False)),
            ("durable (fsync)", run_mode(root / "durable", chunk, fsync=True, cold=True)),
        ]
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(
        f"{SIZE // MiB} MiB body, 1 MiB chunks, 4+2 shards, 1 MiB stripes, best of {RUNS}; dir: {root.parent}"
    )
    print()
    print(
        "| mode | op | plain file MiB/s | blob store MiB/s | store/plain | target "
        "| plain peak RSS growth | store peak RSS growth |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for mode, f in rows:
        read_label = "read (cold: evicted)" if mode.startswith("durable") else "read (warm)"
        ops = [("write", "plain_w", "store_w", 0.5), (read_label, "plain_r", "store_r", 0.6)]
        if mode.startswith("page cache"):
            ops.insert(1, ("write ceiling: MD5 alone, one core", "plain_w", "md5", 0.5))
        for op, pk, sk, target in ops:
            p, s = f[pk], f[sk]
            ratio = s[0] / p[0]
            mark = "ok" if ratio >= target else "below"
            print(
                f"| {mode} | {op} | {p[0]:.0f} | {s[0]:.0f} | {ratio:.0%} | {target:.0%} ({mark}) "
                f"| {p[1] / MiB:.1f} MiB | {s[1] / MiB:.1f} MiB |"
            )
    print()
    print("| CPU work per body, alone | MiB/s |")
    print("|---|---:|")
    for name, rate in bounds.items():
        print(f"| {name} | {rate:.0f} |")
    # every write does all of this per body byte; spread perfectly over two cores it cannot go
    # faster than this (page-cache writes and CRC32C cover data and parity: 1.5x the body)
    n = 1 + 2 / 4  # k + m blocks for every k of body
    per_mib = (
        1 / bounds["MD5 (hashlib, one core)"]
        + 1 / bounds["zfec 4+2 parity (one core)"]
        + n / bounds["CRC32C (awscrt, one core)"]
        + n / rows[0][1]["plain_w"][0]
    )
    label = "all of it (MD5, parity, CRC32C and page-cache writes of 1.5x), split over 2 cores"
    print(f"| {label} | {2 / per_mib:.0f} |")


if __name__ == "__main__":
    main()
