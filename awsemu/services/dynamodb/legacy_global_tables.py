"""Global tables version 2017.11.29 (legacy): CreateGlobalTable, DescribeGlobalTable,
ListGlobalTables, UpdateGlobalTable, DescribeGlobalTableSettings, UpdateGlobalTableSettings.

A legacy global table groups tables the caller made beforehand, one per region, each with the
global table's name, the same key schema, a NEW_AND_OLD_IMAGES stream, and no items when it joins.
The group is the same record version 2019.11.21 uses (replication.py), marked 2017.11.29, and
writes replicate through the same outbox. Removing a replica (UpdateGlobalTable Delete) takes it
out of the group but keeps its table, as in DynamoDB. Any regional endpoint answers for the global
table. Not modelled: the ``aws:rep:*`` attributes the legacy version adds to replicated items.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb.errors import (
    GlobalTableAlreadyExistsException,
    GlobalTableNotFoundException,
    ReplicaAlreadyExistsException,
    ReplicaNotFoundException,
    TableNotFoundException,
    ValidationException,
)
from awsemu.services.dynamodb.records import TableRecord
from awsemu.services.dynamodb.replication import VERSION_2017, Group, Replicator
from awsemu.services.dynamodb.store import TableStore
from awsemu.services.dynamodb.table_refs import check_table_name

_INVALID = "One or more parameter values were invalid: "


def _not_found(name: str) -> GlobalTableNotFoundException:
    return GlobalTableNotFoundException(f"Global table not found: Global table with name: '{name}' does not exist.")


def _joining_table(store: TableStore, replicator: Replicator, account: str, region: str, name: str,
                   like: TableRecord | None) -> TableRecord:
    """The table of ``region`` that is to join the global table, checked as DynamoDB checks it."""
    table = store.table(account, region, name)
    if table is None:
        raise TableNotFoundException(f"Table: {name} not found in region: {region}")
    if not table.stream_enabled or table.stream_view_type != "NEW_AND_OLD_IMAGES":
        raise ValidationException(
            _INVALID + f"Table: {name} in region: {region} must have DynamoDB Streams enabled with "
            "StreamViewType NEW_AND_OLD_IMAGES"
        )
    if store.stats(table.uid)[0] > 0:
        raise ValidationException(_INVALID + f"Replica table: {name} in region: {region} is not empty")
    if like is not None and table.schema != like.schema:
        raise ValidationException(
            _INVALID + f"Table: {name} in region: {region} does not have the same key schema as the other replicas"
        )
    if replicator.group_of(table) is not None:
        raise GlobalTableAlreadyExistsException(f"Global table with this name already exists: {name}")
    return table


def _description(store: TableStore, group: Group) -> dict[str, Any]:
    replicas = []
    for region in sorted(group.members):
        replicas.append({"RegionName": region, "ReplicaStatus": group.members[region]["status"]})
    return {
        "ReplicationGroup": replicas,
        "GlobalTableArn": f"arn:aws:dynamodb::{group.account}:global-table/{group.name}",
        "CreationDateTime": datetime.fromtimestamp(group.created, timezone.utc),
        "GlobalTableStatus": "ACTIVE",
        "GlobalTableName": group.name,
    }


def _legacy_group(replicator: Replicator, ctx: CallContext, name: Any) -> Group:
    name = check_table_name(name, "globalTableName")
    group = replicator.group_named(ctx.account_id, name)
    if group is None or group.version != VERSION_2017:
        raise _not_found(name)
    return group


def _regions(entries: list[dict[str, Any]]) -> list[str]:
    regions = [e.get("RegionName") for e in entries]
    if any(not r for r in regions):
        raise ValidationException(_INVALID + "RegionName must be specified")
    if len(set(regions)) != len(regions):
        raise ValidationException(_INVALID + "Duplicate region in the replication group")
    return [str(r) for r in regions]


def create_global_table(store: TableStore, replicator: Replicator, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    name = check_table_name(p.get("GlobalTableName"), "globalTableName")
    regions = _regions(p.get("ReplicationGroup") or [])
    if replicator.group_named(ctx.account_id, name) is not None:
        raise GlobalTableAlreadyExistsException(f"Global table with this name already exists: {name}")
    members: dict[str, dict[str, Any]] = {}
    first: TableRecord | None = None
    for region in regions:
        table = _joining_table(store, replicator, ctx.account_id, region, name, first)
        first = first or table
        members[region] = {"uid": table.uid, "status": "ACTIVE"}
    group = Group(ctx.account_id, name, VERSION_2017, members)
    replicator.save_group(group)
    return {"GlobalTableDescription": _description(store, group)}


def describe_global_table(store: TableStore, replicator: Replicator, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    return {"GlobalTableDescription": _description(store, _legacy_group(replicator, ctx, p.get("GlobalTableName")))}


def list_global_tables(store: TableStore, replicator: Replicator, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = p.get("Limit") or 100
    start = p.get("ExclusiveStartGlobalTableName")
    region = p.get("RegionName")
    found = [g for g in replicator.groups(ctx.account_id) if g.version == VERSION_2017
             and (start is None or g.name > start) and (region is None or region in g.members)]
    page = found[:limit]
    out: dict[str, Any] = {"GlobalTables": [
        {"GlobalTableName": g.name, "ReplicationGroup": [{"RegionName": r} for r in sorted(g.members)]} for g in page]}
    if len(found) > limit:
        out["LastEvaluatedGlobalTableName"] = page[-1].name
    return out


def update_global_table(store: TableStore, replicator: Replicator, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    group = copy.deepcopy(_legacy_group(replicator, ctx, p.get("GlobalTableName")))
    updates = p.get("ReplicaUpdates") or []
    kinds = []
    for update in updates:
        present = [k for k in ("Create", "Delete") if update.get(k) is not None]
        if len(present) != 1:
            raise ValidationException(_INVALID + "One and only one of Create or Delete must be specified in a ReplicaUpdate")
        kinds.append((present[0], update[present[0]]))
    _regions([spec for _, spec in kinds])
    like = next((store.table(group.account, r, group.name) for r in group.members), None)
    for kind, spec in kinds:
        region = spec["RegionName"]
        if kind == "Create":
            if region in group.members:
                raise ReplicaAlreadyExistsException(f"Replica already exists in region: {region}")
            table = _joining_table(store, replicator, group.account, region, group.name, like)
            group.members[region] = {"uid": table.uid, "status": "ACTIVE"}
        else:
            if region not in group.members:
                raise ReplicaNotFoundException(f"Replica not found in region: {region}")
            del group.members[region]
    replicator.save_group(group)
    return {"GlobalTableDescription": _description(store, group)}


def _replica_settings(store: TableStore, group: Group) -> list[dict[str, Any]]:
    out = []
    for region in sorted(group.members):
        table = store.table(group.account, region, group.name)
        entry: dict[str, Any] = {"RegionName": region, "ReplicaStatus": group.members[region]["status"]}
        if table is not None:
            entry["ReplicaBillingModeSummary"] = {"BillingMode": table.billing_mode}
            entry["ReplicaProvisionedReadCapacityUnits"] = table.read_capacity
            entry["ReplicaProvisionedWriteCapacityUnits"] = table.write_capacity
            entry["ReplicaGlobalSecondaryIndexSettings"] = [
                {"IndexName": i.name, "IndexStatus": i.status, "ProvisionedReadCapacityUnits": i.read_capacity,
                 "ProvisionedWriteCapacityUnits": i.write_capacity} for i in table.gsis]
            entry["ReplicaTableClassSummary"] = {"TableClass": table.table_class}
        out.append(entry)
    return out


def describe_global_table_settings(store: TableStore, replicator: Replicator, ctx: CallContext,
                                   p: dict[str, Any]) -> dict[str, Any]:
    group = _legacy_group(replicator, ctx, p.get("GlobalTableName"))
    return {"GlobalTableName": group.name, "ReplicaSettings": _replica_settings(store, group)}


def update_global_table_settings(store: TableStore, replicator: Replicator, ctx: CallContext,
                                 p: dict[str, Any]) -> dict[str, Any]:
    """Billing mode and write capacity for every replica; read capacity per replica."""
    group = _legacy_group(replicator, ctx, p.get("GlobalTableName"))
    per_region = {u.get("RegionName"): u for u in p.get("ReplicaSettingsUpdate") or []}
    for region in per_region:
        if region not in group.members:
            raise ReplicaNotFoundException(f"Replica not found in region: {region}")
    tables = [t for t in (store.table(group.account, r, group.name) for r in group.members) if t is not None]
    billing = p.get("GlobalTableBillingMode")
    if p.get("GlobalTableProvisionedWriteCapacityUnits") is not None and any(
            (billing or t.billing_mode) == "PAY_PER_REQUEST" for t in tables):
        raise ValidationException(
            _INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
            "PAY_PER_REQUEST"
        )
    for table in tables:
        region = table.region
        with store.lock(table.uid):
            record = copy.deepcopy(store.table(group.account, region, group.name) or table)
            if p.get("GlobalTableBillingMode"):
                record.billing_mode = p["GlobalTableBillingMode"]
                if record.billing_mode == "PAY_PER_REQUEST":
                    record.read_capacity = record.write_capacity = 0
            if p.get("GlobalTableProvisionedWriteCapacityUnits") is not None:
                record.write_capacity = int(p["GlobalTableProvisionedWriteCapacityUnits"])
            update = per_region.get(region) or {}
            if update.get("ReplicaProvisionedReadCapacityUnits") is not None:
                record.read_capacity = int(update["ReplicaProvisionedReadCapacityUnits"])
            if update.get("ReplicaTableClass"):
                record.table_class = update["ReplicaTableClass"]
            store.save_table(record)
    return {"GlobalTableName": group.name, "ReplicaSettings": _replica_settings(store, group)}
