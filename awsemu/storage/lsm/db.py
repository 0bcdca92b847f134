"""DB: the engine's front door — open/recover, the write path, reads, and background work.

Threads and locks:
  _lock (RLock)        guards the in-memory state: memtables, table list, sequence numbers, the
                       writer queue and the snapshot registry. Held only for short, CPU-only steps.
  _flush_lock          one memtable flush at a time.
  _compact_lock        one compaction at a time.
  _manifest_lock       one change of the table set at a time (build state, write MANIFEST, install).
Writers form a queue (group commit, as in LevelDB): the writer at the head becomes the leader,
takes every queued write, appends all their log records with one write system call (and one
fdatasync under "fsync"), then applies them to the memtable under `_lock` and wakes the others.
Flush and compaction run on two background threads (or inline in the writer that triggers them
when ``background_compaction`` is False) and touch `_lock` only to read the state and to install
their result, so reads never wait on them for long.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from awsemu.storage.lsm import recovery, wal
from awsemu.storage.lsm.batch import WriteBatch, as_bytes
from awsemu.storage.lsm.block_cache import BlockCache
from awsemu.storage.lsm.compaction import MAX_RUNS, merge_tables, pick_runs, tier_of
from awsemu.storage.lsm.errors import DBClosedError
from awsemu.storage.lsm.heap import release_free_memory
from awsemu.storage.lsm.manifest import ManifestState, RunMeta, fsync_dir, write_manifest
from awsemu.storage.lsm.memtable import Memtable
from awsemu.storage.lsm.options import MAX_FROZEN_MEMTABLES, DBOptions
from awsemu.storage.lsm.snapshot import Snapshot, View, get_from_tables, scan_once
from awsemu.storage.lsm.sstable import Table, TableBuilder

# Writers also stall at a memtable switch while compaction lets runs pile up beyond this: reads
# and scans slow down with every run, so compaction must keep up (LevelDB's L0 stop trigger).
STALL_RUNS = 2 * MAX_RUNS


class _Writer:
    __slots__ = ("record", "ops", "rotate", "done", "error")

    def __init__(self, record: bytes, ops: Iterable[wal.Op], rotate: bool) -> None:
        self.record = record
        self.ops = ops
        self.rotate = rotate
        self.done = False
        self.error: BaseException | None = None


class _Cancelled(Exception):
    pass


class DB:
    """A durable, ordered bytes -> bytes store. Use `DB.open(path, options)`."""

    def __init__(self, path: str, options: DBOptions) -> None:
        # use DB.open(); the constructor only sets fields
        self.path = path
        self.options = options
        self._lock = threading.RLock()
        self._write_cv = threading.Condition(self._lock)
        self._bg_cv = threading.Condition(self._lock)
        self._flush_lock = threading.Lock()
        self._compact_lock = threading.Lock()
        self._manifest_lock = threading.Lock()
        self._writers: deque[_Writer] = deque()
        self._cache = BlockCache(options.block_cache_bytes)
        self._wal_dir = os.path.join(path, "wal")
        self._seq = 0
        self._next_file = 1
        self._log_number = 0
        self._tables: tuple[Table, ...] = ()
        self._imms: tuple[Memtable, ...] = ()
        self._mem = Memtable(0)
        self._log: wal.LogWriter | None = None
        self._snapshots: dict[int, int] = {}
        # tokens of released snapshots not yet removed from _snapshots (see _release_snapshot)
        self._released: deque[int] = deque()
        self._draining = False
        self._snapshot_ids = 0
        self._keep_seq = -1
        self._closed = False
        self._closing = False
        self._failure: BaseException | None = None
        self._compaction_wanted = False
        self._compacting = False
        # typical size of a flushed run (an estimate until flushes happen): the base of the tiers
        self._flush_size = max(1, options.memtable_bytes // 2)
        self._threads: list[threading.Thread] = []
        self._lock_fd = -1
        self._counters = dict.fromkeys(
            ("writes", "wal_appends", "write_stalls", "flushes", "flush_bytes_written", "compactions", "compaction_bytes_written"),
            0,
        )

    # ------------------------------------------------------------------ open / recovery

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: DBOptions | None = None) -> DB:
        """Open (creating if missing) the store at `path`, replaying its write-ahead log."""
        db = cls(os.fspath(path), options or DBOptions())
        try:
            db._recover()
        except BaseException:
            db._release_files()
            raise
        if db.options.background_compaction:
            db._start_threads()
        return db

    def _recover(self) -> None:
        self._lock_fd = recovery.lock_store(self.path)
        found = recovery.recover(self.path, self._cache, self.options.durability == "fsync")
        self._tables = found.tables
        self._log_number = found.log_number
        self._next_file = found.next_file
        self._mem = found.memtable
        self._seq = found.sequence
        self._log = found.log

    def _release_files(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _table_path(self, number: int) -> str:
        return recovery.table_path(self.path, number)

    def _log_path(self, number: int) -> str:
        return recovery.log_path(self.path, number)

    def _alloc_file(self) -> int:
        with self._lock:
            number = self._next_file
            self._next_file += 1
            return number

    def _manifest_state(self, tables: Iterable[Table], log_number: int) -> ManifestState:
        return ManifestState(
            next_file=self._next_file,
            log_number=log_number,
            runs=[RunMeta(t.number, t.size, t.count, t.smallest, t.largest) for t in tables],
        )

    # ------------------------------------------------------------------ writes

    def put(self, key: bytes, value: bytes) -> None:
        if type(key) is not bytes:
            key = as_bytes(key, "key")
        if type(value) is not bytes:
            value = as_bytes(value, "value")
        self._write(wal.encode_put_record(key, value), ((key, value),), False)

    def delete(self, key: bytes) -> None:
        if type(key) is not bytes:
            key = as_bytes(key, "key")
        ops = ((key, None),)
        self._write(wal.encode_record(ops), ops, False)

    def write_batch(self, ops: WriteBatch | Iterable[tuple[bytes, bytes | None]]) -> None:
        """Apply all operations atomically (a value of None deletes): all or nothing, even across a crash."""
        if isinstance(ops, WriteBatch):
            items = list(ops.ops)
        else:
            items = [
                (as_bytes(k, "key"), None if v is None else as_bytes(v, "value")) for k, v in ops
            ]
        if items:
            self._write(wal.encode_record(items), items, False)

    def _write(self, record: bytes, ops: Iterable[wal.Op], rotate: bool) -> None:
        me = _Writer(record, ops, rotate)
        with self._lock:
            if self._closed:
                raise DBClosedError(f"{self.path}: DB is closed")
            writers = self._writers
            writers.append(me)
            while not me.done and writers[0] is not me:
                self._write_cv.wait()
            if me.done:
                if me.error is not None:
                    raise me.error
                return
            try:
                if self._closed:
                    raise DBClosedError(f"{self.path}: DB is closed")
                self._make_room(rotate)
            except BaseException:
                writers.popleft()
                self._write_cv.notify_all()
                raise
            if rotate:
                writers.popleft()
                self._write_cv.notify_all()
                return
            group = [me]
            if len(writers) > 1:
                for other in list(writers)[1:]:
                    if other.rotate:
                        break
                    group.append(other)
            log = self._log
            assert log is not None
        error: BaseException | None = None
        try:
            log.append(record if len(group) == 1 else b"".join([w.record for w in group]))
        except BaseException as exc:
            error = exc
        with self._lock:
            if error is not None and log.broken:
                self._failure = error  # refuse further writes: see LogWriter.broken
            if error is None:
                mem = self._mem
                keep = self._keep_seq
                seq = self._seq
                put = mem.put
                for w in group:
                    for key, value in w.ops:
                        seq += 1
                        put(key, value, seq, keep)
                self._seq = seq
                counters = self._counters
                counters["writes"] += len(group)
                counters["wal_appends"] += 1
            for w in group:
                writers.popleft()
                w.done = True
                w.error = error
            if writers or len(group) > 1:
                self._write_cv.notify_all()
        if error is not None:
            raise error
        if not self.options.background_compaction and self._imms:
            self._maintain_inline()

    def _make_room(self, force: bool) -> None:
        """Leader only, under _lock: freeze the memtable when full (or forced) and start a new log."""
        while True:
            if self._failure is not None:
                raise RuntimeError(f"{self.path}: store failed, reopen it") from self._failure
            mem = self._mem
            if not force and mem.approx_bytes < self.options.memtable_bytes:
                return
            if force and not mem.entries:
                return
            if self.options.background_compaction and (
                len(self._imms) >= MAX_FROZEN_MEMTABLES or len(self._tables) >= STALL_RUNS
            ):
                self._counters["write_stalls"] += 1
                self._bg_cv.wait()
                continue
            number = self._alloc_file()
            new_log = wal.LogWriter(self._log_path(number), self.options.durability == "fsync")
            if self.options.durability == "fsync":
                fsync_dir(self._wal_dir)
            old_log = self._log
            self._log = new_log
            if old_log is not None:
                old_log.close()
            mem.ensure_sorted()
            self._imms = (mem, *self._imms)
            self._mem = Memtable(number)
            self._bg_cv.notify_all()
            return

    # ------------------------------------------------------------------ reads

    def get(self, key: bytes) -> bytes | None:
        with self._lock:
            if self._closed:
                raise DBClosedError(f"{self.path}: DB is closed")
            entry = self._mem.entries.get(key)
            if entry is not None:
                return entry[1]
            imms = self._imms
            tables = self._tables
        for imm in imms:
            entry = imm.entries.get(key)
            if entry is not None:
                return entry[1]
        return get_from_tables(tables, key)

    def snapshot(self) -> Snapshot:
        """A consistent view for multi-key reads; close it (or use `with`) when done."""
        with self._lock:
            if self._closed:
                raise DBClosedError(f"{self.path}: DB is closed")
            self._drain_releases()
            self._mem.ensure_sorted()
            seq = self._seq
            self._snapshot_ids += 1
            token = self._snapshot_ids
            self._snapshots[token] = seq
            self._keep_seq = seq
            view = View(seq, self._mem, self._imms, self._tables)
        return Snapshot(view, lambda: self._release_snapshot(token))

    def _release_snapshot(self, token: int) -> None:
        """Called by Snapshot.close or by the garbage collector (weakref.finalize), so possibly
        re-entrantly in a thread that already holds _lock (RLock) in the middle of a drain. The
        token goes to a queue; only a non-nested call drains it, so the registry is never
        changed under an iteration of it."""
        self._released.append(token)
        with self._lock:
            if not self._draining:
                self._drain_releases()

    def _drain_releases(self) -> None:
        """Under _lock: forget released snapshots; drop memtable history when none is left."""
        if not self._released:
            return
        self._draining = True
        try:
            while self._released:
                self._snapshots.pop(self._released.popleft(), None)
            if self._snapshots:
                self._keep_seq = max(list(self._snapshots.values()))
            else:
                self._keep_seq = -1
                self._mem.drop_history()
                for imm in self._imms:
                    imm.drop_history()
        finally:
            self._draining = False

    def scan(
        self,
        start: bytes | None = None,
        end: bytes | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> Iterator[tuple[bytes, bytes]]:
        """Items with start <= key < end in key order (descending if reverse), at most `limit`.

        The iterator reads a snapshot taken at call time: writes made while it is consumed are
        not seen by it.
        """
        return scan_once(self.snapshot(), start, end, reverse, limit)

    # ------------------------------------------------------------------ flush / compaction

    def flush(self) -> None:
        """Write the memtable to an SSTable now (blocking)."""
        self._write(b"", (), True)
        self._flush_frozen()

    def compact(self) -> None:
        """Flush, then merge every SSTable into one, dropping overwritten values and tombstones."""
        self.flush()
        with self._compact_lock:
            with self._lock:
                tables = self._tables
            if len(tables) > 1 or (tables and self._has_tombstones(tables[0])):
                self._merge_and_install(tables, drop_tombstones=True)

    @staticmethod
    def _has_tombstones(table: Table) -> bool:
        return any(None in values for _, values in table.iter_blocks(None, None, fill_cache=False))

    def _flush_frozen(self) -> None:
        """Flush every frozen memtable, oldest first."""
        while True:
            with self._flush_lock:
                with self._lock:
                    if not self._imms:
                        return
                    imm = self._imms[-1]
                    imm.ensure_sorted()
                self._flush_memtable(imm)
                del imm  # freed now, unless a snapshot still reads it
            release_free_memory()

    def _flush_memtable(self, imm: Memtable) -> None:
        keys, values = imm.sorted_items()
        table = None
        if keys:
            number = self._alloc_file()
            builder = TableBuilder(
                self._table_path(number), self.options.block_bytes, self.options.bloom_bits_per_key, len(keys)
            )
            try:
                builder.add_many(keys, values)
                builder.finish()
            except BaseException:
                builder.abandon()
                raise
            table = Table(builder.path, number, self._cache)
        with self._manifest_lock:
            with self._lock:
                tables = self._tables if table is None else (table, *self._tables)
                log_number = imm.log_number + 1
                state = self._manifest_state(tables, log_number)
            write_manifest(self.path, state)
            with self._lock:
                self._tables = tables
                self._log_number = log_number
                self._imms = tuple(m for m in self._imms if m is not imm)
                self._counters["flushes"] += 1
                if table is not None:
                    self._counters["flush_bytes_written"] += table.size
                    # tiering is relative to what a flush produces with this workload
                    self._flush_size = (3 * self._flush_size + table.size) // 4
                self._compaction_wanted = True
                self._bg_cv.notify_all()
        for name in os.listdir(self._wal_dir):
            number = recovery.number_of(name, ".log")
            if number is not None and number < log_number:
                try:
                    os.unlink(os.path.join(self._wal_dir, name))
                except FileNotFoundError:
                    pass

    def _compact_once(self) -> bool:
        """Run one policy-chosen compaction; False when there is nothing to do."""
        with self._compact_lock:
            with self._lock:
                tables = self._tables
            choice = pick_runs([t.size for t in tables], self._flush_size)
            if choice is None:
                return False
            lo, hi = choice
            self._compacting = True
            try:
                self._merge_and_install(tables[lo:hi], drop_tombstones=hi == len(tables))
            finally:
                self._compacting = False
            return True

    def _merge_and_install(self, inputs: tuple[Table, ...], drop_tombstones: bool) -> None:
        """Merge `inputs` (adjacent runs, newest first) into one run that takes their place."""
        number = self._alloc_file()
        expected = sum(t.count for t in inputs)
        builder = TableBuilder(
            self._table_path(number), self.options.block_bytes, self.options.bloom_bits_per_key, expected
        )
        try:
            merge_tables(inputs, builder, drop_tombstones, self._check_cancel)
            output = None
            if not builder.empty:
                builder.finish()
                output = Table(builder.path, number, self._cache)
            else:
                builder.abandon()
        except BaseException:
            builder.abandon()
            raise
        gone = {t.number for t in inputs}
        with self._manifest_lock:
            with self._lock:
                current = self._tables
                first = next(i for i, t in enumerate(current) if t.number in gone)
                kept = [t for t in current if t.number not in gone]
                if output is not None:
                    kept.insert(first, output)
                tables = tuple(kept)
                state = self._manifest_state(tables, self._log_number)
            write_manifest(self.path, state)
            with self._lock:
                self._tables = tables
                self._counters["compactions"] += 1
                if output is not None:
                    self._counters["compaction_bytes_written"] += output.size
                self._bg_cv.notify_all()
        for t in inputs:
            # open readers (snapshots, running scans) keep their descriptors; the data stays
            # readable to them until they let go
            try:
                os.unlink(t.path)
            except FileNotFoundError:
                pass
            t.retire()

    def _check_cancel(self) -> None:
        if self._closing:
            raise _Cancelled()

    def _maintain_inline(self) -> None:
        self._flush_frozen()
        while self._compact_once():
            pass

    # ------------------------------------------------------------------ background threads

    def _start_threads(self) -> None:
        for name, target in (("flush", self._flush_loop), ("compact", self._compact_loop)):
            thread = threading.Thread(target=target, name=f"lsm-{name}:{self.path}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _flush_loop(self) -> None:
        while True:
            with self._lock:
                while not self._imms and not self._closing:
                    self._bg_cv.wait()
                if self._closing:
                    return
            try:
                self._flush_frozen()
            except BaseException as exc:
                self._fail(exc)
                return

    def _compact_loop(self) -> None:
        while True:
            with self._lock:
                while not self._compaction_wanted and not self._closing:
                    self._bg_cv.wait()
                if self._closing:
                    return
                self._compaction_wanted = False
            try:
                while self._compact_once():
                    release_free_memory()
            except _Cancelled:
                return
            except BaseException as exc:
                self._fail(exc)
                return

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self._failure = exc
            self._bg_cv.notify_all()

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Stop background work and release files. Acknowledged writes are already in the log."""
        with self._lock:
            if self._closed:
                return
            while self._writers:
                self._write_cv.wait()
            self._closed = True
            self._closing = True
            self._bg_cv.notify_all()
        for thread in self._threads:
            thread.join()
        self._threads = []
        with self._lock:
            self._release_files()

    def __enter__(self) -> DB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def stats(self) -> dict[str, Any]:
        """Counters and sizes. "runs" lists SSTable sizes newest first; "levels" is the number
        of distinct size tiers among them (compaction is size-tiered, see compaction.py)."""
        with self._lock:
            self._drain_releases()
            tables = self._tables
            return {
                "sstables": len(tables),
                "runs": [t.size for t in tables],
                "levels": len({tier_of(t.size, self._flush_size) for t in tables}),
                "bytes": sum(t.size for t in tables),
                "entries_in_tables": sum(t.count for t in tables),
                "memtable_bytes": self._mem.approx_bytes,
                "memtable_entries": len(self._mem),
                "frozen_memtables": len(self._imms),
                "compaction_running": self._compacting,
                "compaction_pending": pick_runs([t.size for t in tables], self._flush_size) is not None,
                "wal_bytes": self._log.size if self._log is not None else 0,
                "sequence": self._seq,
                "live_snapshots": len(self._snapshots),
                "cache_hits": self._cache.hits,
                "cache_misses": self._cache.misses,
                "cache_bytes": self._cache.used,
                "cache_meta_bytes": self._cache.meta_used,
                "cache_meta_loads": self._cache.meta_loads,
                "cache_capacity": self._cache.capacity,
                "memory_bound": self.options.memory_bound,
                **self._counters,
            }


__all__ = ["DB"]
