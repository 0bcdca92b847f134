"""DynamoDB Streams, writer side: stream records are rows of the same lsm batch as the item change.

A stream (one per stream label) is a chain of shards. Records go to the shard of the current
period (4 hours by default, as DynamoDB rolls its shards over; ``shard_seconds`` changes it); a new
period opens a new shard whose parent is the previous one, and the previous one is then closed.
Records are keyed ``("ddb", "q", uid, shard, sequence)`` with a per-table increasing sequence
number, and shards ``("ddb", "h", uid, label, shard)``, so a record exists if and only if its item
change was committed, and a reader is a range scan.

A write that does not change the item (the same PutItem twice) emits nothing, as in DynamoDB;
TTL deletions carry the service identity (``userIdentity`` of type Service, principal
``dynamodb.amazonaws.com``). Records older than 24 hours are trimmed and never returned.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import zlib
from datetime import datetime, timezone
from typing import Any

from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.attribute_values import item_size, values_equal
from awsemu.services.dynamodb.records import TableRecord, dump_item, load_item
from awsemu.services.dynamodb.store import Change, TableStore

RETENTION_SECONDS = 24 * 3600
DEFAULT_SHARD_SECONDS = 4 * 3600


def shard_id_at(record: TableRecord, start: float) -> str:
    """Shard ids sort by their opening time, so a scan lists a stream's shards oldest first. The
    suffix names the stream (table and label): a stream disabled and enabled again within one
    period gets shards of its own, not the retired stream's."""
    stream = zlib.crc32(f"{record.uid}/{record.stream_label}".encode())
    return f"shardId-{int(start * 1000):020d}-{stream:08x}"


def sequence_text(sequence: int) -> str:
    return f"{sequence:021d}"


def shards(store_db: Any, table: TableRecord) -> list[tuple[str, dict[str, Any]]]:
    """(shard id, {"parent", "first"}) of the table's latest stream, oldest first."""
    if table.stream_label is None:
        return []
    start, end = keys.shards_range(table.uid, table.stream_label)
    return [(json.loads(raw)["id"], json.loads(raw)) for _, raw in store_db.scan(start, end)]


def last_sequence(store_db: Any, table: TableRecord, shard: str) -> int | None:
    start, end = keys.stream_range(table.uid, shard)
    for _, raw in store_db.scan(start, end, reverse=True, limit=1):
        return int(json.loads(raw)["seq"])
    return None


class StreamWriter:
    """The commit hook: turns item changes of stream-enabled tables into stream rows."""

    def __init__(self, store: TableStore) -> None:
        self.store = store
        self.shard_seconds = float(DEFAULT_SHARD_SECONDS)
        self._next: dict[str, int] = {}
        self._open: dict[tuple[str, str], str] = {}  # (uid, label) -> the shard being written
        self._lock = threading.Lock()
        store.batch_hooks.append(self.add_records)

    def _sequence(self, table: TableRecord) -> int:
        nxt = self._next.get(table.uid)
        if nxt is None:
            nxt = 1
            for shard, _ in reversed(shards(self.store.db, table)):
                last = last_sequence(self.store.db, table, shard)
                if last is not None:
                    nxt = last + 1
                    break
        self._next[table.uid] = nxt + 1
        return nxt

    def _shard(self, table: TableRecord, now: float, seq: int, ops: list[tuple[bytes, bytes | None]]) -> str:
        """The shard of this period, opening it (in this batch) if it is new."""
        label = table.stream_label or ""
        shard = shard_id_at(table, now - now % self.shard_seconds)
        current = self._open.get((table.uid, label))
        if current is None:
            known = shards(self.store.db, table)
            current = known[-1][0] if known else None
        if current != shard:
            row = {"id": shard, "parent": current, "first": seq}
            ops.append((keys.shard_key(table.uid, label, shard), json.dumps(row).encode()))
            self._open[(table.uid, label)] = shard
        return shard

    def add_records(self, changes: list[Change], ops: list[tuple[bytes, bytes | None]]) -> None:
        now = time.time()
        for change in changes:
            table = change.table
            if not table.stream_enabled:
                continue
            old, new = change.old, change.new
            if old is not None and new is not None and len(old) == len(new) and all(
                k in new and values_equal(v, new[k]) for k, v in old.items()
            ):
                continue
            with self._lock:
                seq = self._sequence(table)
                shard = self._shard(table, now, seq, ops)
            event = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
            view = table.stream_view_type or "KEYS_ONLY"
            row: dict[str, Any] = {
                "seq": seq,
                "event": event,
                "at": now,
                "id": uuid.uuid4().hex,
                "region": table.region,
                "view": view,
                "keys": dump_item(change.key).decode("utf-8"),
                "ttl": change.by_ttl,
            }
            size = item_size(change.key)
            if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new is not None:
                row["new"] = dump_item(new).decode("utf-8")
                size += item_size(new)
            if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old is not None:
                row["old"] = dump_item(old).decode("utf-8")
                size += item_size(old)
            row["size"] = size
            ops.append((keys.stream_key(table.uid, shard, seq), json.dumps(row, separators=(",", ":")).encode()))

    def forget(self) -> None:
        with self._lock:
            self._next.clear()
            self._open.clear()


def render_record(raw: bytes) -> dict[str, Any]:
    """A stored row as the GetRecords ``Record`` shape."""
    row = json.loads(raw)
    data: dict[str, Any] = {
        "ApproximateCreationDateTime": datetime.fromtimestamp(int(row["at"]), timezone.utc),
        "Keys": load_item(row["keys"].encode("utf-8")),
        "SequenceNumber": sequence_text(row["seq"]),
        "SizeBytes": row["size"],
        "StreamViewType": row["view"],
    }
    if "new" in row:
        data["NewImage"] = load_item(row["new"].encode("utf-8"))
    if "old" in row:
        data["OldImage"] = load_item(row["old"].encode("utf-8"))
    out: dict[str, Any] = {
        "eventID": row["id"],
        "eventName": row["event"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": row["region"],
        "dynamodb": data,
    }
    if row.get("ttl"):
        out["userIdentity"] = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    return out


def trim(store: TableStore, table: TableRecord, now: float) -> None:
    """Drop records past the 24-hour retention, and closed shards left empty by that."""
    chain = shards(store.db, table)
    for position, (shard, _) in enumerate(chain):
        start, end = keys.stream_range(table.uid, shard)
        expired: list[tuple[bytes, bytes | None]] = []
        emptied = True
        for key, raw in store.db.scan(start, end, limit=1000):
            if json.loads(raw)["at"] >= now - RETENTION_SECONDS:
                emptied = False
                break
            expired.append((key, None))
        if emptied and len(expired) < 1000 and position < len(chain) - 1:
            expired.append((keys.shard_key(table.uid, table.stream_label or "", shard), None))
        if expired:
            store.db.write_batch(expired)


def trim_retired(store: TableStore, now: float) -> None:
    """Forget retired streams (of deleted tables, or replaced) once their last records are 24 hours old."""
    for record in store.retired_streams():
        if record.retired + RETENTION_SECONDS > now:
            continue
        label = record.stream_label or ""
        ops: list[tuple[bytes, bytes | None]] = []
        for shard, _ in shards(store.db, record):
            ops += [(key, None) for key, _ in store.db.scan(*keys.stream_range(record.uid, shard))]
            ops.append((keys.shard_key(record.uid, label, shard), None))
        ops.append((keys.retired_stream_key(record.account, record.region, record.name, label), None))
        store.db.write_batch(ops)
