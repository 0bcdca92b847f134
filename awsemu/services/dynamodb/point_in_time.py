"""Point-in-time recovery, as a provider mixin: UpdateContinuousBackups, DescribeContinuousBackups and
RestoreTableToPointInTime, exact to the microsecond anywhere in the recovery window.

While PITR is enabled a table keeps its history in two parts:

- a *base image* (snapshots.py): its items at ``pitr_base_time``, copied when PITR is enabled;
- a *change log*: one row per item change, ``("ddb", "l", uid, stamp, n)`` -> the item (its row
  suffix) and its new image (None: deleted), written by :class:`ChangeLog`, a commit hook, in the
  change's own batch, so the log holds a change if and only if the table does. The stamp is the
  commit's, in microseconds since the epoch, strictly increasing per table (ties broken by +1);
  ``n`` numbers the changes of one commit. Every change of a commit (a transaction, a batch
  write) has the same stamp, so a restore takes all of a transaction or none of it.

The items at time T are the base image with the log's entries up to T replayed on it
(:func:`items_at`), read through one lsm snapshot. The sweep (:meth:`fold`) keeps the history no
longer than the recovery period: log entries older than it are applied to the base image and
deleted in one batch that also moves ``pitr_base_time``.

The window is AWS's: EarliestRestorableDateTime is when PITR was enabled (or the start of the
recovery period), LatestRestorableDateTime is ``lag_seconds`` (5 minutes, "typically" in the API
reference) before now, never before the earliest; right after enabling both are the enabling time.
Times are reported to the millisecond (the wire format), the earliest rounded up and the latest
down, so a reported bound is always a valid RestoreDateTime.

Disabling PITR drops the history (re-enabling starts a new window, as AWS documents). Deleting a
table with PITR enabled makes a SYSTEM backup of it (``<table>$DeletedTableBackup``, kept 35 days).
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from datetime import datetime, timezone
from typing import Any, Iterator

from awsemu.services.base import CallContext
from awsemu.services.dynamodb import keys, snapshots
from awsemu.services.dynamodb.backups import make_backup, restore_response
from awsemu.services.dynamodb.errors import (
    InvalidRestoreTimeException,
    PointInTimeRecoveryUnavailableException,
    TableNotFoundException,
    ValidationException,
)
from awsemu.services.dynamodb.records import TableRecord, dump_item, load_item
from awsemu.services.dynamodb.store import Change, TableStore
from awsemu.services.dynamodb.tables import check_table_name, lookup_table

Item = dict[str, dict[str, Any]]
LAG_SECONDS = 300.0
DAY = 86400.0


def log_key(uid: str, stamp: int, n: int | None = None) -> bytes:
    """A log row; without ``n``, the bound before every row of ``stamp``."""
    return keys.encode((keys.PREFIX, "l", uid, stamp) if n is None else (keys.PREFIX, "l", uid, stamp, n))


def log_range(uid: str) -> tuple[bytes, bytes]:
    start = keys.encode((keys.PREFIX, "l", uid))
    return start, keys.prefix_end(start)


def base_image(uid: str) -> str:
    return f"pitr-{uid}"


class ChangeLog:
    """The commit hook writing the change log of every table with PITR enabled."""

    def __init__(self, store: TableStore) -> None:
        self.store = store
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()
        store.batch_hooks.append(self.add_entries)

    def _stamp(self, uid: str) -> int:
        last = self._last.get(uid)
        if last is None:
            last = 0
            for key, _ in self.store.db.scan(*log_range(uid), reverse=True, limit=1):
                last = int(keys.decode(key)[3])
        stamp = max(int(time.time() * 1_000_000), last + 1)
        self._last[uid] = stamp
        return stamp

    def add_entries(self, changes: list[Change], ops: list[tuple[bytes, bytes | None]]) -> None:
        stamps: dict[str, int] = {}  # this commit's stamp, per table
        n = 0
        for change in changes:
            table = change.table
            if not table.point_in_time_recovery:
                continue
            stamp = stamps.get(table.uid)
            if stamp is None:
                with self._lock:
                    stamp = stamps[table.uid] = self._stamp(table.uid)
            row = change.row if change.row is not None else self.store.item_key(table, change.key)
            entry = {"k": snapshots.item_suffix(table.uid, row).hex(),
                     "n": None if change.new is None else dump_item(change.new).decode("utf-8")}
            ops.append((log_key(table.uid, stamp, n), json.dumps(entry, separators=(",", ":")).encode()))
            n += 1

    def forget(self) -> None:
        with self._lock:
            self._last.clear()


def items_at(view: Any, uid: str, stamp: int) -> Iterator[Item]:
    """The table's items at ``stamp`` (microseconds): the base image with the log replayed up to it."""
    latest: dict[bytes, str | None] = {}
    start, _ = log_range(uid)
    for _, raw in view.scan(start, log_key(uid, stamp + 1)):
        entry = json.loads(raw)
        latest[bytes.fromhex(entry["k"])] = entry["n"]
    for suffix, raw in snapshots.image_rows(view, base_image(uid)):
        if suffix in latest:
            changed = latest.pop(suffix)
            if changed is not None:
                yield load_item(changed.encode("utf-8"))
            continue
        yield load_item(raw)
    for changed in latest.values():
        if changed is not None:
            yield load_item(changed.encode("utf-8"))


def start_history(store: TableStore, record: TableRecord) -> None:
    """Copy the base image and mark ``record`` (saved by the caller) PITR-enabled from now. The
    caller holds the table's lock: no write falls between the image and the first logged change."""
    drop_history(store.db, record.uid)  # what a crash may have left of an earlier attempt
    with store.db.snapshot() as view:
        snapshots.copy_items(store.db, view, record.uid, base_image(record.uid))
    # The window opens on a whole millisecond (the wire's resolution), passed before the lock is
    # released: restoring to the reported EarliestRestorableDateTime gives exactly the base image.
    since = math.ceil(time.time() * 1000) / 1000
    while time.time() <= since:
        time.sleep(0.0002)
    record.point_in_time_recovery = True
    record.pitr_since = record.pitr_base_time = since


def drop_history(db: Any, uid: str) -> None:
    snapshots.delete_range(db, *log_range(uid))
    snapshots.drop_image(db, base_image(uid))


def window(record: TableRecord, lag: float, now: float | None = None) -> tuple[int, int]:
    """(earliest, latest) restorable time in milliseconds."""
    now = time.time() if now is None else now
    earliest = max(record.pitr_since, record.pitr_base_time, now - record.pitr_period_days * DAY)
    earliest_ms = math.ceil(round(earliest * 1000, 3))  # round first: k / 1000 * 1000 may be k + epsilon
    return earliest_ms, max(earliest_ms, math.floor((now - lag) * 1000))


def _dt_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc)


def continuous_backups(record: TableRecord, lag: float) -> dict[str, Any]:
    if not record.point_in_time_recovery:
        pitr: dict[str, Any] = {"PointInTimeRecoveryStatus": "DISABLED"}
    else:
        earliest, latest = window(record, lag)
        pitr = {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": record.pitr_period_days,
                "EarliestRestorableDateTime": _dt_ms(earliest), "LatestRestorableDateTime": _dt_ms(latest)}
    return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr}


def _source_table(store: TableStore, ctx: CallContext, name: Any, member: str = "tableName") -> TableRecord:
    ref, record = lookup_table(store, ctx, name, member)
    if record is None:
        raise TableNotFoundException(f"Table not found: {ref.given}")
    return record


class PointInTimeOperations:
    # implemented by DynamoDBProvider
    store: TableStore
    pitr_lag_seconds: float

    def describe_continuous_backups(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        record = _source_table(self.store, ctx, p.get("TableName"))
        return {"ContinuousBackupsDescription": continuous_backups(record, self.pitr_lag_seconds)}

    def update_continuous_backups(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        cached = _source_table(self.store, ctx, p.get("TableName"))
        spec = p.get("PointInTimeRecoverySpecification") or {}
        enabled = bool(spec.get("PointInTimeRecoveryEnabled"))
        days = spec.get("RecoveryPeriodInDays")
        if days is not None and not 1 <= days <= 35:
            raise ValidationException(
                f"1 validation error detected: Value '{days}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' "
                "failed to satisfy constraint: Member must have value between 1 and 35"
            )
        store = self.store
        with store.lock(cached.uid):
            latest = store.table(cached.account, cached.region, cached.name)
            if latest is None or latest.uid != cached.uid:
                raise TableNotFoundException(f"Table not found: {cached.name}")
            record = copy.deepcopy(latest)
            if enabled and not record.point_in_time_recovery:
                start_history(store, record)
            record.pitr_period_days = int(days) if days is not None else (record.pitr_period_days if enabled else 35)
            if not enabled and record.point_in_time_recovery:
                record.point_in_time_recovery = False
                record.pitr_since = record.pitr_base_time = 0.0
                store.save_table(record)
                drop_history(store.db, record.uid)
            else:
                store.save_table(record)
        return {"ContinuousBackupsDescription": continuous_backups(record, self.pitr_lag_seconds)}

    def restore_table_to_point_in_time(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        by_name, by_arn = p.get("SourceTableName"), p.get("SourceTableArn")
        if (by_name is None) == (by_arn is None):
            raise ValidationException("Exactly one of SourceTableName or SourceTableArn must be specified")
        source = _source_table(self.store, ctx, by_name if by_name is not None else by_arn,
                               "sourceTableName" if by_name is not None else "sourceTableArn")
        target = check_table_name(p.get("TargetTableName"), "targetTableName")
        use_latest, when = bool(p.get("UseLatestRestorableTime")), p.get("RestoreDateTime")
        if use_latest and when is not None:
            raise ValidationException("Only one of RestoreDateTime or UseLatestRestorableTime can be specified")
        if not source.point_in_time_recovery:
            raise PointInTimeRecoveryUnavailableException(
                f"Point in time recovery is not enabled for table '{source.name}'")
        snapshots.check_target_free(self.store, ctx, target)
        earliest, latest = window(source, self.pitr_lag_seconds)
        if when is None:
            if not use_latest:
                raise ValidationException("Either RestoreDateTime or UseLatestRestorableTime must be specified")
            stamp = latest * 1000
        else:
            stamp = round(when.timestamp() * 1_000_000)
            if not earliest * 1000 <= stamp <= latest * 1000:
                raise InvalidRestoreTimeException(
                    "An invalid restore time was specified. RestoreDateTime must be between "
                    "EarliestRestorableDateTime and LatestRestorableDateTime."
                )
        summary = {"SourceTableArn": source.arn, "RestoreDateTime": stamp / 1_000_000}
        record = snapshots.restored_table(ctx, source, p, summary)
        with self.store.db.snapshot() as view:
            # The history as this view sees it must be the one checked (not disabled or dropped since).
            raw = view.get(keys.table_key(source.account, source.region, source.name))
            seen = TableRecord.from_json(raw) if raw is not None else None
            if seen is None or seen.uid != source.uid or seen.pitr_since != source.pitr_since:
                raise PointInTimeRecoveryUnavailableException(
                    f"Point in time recovery is not enabled for table '{source.name}'")
            snapshots.fill_and_create(self.store, record, items_at(view, source.uid, stamp))
        return restore_response(self.store, record)

    # --- upkeep (start, the provider's sweep, table deletion) ----------------------------------

    def start_missing_histories(self) -> None:
        """Tables whose PITR flag predates the change log (no history yet): their window starts now."""
        for table in self.store.all_tables():
            if table.point_in_time_recovery and not table.pitr_since:
                with self.store.lock(table.uid):
                    latest = self.store.table(table.account, table.region, table.name)
                    if latest is not None and latest.uid == table.uid and not latest.pitr_since:
                        record = copy.deepcopy(latest)
                        start_history(self.store, record)
                        self.store.save_table(record)

    def fold_point_in_time_logs(self, now: float | None = None) -> None:
        """Apply change log entries older than each table's recovery period to its base image."""
        now = time.time() if now is None else now
        for table in self.store.all_tables():
            if table.point_in_time_recovery:
                while fold(self.store, table, now):
                    pass

    def on_table_drop(self, record: TableRecord) -> None:
        """A deleted table with PITR keeps a SYSTEM backup; its history goes (also what a crash
        while PITR was being enabled or disabled may have left)."""
        if record.point_in_time_recovery:
            make_backup(self.store, record, f"{record.name}$DeletedTableBackup", "SYSTEM")
        drop_history(self.store.db, record.uid)


def fold(store: TableStore, table: TableRecord, now: float, limit: int = 1000) -> bool:
    """Fold up to ``limit`` old log entries into the base image; True if more remain."""
    cutoff = int((now - table.pitr_period_days * DAY) * 1_000_000)
    if table.pitr_base_time * 1_000_000 >= cutoff:
        return False
    with store.lock(table.uid):
        latest = store.table(table.account, table.region, table.name)
        if latest is None or latest.uid != table.uid or not latest.point_in_time_recovery:
            return False
        start, _ = log_range(table.uid)
        entries = list(store.db.scan(start, log_key(table.uid, cutoff), limit=limit))
        prefix = snapshots.image_prefix(base_image(table.uid))
        rows: dict[bytes, bytes | None] = {}
        ops: list[tuple[bytes, bytes | None]] = []
        for key, raw in entries:
            entry = json.loads(raw)
            rows[prefix + bytes.fromhex(entry["k"])] = None if entry["n"] is None else entry["n"].encode("utf-8")
            ops.append((key, None))
        record = copy.deepcopy(latest)
        more = len(entries) == limit
        record.pitr_base_time = (int(keys.decode(entries[-1][0])[3]) if more else cutoff) / 1_000_000
        store.save_table(record, ops + list(rows.items()))
        return more
