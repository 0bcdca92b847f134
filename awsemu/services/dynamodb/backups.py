"""On-demand backups, as a provider mixin: CreateBackup, DescribeBackup, ListBackups, DeleteBackup,
RestoreTableFromBackup.

A backup is a record (name, type, status, sizes, and a copy of the table record as it was) plus an
image of the table's items read through one lsm snapshot (snapshots.py), so it is consistent,
durable, and independent of the table's later writes or deletion. ARNs are AWS's:
``arn:aws:dynamodb:<region>:<account>:table/<table>/backup/<ms timestamp, 14 digits>-<8 hex>``;
a SYSTEM backup (made when a table with point-in-time recovery is deleted) ends ``-00000000``.

The record is written CREATING before the items are copied and AVAILABLE after; DeleteBackup marks
it DELETED before dropping its items. A record found in either state at start is a copy or a
deletion a crash interrupted: :func:`sweep_unfinished_backups` finishes it (drops it).

CreateBackup answers CREATING, as DynamoDB does; the copy is finished by the time it answers, so
DescribeBackup already says AVAILABLE. RestoreTableFromBackup likewise answers TableStatus
CREATING with ``RestoreInProgress`` true; the new table is complete (ACTIVE) when it answers.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb import snapshots
from awsemu.services.dynamodb.errors import BackupInUseException, BackupNotFoundException, TableNotFoundException
from awsemu.services.dynamodb.records import TableRecord
from awsemu.services.dynamodb.store import TableStore
from awsemu.services.dynamodb.tables import check_table_name, describe, lookup_table, table_ref

SYSTEM_BACKUP_DAYS = 35
_ARN = re.compile(r"arn:aws[\w-]*:dynamodb:([\w-]+):(\d{12}):table/([a-zA-Z0-9_.\-]+)/backup/(\d{14}-[0-9a-f]{8})\Z")


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def make_backup(store: TableStore, table: TableRecord, name: str, kind: str = "USER") -> dict[str, Any]:
    """Back up ``table`` now; returns the backup record (AVAILABLE)."""
    created_ms = int(time.time() * 1000)
    created = created_ms / 1000  # the ARN's timestamp is the creation time, to the millisecond
    suffix = "00000000" if kind == "SYSTEM" else secrets.token_hex(4)
    backup_id = f"{created_ms:014d}-{suffix}"
    backup: dict[str, Any] = {
        "id": backup_id,
        "arn": f"{table.arn}/backup/{backup_id}",
        "name": name,
        "type": kind,
        "status": "CREATING",
        "created": created,
        "expires": created + SYSTEM_BACKUP_DAYS * 86400 if kind == "SYSTEM" else None,
        "count": 0,
        "size": 0,
        "table": asdict(table),
    }
    key = snapshots.backup_key(table.account, table.region, backup_id)
    with store.db.snapshot() as view:
        backup["count"], backup["size"] = snapshots.table_stats_at(view, table.uid)
        store.db.write_batch([(key, _dump(backup))])
        snapshots.copy_items(store.db, view, table.uid, backup_id)
    backup["status"] = "AVAILABLE"
    store.db.write_batch([(key, _dump(backup))])
    return backup


def sweep_unfinished_backups(store: TableStore) -> None:
    """At start: drop backups whose copy or deletion a crash interrupted (never AVAILABLE again)."""
    for key, raw in list(store.db.scan(*snapshots.all_backups_range())):
        backup = json.loads(raw)
        if backup["status"] != "AVAILABLE":
            snapshots.drop_image(store.db, backup["id"])
            store.db.write_batch([(key, None)])


def expire_system_backups(store: TableStore, now: float) -> None:
    """Drop SYSTEM backups past their BackupExpiryDateTime (35 days after their table was deleted)."""
    for key, raw in list(store.db.scan(*snapshots.all_backups_range())):
        backup = json.loads(raw)
        if backup["expires"] is not None and backup["expires"] <= now and backup["status"] == "AVAILABLE":
            drop_backup(store, key, backup)


def drop_backup(store: TableStore, key: bytes, backup: dict[str, Any]) -> None:
    """Marked DELETED first: a crash before the last batch leaves it to :func:`sweep_unfinished_backups`."""
    backup["status"] = "DELETED"
    store.db.write_batch([(key, _dump(backup))])
    snapshots.drop_image(store.db, backup["id"])
    store.db.write_batch([(key, None)])


def _dump(backup: dict[str, Any]) -> bytes:
    return json.dumps(backup, separators=(",", ":")).encode()


def _not_found(arn: Any) -> BackupNotFoundException:
    return BackupNotFoundException(f"Backup not found: {arn}")


def find_backup(store: TableStore, ctx: CallContext, arn: Any) -> dict[str, Any]:
    match = _ARN.match(arn) if isinstance(arn, str) else None
    if match is None:
        raise _not_found(arn)
    region, account, table, backup_id = match.groups()
    if (account, region) != (ctx.account_id, ctx.region):
        raise _not_found(arn)
    raw = store.db.get(snapshots.backup_key(account, region, backup_id))
    if raw is None:
        raise _not_found(arn)
    backup: dict[str, Any] = json.loads(raw)
    if backup["table"]["name"] != table or backup["status"] == "DELETED":
        raise _not_found(arn)
    return backup


def backup_details(backup: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "BackupArn": backup["arn"],
        "BackupName": backup["name"],
        "BackupSizeBytes": backup["size"],
        "BackupStatus": status or backup["status"],
        "BackupType": backup["type"],
        "BackupCreationDateTime": _dt(backup["created"]),
    }
    if backup["expires"] is not None:
        out["BackupExpiryDateTime"] = _dt(backup["expires"])
    return out


def backup_description(backup: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    table = TableRecord.from_json(json.dumps(backup["table"]).encode())
    source: dict[str, Any] = {
        "TableName": table.name,
        "TableId": table.uid,
        "TableArn": table.arn,
        "TableSizeBytes": backup["size"],
        "KeySchema": table.schema.describe(),
        "TableCreationDateTime": _dt(table.created),
        "ProvisionedThroughput": {"ReadCapacityUnits": table.read_capacity, "WriteCapacityUnits": table.write_capacity},
        "ItemCount": backup["count"],
        "BillingMode": table.billing_mode,
    }
    features: dict[str, Any] = {}
    if table.lsis:
        features["LocalSecondaryIndexes"] = [
            {"IndexName": i.name, "KeySchema": i.schema.describe(), "Projection": i.projection()} for i in table.lsis
        ]
    active = [i for i in table.gsis if i.status == "ACTIVE"]
    if active:
        features["GlobalSecondaryIndexes"] = [
            {"IndexName": i.name, "KeySchema": i.schema.describe(), "Projection": i.projection(),
             "ProvisionedThroughput": {"ReadCapacityUnits": i.read_capacity, "WriteCapacityUnits": i.write_capacity}}
            for i in active
        ]
    if table.stream_enabled:
        features["StreamDescription"] = {"StreamEnabled": True, "StreamViewType": table.stream_view_type}
    if table.ttl_enabled:
        features["TimeToLiveDescription"] = {"TimeToLiveStatus": "ENABLED", "AttributeName": table.ttl_attribute}
    if table.sse:
        features["SSEDescription"] = dict(table.sse)
    return {"BackupDetails": backup_details(backup, status), "SourceTableDetails": source,
            "SourceTableFeatureDetails": features}


def restore_response(store: TableStore, record: TableRecord) -> dict[str, Any]:
    """The TableDescription a restore answers with: CREATING, the restore in progress (AWS's shape)."""
    description = describe(store, record)
    description["TableStatus"] = "CREATING"
    description["RestoreSummary"]["RestoreInProgress"] = True
    return {"TableDescription": description}


class BackupOperations:
    # implemented by DynamoDBProvider
    store: TableStore

    def create_backup(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        ref, table = lookup_table(self.store, ctx, p.get("TableName"))
        if table is None:
            raise TableNotFoundException(f"Table not found: {ref.given}")
        backup_name = check_table_name(p.get("BackupName"), "backupName")
        backup = make_backup(self.store, table, backup_name)
        # DynamoDB answers while its backup is still being made; ours is done already.
        return {"BackupDetails": backup_details(backup, "CREATING")}

    def describe_backup(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return {"BackupDescription": backup_description(find_backup(self.store, ctx, p.get("BackupArn")))}

    def list_backups(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        # Backups are listed per account and region; a table ARN of this account and region filters them.
        table = table_ref(ctx, p["TableName"]).name if p.get("TableName") is not None else None
        kind = p.get("BackupType") or "USER"
        lower, upper = p.get("TimeRangeLowerBound"), p.get("TimeRangeUpperBound")
        after = p.get("ExclusiveStartBackupArn")
        after_id = after.rsplit("/", 1)[-1] if isinstance(after, str) else None
        limit = p.get("Limit")
        summaries: list[dict[str, Any]] = []
        more = False
        for _, raw in self.store.db.scan(*snapshots.backups_range(ctx.account_id, ctx.region)):
            backup = json.loads(raw)
            if backup["status"] == "DELETED" or (after_id is not None and backup["id"] <= after_id):
                continue
            if table is not None and backup["table"]["name"] != table:
                continue
            if kind != "ALL" and backup["type"] != kind:
                continue
            # The lower bound is inclusive, the upper one exclusive (API reference).
            if lower is not None and backup["created"] < lower.timestamp():
                continue
            if upper is not None and backup["created"] >= upper.timestamp():
                continue
            if limit is not None and len(summaries) == limit:
                more = True
                break
            summaries.append(_summary(backup))
        out: dict[str, Any] = {"BackupSummaries": summaries}
        if more:
            out["LastEvaluatedBackupArn"] = summaries[-1]["BackupArn"]
        return out

    def delete_backup(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        backup = find_backup(self.store, ctx, p.get("BackupArn"))
        if backup["status"] != "AVAILABLE":
            raise BackupInUseException(f"Backup is being created: {backup['arn']}")
        key = snapshots.backup_key(ctx.account_id, ctx.region, backup["id"])
        description = backup_description(backup, "DELETED")
        drop_backup(self.store, key, backup)
        return {"BackupDescription": description}

    def restore_table_from_backup(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        target = check_table_name(p.get("TargetTableName"), "targetTableName")
        backup = find_backup(self.store, ctx, p.get("BackupArn"))
        if backup["status"] != "AVAILABLE":
            raise BackupInUseException(f"Backup is being created: {backup['arn']}")
        snapshots.check_target_free(self.store, ctx, target)
        source = TableRecord.from_json(json.dumps(backup["table"]).encode())
        summary = {"SourceBackupArn": backup["arn"], "SourceTableArn": source.arn, "RestoreDateTime": backup["created"]}
        record = snapshots.restored_table(ctx, source, p, summary)
        with self.store.db.snapshot() as view:
            # The backup as this view sees it: a DeleteBackup since the lookup would leave no items.
            still = view.get(snapshots.backup_key(ctx.account_id, ctx.region, backup["id"]))
            if still is None or json.loads(still)["status"] != "AVAILABLE":
                raise _not_found(backup["arn"])
            snapshots.fill_and_create(self.store, record, snapshots.image_items(view, backup["id"]))
        return restore_response(self.store, record)


def _summary(backup: dict[str, Any]) -> dict[str, Any]:
    table = backup["table"]
    out: dict[str, Any] = {
        "TableName": table["name"],
        "TableId": table["uid"],
        "TableArn": f"arn:aws:dynamodb:{table['region']}:{table['account']}:table/{table['name']}",
        "BackupArn": backup["arn"],
        "BackupName": backup["name"],
        "BackupCreationDateTime": _dt(backup["created"]),
    }
    if backup["expires"] is not None:
        out["BackupExpiryDateTime"] = _dt(backup["expires"])
    out.update({"BackupStatus": backup["status"], "BackupType": backup["type"], "BackupSizeBytes": backup["size"]})
    return out
