"""Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem, and the checks they share.

Each write reads the current item, evaluates the condition on it, computes the new item and
commits both through :meth:`TableStore.commit` while holding the table's lock, so a conditional
write is atomic with respect to every other writer of the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb.attribute_values import (
    MAX_ITEM_SIZE,
    item_size,
    validate_expression_values,
    validate_item,
    validate_value,
)
from awsemu.services.dynamodb.capacity import CapacityMeter, read_units, write_units
from awsemu.services.dynamodb.errors import (
    ConditionalCheckFailedException,
    TransactionConflictException,
    ValidationException,
)
from awsemu.services.dynamodb.expressions import ExpressionContext, apply_update, compile_condition, project
from awsemu.services.dynamodb.expressions import legacy
from awsemu.services.dynamodb.expressions.ast import Path, UpdateActions
from awsemu.services.dynamodb.records import TableRecord
from awsemu.services.dynamodb.store import Change, TableStore, index_key_of, project_for_index
from awsemu.services.dynamodb.tables import get_table

Item = dict[str, dict[str, Any]]
_INVALID = "One or more parameter values were invalid: "
_NAME_KEY = re.compile(r"#[A-Za-z0-9_]+\Z")
_VALUE_KEY = re.compile(r":[A-Za-z0-9_]+\Z")


def expression_context(p: dict[str, Any]) -> ExpressionContext:
    names = p.get("ExpressionAttributeNames")
    values = p.get("ExpressionAttributeValues")
    if names is not None:
        if not names:
            raise ValidationException("ExpressionAttributeNames must not be empty")
        for key in names:
            if not _NAME_KEY.match(key):
                raise ValidationException(f'ExpressionAttributeNames contains invalid key: Syntax error; key: "{key}"')
    if values is not None:
        if not values:
            raise ValidationException("ExpressionAttributeValues must not be empty")
        for key in values:
            if not _VALUE_KEY.match(key):
                raise ValidationException(f'ExpressionAttributeValues contains invalid key: Syntax error; key: "{key}"')
        values = validate_expression_values(values)
    return ExpressionContext(names, values)


def condition_of(p: dict[str, Any], ctx: ExpressionContext) -> Any | None:
    """ConditionExpression or Expected (+ ConditionalOperator), as a tree."""
    if p.get("ConditionExpression") is not None:
        return ctx.condition(p["ConditionExpression"], "ConditionExpression")
    if p.get("Expected") is not None:
        return legacy.expected_condition(p["Expected"], p.get("ConditionalOperator"))
    return None


def projection_of(p: dict[str, Any], ctx: ExpressionContext) -> list[Path] | None:
    if p.get("ProjectionExpression") is not None:
        return ctx.projection(p["ProjectionExpression"])
    if p.get("AttributesToGet") is not None:
        return legacy.attributes_to_get(p["AttributesToGet"])
    return None


def check_key(table: TableRecord, key: Any) -> Item:
    """A Key parameter: exactly the key attributes, of the right types, non-empty."""
    if not isinstance(key, dict):
        raise ValidationException("The provided key element does not match the schema")
    schema = table.schema
    if len(key) != len(schema.names):
        raise ValidationException("The provided key element does not match the schema")
    out: Item = {}
    for name, wanted in ((schema.hash_name, schema.hash_type), (schema.range_name, schema.range_type)):
        if name is None:
            continue
        value = key.get(name)
        if value is None:
            raise ValidationException("The provided key element does not match the schema")
        value = validate_value(value)
        if wanted not in value:
            raise ValidationException("The provided key element does not match the schema")
        _non_empty_key(name, value)
        out[name] = value
    return out


def _non_empty_key(name: str, value: dict[str, Any]) -> None:
    raw = next(iter(value.values()))
    if isinstance(raw, (str, bytes)) and len(raw) == 0:
        kind = "string" if isinstance(raw, str) else "binary"
        raise ValidationException(
            f"One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an "
            f"empty {kind} value. Key: {name}"
        )


def check_item(table: TableRecord, item: Item, *, updating: bool = False) -> int:
    """Key attributes present and typed; index keys typed; size within 400 KB. Returns the item's
    size, which the commit reuses (statistics) instead of sizing the item again."""
    schema = table.schema
    if not updating:
        for name, wanted in ((schema.hash_name, schema.hash_type), (schema.range_name, schema.range_type)):
            if name is None:
                continue
            value = item.get(name)
            if value is None:
                raise ValidationException(_INVALID + f"Missing the key {name} in the item")
            kind = next(iter(value))
            if kind != wanted:
                raise ValidationException(_INVALID + f"Type mismatch for key {name} expected: {wanted} actual: {kind}")
            if not value[kind]:
                _non_empty_key(name, value)
    if table.gsis or table.lsis:
        _check_index_keys(table, item)
    size = item_size(item)
    if size > MAX_ITEM_SIZE:
        message = "Item size to update has exceeded the maximum allowed size" if updating else "Item size has exceeded the maximum allowed size"
        raise ValidationException(message)
    return size


def _check_index_keys(table: TableRecord, item: Item) -> None:
    schema = table.schema
    for index in table.gsis + table.lsis:
        for name, wanted in ((index.schema.hash_name, index.schema.hash_type), (index.schema.range_name, index.schema.range_type)):
            if name is None or name in schema.names:
                continue
            value = item.get(name)
            if value is None:
                continue
            kind = next(iter(value))
            if kind != wanted:
                raise ValidationException(
                    _INVALID + f"Type mismatch for Index Key {name} Expected: {wanted} Actual: {kind} IndexName: {index.name}"
                )
            raw = value[kind]
            if len(raw) == 0:
                raise ValidationException(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not "
                    "supported. The AttributeValue for a key attribute cannot contain an empty "
                    f"{'string' if kind == 'S' else 'binary'} value. IndexName: {index.name}, IndexKey: {name}"
                )


def not_in_transaction(store: TableStore, row: bytes) -> None:
    if store.in_transaction(row):
        raise TransactionConflictException("Transaction is ongoing for the item")


def return_values(p: dict[str, Any], allowed: tuple[str, ...]) -> str:
    value = p.get("ReturnValues") or "NONE"
    if value not in allowed:
        raise ValidationException("Return values set to invalid value")
    return value


def on_failure(p: dict[str, Any]) -> bool:
    value = p.get("ReturnValuesOnConditionCheckFailure") or "NONE"
    if value not in ("NONE", "ALL_OLD"):
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at 'returnValuesOnConditionCheckFailure' failed to satisfy "
            "constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
        )
    return value == "ALL_OLD"


def write_cost(
    table: TableRecord, meter: CapacityMeter, old: Item | None, new: Item | None, factor: float = 1.0,
    change: Change | None = None,
) -> None:
    """Table units for the larger of old and new; per index, one write of the projected row, or
    two when the item moves within the index (its index key changed: a delete plus a put).
    ``change``, when given, holds the sizes the commit already computed."""
    if meter.mode is None:
        return  # ReturnConsumedCapacity NONE: nothing would be reported, so nothing is sized
    if change is not None:
        size = max(change.old_size, change.new_size)
    else:
        size = max(item_size(old) if old else 0, item_size(new) if new else 0)
    meter.write(table.name_as_given, write_units(size) * factor)
    for index in table.gsis + table.lsis:
        old_key = index_key_of(index, old) if old is not None else None
        new_key = index_key_of(index, new) if new is not None else None
        if old_key is None and new_key is None:
            continue
        old_size = item_size(project_for_index(table, index, old)) if old_key is not None and old else 0
        new_size = item_size(project_for_index(table, index, new)) if new_key is not None and new else 0
        if old_key is not None and new_key is not None and old_key != new_key:
            units = write_units(old_size) + write_units(new_size)
        else:
            units = write_units(max(old_size, new_size))
        meter.write(table.name_as_given, units * factor, index.name, index.is_global)


def collection_metrics(table: TableRecord, p: dict[str, Any], key: Item) -> dict[str, Any] | None:
    if p.get("ReturnItemCollectionMetrics") != "SIZE" or not table.lsis:
        return None
    return {"ItemCollectionKey": {table.schema.hash_name: key[table.schema.hash_name]}, "SizeEstimateRangeGB": [0.0, 1.0]}


def _finish(out: dict[str, Any], meter: CapacityMeter, table: TableRecord, metrics: dict[str, Any] | None) -> dict[str, Any]:
    consumed = meter.render(table.name_as_given)
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    if metrics is not None:
        out["ItemCollectionMetrics"] = metrics
    return out


def _conditional_write(p: dict[str, Any]) -> tuple[Any, str, bool]:
    """PutItem's and DeleteItem's shared parameters, checked in DynamoDB's order: (condition,
    ReturnValues, ReturnValuesOnConditionCheckFailure wants ALL_OLD)."""
    legacy.check_exclusive(p, ("Expected",), ("ConditionExpression",))
    exprs = expression_context(p)
    condition = condition_of(p, exprs)
    exprs.check_unused()
    return condition, return_values(p, ("NONE", "ALL_OLD")), on_failure(p)


def put_item(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    condition, returns, want_old_on_failure = _conditional_write(p)
    table = get_table(store, ctx, p.get("TableName"))
    item = validate_item(p.get("Item"))
    size = check_item(table, item)
    key = {n: item[n] for n in table.schema.names}
    check = compile_condition(condition) if condition is not None else None
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    row = store.item_key(table, key)
    not_in_transaction(store, row)
    with store.lock(table.uid):
        old = store.get_item(table, key, row)
        if check is not None and not check(old or {}):
            meter.write(table.name_as_given, write_units(size))
            raise ConditionalCheckFailedException(old if want_old_on_failure and old is not None else None)
        change = Change(table, key, old, item, row=row, new_size=size)
        store.commit([change])
    write_cost(table, meter, old, item, change=change)
    out: dict[str, Any] = {}
    if returns == "ALL_OLD" and old is not None:
        out["Attributes"] = old
    return _finish(out, meter, table, collection_metrics(table, p, key))


def get_item(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    legacy.check_exclusive(p, ("AttributesToGet",), ("ProjectionExpression",))
    exprs = expression_context(p)
    projection = projection_of(p, exprs)
    exprs.check_unused()
    table = get_table(store, ctx, p.get("TableName"))
    key = check_key(table, p.get("Key"))
    item = store.get_item(table, key)
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    if meter.mode is not None:  # sized only when the units are reported
        meter.read(table.name_as_given, read_units(item_size(item) if item else 0, bool(p.get("ConsistentRead"))))
    out: dict[str, Any] = {}
    if item is not None:
        out["Item"] = project(item, projection) if projection is not None else item
    return _finish(out, meter, table, None)


def delete_item(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    condition, returns, want_old_on_failure = _conditional_write(p)
    table = get_table(store, ctx, p.get("TableName"))
    key = check_key(table, p.get("Key"))
    check = compile_condition(condition) if condition is not None else None
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    row = store.item_key(table, key)
    not_in_transaction(store, row)
    with store.lock(table.uid):
        old = store.get_item(table, key, row)
        if check is not None and not check(old or {}):
            raise ConditionalCheckFailedException(old if want_old_on_failure and old is not None else None)
        if old is not None:
            store.commit([Change(table, key, old, None, row=row)])
    write_cost(table, meter, old, None)
    out: dict[str, Any] = {}
    if returns == "ALL_OLD" and old is not None:
        out["Attributes"] = old
    return _finish(out, meter, table, collection_metrics(table, p, key))


@dataclass
class PreparedUpdate:
    actions: UpdateActions
    condition: Any | None


def prepare_update(p: dict[str, Any], exprs: ExpressionContext) -> PreparedUpdate:
    legacy.check_exclusive(p, ("Expected", "AttributeUpdates"), ("ConditionExpression", "UpdateExpression"))
    if p.get("UpdateExpression") is not None:
        actions = exprs.update(p["UpdateExpression"])
    elif p.get("AttributeUpdates") is not None:
        actions = legacy.attribute_updates(p["AttributeUpdates"])
    else:
        actions = UpdateActions()
    return PreparedUpdate(actions, condition_of(p, exprs))


def check_key_untouched(table: TableRecord, actions: UpdateActions) -> None:
    for path in actions.targets():
        if path.elems[0] in table.schema.names:
            raise ValidationException(
                _INVALID + f"Cannot update attribute {path.elems[0]}. This attribute is part of the key"
            )


def updated_attributes(item: Item, actions: UpdateActions) -> Item:
    """UPDATED_OLD/UPDATED_NEW: the updated paths' values (top-level attributes for the legacy form)."""
    return project(item, actions.targets())


def update_item(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    exprs = expression_context(p)
    prepared = prepare_update(p, exprs)
    exprs.check_unused()
    returns = return_values(p, ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"))
    want_old_on_failure = on_failure(p)
    table = get_table(store, ctx, p.get("TableName"))
    key = check_key(table, p.get("Key"))
    check_key_untouched(table, prepared.actions)
    check = compile_condition(prepared.condition) if prepared.condition is not None else None
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    row = store.item_key(table, key)
    not_in_transaction(store, row)
    with store.lock(table.uid):
        old = store.get_item(table, key, row)
        if check is not None and not check(old or {}):
            raise ConditionalCheckFailedException(old if want_old_on_failure and old is not None else None)
        new = apply_update(old if old is not None else dict(key), prepared.actions)
        change = Change(table, key, old, new, row=row, new_size=check_item(table, new, updating=True))
        store.commit([change])
    write_cost(table, meter, old, new, change=change)
    out: dict[str, Any] = {}
    if returns == "ALL_OLD" and old is not None:
        out["Attributes"] = old
    elif returns == "ALL_NEW":
        out["Attributes"] = new
    elif returns == "UPDATED_OLD" and old is not None:
        attrs = updated_attributes(old, prepared.actions)
        if attrs:
            out["Attributes"] = attrs
    elif returns == "UPDATED_NEW":
        attrs = updated_attributes(new, prepared.actions)
        if attrs:
            out["Attributes"] = attrs
    return _finish(out, meter, table, collection_metrics(table, p, key))
