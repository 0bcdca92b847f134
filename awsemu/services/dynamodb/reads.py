"""Query and Scan: range scans over the lsm key layout, one page at a time.

A Query becomes one range scan ``[start, end)`` inside its partition's prefix (the key condition on
the sort key only narrows the range; nothing is filtered that the range already excludes). A Scan
walks the table's (or index's) rows in hash-bucket order; segment ``s`` of ``T`` is the bucket
range ``[s*2^32/T, (s+1)*2^32/T)``. A page ends at ``Limit`` items read or once 1 MB of items has
been read (before the filter), and then carries ``LastEvaluatedKey``.
"""

from __future__ import annotations

from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.attribute_values import item_size, validate_value
from awsemu.services.dynamodb.capacity import CapacityMeter, read_units
from awsemu.services.dynamodb.errors import ValidationException
from awsemu.services.dynamodb.expressions import compile_condition, project
from awsemu.services.dynamodb.expressions import legacy
from awsemu.services.dynamodb.expressions.ast import And, Between, Call, Compare, In, Not, Or, Path, Value
from awsemu.services.dynamodb.items import expression_context, projection_of
from awsemu.services.dynamodb.records import IndexRecord, KeySchema, TableRecord, load_item
from awsemu.services.dynamodb.store import TableStore
from awsemu.services.dynamodb.tables import get_table

Item = dict[str, dict[str, Any]]
PAGE_BYTES = 1024 * 1024
_INVALID = "One or more parameter values were invalid: "
_FLIP = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _conjuncts(node: Any) -> list[Any]:
    if isinstance(node, And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _operator_name(node: Any) -> str:
    if isinstance(node, Or):
        return "OR"
    if isinstance(node, Not):
        return "NOT"
    if isinstance(node, In):
        return "IN"
    if isinstance(node, Compare):
        return node.op
    if isinstance(node, Call):
        return node.name
    return "BETWEEN"


def key_condition(node: Any, schema: KeySchema) -> tuple[dict[str, Any], tuple[str, list[dict[str, Any]]] | None]:
    """(partition key value, (operator, operands) on the sort key or None) from a key condition tree."""
    found: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    parts = _conjuncts(node)
    for part in parts:
        if isinstance(part, Compare) and part.op != "<>":
            left, right, op = part.left, part.right, part.op
            if isinstance(left, Value) and isinstance(right, Path):
                left, right, op = right, left, _FLIP[op]
            if not (isinstance(left, Path) and isinstance(right, Value)):
                raise ValidationException("Invalid KeyConditionExpression: Query key condition not supported")
            name, operands = left, [right.value]
        elif isinstance(part, Between) and isinstance(part.subject, Path):
            if not (isinstance(part.low, Value) and isinstance(part.high, Value)):
                raise ValidationException("Invalid KeyConditionExpression: Query key condition not supported")
            name, op, operands = part.subject, "BETWEEN", [part.low.value, part.high.value]
        elif isinstance(part, Call) and part.name == "begins_with" and isinstance(part.args[0], Path) and isinstance(part.args[1], Value):
            name, op, operands = part.args[0], "begins_with", [part.args[1].value]
        else:
            raise ValidationException(f"Invalid operator used in KeyConditionExpression: {_operator_name(part)}")
        if len(name.elems) != 1:
            raise ValidationException("Invalid KeyConditionExpression: Query key condition not supported")
        attr = str(name.elems[0])
        if attr in found:
            raise ValidationException(
                "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key"
            )
        found[attr] = (op, operands)
    if len(parts) > 2:
        raise ValidationException("Conditions can be of length 1 or 2 only")
    if schema.hash_name not in found:
        raise ValidationException(f"Query condition missed key schema element: {schema.hash_name}")
    for attr in found:
        if attr not in schema.names:
            raise ValidationException(f"Query condition missed key schema element: {schema.range_name or attr}")
    op, operands = found.pop(schema.hash_name)
    if op != "=":
        raise ValidationException("Query key condition not supported")
    hash_value = operands[0]
    if schema.hash_type not in hash_value:
        raise ValidationException(_INVALID + "Condition parameter type does not match schema type")
    range_cond = found.get(schema.range_name) if schema.range_name else None
    if range_cond is not None:
        for operand in range_cond[1]:
            if schema.range_type not in operand:
                raise ValidationException(_INVALID + "Condition parameter type does not match schema type")
    return hash_value, range_cond


def _prefix_successor(value: dict[str, Any]) -> dict[str, Any] | None:
    """The smallest value greater than every value starting with ``value`` (None: no bound)."""
    kind, raw = next(iter(value.items()))
    if kind == "S":
        chars = list(raw)
        while chars:
            if ord(chars[-1]) < 0x10FFFF:
                chars[-1] = chr(ord(chars[-1]) + 1)
                return {"S": "".join(chars)}
            chars.pop()
        return None
    data = bytearray(raw)
    while data:
        if data[-1] < 0xFF:
            data[-1] += 1
            return {"B": bytes(data)}
        data.pop()
    return None


class Source:
    """Where rows come from: the table itself or one of its indexes."""

    def __init__(self, table: TableRecord, index: IndexRecord | None) -> None:
        self.table = table
        self.index = index
        self.schema = index.schema if index is not None else table.schema

    def partition(self, hash_value: dict[str, Any]) -> bytes:
        if self.index is None:
            return keys.partition_prefix(self.table.uid, hash_value)
        return keys.index_partition_prefix(self.table.uid, self.index.name, hash_value)

    def bound(self, hash_value: dict[str, Any], range_value: dict[str, Any]) -> bytes:
        if self.index is None:
            return keys.sort_key_bound(self.table.uid, hash_value, range_value)
        return keys.index_sort_bound(self.table.uid, self.index.name, hash_value, range_value)

    def segment(self, low: int, high: int) -> tuple[bytes, bytes]:
        if self.index is None:
            return keys.items_bucket_range(self.table.uid, low, high)
        return keys.index_bucket_range(self.table.uid, self.index.name, low, high)

    def row_key(self, item: Item) -> bytes:
        tschema = self.table.schema
        pk = item[tschema.hash_name]
        sk = item[tschema.range_name] if tschema.range_name else None
        if self.index is None:
            return keys.item_key(self.table.uid, pk, sk)
        ischema = self.index.schema
        isk = item[ischema.range_name] if ischema.range_name else None
        return keys.index_key(self.table.uid, self.index.name, item[ischema.hash_name], isk, pk, sk)

    def key_names(self) -> list[str]:
        names = list(self.table.schema.names)
        if self.index is not None:
            names += [n for n in self.index.schema.names if n not in names]
        return names

    def start_key(self, esk: Any) -> bytes:
        names = self.key_names()
        if not isinstance(esk, dict) or set(esk) != set(names):
            raise ValidationException("The provided starting key is invalid: The provided key element does not match the schema")
        checked = {}
        types = {self.table.schema.hash_name: self.table.schema.hash_type}
        if self.table.schema.range_name:
            types[self.table.schema.range_name] = self.table.schema.range_type  # type: ignore[assignment]
        if self.index is not None:
            types[self.index.schema.hash_name] = self.index.schema.hash_type
            if self.index.schema.range_name:
                types[self.index.schema.range_name] = self.index.schema.range_type  # type: ignore[assignment]
        for name in names:
            value = validate_value(esk[name])
            if types[name] not in value:
                raise ValidationException("The provided starting key is invalid: The provided key element does not match the schema")
            checked[name] = value
        return self.row_key(checked)


def _source(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> Source:
    table = get_table(store, ctx, p.get("TableName"))
    index = None
    if p.get("IndexName") is not None:
        index = table.index(p["IndexName"])
        if index is None:
            raise ValidationException(f"The table does not have the specified index: {p['IndexName']}")
        if index.is_global and p.get("ConsistentRead"):
            raise ValidationException("Consistent reads are not supported on global secondary indexes")
        if index.status != "ACTIVE":  # an index added by UpdateTable answers only once built
            raise ValidationException(f"Cannot read from backfilling global secondary index: {index.name}")
    return Source(table, index)


def _select(p: dict[str, Any], source: Source, projection: Any) -> str:
    select = p.get("Select")
    legacy_proj = "AttributesToGet" if p.get("AttributesToGet") is not None else "ProjectionExpression"
    if select is None:
        if projection is not None:
            return "SPECIFIC_ATTRIBUTES"
        return "ALL_PROJECTED_ATTRIBUTES" if source.index is not None else "ALL_ATTRIBUTES"
    if select == "SPECIFIC_ATTRIBUTES" and projection is None:
        return "ALL_ATTRIBUTES" if source.index is None else "ALL_PROJECTED_ATTRIBUTES"
    if select != "SPECIFIC_ATTRIBUTES" and projection is not None:
        if select == "COUNT":
            raise ValidationException(f"Cannot specify the {legacy_proj} when choosing to get only the Count")
        raise ValidationException(f"Cannot specify the {legacy_proj} when choosing to get {select}")
    if select == "ALL_PROJECTED_ATTRIBUTES" and source.index is None:
        raise ValidationException(_INVALID + "Select type ALL_PROJECTED_ATTRIBUTES is not supported for a table; "
                                  "it can be used only when querying an index")
    if select == "ALL_ATTRIBUTES" and source.index is not None and source.index.is_global and source.index.projection_type != "ALL":
        raise ValidationException(
            _INVALID + f"Select type ALL_ATTRIBUTES is not supported for global secondary index {source.index.name} "
            "because its projection type is not ALL"
        )
    return str(select)


def read_page(
    store: TableStore, source: Source, start: bytes, end: bytes, reverse: bool, p: dict[str, Any],
    select: str, projection: Any, filt: Any, meter: CapacityMeter,
) -> dict[str, Any]:
    """One page of rows from ``[start, end)``: Limit and the 1 MB rule end it, the filter thins it."""
    limit = p.get("Limit")
    if limit is not None and limit < 1:
        raise ValidationException(
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )
    consistent = bool(p.get("ConsistentRead"))
    keep = compile_condition(filt) if filt is not None else None
    fetch_table = (
        source.index is not None and not source.index.is_global and source.index.projection_type != "ALL"
        and select in ("ALL_ATTRIBUTES", "SPECIFIC_ATTRIBUTES")
    )
    items: list[Item] = []
    scanned = 0
    count = 0
    read_bytes = 0
    last: Item | None = None
    for _, raw in store.db.scan(start, end, reverse=reverse):
        item = load_item(raw)
        if fetch_table:
            full = store.get_item(source.table, {n: item[n] for n in source.table.schema.names})
            item = full if full is not None else item
        scanned += 1
        read_bytes += item_size(item)
        if keep is None or keep(item):
            count += 1
            if select != "COUNT":
                items.append(project(item, projection) if projection is not None else item)
        if (limit is not None and scanned >= limit) or read_bytes >= PAGE_BYTES:
            last = item
            break
    units = read_units(read_bytes, consistent) if read_bytes else (1.0 if consistent else 0.5)
    if source.index is None:
        meter.read(source.table.name_as_given, units)
    else:
        meter.read(source.table.name_as_given, units, source.index.name, source.index.is_global)
    out: dict[str, Any] = {"Count": count, "ScannedCount": scanned}
    if select != "COUNT":
        out["Items"] = items
    if last is not None:
        out["LastEvaluatedKey"] = {n: last[n] for n in source.key_names()}
    consumed = meter.render(source.table.name_as_given)
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    return out


def query(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    legacy.check_exclusive(
        p, ("KeyConditions", "QueryFilter", "AttributesToGet"),
        ("KeyConditionExpression", "FilterExpression", "ProjectionExpression"),
    )
    exprs = expression_context(p)
    if p.get("KeyConditionExpression") is not None:
        key_node = exprs.condition(p["KeyConditionExpression"], "KeyConditionExpression")
    elif p.get("KeyConditions") is not None:
        key_node = legacy.filter_condition(p["KeyConditions"], None)
    else:
        raise ValidationException("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
    if p.get("FilterExpression") is not None:
        filt = exprs.condition(p["FilterExpression"], "FilterExpression")
    else:
        filt = legacy.filter_condition(p.get("QueryFilter") or {}, p.get("ConditionalOperator"))
    projection = projection_of(p, exprs)
    exprs.check_unused()
    source = _source(store, ctx, p)
    select = _select(p, source, projection)
    hash_value, range_cond = key_condition(key_node, source.schema)
    if filt is not None:
        for path in _paths(filt):
            if path.elems[0] in source.schema.names:
                raise ValidationException(
                    "Filter Expression can only contain non-primary key attributes: Primary key attribute: "
                    f"{path.elems[0]}"
                )
    prefix = source.partition(hash_value)
    start, end = prefix, keys.prefix_end(prefix)
    if range_cond is not None:
        op, operands = range_cond
        bound = source.bound(hash_value, operands[0])
        if op == "=":
            start, end = bound, keys.prefix_end(bound)
        elif op == "<":
            end = bound
        elif op == "<=":
            end = keys.prefix_end(bound)
        elif op == ">":
            start = keys.prefix_end(bound)
        elif op == ">=":
            start = bound
        elif op == "BETWEEN":
            start, end = bound, keys.prefix_end(source.bound(hash_value, operands[1]))
        else:  # begins_with
            start = bound
            successor = _prefix_successor(operands[0])
            if successor is not None:
                end = source.bound(hash_value, successor)
    reverse = p.get("ScanIndexForward") is False
    if p.get("ExclusiveStartKey") is not None:
        esk = source.start_key(p["ExclusiveStartKey"])
        if reverse:
            end = min(end, esk)
        else:
            start = max(start, keys.after(esk))
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    if start >= end:
        out: dict[str, Any] = {"Count": 0, "ScannedCount": 0}
        if select != "COUNT":
            out["Items"] = []
        return out
    return read_page(store, source, start, end, reverse, p, select, projection, filt, meter)


def _paths(node: Any) -> list[Path]:
    if isinstance(node, Path):
        return [node]
    out: list[Path] = []
    for attr in ("left", "right", "operand", "subject", "low", "high"):
        child = getattr(node, attr, None)
        if child is not None:
            out += _paths(child)
    for child in getattr(node, "args", ()) + getattr(node, "candidates", ()):
        out += _paths(child)
    return out


def scan(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    legacy.check_exclusive(p, ("ScanFilter", "AttributesToGet"), ("FilterExpression", "ProjectionExpression"))
    exprs = expression_context(p)
    if p.get("FilterExpression") is not None:
        filt = exprs.condition(p["FilterExpression"], "FilterExpression")
    else:
        filt = legacy.filter_condition(p.get("ScanFilter") or {}, p.get("ConditionalOperator"))
    projection = projection_of(p, exprs)
    exprs.check_unused()
    segment, total = p.get("Segment"), p.get("TotalSegments")
    if segment is not None and total is None:
        raise ValidationException(
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"
        )
    if total is not None and segment is None:
        raise ValidationException(
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is present"
        )
    if total is not None and segment >= total:
        raise ValidationException(
            f"The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {segment} "
            f"is not less than TotalSegments: {total}"
        )
    source = _source(store, ctx, p)
    select = _select(p, source, projection)
    if total is None:
        start, end = source.segment(0, keys.BUCKETS)
    else:
        start, end = source.segment(segment * keys.BUCKETS // total, (segment + 1) * keys.BUCKETS // total)
    if p.get("ExclusiveStartKey") is not None:
        start = max(start, keys.after(source.start_key(p["ExclusiveStartKey"])))
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    return read_page(store, source, start, end, False, p, select, projection, filt, meter)
