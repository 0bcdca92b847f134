"""UpdateTable: throughput and billing, streams, settings, and global secondary indexes added or
deleted online.

An index Create or Delete is one at a time per table, and cannot share a request with throughput
or stream changes; an added index is built in the background (backfill.py), a deleted one goes at
once (the response shows it DELETING). A stream replaced by a new one (disabled, then enabled
again) stays readable for 24 hours. Messages are DynamoDB's, as the service answers them.
"""

from __future__ import annotations

import copy
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb.errors import (
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
)
from awsemu.services.dynamodb.records import IndexRecord, TableRecord
from awsemu.services.dynamodb.store import TableStore, now, retire_stream
from awsemu.services.dynamodb.tables import (
    MAX_GSIS,
    describe,
    get_table,
    gsi_description,
    gsi_record,
    new_stream_label,
    sse_description,
    stream_spec,
    throughput_units,
)

_INVALID = "One or more parameter values were invalid: "


_ONE_ONLINE_INDEX = "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table"
_UPDATE_TABLE_MEMBERS = (
    "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, "
    "SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, "
    "DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required"
)


def _index_actions(p: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """GlobalSecondaryIndexUpdates as (Create|Update|Delete, spec), with DynamoDB's shape rules."""
    out = []
    for update in p.get("GlobalSecondaryIndexUpdates") or []:
        kinds = [k for k in ("Update", "Create", "Delete") if update.get(k) is not None]
        if not kinds:
            raise ValidationException(
                _INVALID + "One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, "
                "GlobalSecondaryIndexUpdate.Delete must not be null"
            )
        if len(kinds) > 1:
            raise ValidationException(
                _INVALID + "Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object"
            )
        out.append((kinds[0], update[kinds[0]]))
    names = [spec.get("IndexName") for _, spec in out]
    for name in names:
        if names.count(name) > 1:
            raise ValidationException(
                _INVALID + f"Only one global secondary index update per index is allowed simultaneously. Index: {name}"
            )
    return out


def _check_index_admission(p: dict[str, Any], record: TableRecord, actions: list[tuple[str, dict[str, Any]]]) -> None:
    """What may accompany, or run beside, an online index Create/Delete (one at a time per table)."""
    online = [(kind, spec) for kind, spec in actions if kind in ("Create", "Delete")]
    if not online:
        return
    if p.get("ProvisionedThroughput") is not None:
        raise ValidationException(_INVALID + "You cannot create or delete index while updating table IOPS")
    if p.get("StreamSpecification") is not None:
        raise ValidationException(_INVALID + "You cannot create or delete index while changing stream status")
    if len(online) > 1:
        raise LimitExceededException(_ONE_ONLINE_INDEX)
    kind, spec = online[0]
    for index in record.gsis:
        if index.status != "CREATING":
            continue
        if kind == "Delete" and spec.get("IndexName") == index.name:
            if not index.backfilling:
                raise ResourceInUseException(
                    "Attempt to change a resource which is still in use: Index creation is in resource allocation "
                    "phase. Retry deletion during backfilling phase or when the index is active. "
                    f"Table: {record.name} Index: {index.name}"
                )
            continue
        raise LimitExceededException(_ONE_ONLINE_INDEX)


def _only_operation(p: dict[str, Any]) -> None:
    """SSE, TableClass and DeletionProtection changes must each come alone."""
    members = ("ProvisionedThroughput", "BillingMode", "StreamSpecification", "GlobalSecondaryIndexUpdates",
               "SSESpecification", "TableClass", "DeletionProtectionEnabled")
    present = [m for m in members if p.get(m) is not None]
    if len(present) < 2:
        return
    for member, what in (("SSESpecification", "Server-Side Encryption"), ("TableClass", "TableClass"),
                         ("DeletionProtectionEnabled", "DeletionProtection")):
        if member in present:
            raise ValidationException(_INVALID + f"{what} modification must be the only operation in the request")


def update_table(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    cached = get_table(store, ctx, p.get("TableName"), describe_style=True)
    if p.get("GlobalSecondaryIndexUpdates") == []:
        if not any(p.get(m) is not None for m in ("ProvisionedThroughput", "BillingMode", "StreamSpecification",
                                                  "SSESpecification", "TableClass", "DeletionProtectionEnabled")):
            raise ValidationException(_UPDATE_TABLE_MEMBERS)
        raise ValidationException(_INVALID + "List of GlobalSecondaryIndexUpdates is empty")
    actions = _index_actions(p)
    _only_operation(p)
    with store.lock(cached.uid):
        # Work on a copy of the latest record: a request refused half-way leaves the table untouched,
        # and the index builder (which saves under this lock too) loses no state.
        latest = store.table(cached.account, cached.region, cached.name) or cached
        record = copy.deepcopy(latest)
        _check_index_admission(p, record, actions)
        backfill, dropped = _apply_table_update(p, record, actions)
        replaced = latest.stream_label is not None and latest.stream_label != record.stream_label
        # A stream replaced by a new one (disabled, then enabled again) stays readable for 24 hours.
        store.save_table(record, [retire_stream(latest)] if replaced else None)
    for index in dropped:
        store.drop_index_rows(record, index.name)
    if backfill:
        wake = store.index_builds_pending
        if wake is not None:
            wake()
        else:  # no running provider (a bare store): build right here
            from awsemu.services.dynamodb.backfill import IndexBuilder

            while IndexBuilder(store).run_once():
                pass
    description = describe(store, record)
    if backfill or dropped:
        description["TableStatus"] = "UPDATING"
    for index in dropped:
        description.setdefault("GlobalSecondaryIndexes", []).append(gsi_description(store, record, index, "DELETING"))
    return {"TableDescription": description}


def _apply_table_update(
    p: dict[str, Any], record: TableRecord, actions: list[tuple[str, dict[str, Any]]],
) -> tuple[list[IndexRecord], list[IndexRecord]]:
    """Change ``record`` as the request asks; returns the indexes to build and the ones deleted."""
    changed = False
    types = {d["AttributeName"]: d["AttributeType"] for d in record.attribute_definitions}
    for d in p.get("AttributeDefinitions") or []:
        types[d["AttributeName"]] = d["AttributeType"]
    billing = p.get("BillingMode")
    if billing is not None and billing != record.billing_mode:
        record.billing_mode = billing
        changed = True
        if billing == "PAY_PER_REQUEST":
            record.billing_switched = now()
            record.read_capacity = record.write_capacity = 0
            for g in record.gsis:
                g.read_capacity = g.write_capacity = 0
        elif p.get("ProvisionedThroughput") is None:
            raise ValidationException(_INVALID + "ProvisionedThroughput must be specified when BillingMode is PROVISIONED")
    throughput = p.get("ProvisionedThroughput")
    if throughput is not None:
        if record.billing_mode == "PAY_PER_REQUEST":
            raise ValidationException(_INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
        read, write = throughput_units(throughput, "PROVISIONED")
        if (read, write) == (record.read_capacity, record.write_capacity) and not changed:
            raise ValidationException(
                f"The provisioned throughput for the table will not change. The requested value equals the current value. "
                f"Current ReadCapacityUnits provisioned for the table: {read}. Requested ReadCapacityUnits: {read}. "
                f"Current WriteCapacityUnits provisioned for the table: {write}. Requested WriteCapacityUnits: {write}. "
                "Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
            )
        if read > record.read_capacity or write > record.write_capacity:
            record.last_increase = now()
        if read < record.read_capacity or write < record.write_capacity:
            record.last_decrease = now()
            record.throughput_decreases += 1
        record.read_capacity, record.write_capacity = read, write
        changed = True
    backfill: list[IndexRecord] = []
    dropped: list[IndexRecord] = []
    for position, (kind, spec) in enumerate(actions, 1):
        name = spec.get("IndexName")
        if kind == "Create":
            if p.get("AttributeDefinitions") is None:
                raise ValidationException(_INVALID + f"AttributeDefinitions is not specified for index: {name}")
            if record.index(name) is not None:
                raise ValidationException("Attempting to create an index which already exists")
            gsi = gsi_record(spec, types, record.billing_mode, f"globalSecondaryIndexUpdates.{position}.member.create",
                       creating_table=False)
            if len(record.gsis) >= MAX_GSIS:
                raise LimitExceededException(
                    f"Subscriber limit exceeded: Number of global secondary indexes exceeds per-table limit of {MAX_GSIS}"
                )
            gsi.status, gsi.backfilling, gsi.created = "CREATING", False, now()
            record.gsis.append(gsi)
            backfill.append(gsi)
        else:
            index = record.index(name)
            if index is None:
                raise ResourceNotFoundException(f"Requested resource not found: Index {name} for table {record.name}")
            if not index.is_global:
                verb = "delete" if kind == "Delete" else "update"
                raise ValidationException(f"Cannot {verb} an index that is not a GlobalSecondaryIndex: {name}")
            if kind == "Delete":
                record.gsis = [g for g in record.gsis if g.name != name]
                dropped.append(index)
            else:
                index.read_capacity, index.write_capacity = throughput_units(
                    spec.get("ProvisionedThroughput"), "PROVISIONED", name, creating_table=False)
        changed = True
    used = set(record.schema.names)
    for idx in record.gsis + record.lsis:
        used.update(idx.schema.names)
    record.attribute_definitions = [{"AttributeName": k, "AttributeType": v} for k, v in types.items() if k in used]
    stream = p.get("StreamSpecification")
    if stream is not None:
        enabled, view = stream_spec(stream, creating_table=False)
        if enabled and record.stream_enabled:
            raise ValidationException(f"Table already has an enabled stream: TableName: {record.name}")
        if not enabled and not record.stream_enabled:
            raise ValidationException(f"Table has no stream to disable: TableName: {record.name}")
        record.stream_enabled, record.stream_view_type = enabled, view if enabled else None
        if enabled:
            record.stream_label = new_stream_label(record.stream_label)
        changed = True
    if p.get("DeletionProtectionEnabled") is not None:
        record.deletion_protection = bool(p["DeletionProtectionEnabled"])
        changed = True
    if p.get("TableClass") is not None:
        record.table_class = p["TableClass"]
        changed = True
    if p.get("SSESpecification") is not None:
        spec = p["SSESpecification"]
        record.sse = sse_description(record.account, record.region, spec) if spec.get("Enabled", True) else None
        changed = True
    if not changed:
        raise ValidationException(_UPDATE_TABLE_MEMBERS)
    return backfill, dropped
