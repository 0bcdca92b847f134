"""Table operations: CreateTable, DescribeTable, ListTables, UpdateTable, DeleteTable, and the
table-level settings (tags, TTL, limits, endpoints).

Tables are ACTIVE at once. Validation follows the CreateTable/UpdateTable API reference; the
messages are DynamoDB's.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb.errors import (
    LimitExceededException,
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
    table_not_found,
)
from awsemu.services.dynamodb.records import IndexRecord, KeySchema, TableRecord
from awsemu.services.dynamodb.store import TableStore, now

_INVALID = "One or more parameter values were invalid: "
_NAME_RE = re.compile(r"[a-zA-Z0-9_.\-]+\Z")
MAX_GSIS = 20
MAX_LSIS = 5


def check_table_name(name: Any, member: str = "tableName") -> str:
    if not isinstance(name, str):
        raise ValidationException(f"1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null")
    if name.startswith("arn:aws:dynamodb:"):
        name = name.rsplit("/", 1)[-1] if "/table/" in name else name
    if len(name) < 3:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: "
            "Member must have length greater than or equal to 3"
        )
    if len(name) > 255:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: "
            "Member must have length less than or equal to 255"
        )
    if not _NAME_RE.match(name):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at '{member}' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )
    return name


def _key_schema(elements: list[dict[str, str]], types: dict[str, str], owner: str | None = None) -> KeySchema:
    if not elements or len(elements) > 2:
        raise ValidationException(
            f"1 validation error detected: Value '{elements}' at 'keySchema' failed to satisfy constraint: "
            "Member must have length less than or equal to 2"
        )
    if elements[0].get("KeyType") != "HASH":
        raise ValidationException("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    if len(elements) == 2:
        if elements[1].get("KeyType") != "RANGE":
            raise ValidationException("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
        if elements[0]["AttributeName"] == elements[1]["AttributeName"]:
            raise ValidationException(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name"
            )
    names = [e["AttributeName"] for e in elements]
    missing = [n for n in names if n not in types]
    if missing:
        raise ValidationException(
            _INVALID + "Some index key attributes are not defined in AttributeDefinitions. Keys: ["
            + ", ".join(missing) + "], AttributeDefinitions: [" + ", ".join(types) + "]"
        )
    schema = KeySchema(names[0], types[names[0]])
    if len(names) == 2:
        schema.range_name, schema.range_type = names[1], types[names[1]]
    return schema


def _projection(index_name: str, spec: dict[str, Any] | None) -> tuple[str, list[str]]:
    if not spec or not spec.get("ProjectionType"):
        raise ValidationException(_INVALID + f"Unknown ProjectionType: null")
    kind = spec["ProjectionType"]
    attrs = list(spec.get("NonKeyAttributes") or [])
    if kind != "INCLUDE" and attrs:
        raise ValidationException(
            _INVALID + "ProjectionType is " + kind + ", but NonKeyAttributes is specified"
        )
    if kind == "INCLUDE" and not attrs:
        raise ValidationException(_INVALID + "NonKeyAttributes must not be empty")
    return kind, attrs


def _throughput(spec: dict[str, Any] | None, billing: str, what: str = "") -> tuple[int, int]:
    if billing == "PAY_PER_REQUEST":
        if spec is not None:
            raise ValidationException(
                _INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
            )
        return 0, 0
    if spec is None:
        if what:
            raise ValidationException(_INVALID + f"ProvisionedThroughput must be specified for index: {what}")
        raise ValidationException("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
    read, write = spec.get("ReadCapacityUnits"), spec.get("WriteCapacityUnits")
    if read is None or write is None:
        raise ValidationException("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
    for label, value in (("ReadCapacityUnits", read), ("WriteCapacityUnits", write)):
        if value < 1:
            raise ValidationException(
                _INVALID + f"{label} must be greater than 0 for table"
            )
    return int(read), int(write)


def _gsi(spec: dict[str, Any], types: dict[str, str], billing: str) -> IndexRecord:
    name = spec["IndexName"]
    schema = _key_schema(spec["KeySchema"], types)
    kind, attrs = _projection(name, spec.get("Projection"))
    read, write = _throughput(spec.get("ProvisionedThroughput"), billing, name)
    return IndexRecord(name, schema, kind, attrs, True, "ACTIVE", False, read, write)


def _stream_spec(spec: dict[str, Any] | None) -> tuple[bool, str | None]:
    if not spec:
        return False, None
    enabled = bool(spec.get("StreamEnabled"))
    view = spec.get("StreamViewType")
    if enabled and not view:
        raise ValidationException(_INVALID + "StreamViewType is required when StreamEnabled is true")
    if not enabled and view:
        raise ValidationException(_INVALID + "Stream cannot be disabled if StreamViewType is specified")  # pragma: no cover
    return enabled, view


def _stream_label() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def create_table(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    name = check_table_name(p.get("TableName"))
    definitions = p.get("AttributeDefinitions") or []
    types: dict[str, str] = {}
    for d in definitions:
        if d["AttributeName"] in types:
            raise ValidationException(_INVALID + "Duplicate AttributeName in AttributeDefinitions: " + d["AttributeName"])
        types[d["AttributeName"]] = d["AttributeType"]
    schema = _key_schema(p.get("KeySchema") or [], types)
    billing = p.get("BillingMode") or "PROVISIONED"
    read, write = _throughput(p.get("ProvisionedThroughput"), billing)
    used = set(schema.names)
    gsis: list[IndexRecord] = []
    lsis: list[IndexRecord] = []
    seen: set[str] = set()
    for spec in p.get("LocalSecondaryIndexes") or []:
        if schema.range_name is None:
            raise ValidationException(
                _INVALID + "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"
            )
        lsi_schema = _key_schema(spec["KeySchema"], types)
        if lsi_schema.range_name is None:
            raise ValidationException(_INVALID + f"Index KeySchema does not have a range key for index: {spec['IndexName']}")
        if lsi_schema.hash_name != schema.hash_name:
            raise ValidationException(
                _INVALID + f"Index KeySchema does not have the same leading hash key as table KeySchema for index: "
                f"{spec['IndexName']}. index hash key: {lsi_schema.hash_name}, table hash key: {schema.hash_name}"
            )
        kind, attrs = _projection(spec["IndexName"], spec.get("Projection"))
        if spec["IndexName"] in seen:
            raise ValidationException(_INVALID + f"Duplicate index name: {spec['IndexName']}")
        seen.add(spec["IndexName"])
        lsis.append(IndexRecord(spec["IndexName"], lsi_schema, kind, attrs, False))
        used.update(lsi_schema.names)
    for spec in p.get("GlobalSecondaryIndexes") or []:
        gsi = _gsi(spec, types, billing)
        if gsi.name in seen:
            raise ValidationException(_INVALID + f"Duplicate index name: {gsi.name}")
        seen.add(gsi.name)
        gsis.append(gsi)
        used.update(gsi.schema.names)
    if len(lsis) > MAX_LSIS:
        raise ValidationException(_INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5")
    if len(gsis) > MAX_GSIS:
        raise LimitExceededException("Subscriber limit exceeded: The number of global secondary indexes exceeds the limit of 20")
    if set(types) != used:
        raise ValidationException(
            _INVALID + "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
        )
    enabled, view = _stream_spec(p.get("StreamSpecification"))
    if store.table(ctx.account_id, ctx.region, name) is not None:
        raise ResourceInUseException(f"Table already exists: {name}")
    sse = p.get("SSESpecification")
    record = TableRecord(
        name=name,
        uid=str(uuid.uuid4()),
        account=ctx.account_id,
        region=ctx.region,
        schema=schema,
        attribute_definitions=[{"AttributeName": k, "AttributeType": v} for k, v in types.items()],
        created=now(),
        billing_mode=billing,
        read_capacity=read,
        write_capacity=write,
        gsis=gsis,
        lsis=lsis,
        stream_enabled=enabled,
        stream_view_type=view,
        stream_label=_stream_label() if enabled else None,
        sse=_sse(ctx, sse) if sse and sse.get("Enabled") else None,
        tags={t["Key"]: t["Value"] for t in p.get("Tags") or []},
        deletion_protection=bool(p.get("DeletionProtectionEnabled")),
        table_class=p.get("TableClass") or "STANDARD",
    )
    if billing == "PAY_PER_REQUEST":
        record.billing_switched = record.created
    store.save_table(record)
    description = describe(store, record)
    return {"TableDescription": description}


def _sse(ctx: CallContext, spec: dict[str, Any]) -> dict[str, Any]:
    key = spec.get("KMSMasterKeyId") or f"arn:aws:kms:{ctx.region}:{ctx.account_id}:key/{uuid.uuid4()}"
    if not key.startswith("arn:"):
        key = f"arn:aws:kms:{ctx.region}:{ctx.account_id}:key/{key}"
    return {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key}


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def _throughput_description(record: TableRecord, read: int, write: int) -> dict[str, Any]:
    out: dict[str, Any] = {"NumberOfDecreasesToday": record.throughput_decreases, "ReadCapacityUnits": read, "WriteCapacityUnits": write}
    if record.last_increase:
        out["LastIncreaseDateTime"] = _dt(record.last_increase)
    if record.last_decrease:
        out["LastDecreaseDateTime"] = _dt(record.last_decrease)
    return out


def describe(store: TableStore, record: TableRecord) -> dict[str, Any]:
    count, size = store.stats(record.uid)
    out: dict[str, Any] = {
        "AttributeDefinitions": list(record.attribute_definitions),
        "TableName": record.name,
        "KeySchema": record.schema.describe(),
        "TableStatus": table_status(store, record),
        "CreationDateTime": _dt(record.created),
        "ProvisionedThroughput": _throughput_description(record, record.read_capacity, record.write_capacity),
        "TableSizeBytes": size,
        "ItemCount": count,
        "TableArn": record.arn,
        "TableId": record.uid,
        "DeletionProtectionEnabled": record.deletion_protection,
    }
    if record.billing_mode == "PAY_PER_REQUEST" or record.billing_switched:
        summary: dict[str, Any] = {"BillingMode": record.billing_mode}
        if record.billing_switched:
            summary["LastUpdateToPayPerRequestDateTime"] = _dt(record.billing_switched)
        out["BillingModeSummary"] = summary
    if record.lsis:
        out["LocalSecondaryIndexes"] = [
            {
                "IndexName": i.name,
                "KeySchema": i.schema.describe(),
                "Projection": i.projection(),
                "IndexSizeBytes": store.stats(record.uid, i.name)[1],
                "ItemCount": store.stats(record.uid, i.name)[0],
                "IndexArn": f"{record.arn}/index/{i.name}",
            }
            for i in record.lsis
        ]
    if record.gsis:
        gsis = []
        for i in record.gsis:
            entry: dict[str, Any] = {
                "IndexName": i.name,
                "KeySchema": i.schema.describe(),
                "Projection": i.projection(),
                "IndexStatus": i.status,
                "ProvisionedThroughput": _throughput_description(record, i.read_capacity, i.write_capacity),
                "IndexSizeBytes": store.stats(record.uid, i.name)[1],
                "ItemCount": store.stats(record.uid, i.name)[0],
                "IndexArn": f"{record.arn}/index/{i.name}",
            }
            if i.backfilling:
                entry["Backfilling"] = True
            gsis.append(entry)
        out["GlobalSecondaryIndexes"] = gsis
    if record.stream_enabled:
        out["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": record.stream_view_type}
    if record.stream_label is not None:
        out["LatestStreamLabel"] = record.stream_label
        out["LatestStreamArn"] = record.stream_arn
    if record.sse:
        out["SSEDescription"] = dict(record.sse)
    if record.table_class != "STANDARD":
        out["TableClassSummary"] = {"TableClass": record.table_class}
    return out


def table_status(store: TableStore, record: TableRecord) -> str:
    """ACTIVE at once, unless the store was told to hold new tables in CREATING for a while."""
    if store.creating_seconds and now() < record.created + store.creating_seconds:
        return "CREATING"
    return record.status


def get_table(store: TableStore, ctx: CallContext, name: Any, *, describe_style: bool = False) -> TableRecord:
    name = check_table_name(name)
    record = store.table(ctx.account_id, ctx.region, name)
    if record is None:
        raise table_not_found(name) if describe_style else ResourceNotFoundException()
    if not describe_style and table_status(store, record) == "CREATING":
        raise ResourceNotFoundException()
    return record


def describe_table(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    record = get_table(store, ctx, p.get("TableName"), describe_style=True)
    return {"Table": describe(store, record)}


def list_tables(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    limit = p.get("Limit") or 100
    start = p.get("ExclusiveStartTableName")
    names = sorted(store.list_tables(ctx.account_id, ctx.region))
    if start is not None:
        names = [n for n in names if n > start]
    page = names[:limit]
    out: dict[str, Any] = {"TableNames": page}
    if len(names) > limit:
        out["LastEvaluatedTableName"] = page[-1]
    return out


def delete_table(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    record = get_table(store, ctx, p.get("TableName"), describe_style=True)
    if record.deletion_protection:
        raise ValidationException(f"Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
    description = describe(store, record)
    description["TableStatus"] = "DELETING"
    store.drop_table(record)
    return {"TableDescription": description}


def update_table(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    # Work on a copy: a request refused half-way must leave the cached record untouched.
    record = copy.deepcopy(get_table(store, ctx, p.get("TableName"), describe_style=True))
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
        read, write = _throughput(throughput, "PROVISIONED")
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
    dropped: list[str] = []
    for update in p.get("GlobalSecondaryIndexUpdates") or []:
        if "Create" in update:
            spec = update["Create"]
            if record.index(spec["IndexName"]) is not None:
                raise ValidationException(_INVALID + f"Index already exists: {spec['IndexName']}")  # noqa: E501
            gsi = _gsi(spec, types, record.billing_mode)
            if len(record.gsis) >= MAX_GSIS:
                raise LimitExceededException("Subscriber limit exceeded: The number of global secondary indexes exceeds the limit of 20")
            record.gsis.append(gsi)
            backfill.append(gsi)
        elif "Delete" in update:
            name = update["Delete"]["IndexName"]
            index = record.index(name)
            if index is None or not index.is_global:
                raise ResourceNotFoundException(f"Requested resource not found: Index: {name} not found")  # noqa: E501
            record.gsis = [g for g in record.gsis if g.name != name]
            dropped.append(name)
        elif "Update" in update:
            spec = update["Update"]
            index = record.index(spec["IndexName"])
            if index is None or not index.is_global:
                raise ResourceNotFoundException(f"Requested resource not found: Index: {spec['IndexName']} not found")
            index.read_capacity, index.write_capacity = _throughput(spec.get("ProvisionedThroughput"), "PROVISIONED")
        changed = True
    used = set(record.schema.names)
    for idx in record.gsis + record.lsis:
        used.update(idx.schema.names)
    record.attribute_definitions = [{"AttributeName": k, "AttributeType": v} for k, v in types.items() if k in used]
    stream = p.get("StreamSpecification")
    if stream is not None:
        enabled, view = _stream_spec(stream)
        if enabled and record.stream_enabled:
            raise ValidationException(f"Table already has an enabled stream: {record.stream_arn}")
        if not enabled and not record.stream_enabled:
            raise ValidationException("Table already has no enabled stream")  # pragma: no cover
        record.stream_enabled, record.stream_view_type = enabled, view if enabled else None
        if enabled:
            record.stream_label = _stream_label()
        changed = True
    if p.get("DeletionProtectionEnabled") is not None:
        record.deletion_protection = bool(p["DeletionProtectionEnabled"])
        changed = True
    if p.get("TableClass") is not None:
        record.table_class = p["TableClass"]
        changed = True
    if p.get("SSESpecification") is not None:
        spec = p["SSESpecification"]
        record.sse = _sse(ctx, spec) if spec.get("Enabled", True) else None
        changed = True
    if not changed:
        raise ValidationException(
            "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates "
            "or SSESpecification or ReplicaUpdates is required"
        )
    with store.lock(record.uid):
        store.save_table(record)
    for gsi in backfill:
        store.backfill_index(record, gsi)
    for name in dropped:
        store.drop_index_rows(record, name)
    return {"TableDescription": describe(store, record)}


# --- tags, TTL, limits, endpoints ----------------------------------------------------------------


def _table_by_arn(store: TableStore, ctx: CallContext, arn: str) -> TableRecord:
    match = re.match(r"arn:aws[\w-]*:dynamodb:([\w-]+):(\d{12}):table/([a-zA-Z0-9_.\-]+)\Z", arn or "")
    if match is None:
        raise ValidationException(f"Invalid TableArn: Invalid ResourceArn provided as input {arn}")
    region, account, name = match.groups()
    record = store.table(account, region, name)
    if record is None:
        raise ResourceNotFoundException(f"Requested resource not found: ResourcArn: {arn} not found")
    return record


def tag_resource(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    record = copy.deepcopy(_table_by_arn(store, ctx, p["ResourceArn"]))
    with store.lock(record.uid):
        for tag in p.get("Tags") or []:
            record.tags[tag["Key"]] = tag["Value"]
        if len(record.tags) > 50:
            raise LimitExceededException("The maximum number of tags per resource has been exceeded")
        store.save_table(record)
    return {}


def untag_resource(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    record = copy.deepcopy(_table_by_arn(store, ctx, p["ResourceArn"]))
    with store.lock(record.uid):
        for key in p.get("TagKeys") or []:
            record.tags.pop(key, None)
        store.save_table(record)
    return {}


def list_tags_of_resource(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    record = _table_by_arn(store, ctx, p["ResourceArn"])
    return {"Tags": [{"Key": k, "Value": v} for k, v in sorted(record.tags.items())]}


def update_time_to_live(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    record = copy.deepcopy(get_table(store, ctx, p.get("TableName")))
    spec = p["TimeToLiveSpecification"]
    enabled = bool(spec["Enabled"])
    if enabled and record.ttl_enabled:
        raise ValidationException("TimeToLive is already enabled")
    if not enabled and not record.ttl_enabled:
        raise ValidationException("TimeToLive is already disabled")
    if not enabled and spec["AttributeName"] != record.ttl_attribute:
        raise ValidationException("TimeToLive is active on a different AttributeName: current AttributeName is "
                                  f"{record.ttl_attribute}")
    with store.lock(record.uid):
        record.ttl_enabled = enabled
        record.ttl_attribute = spec["AttributeName"] if enabled else None
        store.save_table(record)
        if enabled:
            store.backfill_expiry(record)
        else:
            store.drop_expiry_rows(record)
    return {"TimeToLiveSpecification": {"Enabled": enabled, "AttributeName": spec["AttributeName"]}}


def describe_time_to_live(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    record = get_table(store, ctx, p.get("TableName"))
    if not record.ttl_enabled:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}
    return {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": record.ttl_attribute}}


def _continuous_backups(record: TableRecord) -> dict[str, Any]:
    pitr: dict[str, Any] = {"PointInTimeRecoveryStatus": "ENABLED" if record.point_in_time_recovery else "DISABLED"}
    if record.point_in_time_recovery:
        pitr["RecoveryPeriodInDays"] = 35
    return {"ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": pitr}


def describe_continuous_backups(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    record = get_table(store, ctx, p.get("TableName"), describe_style=True)
    return {"ContinuousBackupsDescription": _continuous_backups(record)}


def update_continuous_backups(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    """Only the setting is kept: awsemu has no restore, so PITR is a flag tools can read back."""
    record = copy.deepcopy(get_table(store, ctx, p.get("TableName"), describe_style=True))
    spec = p.get("PointInTimeRecoverySpecification") or {}
    record.point_in_time_recovery = bool(spec.get("PointInTimeRecoveryEnabled"))
    with store.lock(record.uid):
        store.save_table(record)
    return {"ContinuousBackupsDescription": _continuous_backups(record)}


def describe_limits() -> dict[str, Any]:
    return {
        "AccountMaxReadCapacityUnits": 80000,
        "AccountMaxWriteCapacityUnits": 80000,
        "TableMaxReadCapacityUnits": 40000,
        "TableMaxWriteCapacityUnits": 40000,
    }


def describe_endpoints(ctx: CallContext) -> dict[str, Any]:
    address = ctx.endpoint.split("://", 1)[-1]
    return {"Endpoints": [{"Address": address, "CachePeriodInMinutes": 1440}]}
