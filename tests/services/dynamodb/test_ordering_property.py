"""Property: Query over the lsm key layout returns exactly what a naive model returns, in DynamoDB's
order, for number, string and binary sort keys and every sort-key condition."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awsemu.services.dynamodb.attribute_values import canonical_number

numbers = st.decimals(min_value=Decimal("-1e30"), max_value=Decimal("1e30"), allow_nan=False, places=None).map(
    lambda d: canonical_number(format(d.normalize().quantize(Decimal("1e-20")) if abs(d) < 1 else d.normalize(), "f"))
)
tiny = st.sampled_from(["1E-130", "-1E-130", "9.9999999999999999999999999999999999999E+125", "-1E+125", "0", "1", "-1",
                        "0.5", "-0.5", "10", "100", "99", "-99", "1.0000000000000000000000000000000000001"])
strings = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=6)
binaries = st.binary(min_size=1, max_size=5)
_counter = itertools.count()


def sort_value(kind: str, raw: Any) -> Any:
    return Decimal(raw) if kind == "N" else (raw.encode("utf-8") if kind == "S" else raw)


def check(ddb: Any, kind: str, values: list[Any], ops: list[tuple[str, Any, Any]]) -> None:
    name = f"prop{next(_counter)}"
    ddb.create(name, range_type=kind)
    stored = {}
    for raw in values:
        value = canonical_number(raw) if kind == "N" else raw
        ddb("PutItem", TableName=name, Item={"pk": {"S": "p"}, "sk": {kind: value}})
        stored[value] = sort_value(kind, value)
    ordered = sorted(stored, key=lambda v: stored[v])
    out = ddb("Query", TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert [i["sk"][kind] for i in out["Items"]] == ordered
    back = ddb("Query", TableName=name, KeyConditionExpression="pk = :p", ScanIndexForward=False,
               ExpressionAttributeValues={":p": {"S": "p"}})
    assert [i["sk"][kind] for i in back["Items"]] == ordered[::-1]
    for op, a, b in ops:
        a = canonical_number(a) if kind == "N" else a
        b = canonical_number(b) if kind == "N" else b
        va, vb = sort_value(kind, a), sort_value(kind, b)
        if op == "BETWEEN":
            if va > vb:
                continue
            expr, values_ = "pk = :p AND sk BETWEEN :a AND :b", {":a": {kind: a}, ":b": {kind: b}}
            want = [v for v in ordered if va <= stored[v] <= vb]
        elif op == "begins_with":
            if kind == "N":
                continue
            expr, values_ = "pk = :p AND begins_with(sk, :a)", {":a": {kind: a}}
            want = [v for v in ordered if stored[v].startswith(va)]
        else:
            expr, values_ = f"pk = :p AND sk {op} :a", {":a": {kind: a}}
            cmp = {"<": lambda x: x < va, "<=": lambda x: x <= va, ">": lambda x: x > va, ">=": lambda x: x >= va,
                   "=": lambda x: x == va}[op]
            want = [v for v in ordered if cmp(stored[v])]
        got = ddb("Query", TableName=name, KeyConditionExpression=expr,
                  ExpressionAttributeValues={":p": {"S": "p"}, **values_})
        assert [i["sk"][kind] for i in got["Items"]] == want, (op, a, b)


OPS = st.sampled_from(["<", "<=", ">", ">=", "=", "BETWEEN", "begins_with"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(numbers, tiny), min_size=1, max_size=15), st.lists(st.tuples(OPS, st.one_of(numbers, tiny), st.one_of(numbers, tiny)), max_size=5))
def test_number_sort_keys(ddb: Any, values: list[str], ops: list[tuple[str, str, str]]) -> None:
    check(ddb, "N", values, ops)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(strings, min_size=1, max_size=15), st.lists(st.tuples(OPS, strings, strings), max_size=5))
def test_string_sort_keys(ddb: Any, values: list[str], ops: list[tuple[str, str, str]]) -> None:
    check(ddb, "S", values, ops)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(binaries, min_size=1, max_size=15), st.lists(st.tuples(OPS, binaries, binaries), max_size=5))
def test_binary_sort_keys(ddb: Any, values: list[bytes], ops: list[tuple[str, bytes, bytes]]) -> None:
    check(ddb, "B", values, ops)
