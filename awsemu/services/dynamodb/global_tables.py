"""Global tables, version 2019.11.21: UpdateTable ``ReplicaUpdates`` and what DescribeTable shows.

A ``Create`` makes a table of the same name in another region of the account: the same key
schema, attribute definitions, secondary indexes, billing and stream setting (DynamoDB enables a
NEW_AND_OLD_IMAGES stream on the table itself when it has none), the per-replica overrides of the
request (KMS key, provisioned throughput, table class), and a copy of the current items; from then
on replication.py copies every write of any member to the others. An ``Update`` changes a
replica's overrides; a ``Delete`` deletes the replica table and its items (DeleteTable of a member
does the same: the group goes on without it). DescribeTable of a member shows
``GlobalTableVersion`` and ``Replicas``: the group's other regions. Index changes, billing mode,
throughput and the TTL setting made on one member are made on the others too (sync_to_replicas).

Not modelled: AWS's rule that a PROVISIONED table needs auto scaled write capacity to get
replicas (awsemu has no application auto scaling), and multi-Region strong consistency.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import uuid
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.errors import ResourceInUseException, ValidationException
from awsemu.services.dynamodb.records import TableRecord
from awsemu.services.dynamodb.replication import VERSION_2019, Group, Replicator
from awsemu.services.dynamodb.store import TableStore, now
from awsemu.services.dynamodb.tables import describe, get_table, new_stream_label, sse_description, table_status

log = logging.getLogger(__name__)

_INVALID = "One or more parameter values were invalid: "
# UpdateTable members that DynamoDB keeps the same in every replica (the others are per replica).
SYNCED_UPDATE_MEMBERS = ("AttributeDefinitions", "GlobalSecondaryIndexUpdates", "BillingMode", "ProvisionedThroughput")


def _actions(p: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    updates = p.get("ReplicaUpdates") or []
    if not updates:
        raise ValidationException(_INVALID + "List of ReplicaUpdates is empty")
    for update in updates:
        kinds = [k for k in ("Create", "Update", "Delete") if update.get(k) is not None]
        if len(kinds) != 1:
            raise ValidationException(
                _INVALID + "One and only one of Create, Update or Delete must be specified in a ReplicationGroupUpdate"
            )
        spec = update[kinds[0]]
        if not spec.get("RegionName"):
            raise ValidationException(_INVALID + "RegionName must be specified")
        out.append((kinds[0], spec))
    regions = [spec["RegionName"] for _, spec in out]
    for region in regions:
        if regions.count(region) > 1:
            raise ValidationException(_INVALID + f"Only one replica update per region is allowed: {region}")
    return out


def _apply_overrides(replica: TableRecord, spec: dict[str, Any]) -> None:
    """A replica's own settings: KMS key, provisioned read capacity, table class."""
    if spec.get("KMSMasterKeyId"):
        replica.sse = sse_description(replica.account, replica.region, {"KMSMasterKeyId": spec["KMSMasterKeyId"]})
    override = spec.get("ProvisionedThroughputOverride") or {}
    if override.get("ReadCapacityUnits") is not None:
        if replica.billing_mode == "PAY_PER_REQUEST":
            raise ValidationException(
                _INVALID + "ProvisionedThroughputOverride is not allowed when BillingMode is PAY_PER_REQUEST"
            )
        replica.read_capacity = int(override["ReadCapacityUnits"])
    for gsi_spec in spec.get("GlobalSecondaryIndexes") or []:
        index = replica.index(gsi_spec.get("IndexName"))
        if index is None or not index.is_global:
            raise ValidationException(_INVALID + f"Global secondary index not found: {gsi_spec.get('IndexName')}")
        read = (gsi_spec.get("ProvisionedThroughputOverride") or {}).get("ReadCapacityUnits")
        if read is not None:
            index.read_capacity = int(read)
    if spec.get("TableClassOverride"):
        replica.table_class = spec["TableClassOverride"]


def _new_replica(source: TableRecord, region: str, spec: dict[str, Any]) -> TableRecord:
    replica = copy.deepcopy(source)
    replica.requested_as = None
    replica.uid = str(uuid.uuid4())
    replica.region = region
    replica.created = now()
    replica.tags = {}
    replica.point_in_time_recovery = False
    replica.pitr_since = replica.pitr_base_time = 0.0
    replica.restore_summary = None
    replica.deletion_protection = False
    replica.billing_switched = replica.created if replica.billing_mode == "PAY_PER_REQUEST" else 0.0
    replica.throughput_decreases, replica.last_increase, replica.last_decrease = 0, 0.0, 0.0
    replica.stream_label = new_stream_label() if replica.stream_enabled else None
    replica.sse = sse_description(replica.account, region, {}) if source.sse else None
    _apply_overrides(replica, spec)
    return replica


def sync_to_replicas(store: TableStore, replicator: Replicator, ctx: CallContext, table_name: Any,
                     change: Callable[[CallContext], Any]) -> None:
    """Make a change that succeeded on one member (``ctx``'s region) on the other members too:
    ``change`` is called with a context for each other region. Global secondary indexes, billing,
    write capacity and the TTL setting are the same in every replica of a 2019.11.21 global table."""
    record = get_table(store, ctx, table_name, describe_style=True)
    group = replicator.group_of(record)
    if group is None or group.version != VERSION_2019:
        return
    for region in sorted(group.members):
        if region == record.region:
            continue
        try:
            change(dataclasses.replace(ctx, region=region))
        except Exception:  # the member refused what its peer accepted: it keeps its settings
            log.exception("dynamodb: could not apply a setting to replica %s of %s", region, record.name)


def update_replicas(store: TableStore, replicator: Replicator, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    """UpdateTable with ReplicaUpdates (any other changes of the request already applied)."""
    actions = _actions(p)
    cached = get_table(store, ctx, p.get("TableName"), describe_style=True)
    shown: dict[str, str] = {}  # regions whose status the response shows as CREATING / DELETING / UPDATING
    with store.lock(cached.uid):
        source = copy.deepcopy(store.table(cached.account, cached.region, cached.name) or cached)
        if table_status(store, source) != "ACTIVE" or any(i.status != "ACTIVE" for i in source.gsis):
            raise ResourceInUseException(
                f"Attempt to change a resource which is still in use: Table is being updated: {source.name}"
            )
        group = replicator.group_of(source)
        if group is not None and group.version != VERSION_2019:
            raise ValidationException(
                _INVALID + f"Table {source.name} is a replica of a global table of version {group.version}: "
                "use UpdateGlobalTable, or update the global table to version 2019.11.21 first"
            )
        members = copy.deepcopy(group.members) if group is not None else {source.region: {"uid": source.uid, "status": "ACTIVE"}}
        for kind, spec in actions:
            region = spec["RegionName"]
            if kind == "Create":
                if region in members or store.table(source.account, region, source.name) is not None:
                    raise ValidationException(
                        f"Failed to create a the new replica of table with name: '{source.name}' because one or more "
                        "replicas already existed as tables."
                    )
            elif region not in members:
                raise ValidationException(
                    _INVALID + f"Update global table operation failed because one or more replicas were not part of "
                    f"the global table: {region}"
                )
        if not source.stream_enabled and any(kind == "Create" for kind, _ in actions):
            source.stream_enabled, source.stream_view_type = True, "NEW_AND_OLD_IMAGES"
            source.stream_label = new_stream_label(source.stream_label)
            store.save_table(source)
        for kind, spec in actions:
            region = spec["RegionName"]
            if kind == "Create":
                replica = _new_replica(source, region, spec)
                members[region] = {"uid": replica.uid, "status": "CREATING"}
                # The replica table and the group that names it, in one batch: a crash leaves both or neither.
                replicator.save_group(Group(source.account, source.name, VERSION_2019, copy.deepcopy(members)),
                                      [_table_row(replica)])
                with store.lock(replica.uid):
                    replicator.fill(source, store.table(source.account, region, source.name) or replica)
                members[region]["status"] = "ACTIVE"
                replicator.save_group(Group(source.account, source.name, VERSION_2019, copy.deepcopy(members)))
                shown[region] = "CREATING"
            elif kind == "Update":
                target = store.table(source.account, region, source.name)
                if target is not None:
                    with store.lock(target.uid):
                        updated = copy.deepcopy(target)
                        _apply_overrides(updated, spec)
                        store.save_table(updated)
                shown[region] = "UPDATING"
            else:
                target = store.table(source.account, region, source.name)
                members.pop(region, None)
                if target is not None:
                    store.drop_table(target)  # its drop hook takes it out of the group
                else:
                    replicator.save_group(Group(source.account, source.name, VERSION_2019, copy.deepcopy(members)))
                shown[region] = "DELETING"
        latest = store.table(source.account, source.region, source.name) or source
    description = describe(store, latest)
    add_replicas(store, replicator, latest, description, shown)
    return {"TableDescription": description}


def _table_row(record: TableRecord) -> tuple[bytes, bytes]:
    return keys.table_key(record.account, record.region, record.name), record.to_json()


def add_replicas(store: TableStore, replicator: Replicator, record: TableRecord, description: dict[str, Any],
                 shown: dict[str, str] | None = None) -> None:
    """DescribeTable's GlobalTableVersion and Replicas of a member table (the other members)."""
    shown = shown or {}
    group = replicator.group_of(record)
    if group is not None and group.version != VERSION_2019:
        return  # a legacy replica: DescribeGlobalTable tells about it
    regions = sorted(set(group.members if group is not None else ()) | set(shown))
    if group is None and not shown:
        return
    description["GlobalTableVersion"] = group.version if group is not None else VERSION_2019
    replicas = []
    for region in regions:
        if region == record.region:
            continue
        member = group.members.get(region) if group is not None else None
        entry: dict[str, Any] = {"RegionName": region,
                                 "ReplicaStatus": shown.get(region) or (member or {}).get("status", "ACTIVE")}
        table = store.table(record.account, region, record.name)
        if table is not None:
            if table.sse:
                entry["KMSMasterKeyId"] = table.sse["KMSMasterKeyArn"]
            if table.billing_mode == "PROVISIONED" and table.read_capacity != record.read_capacity:
                entry["ProvisionedThroughputOverride"] = {"ReadCapacityUnits": table.read_capacity}
            entry["ReplicaTableClassSummary"] = {"TableClass": table.table_class}
        replicas.append(entry)
    description["Replicas"] = replicas
