"""BatchGetItem and BatchWriteItem.

Limits from the API reference: 100 keys per BatchGetItem, 25 requests per BatchWriteItem, no
duplicate keys within one table. Each table's writes are committed as one lsm batch under the
table's lock (DynamoDB promises atomicity per item only; we give more). Writes are never throttled here, so
``UnprocessedItems`` is an empty map; a BatchGetItem stops at 16 MB of items and returns the
remaining keys in ``UnprocessedKeys``, shaped like the request.
"""

from __future__ import annotations

from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb.attribute_values import item_size, validate_item
from awsemu.services.dynamodb.capacity import CapacityMeter, read_units
from awsemu.services.dynamodb.errors import ValidationException
from awsemu.services.dynamodb.expressions import legacy, project
from awsemu.services.dynamodb.items import (
    check_item,
    check_key,
    collection_metrics,
    expression_context,
    projection_of,
    write_cost,
)
from awsemu.services.dynamodb.store import Change, TableStore
from awsemu.services.dynamodb.tables import get_table

MAX_GET = 100
MAX_WRITE = 25
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def batch_get_item(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    requests = p.get("RequestItems") or {}
    if sum(len(r.get("Keys") or []) for r in requests.values()) > MAX_GET:
        raise ValidationException("Too many items requested for the BatchGetItem call")
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    plans = []
    for name, request in requests.items():
        legacy.check_exclusive(request, ("AttributesToGet",), ("ProjectionExpression",))
        exprs = expression_context(request)
        projection = projection_of(request, exprs)
        exprs.check_unused()
        table = get_table(store, ctx, name)
        keys_ = [check_key(table, k) for k in request.get("Keys") or []]
        if len({store.item_key(table, k) for k in keys_}) != len(keys_):
            raise ValidationException("Provided list of item keys contains duplicates")
        plans.append((name, table, keys_, projection, bool(request.get("ConsistentRead"))))
    responses: dict[str, list[Any]] = {}
    unprocessed: dict[str, Any] = {}
    returned = 0
    for name, table, keys_, projection, consistent in plans:
        found = responses.setdefault(name, [])
        for n, key in enumerate(keys_):
            if returned >= MAX_RESPONSE_BYTES:
                # DynamoDB stops at 16 MB and hands the rest back in the request's own shape.
                rest = {k: v for k, v in requests[name].items() if k != "Keys"}
                unprocessed[name] = {**rest, "Keys": keys_[n:]}
                break
            item = store.get_item(table, key)
            meter.read(table.name_as_given, read_units(item_size(item) if item else 0, consistent))
            if item is not None:
                found.append(project(item, projection) if projection is not None else item)
                returned += item_size(item)
    out: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": unprocessed}
    consumed = meter.render_all()
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    return out


def batch_write_item(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    requests = p.get("RequestItems") or {}
    total = 0
    for name, writes in requests.items():
        if not writes or len(writes) > MAX_WRITE:
            raise ValidationException(
                f"1 validation error detected: Value '{{{name}={writes!r}}}' at 'requestItems' failed to satisfy "
                "constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, "
                "Member must have length greater than or equal to 1]"
            )
        total += len(writes)
    if total > MAX_WRITE:
        raise ValidationException("Too many items requested for the BatchWriteItem call")
    plans = []
    for name, writes in requests.items():
        table = get_table(store, ctx, name)
        key_names = table.schema.names
        # (key, new item or None for a delete, its size, its row key)
        ops: list[tuple[dict[str, Any], dict[str, Any] | None, int, bytes]] = []
        for write in writes:
            put, delete = write.get("PutRequest"), write.get("DeleteRequest")
            if (put is None) == (delete is None):
                raise ValidationException("A WriteRequest must contain exactly one of PutRequest or DeleteRequest")
            if put is not None:
                item = validate_item(put.get("Item"))
                size = check_item(table, item)
                key = {n: item[n] for n in key_names}
                ops.append((key, item, size, store.item_key(table, key)))
            else:
                key = check_key(table, delete.get("Key"))
                ops.append((key, None, 0, store.item_key(table, key)))
        if len({op[3] for op in ops}) != len(ops):
            raise ValidationException("Provided list of item keys contains duplicates")
        plans.append((table, ops))
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    metered = meter.mode is not None
    for table, ops in plans:
        with store.lock(table.uid):
            changes = []
            for key, new, size, row in ops:
                old = store.get_item(table, key, row)
                if old is None and new is None:
                    if metered:
                        write_cost(table, meter, None, None)
                    continue
                change = Change(table, key, old, new, row=row, new_size=size)
                changes.append(change)
                if metered:
                    write_cost(table, meter, old, new, change=change)
            if changes:
                store.commit(changes)
    out: dict[str, Any] = {"UnprocessedItems": {}}
    consumed = meter.render_all()
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    if p.get("ReturnItemCollectionMetrics") == "SIZE":
        metrics: dict[str, list[Any]] = {}
        for table, ops in plans:
            for op in ops:
                m = collection_metrics(table, p, op[0])
                if m is not None:
                    metrics.setdefault(table.name_as_given, []).append(m)
        out["ItemCollectionMetrics"] = metrics
    return out
