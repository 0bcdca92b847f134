"""Table operations: CreateTable, DescribeTable, ListTables, DeleteTable, and the table-level
settings (tags, TTL, limits, endpoints); UpdateTable is table_update.py.

Tables are ACTIVE at once (unless ``creating_seconds`` holds them in CREATING). Validation
follows the CreateTable API reference; the messages are the ones DynamoDB answers with.
"""

from __future__ import annotations

import copy
import re
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb.errors import (
    ResourceInUseException,
    ResourceNotFoundException,
    ValidationException,
    table_not_found,
)
from awsemu.services.dynamodb.records import IndexRecord, KeySchema, TableRecord
from awsemu.services.dynamodb.store import TableStore, now
# check_table_name is imported from here by the other modules too.
from awsemu.services.dynamodb.table_refs import TableRef, check_table_name, own_table_name, table_ref  # noqa: F401

_INVALID = "One or more parameter values were invalid: "
MAX_GSIS = 20
MAX_LSIS = 5


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


def _projection(member: str, spec: dict[str, Any] | None) -> tuple[str, list[str]]:
    """``member`` is the index's place in the request (``globalSecondaryIndexes.1.member``)."""
    if spec is None:
        raise ValidationException(
            f"1 validation error detected: Value null at '{member}.projection' failed to satisfy constraint: "
            "Member must not be null"
        )
    if not spec.get("ProjectionType"):
        raise ValidationException(_INVALID + "Unknown ProjectionType: null")
    kind = spec["ProjectionType"]
    given = spec.get("NonKeyAttributes")
    attrs = list(given or [])
    if kind != "INCLUDE" and given is not None:
        raise ValidationException(
            _INVALID + "ProjectionType is " + kind + ", but NonKeyAttributes is specified"
        )
    if kind == "INCLUDE" and given is None:
        raise ValidationException(_INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
    if kind == "INCLUDE" and not attrs:
        raise ValidationException(
            f"1 validation error detected: Value '[]' at '{member}.projection.nonKeyAttributes' failed to satisfy "
            "constraint: Member must have length greater than or equal to 1"
        )
    for name in attrs:
        if attrs.count(name) > 1:
            raise ValidationException(_INVALID + f"Duplicate element in NonKeyAttributes: {name}")
    return kind, attrs


def throughput_units(spec: dict[str, Any] | None, billing: str, what: str = "", creating_table: bool = True) -> tuple[int, int]:
    """Table (``what`` empty) or index throughput; CreateTable and UpdateTable word the index
    errors differently."""
    if billing == "PAY_PER_REQUEST":
        if spec is not None:
            if what and creating_table:
                raise ValidationException(
                    _INVALID + f"ProvisionedThroughput should not be specified for index: {what} when BillingMode is "
                    "PAY_PER_REQUEST"
                )
            if what:
                raise ValidationException(
                    _INVALID + f"Neither ReadCapacityUnits nor WriteCapacityUnits can be specified for index: {what} "
                    "when BillingMode is PAY_PER_REQUEST"
                )
            raise ValidationException(
                _INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
            )
        return 0, 0
    if spec is None:
        if what and creating_table:
            raise ValidationException(_INVALID + f"ProvisionedThroughput is not specified for index: {what}")
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


def gsi_record(spec: dict[str, Any], types: dict[str, str], billing: str, member: str, creating_table: bool = True) -> IndexRecord:
    name = spec["IndexName"]
    schema = _key_schema(spec["KeySchema"], types)
    kind, attrs = _projection(member, spec.get("Projection"))
    read, write = throughput_units(spec.get("ProvisionedThroughput"), billing, name, creating_table)
    return IndexRecord(name, schema, kind, attrs, True, "ACTIVE", False, read, write)


def stream_spec(spec: dict[str, Any] | None, creating_table: bool = True) -> tuple[bool, str | None]:
    if not spec:
        return False, None
    enabled = bool(spec.get("StreamEnabled"))
    view = spec.get("StreamViewType")
    if enabled and not view:
        raise ValidationException(_INVALID + (
            "Table is being created with a stream enabled, UpdateViewType is required" if creating_table
            else "If stream is being enabled then UpdateViewType is required"))
    if not enabled and view:
        raise ValidationException(_INVALID + (
            "Table is being created with a stream disabled, UpdateViewType should not be specified" if creating_table
            else "If stream is being disabled, then UpdateViewType must not be specified"))
    return enabled, view


def new_stream_label(previous: str | None = None) -> str:
    """A millisecond timestamp, as AWS's labels are; strictly after ``previous`` (the table's last
    label), so a stream disabled and enabled again within one millisecond still gets its own ARN."""
    now = datetime.now(timezone.utc)
    if previous:
        floor = datetime.strptime(previous, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)
        now = max(now, floor + timedelta(milliseconds=1))
    return now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _check_definitions_used(types: dict[str, str], p: dict[str, Any]) -> None:
    """AttributeDefinitions must name exactly the key attributes of the table and its indexes;
    DynamoDB checks this before any other index rule."""
    gsis, lsis = p.get("GlobalSecondaryIndexes"), p.get("LocalSecondaryIndexes")
    used: list[str] = []
    for spec in [p] + list(gsis or []) + list(lsis or []):
        for element in spec.get("KeySchema") or []:
            name = element.get("AttributeName")
            if name in types and name not in used:
                used.append(name)
    if len(used) == len(types):
        return
    if gsis or lsis:
        raise ValidationException(
            _INVALID + "Some AttributeDefinitions are not used. AttributeDefinitions: [" + ", ".join(types)
            + "], keys used: [" + ", ".join(used) + "]"
        )
    raise ValidationException(
        _INVALID + "Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
    )


def create_table(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    name = own_table_name(ctx, p.get("TableName"))
    definitions = p.get("AttributeDefinitions") or []
    types: dict[str, str] = {}
    for d in definitions:
        if d["AttributeName"] in types:
            raise ValidationException("Attribute Name is duplicated: " + d["AttributeName"])
        types[d["AttributeName"]] = d["AttributeType"]
    for member in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if p.get(member) is not None and not p[member]:
            raise ValidationException(_INVALID + f"List of {member} is empty")
    _check_definitions_used(types, p)
    schema = _key_schema(p.get("KeySchema") or [], types)
    billing = p.get("BillingMode") or "PROVISIONED"
    read, write = throughput_units(p.get("ProvisionedThroughput"), billing)
    gsis: list[IndexRecord] = []
    lsis: list[IndexRecord] = []
    seen: set[str] = set()
    if len(p.get("GlobalSecondaryIndexes") or []) > MAX_GSIS:
        raise ValidationException(_INVALID + f"GlobalSecondaryIndex count exceeds the per-table limit of {MAX_GSIS}")
    if len(p.get("LocalSecondaryIndexes") or []) > MAX_LSIS:
        raise ValidationException(_INVALID + f"Number of LocalSecondaryIndexes exceeds per-table limit of {MAX_LSIS}")
    for position, spec in enumerate(p.get("LocalSecondaryIndexes") or [], 1):
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
        kind, attrs = _projection(f"localSecondaryIndexes.{position}.member", spec.get("Projection"))
        if spec["IndexName"] in seen:
            raise ValidationException(_INVALID + f"Duplicate index name: {spec['IndexName']}")
        seen.add(spec["IndexName"])
        lsis.append(IndexRecord(spec["IndexName"], lsi_schema, kind, attrs, False))
    for position, spec in enumerate(p.get("GlobalSecondaryIndexes") or [], 1):
        gsi = gsi_record(spec, types, billing, f"globalSecondaryIndexes.{position}.member")
        if gsi.name in seen:
            raise ValidationException(_INVALID + f"Duplicate index name: {gsi.name}")
        seen.add(gsi.name)
        gsis.append(gsi)
    enabled, view = stream_spec(p.get("StreamSpecification"))
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
        stream_label=new_stream_label() if enabled else None,
        sse=sse_description(ctx.account_id, ctx.region, sse) if sse and sse.get("Enabled") else None,
        tags={t["Key"]: t["Value"] for t in p.get("Tags") or []},
        deletion_protection=bool(p.get("DeletionProtectionEnabled")),
        table_class=p.get("TableClass") or "STANDARD",
    )
    if billing == "PAY_PER_REQUEST":
        record.billing_switched = record.created
    store.save_table(record)
    description = describe(store, record)
    return {"TableDescription": description}


def sse_description(account: str, region: str, spec: dict[str, Any]) -> dict[str, Any]:
    """SSEDescription of a table of ``account`` (a key id or alias becomes a key ARN of that account)."""
    key = spec.get("KMSMasterKeyId") or f"arn:aws:kms:{region}:{account}:key/{uuid.uuid4()}"
    if not key.startswith("arn:"):
        key = f"arn:aws:kms:{region}:{account}:key/{key}"
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
        out["GlobalSecondaryIndexes"] = [gsi_description(store, record, i) for i in record.gsis]
    if record.stream_enabled:
        out["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": record.stream_view_type}
    if record.stream_label is not None:
        out["LatestStreamLabel"] = record.stream_label
        out["LatestStreamArn"] = record.stream_arn
    if record.sse:
        out["SSEDescription"] = dict(record.sse)
    if record.table_class != "STANDARD":
        out["TableClassSummary"] = {"TableClass": record.table_class}
    if record.restore_summary is not None:
        summary = dict(record.restore_summary)
        summary["RestoreDateTime"] = _dt(summary["RestoreDateTime"])
        out["RestoreSummary"] = {**summary, "RestoreInProgress": False}
    return out


def gsi_description(store: TableStore, record: TableRecord, index: IndexRecord, status: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "IndexName": index.name,
        "KeySchema": index.schema.describe(),
        "Projection": index.projection(),
        "IndexStatus": status or index.status,
        "ProvisionedThroughput": _throughput_description(record, index.read_capacity, index.write_capacity),
        "IndexSizeBytes": store.stats(record.uid, index.name)[1],
        "ItemCount": store.stats(record.uid, index.name)[0],
        "IndexArn": f"{record.arn}/index/{index.name}",
    }
    if index.status == "CREATING":  # only indexes added by UpdateTable report it
        entry["Backfilling"] = index.backfilling
    return entry


def table_status(store: TableStore, record: TableRecord) -> str:
    """ACTIVE at once, unless the store was told to hold new tables in CREATING for a while.
    While an index added by UpdateTable is being allocated (before its backfill starts) the
    table is UPDATING; during the backfill it is ACTIVE again, as in DynamoDB."""
    if store.creating_seconds and now() < record.created + store.creating_seconds:
        return "CREATING"
    if any(i.status == "CREATING" and not i.backfilling for i in record.gsis):
        return "UPDATING"
    return record.status


def lookup_table(store: TableStore, ctx: CallContext, value: Any, member: str = "tableName") -> tuple[TableRef, TableRecord | None]:
    """The table a TableName parameter (a name or a table ARN) names, None if there is none here."""
    ref = table_ref(ctx, value, member)
    if ref.region != ctx.region:
        return ref, None  # this endpoint serves only its own region: another region's table is not found here
    return ref, store.table(ref.account, ref.region, ref.name)


def get_table(store: TableStore, ctx: CallContext, name: Any, *, describe_style: bool = False,
              member: str = "tableName") -> TableRecord:
    """The table a TableName parameter names (table_refs.py: a name here, or a table ARN, of this
    account or another). Named by ARN, the record is a copy that remembers the ARN, so responses
    echo it (``name_as_given``)."""
    ref, record = lookup_table(store, ctx, name, member)
    if record is None:
        raise table_not_found(ref.given) if describe_style else ResourceNotFoundException()
    if not describe_style and table_status(store, record) == "CREATING":
        raise ResourceNotFoundException()
    if ref.by_arn:
        record = copy.copy(record)
        record.requested_as = ref.given
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
        raise ValidationException("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
    if any(i.status != "ACTIVE" for i in record.gsis):
        raise ResourceInUseException(
            "Attempt to change a resource which is still in use: Cannot delete table while indexes are being created, "
            "updated, or deleted."
        )
    description = describe(store, record)
    description["TableStatus"] = "DELETING"
    store.drop_table(record)
    return {"TableDescription": description}


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
        if len(record.tags) > 50:  # a ValidationException in DynamoDB, not LimitExceeded
            raise ValidationException("Number of Tags exceed the current limit for the provided ResourceArn")
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
