"""Item images and restores: what backups and point-in-time recovery keep, and how a restore
builds its new table.

An *image* is a copy of a table's item rows at one moment, under its own prefix. CreateBackup
copies the items read through one lsm snapshot (``DB.snapshot``: a consistent view, every commit
seen entirely or not at all), so a backup is exactly the table as one instant saw it, and later
writes or the deletion of the table never touch it. Point-in-time recovery keeps one image per
table (its *base*) plus a change log (point_in_time.py).

A restore makes a new table: a fresh uid, items written through :meth:`TableStore.commit` (which
builds every index entry and the statistics) before the table record exists, so nobody sees the
table half-filled. A row ``("ddb", "n", uid)`` marks a restore in progress; if the process dies
before the table record is written, :func:`sweep_unfinished_restores` deletes the rows at the
next start.

Key layout, beside keys.py's (tags not used there):

    ("ddb", "b", account, region, backup id)      -> backup record (JSON)
    ("ddb", "m", image id) + item row suffix       -> one item of an image (a backup's or a PITR base)
    ("ddb", "l", uid, stamp)                       -> point-in-time change log entry (point_in_time.py)
    ("ddb", "n", uid)                              -> a restore into table ``uid`` in progress
    ("ddb", "p", uid, stream label or "")          -> resource-based policy (resource_policies.py)
    ("ddb", "c", uid, index or "")                 -> contributor insights setting (contributor_insights.py)

The item row suffix is the item's row key without its table's prefix: an image keeps the items in
the table's own (hash) order and a change log entry names its item the same way.
"""

from __future__ import annotations

import copy
import threading
import uuid
from typing import Any, Iterable, Iterator

from awsemu.services.base import CallContext
from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.errors import TableAlreadyExistsException, ValidationException
from awsemu.services.dynamodb.records import IndexRecord, KeySchema, TableRecord, load_item
from awsemu.services.dynamodb.store import Change, TableStore, now
from awsemu.services.dynamodb.tables import check_table_name, gsi_record, sse_description, throughput_units

Item = dict[str, dict[str, Any]]
_INVALID = "One or more parameter values were invalid: "
CHUNK = 1000
# One restore at a time checks and claims a table name, so two restores cannot both create it.
_NAME_CLAIM = threading.Lock()


# --- keys ------------------------------------------------------------------------------------------


def backup_key(account: str, region: str, backup_id: str) -> bytes:
    return keys.encode((keys.PREFIX, "b", account, region, backup_id))


def backups_range(account: str, region: str) -> tuple[bytes, bytes]:
    start = keys.encode((keys.PREFIX, "b", account, region))
    return start, keys.prefix_end(start)


def all_backups_range() -> tuple[bytes, bytes]:
    start = keys.encode((keys.PREFIX, "b"))
    return start, keys.prefix_end(start)


def image_prefix(image_id: str) -> bytes:
    return keys.encode((keys.PREFIX, "m", image_id))


def pending_restore_key(uid: str) -> bytes:
    return keys.encode((keys.PREFIX, "n", uid))


def item_suffix(uid: str, row: bytes) -> bytes:
    """An item row key without its table's prefix."""
    return row[len(keys.items_range(uid)[0]):]


# --- images ----------------------------------------------------------------------------------------


def copy_items(db: Any, view: Any, uid: str, image_id: str) -> None:
    """Copy every item row of table ``uid`` as ``view`` (a DB snapshot) sees it into an image."""
    prefix = image_prefix(image_id)
    start, end = keys.items_range(uid)
    cut = len(start)
    ops: list[tuple[bytes, bytes | None]] = []
    for row, raw in view.scan(start, end):
        ops.append((prefix + row[cut:], raw))
        if len(ops) >= CHUNK:
            db.write_batch(ops)
            ops = []
    if ops:
        db.write_batch(ops)


def image_rows(view: Any, image_id: str) -> Iterator[tuple[bytes, bytes]]:
    """(item row suffix, stored item) of an image, in the table's order."""
    prefix = image_prefix(image_id)
    cut = len(prefix)
    for key, raw in view.scan(prefix, keys.prefix_end(prefix)):
        yield key[cut:], raw


def image_items(view: Any, image_id: str) -> Iterator[Item]:
    for _, raw in image_rows(view, image_id):
        yield load_item(raw)


def drop_image(db: Any, image_id: str) -> None:
    delete_range(db, image_prefix(image_id), keys.prefix_end(image_prefix(image_id)))


def delete_range(db: Any, start: bytes, end: bytes) -> None:
    while True:
        batch: list[tuple[bytes, bytes | None]] = [(k, None) for k, _ in db.scan(start, end, limit=2000)]
        if not batch:
            return
        db.write_batch(batch)


def table_stats_at(view: Any, uid: str) -> tuple[int, int]:
    """(item count, bytes) of a table as a snapshot sees them (committed with the items)."""
    raw = view.get(keys.stats_key(uid, ""))
    if not raw:
        return 0, 0
    count, size = raw.decode().split(",")
    return int(count), int(size)


# --- restores --------------------------------------------------------------------------------------


def restored_table(ctx: CallContext, source: TableRecord, p: dict[str, Any], summary: dict[str, Any]) -> TableRecord:
    """The record of a table restored from ``source`` (a backup's copy of the table record, or the
    live source table of a point-in-time restore), with the request's overrides applied.

    Restored: key schema, attribute definitions, indexes, billing mode and throughput, encryption,
    table class. Not restored (AWS: "you must manually set up"): tags, streams, TTL, point-in-time
    recovery, deletion protection, auto scaling, policies."""
    name = check_table_name(p.get("TargetTableName"), "targetTableName")
    types = {d["AttributeName"]: d["AttributeType"] for d in source.attribute_definitions}
    billing = p.get("BillingModeOverride") or source.billing_mode
    override = p.get("ProvisionedThroughputOverride")
    if override is not None or billing == "PAY_PER_REQUEST" or source.billing_mode == "PAY_PER_REQUEST":
        read, write = throughput_units(override, billing)
    else:
        read, write = source.read_capacity, source.write_capacity
    gsis = _restored_gsis(source, p, types, billing, read, write)
    lsis = _restored_lsis(source, p, types)
    used = set(source.schema.names)
    for index in gsis + lsis:
        used.update(index.schema.names)
    sse_spec = p.get("SSESpecificationOverride")
    if sse_spec is None:
        sse = copy.deepcopy(source.sse)
    else:
        sse = sse_description(ctx.account_id, ctx.region, sse_spec) if sse_spec.get("Enabled") else None
    record = TableRecord(
        name=name,
        uid=str(uuid.uuid4()),
        account=ctx.account_id,
        region=ctx.region,
        schema=copy.deepcopy(source.schema),
        attribute_definitions=[{"AttributeName": k, "AttributeType": v} for k, v in types.items() if k in used],
        created=now(),
        billing_mode=billing,
        read_capacity=read,
        write_capacity=write,
        gsis=gsis,
        lsis=lsis,
        sse=sse,
        table_class=source.table_class,
        restore_summary=summary,
    )
    if billing == "PAY_PER_REQUEST":
        record.billing_switched = record.created
    return record


def _restored_gsis(
    source: TableRecord, p: dict[str, Any], types: dict[str, str], billing: str, read: int, write: int,
) -> list[IndexRecord]:
    specs = p.get("GlobalSecondaryIndexOverride")
    if specs is not None:
        out: list[IndexRecord] = []
        for position, spec in enumerate(specs, 1):
            index = gsi_record(spec, types, billing, f"globalSecondaryIndexOverride.{position}.member")
            if any(i.name == index.name for i in out):
                raise ValidationException(_INVALID + f"Duplicate index name: {index.name}")
            out.append(index)
        return out
    out = []
    for index in source.gsis:
        if index.status != "ACTIVE":
            continue  # an index still being built is not part of a backup
        kept = copy.deepcopy(index)
        kept.status, kept.backfilling, kept.created = "ACTIVE", False, 0.0
        if billing == "PAY_PER_REQUEST":
            kept.read_capacity = kept.write_capacity = 0
        elif source.billing_mode == "PAY_PER_REQUEST":
            # Restored as PROVISIONED from an on-demand table: the indexes take the table's throughput.
            kept.read_capacity, kept.write_capacity = read, write
        out.append(kept)
    return out


def _restored_lsis(source: TableRecord, p: dict[str, Any], types: dict[str, str]) -> list[IndexRecord]:
    specs = p.get("LocalSecondaryIndexOverride")
    if specs is None:
        return [copy.deepcopy(i) for i in source.lsis]
    out: list[IndexRecord] = []
    for spec in specs:
        name = spec["IndexName"]
        elements = spec.get("KeySchema") or []
        names = [e.get("AttributeName") for e in elements]
        missing = [n for n in names if n not in types]
        if missing:
            raise ValidationException(
                _INVALID + "Some index key attributes are not defined in AttributeDefinitions. Keys: ["
                + ", ".join(str(n) for n in missing) + "], AttributeDefinitions: [" + ", ".join(types) + "]"
            )
        if len(names) != 2 or elements[1].get("KeyType") != "RANGE":
            raise ValidationException(_INVALID + f"Index KeySchema does not have a range key for index: {name}")
        if names[0] != source.schema.hash_name:
            raise ValidationException(
                _INVALID + f"Index KeySchema does not have the same leading hash key as table KeySchema for index: "
                f"{name}. index hash key: {names[0]}, table hash key: {source.schema.hash_name}"
            )
        projection = spec.get("Projection") or {}
        schema = KeySchema(names[0], types[names[0]], names[1], types[names[1]])
        out.append(IndexRecord(name, schema, projection.get("ProjectionType") or "ALL",
                               list(projection.get("NonKeyAttributes") or []), False))
    return out


def check_target_free(store: TableStore, ctx: CallContext, name: str) -> None:
    if store.table(ctx.account_id, ctx.region, name) is not None:
        raise TableAlreadyExistsException(f"Table already exists: {name}")


def fill_and_create(store: TableStore, record: TableRecord, items: Iterable[Item]) -> None:
    """Write ``items`` into the new table ``record`` (indexes and statistics with them), then
    create it. Nothing of it is visible until the last batch writes the table record."""
    marker = pending_restore_key(record.uid)
    store.db.write_batch([(marker, b"1")])
    try:
        batch: list[Change] = []
        names = record.schema.names
        for item in items:
            batch.append(Change(record, {n: item[n] for n in names}, None, item))
            if len(batch) >= 500:
                store.commit(batch)
                batch = []
        if batch:
            store.commit(batch)
        with _NAME_CLAIM:
            if store.table(record.account, record.region, record.name) is not None:
                raise TableAlreadyExistsException(f"Table already exists: {record.name}")
            store.save_table(record, [(marker, None)])
    except BaseException:
        drop_table_rows(store.db, record.uid)
        store.db.write_batch([(marker, None)])
        raise


def drop_table_rows(db: Any, uid: str) -> None:
    for start, end in keys.table_data_ranges(uid):
        delete_range(db, start, end)


def sweep_unfinished_restores(store: TableStore) -> None:
    """At start: delete the rows of restores a crash interrupted (their table was never created)."""
    start = keys.encode((keys.PREFIX, "n"))
    for marker, _ in list(store.db.scan(start, keys.prefix_end(start))):
        uid = str(keys.decode(marker)[2])
        drop_table_rows(store.db, uid)
        store.db.write_batch([(marker, None)])
