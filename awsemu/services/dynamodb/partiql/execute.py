"""ExecuteStatement, BatchExecuteStatement and ExecuteTransaction on top of the item, read and
transaction code: a parsed statement becomes the same request a PutItem/UpdateItem/DeleteItem,
Query/Scan or TransactWriteItems would make.

SELECT with an equality on the partition key is a Query of that partition (the rest of WHERE is a
filter), otherwise a Scan with WHERE as the filter; with ORDER BY (key attributes only) each
partition WHERE names is read as a Query, forward or backward. EXISTS(SELECT ...) in a transaction
is a condition check on the item it names. UPDATE and DELETE need equalities on the whole
primary key; the other WHERE terms become the write's condition. INSERT refuses an existing key
(``DuplicateItemException``); UPDATE refuses a missing item (``ConditionalCheckFailedException``).
"""

from __future__ import annotations

import base64
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb import keys, reads
from awsemu.services.dynamodb.attribute_values import scalar_sort_key, validate_item, values_equal
from awsemu.services.dynamodb.capacity import CapacityMeter
from awsemu.services.dynamodb.errors import ConditionalCheckFailedException, ServiceError, ValidationException
from awsemu.services.dynamodb.expressions import apply_update, compile_condition
from awsemu.services.dynamodb.expressions.ast import And, Call, Compare, In, Or, Path, UpdateActions, Value
from awsemu.services.dynamodb.items import (
    check_item,
    check_key_untouched,
    not_in_transaction,
    updated_attributes,
    write_cost,
)
from awsemu.services.dynamodb.partiql.parser import Statement, parse
from awsemu.services.dynamodb.records import TableRecord, dump_item, load_item
from awsemu.services.dynamodb.store import Change, TableStore
from awsemu.services.dynamodb.tables import get_table

Item = dict[str, dict[str, Any]]


class DuplicateItemException(ServiceError):
    code = "DuplicateItemException"


def _conjuncts(node: Any) -> list[Any]:
    if isinstance(node, And):
        return _conjuncts(node.left) + _conjuncts(node.right)
    return [node]


def _equalities(node: Any, names: tuple[str, ...]) -> tuple[dict[str, Any], list[Any]]:
    """Key equalities found among the top-level AND terms, and the remaining terms."""
    found: dict[str, Any] = {}
    rest = []
    for term in _conjuncts(node) if node is not None else []:
        if isinstance(term, Compare) and term.op == "=":
            left, right = term.left, term.right
            if isinstance(right, Path) and isinstance(left, Value):
                left, right = right, left
            if isinstance(left, Path) and isinstance(right, Value) and len(left.elems) == 1 and left.elems[0] in names \
                    and left.elems[0] not in found:
                found[str(left.elems[0])] = right.value
                continue
        rest.append(term)
    return found, rest


def _join(terms: list[Any]) -> Any:
    node = None
    for term in terms:
        node = term if node is None else And(node, term)
    return node


def _translate_update(actions: UpdateActions) -> UpdateActions:
    """PartiQL's set_add/set_delete become ADD/DELETE actions."""
    out = UpdateActions(remove=list(actions.remove))
    for path, value in actions.set:
        if isinstance(value, Call) and value.name in ("set_add", "set_delete") and isinstance(value.args[1], Value):
            (out.add if value.name == "set_add" else out.delete).append((path, value.args[1]))
        else:
            out.set.append((path, value))
    return out


def _full_key(table: TableRecord, st: Statement) -> tuple[Item, Any]:
    found, rest = _equalities(st.where, table.schema.names)
    if set(found) != set(table.schema.names):
        raise ValidationException("Where clause does not contain a mandatory equality on all key attributes")
    for name, value in found.items():
        wanted = table.schema.hash_type if name == table.schema.hash_name else table.schema.range_type
        if wanted not in value:
            raise ValidationException("The provided key element does not match the schema")
    return found, _join(rest)


def _token(key: Item) -> str:
    return base64.b64encode(dump_item(key)).decode()


def _untoken(token: str) -> Item:
    try:
        return load_item(base64.b64decode(token))
    except ValueError:
        raise ValidationException("Invalid NextToken") from None


def _hash_values(where: Any, hash_name: str) -> list[dict[str, Any]]:
    """The partition key values a WHERE pins: ``k = v``, ``k IN [...]`` or ``k = a OR k = b``."""

    def equalities(node: Any) -> list[dict[str, Any]] | None:
        if isinstance(node, Or):
            left, right = equalities(node.left), equalities(node.right)
            return None if left is None or right is None else left + right
        if isinstance(node, Compare) and node.op == "=":
            sides = (node.left, node.right) if isinstance(node.left, Path) else (node.right, node.left)
            if isinstance(sides[0], Path) and sides[0].elems == (hash_name,) and isinstance(sides[1], Value):
                return [sides[1].value]
        if isinstance(node, In) and isinstance(node.subject, Path) and node.subject.elems == (hash_name,) \
                and all(isinstance(o, Value) for o in node.candidates):
            return [o.value for o in node.candidates]
        return None

    for term in _conjuncts(where):
        found = equalities(term)
        if found:
            unique: list[dict[str, Any]] = []
            for value in found:
                if not any(values_equal(value, u) for u in unique):
                    unique.append(value)
            return unique
    return []


def _ordered_select(
    store: TableStore, source: reads.Source, st: Statement, p: dict[str, Any], meter: CapacityMeter,
) -> dict[str, Any]:
    """SELECT ... ORDER BY: only on the key attributes, and only where WHERE names the partitions
    (DynamoDB's rules); each partition is read as a Query, forward or backward, partitions in order."""
    schema = source.schema
    if st.where is None:
        raise ValidationException("Must have WHERE clause in the statement when using ORDER BY clause.")
    for name, _ in st.order:
        if name not in (schema.hash_name, schema.range_name):
            raise ValidationException(f"ORDER BY is only supported on the hash key or range key; {name} is neither")
    partitions = _hash_values(st.where, schema.hash_name)
    if not partitions:
        raise ValidationException("Must have hash key condition in WHERE clause when using ORDER BY clause.")
    if len(partitions) > 1 and st.order[0][0] != schema.hash_name:
        raise ValidationException(
            "Must have hash key in ORDER BY clause when more than one hash key condition specified in WHERE clause."
        )
    direction = dict(st.order)
    partitions.sort(key=scalar_sort_key, reverse=direction.get(schema.hash_name, False))
    backward = direction.get(schema.range_name or "", False) if schema.range_name else False
    resume: bytes | None = None
    if p.get("NextToken"):
        token = _untoken(p["NextToken"])
        resume = source.start_key(token)
        at = next((i for i, v in enumerate(partitions) if values_equal(v, token.get(schema.hash_name, {}))), None)
        if at is None:
            raise ValidationException("Invalid NextToken")
        partitions = partitions[at:]
    limit = p.get("Limit")
    select_kind = "SPECIFIC_ATTRIBUTES" if st.projection is not None else "ALL_ATTRIBUTES"
    result: dict[str, Any] = {"Items": []}
    for position, value in enumerate(partitions):
        prefix = source.partition(value)
        start, end = prefix, keys.prefix_end(prefix)
        if resume is not None and position == 0:
            if backward:
                end = resume
            else:
                start = keys.after(resume)
        params = {"Limit": None if limit is None else limit - len(result["Items"]), "ConsistentRead": p.get("ConsistentRead")}
        out = reads.read_page(store, source, start, end, backward, params, select_kind, st.projection, st.where, meter)
        result["Items"] += out["Items"]
        if "LastEvaluatedKey" in out:
            result["NextToken"] = _token(out["LastEvaluatedKey"])
            result["LastEvaluatedKey"] = out["LastEvaluatedKey"]
            break
        if "ConsumedCapacity" in out:
            result["ConsumedCapacity"] = out["ConsumedCapacity"]
    consumed = meter.render(source.table.name_as_given)
    if consumed is not None:
        result["ConsumedCapacity"] = consumed
    return result


def select(store: TableStore, ctx: CallContext, st: Statement, p: dict[str, Any]) -> dict[str, Any]:
    table = get_table(store, ctx, st.table)
    index = None
    if st.index is not None:
        index = table.index(st.index)
        if index is None:
            raise ValidationException(f"The table does not have the specified index: {st.index}")
        if index.status != "ACTIVE":
            raise ValidationException(f"Cannot read from backfilling global secondary index: {index.name}")
    source = reads.Source(table, index)
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    if st.order:
        return _ordered_select(store, source, st, p, meter)
    found, _ = _equalities(st.where, (source.schema.hash_name,))
    page_params = {"Limit": p.get("Limit"), "ConsistentRead": p.get("ConsistentRead")}
    if found:
        prefix = source.partition(found[source.schema.hash_name])
        start, end = prefix, keys.prefix_end(prefix)
    else:
        start, end = source.segment(0, keys.BUCKETS)
    if p.get("NextToken"):
        start = max(start, keys.after(source.start_key(_untoken(p["NextToken"]))))
    select_kind = "SPECIFIC_ATTRIBUTES" if st.projection is not None else "ALL_ATTRIBUTES"
    out = reads.read_page(store, source, start, end, False, page_params, select_kind, st.projection, st.where, meter)
    result: dict[str, Any] = {"Items": out["Items"]}
    if "LastEvaluatedKey" in out:
        result["NextToken"] = _token(out["LastEvaluatedKey"])
        result["LastEvaluatedKey"] = out["LastEvaluatedKey"]
    if "ConsumedCapacity" in out:
        result["ConsumedCapacity"] = out["ConsumedCapacity"]
    return result


def plan_write(store: TableStore, ctx: CallContext, st: Statement) -> tuple[TableRecord, Item, Any, Any]:
    """(table, key, condition, how to compute the new item from the old) of a write statement."""
    table = get_table(store, ctx, st.table)
    if st.kind == "INSERT":
        item = validate_item(st.item)
        check_item(table, item)
        key = {n: item[n] for n in table.schema.names}
        return table, key, Call("attribute_not_exists", (Path((table.schema.hash_name,)),)), ("put", item)
    key, rest = _full_key(table, st)
    if st.kind == "EXISTS":
        exists = Call("attribute_exists", (Path((table.schema.hash_name,)),))
        return table, key, And(exists, rest) if rest is not None else exists, ("check", None)
    if st.kind == "UPDATE":
        actions = _translate_update(st.update)
        check_key_untouched(table, actions)
        exists = Call("attribute_exists", (Path((table.schema.hash_name,)),))
        return table, key, And(exists, rest) if rest is not None else exists, ("update", actions)
    return table, key, rest, ("delete", None)


def apply_write(table: TableRecord, key: Item, old: Item | None, how: tuple[str, Any]) -> Item | None:
    kind, payload = how
    if kind == "put":
        return payload  # type: ignore[no-any-return]
    if kind == "delete":
        return None
    new = apply_update(old if old is not None else dict(key), payload)
    check_item(table, new, updating=True)
    return new


def write(store: TableStore, ctx: CallContext, st: Statement, p: dict[str, Any]) -> dict[str, Any]:
    table, key, condition, how = plan_write(store, ctx, st)
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    want_old = p.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
    not_in_transaction(store, store.item_key(table, key))
    with store.lock(table.uid):
        old = store.get_item(table, key)
        if condition is not None and not compile_condition(condition)(old or {}):
            if st.kind == "INSERT":
                raise DuplicateItemException("Duplicate primary key exists in table")
            raise ConditionalCheckFailedException(old if want_old and old is not None else None)
        new = apply_write(table, key, old, how)
        if old is not None or new is not None:
            store.commit([Change(table, key, old, new)])
    write_cost(table, meter, old, new)
    items: list[Item] = []
    if st.returning == "ALL_OLD" and old is not None:
        items = [old]
    elif st.returning == "ALL_NEW" and new is not None:
        items = [new]
    elif st.returning in ("UPDATED_OLD", "UPDATED_NEW") and how[0] == "update":
        source = old if st.returning == "UPDATED_OLD" else new
        if source is not None:
            items = [updated_attributes(source, how[1])]
    out: dict[str, Any] = {"Items": items}
    consumed = meter.render(table.name_as_given)
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    return out


def _no_exists(st: Statement) -> None:
    if st.kind == "EXISTS":
        raise ValidationException("EXISTS can only be used in ExecuteTransaction")


def execute_statement(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    st = parse(p.get("Statement", ""), p.get("Parameters"))
    _no_exists(st)
    if st.kind == "SELECT":
        return select(store, ctx, st, p)
    return write(store, ctx, st, p)


def batch_execute_statement(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    requests = p.get("Statements") or []
    if not requests or len(requests) > 25:
        raise ValidationException(
            "1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length "
            "less than or equal to 25"
        )
    parsed = [parse(r.get("Statement", ""), r.get("Parameters")) for r in requests]
    for st in parsed:
        _no_exists(st)
    kinds = {"read" if s.kind == "SELECT" else "write" for s in parsed}
    if len(kinds) > 1:
        raise ValidationException("Supplied Statements contain both read and write operations")
    responses: list[dict[str, Any]] = []
    for request, st in zip(requests, parsed):
        try:
            if st.kind == "SELECT":
                table = get_table(store, ctx, st.table)
                key, _ = _full_key(table, st)
                out = select(store, ctx, st, {"ConsistentRead": request.get("ConsistentRead")})
                entry: dict[str, Any] = {"TableName": table.name_as_given}
                if out["Items"]:
                    entry["Item"] = out["Items"][0]
                responses.append(entry)
            else:
                write(store, ctx, st, request)
                responses.append({"TableName": st.table})
        except ServiceError as exc:
            code = exc.code.removesuffix("Exception") if exc.code != "ValidationException" else "ValidationError"
            error: dict[str, Any] = {"Code": code, "Message": exc.message}
            if "Item" in exc.fields:
                error["Item"] = exc.fields["Item"]
            responses.append({"Error": error, "TableName": st.table})
    return {"Responses": responses}


def execute_transaction(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    from awsemu.services.dynamodb import transactions

    statements = p.get("TransactStatements") or []
    parsed = [parse(s.get("Statement", ""), s.get("Parameters")) for s in statements]
    if parsed and all(s.kind == "SELECT" for s in parsed):
        items = []
        for st in parsed:
            table = get_table(store, ctx, st.table)
            key, _ = _full_key(table, st)
            items.append({"Get": {"TableName": table.name_as_given, "Key": key}})
        out = transactions.transact_get_items(store, ctx, {"TransactItems": items,
                                                           "ReturnConsumedCapacity": p.get("ReturnConsumedCapacity")})
        return {"Responses": out["Responses"], **({"ConsumedCapacity": out["ConsumedCapacity"]} if "ConsumedCapacity" in out else {})}
    if any(s.kind == "SELECT" for s in parsed):
        raise ValidationException("Transaction must contain either all reads or all writes")
    plans = [plan_write(store, ctx, st) for st in parsed]
    return transactions.run_planned(store, ctx, p, plans, apply_write)
