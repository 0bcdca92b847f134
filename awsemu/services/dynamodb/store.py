"""The DynamoDB data layer over lsm: table records, items, index entries and statistics.

Every item change goes through :meth:`TableStore.commit`, which turns a list of
(old item, new item) changes into one atomic lsm ``write_batch``: the item rows, the entries of
every secondary index whose key the item carries, the table statistics, and stream records. One
batch per request (or per transaction) is what makes a crash leave all or nothing.

Writers of a table serialize on that table's lock (conditional writes read, check and write);
readers take no lock: an lsm read sees a batch entirely or not at all.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from decimal import Decimal
from typing import Any, Callable, Iterator

from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.attribute_values import item_size
from awsemu.services.dynamodb.records import IndexRecord, TableRecord, dump_item, load_item
from awsemu.storage.lsm import DBClosedError

Item = dict[str, dict[str, Any]]
TTL_HORIZON = 5 * 365 * 24 * 3600


class Change:
    """One item write inside a commit: ``old``/``new`` None mean absent."""

    __slots__ = ("table", "key", "old", "new", "by_ttl", "row", "_new_size", "_old_size")

    def __init__(
        self, table: TableRecord, key: Item, old: Item | None, new: Item | None, by_ttl: bool = False,
        row: bytes | None = None, new_size: int | None = None,
    ) -> None:
        self.table = table
        self.key = key
        self.old = old
        self.new = new
        self.by_ttl = by_ttl  # a TTL deletion: its stream record names the service as the actor
        self.row = row  # the item's lsm key, when the caller already built it
        self._new_size = new_size  # known when the caller checked the item (check_item sizes it)
        self._old_size: int | None = None

    @property
    def new_size(self) -> int:
        """Size of the new item (0 if none), computed once whoever asks first."""
        if self._new_size is None:
            self._new_size = item_size(self.new) if self.new is not None else 0
        return self._new_size

    @property
    def old_size(self) -> int:
        if self._old_size is None:
            self._old_size = item_size(self.old) if self.old is not None else 0
        return self._old_size


def index_key_of(index: IndexRecord, item: Item) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
    """The index key of an item, or None if the item does not carry it (sparse index)."""
    schema = index.schema
    hv = item.get(schema.hash_name)
    if hv is None or schema.hash_type not in hv:
        return None
    if schema.range_name is None:
        return hv, None
    rv = item.get(schema.range_name)
    if rv is None or schema.range_type not in rv:
        return None
    return hv, rv


def expiry_of(table: TableRecord, item: Item | None) -> Decimal | None:
    """The TTL time of an item: its TTL attribute if that is a Number, else none."""
    if item is None or table.ttl_attribute is None:
        return None
    value = item.get(table.ttl_attribute)
    if value is None or "N" not in value:
        return None
    return Decimal(value["N"])


def project_for_index(table: TableRecord, index: IndexRecord, item: Item) -> Item:
    if index.projection_type == "ALL":
        return item
    wanted = set(table.schema.names) | set(index.schema.names)
    if index.projection_type == "INCLUDE":
        wanted |= set(index.non_key_attributes)
    return {k: v for k, v in item.items() if k in wanted}


class TableStore:
    def __init__(self, db: Any) -> None:
        self.db = db
        self._tables: dict[tuple[str, str, str], TableRecord] = {}
        self._stats: dict[tuple[str, str], list[int]] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._meta_lock = threading.RLock()
        self._sweeper: threading.Thread | None = None
        self._sweep_again = False
        self._closing = False
        # Item rows that a running transaction is writing: others touching them conflict, as in DynamoDB.
        self._inflight: set[bytes] = set()
        # Seconds a new table, or an index added by UpdateTable, stays CREATING (0: as short as
        # possible, as tests usually want).
        self.creating_seconds = 0.0
        # Wakes the background builder of indexes added by UpdateTable (backfill.IndexBuilder).
        self.index_builds_pending: Callable[[], None] | None = None
        # Hooks run inside commit to add rows to the same batch (streams, the point-in-time change log).
        self.batch_hooks: list[Callable[[list[Change], list[tuple[bytes, bytes | None]]], None]] = []
        # Hooks run by drop_table before the table goes (a deleted PITR table's system backup, policies).
        self.drop_hooks: list[Callable[[TableRecord], None]] = []

    # --- tables ---------------------------------------------------------------------------------

    def table(self, account: str, region: str, name: str) -> TableRecord | None:
        cache_key = (account, region, name)
        record = self._tables.get(cache_key)
        if record is not None:
            return record
        raw = self.db.get(keys.table_key(account, region, name))
        if raw is None:
            return None
        record = TableRecord.from_json(raw)
        self._tables[cache_key] = record
        return record

    def save_table(self, record: TableRecord, extra: list[tuple[bytes, bytes | None]] | None = None) -> None:
        if record.requested_as is not None:
            # A copy made from a request that named the table by ARN: the cache keeps a plain record.
            record = copy.copy(record)
            del record.requested_as
        ops: list[tuple[bytes, bytes | None]] = [(keys.table_key(record.account, record.region, record.name), record.to_json())]
        self.db.write_batch(ops + (extra or []))
        self._tables[(record.account, record.region, record.name)] = record

    def drop_table(self, record: TableRecord) -> None:
        for hook in self.drop_hooks:
            hook(record)
        ops: list[tuple[bytes, bytes | None]] = [
            (keys.table_key(record.account, record.region, record.name), None),
            (keys.dropped_key(record.uid), b"1"),
        ]
        if record.stream_label is not None:
            ops.append(retire_stream(record))
        self.db.write_batch(ops)
        self._tables.pop((record.account, record.region, record.name), None)
        self.start_sweep()

    def start_sweep(self) -> None:
        """Sweep dropped tables' rows in the background (one sweeper at a time, joined at stop)."""
        with self._meta_lock:
            if self._sweeper is not None and self._sweeper.is_alive():
                self._sweep_again = True
                return
            self._sweep_again = False
            self._sweeper = threading.Thread(target=self._sweep_loop, name="ddb-drop-sweep", daemon=True)
            self._sweeper.start()

    def _sweep_loop(self) -> None:
        try:
            while True:
                self.sweep_dropped()
                with self._meta_lock:
                    if not self._sweep_again or self._closing:
                        return
                    self._sweep_again = False
        except DBClosedError:
            return  # shutting down; the markers stay and the sweep resumes at the next start

    def stop_sweeps(self) -> None:
        self._closing = True
        sweeper = self._sweeper
        if sweeper is not None:
            sweeper.join(timeout=30)

    def sweep_dropped(self) -> None:
        """Delete the rows of dropped tables (resumed at start after a crash)."""
        start, end = keys.dropped_range()
        for key, _ in list(self.db.scan(start, end)):
            if self._closing:
                return
            uid = keys.uid_of_dropped(key)
            keep_streams = any(r.uid == uid for r in self.retired_streams())
            with self.lock(uid):
                for prefix_start, prefix_end in keys.table_data_ranges(uid, keep_streams):
                    while True:
                        batch = [(k, None) for k, _ in self.db.scan(prefix_start, prefix_end, limit=2000)]
                        if not batch:
                            break
                        self.db.write_batch(batch)
                self.db.write_batch([(key, None)])
                for stat in [s for s in self._stats if s[0] == uid]:
                    self._stats.pop(stat, None)

    def retired_streams(self, account: str | None = None, region: str | None = None) -> list[TableRecord]:
        """Streams of deleted tables (and replaced stream labels), kept readable for 24 hours. Each is
        the table record as it was, with the stream disabled and ``retired`` set to when it stopped."""
        return [TableRecord.from_json(raw) for _, raw in self.db.scan(*keys.retired_streams_range(account, region))]

    def list_tables(self, account: str, region: str) -> list[str]:
        start, end = keys.tables_range(account, region)
        names = []
        for _, raw in self.db.scan(start, end):
            names.append(json.loads(raw)["name"])
        return names

    def all_tables(self) -> list[TableRecord]:
        start, end = keys.all_tables_range()
        return [TableRecord.from_json(raw) for _, raw in self.db.scan(start, end)]

    def lock(self, uid: str) -> threading.RLock:
        lock = self._locks.get(uid)
        if lock is None:
            with self._meta_lock:
                lock = self._locks.setdefault(uid, threading.RLock())
        return lock

    def begin_transaction(self, rows: list[bytes]) -> list[bool]:
        """Claim ``rows`` for a transaction; returns which were already claimed (then claims none)."""
        with self._meta_lock:
            busy = [row in self._inflight for row in rows]
            if not any(busy):
                self._inflight.update(rows)
            return busy

    def end_transaction(self, rows: list[bytes]) -> None:
        with self._meta_lock:
            self._inflight.difference_update(rows)

    def in_transaction(self, row: bytes) -> bool:
        return row in self._inflight

    def forget(self) -> None:
        self._tables.clear()
        self._stats.clear()

    # --- statistics -------------------------------------------------------------------------------

    def stats(self, uid: str, index: str = "") -> list[int]:
        """[item count, bytes] of a table (``index`` "") or of one of its indexes."""
        stats = self._stats.get((uid, index))
        if stats is None:
            raw = self.db.get(keys.stats_key(uid, index))
            stats = [int(x) for x in raw.decode().split(",")] if raw else [0, 0]
            self._stats[(uid, index)] = stats
        return stats

    # --- items ------------------------------------------------------------------------------------

    def get_item(self, table: TableRecord, key: Item, row: bytes | None = None) -> Item | None:
        raw = self.db.get(row if row is not None else self.item_key(table, key))
        return None if raw is None else load_item(raw)

    def item_key(self, table: TableRecord, key: Item) -> bytes:
        schema = table.schema
        sk = key[schema.range_name] if schema.range_name is not None else None
        return keys.item_key(table.uid, key[schema.hash_name], sk)

    def commit(self, changes: list[Change], extra: list[tuple[bytes, bytes | None]] | None = None) -> None:
        """Write changes (and ``extra`` rows) atomically; callers hold the locks of the tables involved."""
        ops: list[tuple[bytes, bytes | None]] = list(extra or [])
        touched: dict[tuple[str, str], list[int]] = {}
        for change in changes:
            # The cached record is the latest (UpdateTable may have added an index since the caller looked).
            latest = self._tables.get((change.table.account, change.table.region, change.table.name))
            table = latest if latest is not None and latest.uid == change.table.uid else change.table
            change.table = table
            old, new = change.old, change.new
            row = change.row if change.row is not None else self.item_key(table, change.key)
            ops.append((row, None if new is None else dump_item(new)))
            stats = touched.get((table.uid, ""))
            if stats is None:
                stats = touched[(table.uid, "")] = list(self.stats(table.uid))
            if old is not None:
                stats[0] -= 1
                stats[1] -= change.old_size
            if new is not None:
                stats[0] += 1
                stats[1] += change.new_size
            if table.ttl_attribute is not None:
                old_exp, new_exp = expiry_of(table, old), expiry_of(table, new)
                if old_exp is not None and old_exp != new_exp:
                    ops.append((keys.expiry_key(table.uid, old_exp, row), None))
                if new_exp is not None:
                    ops.append((keys.expiry_key(table.uid, new_exp, row), row))
            if table.gsis or table.lsis:
                for index in table.gsis + table.lsis:
                    old_row, new_row = self._index_ops(table, index, change.key, old, new, ops)
                    self._count(touched, table.uid, index.name, old_row, new_row)
        for (uid, index), stats in touched.items():
            ops.append((keys.stats_key(uid, index), f"{stats[0]},{stats[1]}".encode()))
        for hook in self.batch_hooks:
            hook(changes, ops)
        self.db.write_batch(ops)
        self._stats.update(touched)

    def _count(
        self, touched: dict[tuple[str, str], list[int]], uid: str, index: str, old: Item | None, new: Item | None
    ) -> None:
        if old is None and new is None:
            return
        stats = touched.get((uid, index))
        if stats is None:
            stats = touched[(uid, index)] = list(self.stats(uid, index))
        if old is not None:
            stats[0] -= 1
            stats[1] -= item_size(old)
        if new is not None:
            stats[0] += 1
            stats[1] += item_size(new)

    def _index_ops(
        self, table: TableRecord, index: IndexRecord, key: Item, old: Item | None, new: Item | None,
        ops: list[tuple[bytes, bytes | None]],
    ) -> tuple[Item | None, Item | None]:
        """Rows to drop/write for one index; returns the (old, new) projected rows for statistics."""
        schema = table.schema
        pk = key[schema.hash_name]
        sk = key[schema.range_name] if schema.range_name is not None else None
        old_key = index_key_of(index, old) if old is not None else None
        new_key = index_key_of(index, new) if new is not None else None
        if old_key is not None and index.status == "CREATING":
            # Being built: the old item has an entry only if the build (or a write since the
            # index was added) already made it; otherwise there is nothing to drop or uncount.
            if self.db.get(keys.index_key(table.uid, index.name, old_key[0], old_key[1], pk, sk)) is None:
                old_key = None
        old_row = project_for_index(table, index, old) if old_key is not None and old is not None else None
        new_row = project_for_index(table, index, new) if new_key is not None and new is not None else None
        if old_key is not None and (new_key is None or new_key != old_key):
            ops.append((keys.index_key(table.uid, index.name, old_key[0], old_key[1], pk, sk), None))
        if new_key is not None and new_row is not None:
            ops.append((keys.index_key(table.uid, index.name, new_key[0], new_key[1], pk, sk), dump_item(new_row)))
        return old_row, new_row

    def backfill_chunk(self, table: TableRecord, index: IndexRecord, start: bytes, limit: int = 500) -> bytes | None:
        """Index up to ``limit`` items from row ``start`` on; returns where to go on, None when done.

        Callers hold the table's lock. An item that already has its entry (written by a commit
        since the index was added, or by an earlier run of a build resumed after a restart) is
        skipped, so the entries and the index statistics are each counted once."""
        _, end = keys.items_range(table.uid)
        ops: list[tuple[bytes, bytes | None]] = []
        touched: dict[tuple[str, str], list[int]] = {}
        last = None
        for row, raw in self.db.scan(start, end, limit=limit):
            last = row
            item = load_item(raw)
            key = {n: item[n] for n in table.schema.names}
            index_key = index_key_of(index, item)
            if index_key is None:
                continue
            sk = key[table.schema.range_name] if table.schema.range_name is not None else None
            entry = keys.index_key(table.uid, index.name, index_key[0], index_key[1], key[table.schema.hash_name], sk)
            if self.db.get(entry) is not None:
                continue
            _, projected = self._index_ops(table, index, key, None, item, ops)
            self._count(touched, table.uid, index.name, None, projected)
        for (uid, name), stats in touched.items():
            ops.append((keys.stats_key(uid, name), f"{stats[0]},{stats[1]}".encode()))
        if ops:
            self.db.write_batch(ops)
            self._stats.update(touched)
        return None if last is None else keys.after(last)

    def backfill_expiry(self, table: TableRecord) -> None:
        """Index every item's TTL time (UpdateTimeToLive enabled on a table with items)."""
        start, end = keys.items_range(table.uid)
        with self.lock(table.uid):
            ops: list[tuple[bytes, bytes | None]] = []
            for row, raw in list(self.db.scan(start, end)):
                expires = expiry_of(table, load_item(raw))
                if expires is not None:
                    ops.append((keys.expiry_key(table.uid, expires, row), row))
                if len(ops) >= 1000:
                    self.db.write_batch(ops)
                    ops = []
            if ops:
                self.db.write_batch(ops)

    def drop_expiry_rows(self, table: TableRecord) -> None:
        start = keys.expiry_range(table.uid, Decimal(0))[0]
        end = keys.prefix_end(start)
        while True:
            batch = [(k, None) for k, _ in self.db.scan(start, end, limit=2000)]
            if not batch:
                return
            self.db.write_batch(batch)

    def expire(self, table: TableRecord, now_seconds: float, limit: int = 1000) -> int:
        """Delete items whose TTL time has passed; returns how many were deleted."""
        # DynamoDB leaves alone items whose TTL time is more than five years in the past.
        start, end = keys.expiry_range(table.uid, Decimal(int(now_seconds)), Decimal(int(now_seconds) - TTL_HORIZON))
        deleted = 0
        with self.lock(table.uid):
            changes = []
            stale: list[tuple[bytes, bytes | None]] = []
            for entry, row in list(self.db.scan(start, end, limit=limit)):
                raw = self.db.get(row)
                if raw is None:
                    stale.append((entry, None))
                    continue
                item = load_item(raw)
                expires = expiry_of(table, item)
                if expires is None or expires > now_seconds:
                    continue
                changes.append(Change(table, {n: item[n] for n in table.schema.names}, item, None, by_ttl=True))
            if changes or stale:
                self.commit(changes, stale)
                deleted = len(changes)
        return deleted

    def drop_index_rows(self, table: TableRecord, index_name: str) -> None:
        self.db.write_batch([(keys.stats_key(table.uid, index_name), None)])
        self._stats.pop((table.uid, index_name), None)
        start, end = keys.index_range(table.uid, index_name)
        while True:
            batch = [(k, None) for k, _ in self.db.scan(start, end, limit=2000)]
            if not batch:
                return
            self.db.write_batch(batch)

    def scan_rows(self, start: bytes, end: bytes, reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        return iter(self.db.scan(start, end, reverse=reverse))


def now() -> float:
    return time.time()


def retire_stream(record: TableRecord) -> tuple[bytes, bytes]:
    """The row keeping a stream readable after its table is deleted or its stream replaced."""
    retired = copy.deepcopy(record)
    retired.stream_enabled = False
    retired.retired = now()
    return keys.retired_stream_key(record.account, record.region, record.name, record.stream_label or ""), retired.to_json()
