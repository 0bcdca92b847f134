"""TransactWriteItems and TransactGetItems.

All-or-nothing: every action is validated and parsed first, then the locks of all tables are
taken (in uid order, so two transactions cannot deadlock), every condition is checked against
the current items, and only if all pass are all changes written in ONE lsm batch, together with
the ClientRequestToken record. A crash therefore leaves either the whole transaction or none of
it. While it runs, its item rows are claimed: another transaction touching one of them (a
TransactGetItems too) is cancelled with reason ``TransactionConflict`` instead of waiting, and a
single-item write to one of them fails with ``TransactionConflictException``, as DynamoDB answers
for items in an ongoing transaction.

Idempotency: a ClientRequestToken is remembered for 10 minutes with a digest of the request
(order-insensitive JSON); the same token with the same request returns success without writing
again, with different parameters ``IdempotentParameterMismatchException``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import time
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.attribute_values import item_size, validate_item
from awsemu.services.dynamodb.capacity import CapacityMeter, read_units
from awsemu.services.dynamodb.errors import (
    IdempotentParameterMismatchException,
    ServiceError,
    TransactionCanceledException,
    ValidationException,
)
from awsemu.services.dynamodb.expressions import apply_update, compile_condition, legacy, project
from awsemu.services.dynamodb.items import (
    check_item,
    check_key,
    check_key_untouched,
    condition_of,
    expression_context,
    on_failure,
    prepare_update,
    projection_of,
    write_cost,
)
from awsemu.services.dynamodb.store import Change, TableStore
from awsemu.services.dynamodb.tables import get_table

MAX_ACTIONS = 100
TOKEN_LIFETIME = 600.0


def _digest(p: dict[str, Any]) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, (bytes, bytearray)):
            return base64.b64encode(obj).decode()
        return str(obj)

    body = {k: v for k, v in p.items() if k not in ("ClientRequestToken", "ReturnConsumedCapacity")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=default).encode()).hexdigest()


def _check_count(actions: list[Any], member: str) -> None:
    if not actions or len(actions) > MAX_ACTIONS:
        raise ValidationException(
            f"1 validation error detected: Value '{actions!r}' at '{member}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_ACTIONS}"
            if actions else
            f"1 validation error detected: Value '[]' at '{member}' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )


class _Action:
    __slots__ = ("kind", "table", "key", "condition", "update", "item", "fail_old", "spec")

    def __init__(self, kind: str, spec: dict[str, Any]) -> None:
        self.kind = kind
        self.spec = spec
        self.table: Any = None
        self.key: dict[str, Any] = {}
        self.condition: Any = None
        self.update: Any = None
        self.item: dict[str, Any] | None = None
        self.fail_old = False


def _prepare(store: TableStore, ctx: CallContext, entry: dict[str, Any]) -> _Action:
    kinds = [k for k in ("ConditionCheck", "Put", "Delete", "Update") if entry.get(k) is not None]
    if len(kinds) != 1:
        raise ValidationException(
            "TransactItems can only contain one of Check, Put, Update or Delete"
        )
    kind = kinds[0]
    spec = entry[kind]
    action = _Action(kind, spec)
    exprs = expression_context(spec)
    if kind == "Update":
        prepared = prepare_update(spec, exprs)
        action.update, action.condition = prepared.actions, prepared.condition
    else:
        legacy.check_exclusive(spec, (), ("ConditionExpression",))
        action.condition = condition_of(spec, exprs)
        if kind == "ConditionCheck" and action.condition is None:
            raise ValidationException("The ConditionExpression must be specified for a ConditionCheck")  # noqa: E501
    exprs.check_unused()
    action.fail_old = on_failure(spec)
    action.table = get_table(store, ctx, spec.get("TableName"))
    if kind == "Put":
        action.item = validate_item(spec.get("Item"))
        check_item(action.table, action.item)
        action.key = {n: action.item[n] for n in action.table.schema.names}
    else:
        action.key = check_key(action.table, spec.get("Key"))
    if kind == "Update":
        check_key_untouched(action.table, action.update)
    return action


@contextlib.contextmanager
def _locked(store: TableStore, uids: set[str]) -> Any:
    with contextlib.ExitStack() as stack:
        for uid in sorted(uids):
            stack.enter_context(store.lock(uid))
        yield


def transact_write_items(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    entries = p.get("TransactItems") or []
    _check_count(entries, "transactItems")
    actions = [_prepare(store, ctx, e) for e in entries]
    plans = []
    for a in actions:
        how = {"Put": ("put", a.item), "Delete": ("delete", None), "Update": ("update", a.update),
               "ConditionCheck": ("check", None)}[a.kind]
        plans.append((a.table, a.key, a.condition, how, a.fail_old))
    return run_planned(store, ctx, p, plans, _apply)


def _apply(table: Any, key: dict[str, Any], old: dict[str, Any] | None, how: tuple[str, Any]) -> dict[str, Any] | None:
    kind, payload = how
    if kind == "put":
        return payload  # type: ignore[no-any-return]
    if kind == "delete":
        return None
    new = apply_update(old if old is not None else dict(key), payload)
    check_item(table, new, updating=True)
    return new


def run_planned(
    store: TableStore, ctx: CallContext, p: dict[str, Any], plans: list[tuple[Any, ...]],
    apply: Callable[[Any, dict[str, Any], dict[str, Any] | None, tuple[str, Any]], dict[str, Any] | None],
) -> dict[str, Any]:
    """Check every condition under the tables' locks, then write all changes in one batch.

    ``plans`` are (table, key, condition, (kind, payload)[, return old item on failure]); kind is
    put/delete/update/check, or put of a PartiQL INSERT, whose failed condition is DuplicateItem.
    """
    rows: list[bytes] = []
    for plan in plans:
        row = store.item_key(plan[0], plan[1])
        if row in rows:
            raise ValidationException("Transaction request cannot include multiple operations on one item")
        rows.append(row)
    busy = store.begin_transaction(rows)
    if any(busy):
        raise TransactionCanceledException([
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"} if b else {"Code": "None"}
            for b in busy
        ])
    try:
        return _run_claimed(store, ctx, p, plans, apply)
    finally:
        store.end_transaction(rows)


def _run_claimed(
    store: TableStore, ctx: CallContext, p: dict[str, Any], plans: list[tuple[Any, ...]],
    apply: Callable[[Any, dict[str, Any], dict[str, Any] | None, tuple[str, Any]], dict[str, Any] | None],
) -> dict[str, Any]:
    token = p.get("ClientRequestToken")
    token_row = keys.token_key(hashlib.sha256(f"{ctx.account_id}/{ctx.region}/{token}".encode()).hexdigest()) if token else None
    digest = _digest(p) if token else ""
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    with _locked(store, {plan[0].uid for plan in plans}):
        if token_row is not None:
            raw = store.db.get(token_row)
            if raw is not None:
                remembered = json.loads(raw)
                if time.time() - remembered["at"] < TOKEN_LIFETIME:
                    if remembered["digest"] != digest:
                        raise IdempotentParameterMismatchException(
                            "Specified idempotent token has been used with different request parameters"
                        )
                    return _output(meter)
        reasons: list[dict[str, Any]] = []
        changes: list[Change] = []
        failed = False
        for plan in plans:
            table, key, condition, how = plan[:4]
            fail_old = bool(plan[4]) if len(plan) > 4 else False
            old = store.get_item(table, key)
            try:
                if condition is not None and not compile_condition(condition)(old or {}):
                    if how[0] == "put" and p.get("TransactStatements") is not None:
                        reasons.append({"Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"})
                    else:
                        reason: dict[str, Any] = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
                        if fail_old and old is not None:
                            reason["Item"] = old
                        reasons.append(reason)
                    failed = True
                    continue
                if how[0] == "check":
                    reasons.append({"Code": "None"})
                    meter.read(table.name_as_given, read_units(item_size(old) if old else 0, True) * 2)
                    continue
                new = apply(table, key, old, how)
            except ServiceError as exc:
                reasons.append({"Code": "ValidationError", "Message": exc.message})
                failed = True
                continue
            reasons.append({"Code": "None"})
            if old is not None or new is not None:
                changes.append(Change(table, key, old, new))
            write_cost(table, meter, old, new, factor=2.0)
        if failed:
            raise TransactionCanceledException(reasons)
        if token_row is not None:
            remember = json.dumps({"at": time.time(), "digest": digest}).encode()
            store.commit(changes, [(token_row, remember)])
        elif changes:
            store.commit(changes)
    return _output(meter)


def _output(meter: CapacityMeter) -> dict[str, Any]:
    out: dict[str, Any] = {}
    consumed = meter.render_all()
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    return out


def transact_get_items(store: TableStore, ctx: CallContext, p: dict[str, Any]) -> dict[str, Any]:
    entries = p.get("TransactItems") or []
    _check_count(entries, "transactItems")
    plans = []
    for entry in entries:
        spec = entry.get("Get")
        if spec is None:
            raise ValidationException("TransactItems can only contain Get")
        exprs = expression_context(spec)
        projection = projection_of(spec, exprs)
        exprs.check_unused()
        table = get_table(store, ctx, spec.get("TableName"))
        plans.append((table, check_key(table, spec.get("Key")), projection))
    rows: list[bytes] = []
    for table, key, _ in plans:
        row = store.item_key(table, key)
        if row in rows:
            raise ValidationException("Transaction request cannot include multiple operations on one item")
        rows.append(row)
    # An item a running TransactWriteItems is writing: DynamoDB cancels the read rather than wait.
    busy = [store.in_transaction(row) for row in rows]
    if any(busy):
        raise TransactionCanceledException([
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"} if b else {"Code": "None"}
            for b in busy
        ])
    meter = CapacityMeter(p.get("ReturnConsumedCapacity"))
    responses = []
    # Holding every table's write lock while reading gives one consistent point in time.
    with _locked(store, {t.uid for t, _, _ in plans}):
        for table, key, projection in plans:
            item = store.get_item(table, key)
            meter.read(table.name_as_given, read_units(item_size(item) if item else 0, True) * 2)
            if item is None:
                responses.append({})
            else:
                responses.append({"Item": project(item, projection) if projection is not None else item})
    out: dict[str, Any] = {"Responses": responses}
    consumed = meter.render_all()
    if consumed is not None:
        out["ConsumedCapacity"] = consumed
    return out

