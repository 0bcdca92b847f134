"""RPC codecs (json_rpc, query) against botocore's generic, shape-walking serializer and parser.

Cases (DynamoDB unless named):

- PutItem of a ~400 KB item: our parse (json.loads + compiled checks + in-place blob decode),
  target <= 3 ms. Compared with botocore's json serializer writing the same request (the generic
  model walk in the other direction) and with bare ``json.loads``.
- BatchWriteItem, 25 items x 10 attributes: parse, same comparisons.
- Query output, 100 items x 10 attributes: our serialize vs botocore's json parser reading the
  same body (generic walk) and bare ``json.dumps``.
- IAM ListUsers output, 100 users: our query XML writer vs botocore's query parser on the body.

Figures are the median of several timed batches, in milliseconds per call.
"""

from __future__ import annotations

import base64
import json
import statistics
import time
from datetime import datetime, timezone
from typing import Any, Callable

from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from awsemu.protocol.http import Headers, WireRequest
from awsemu.protocol.registry import codec_for


def _timed(fn: Callable[[], Any], min_seconds: float = 0.3) -> float:
    """Median milliseconds per call over 7 batches sized to take ~min_seconds/7 each."""
    fn()
    calls = 1
    while True:
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - started
        if elapsed > min_seconds / 7:
            break
        calls *= 2
    batches = []
    for _ in range(7):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        batches.append((time.perf_counter() - started) / calls)
    return statistics.median(batches) * 1000


def _request(target: str, body: bytes) -> WireRequest:
    async def read() -> bytes:
        return body

    return WireRequest("POST", "/", "", Headers([("X-Amz-Target", target)]), read)


def _parse(codec: Any, target: str, body: bytes) -> Any:
    coroutine = codec.parse(_request(target, body))
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    raise RuntimeError("parse suspended")


def _item(i: int, attrs: int) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": f"user#{i:05d}"}, "sk": {"N": str(i)}}
    for a in range(attrs - 2):
        kind = a % 4
        if kind == 0:
            item[f"s{a}"] = {"S": f"value {i} {a} " * 3}
        elif kind == 1:
            item[f"n{a}"] = {"N": str(i * 1000 + a)}
        elif kind == 2:
            item[f"b{a}"] = {"B": bytes(range(24))}
        else:
            item[f"m{a}"] = {"M": {"x": {"S": "y"}, "l": {"L": [{"N": "1"}, {"BOOL": True}]}}}
    return item


def _big_item() -> dict[str, Any]:
    """~400 KB on the wire: a few large strings and blobs plus many small attributes."""
    item: dict[str, Any] = {"pk": {"S": "big"}}
    for a in range(4):
        item[f"text{a}"] = {"S": "lorem ipsum dolor sit amet " * 2400}
    item["blob"] = {"B": bytes(range(256)) * 400}
    item["tags"] = {"SS": [f"tag-{t}" for t in range(200)]}
    for a in range(300):
        item[f"attr{a}"] = {"M": {"n": {"N": str(a)}, "s": {"S": f"v{a}"}, "b": {"B": b"\x00\x01\x02"}}}
    return item


def _wire(params: dict[str, Any]) -> Any:
    """botocore-serialized form of params (bytes become base64 strings)."""

    def encode(value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [encode(v) for v in value]
        return value

    return encode(params)


def main() -> None:
    ddb = codec_for("dynamodb")
    model = ddb.service_model
    serializer = create_serializer("json")
    json_parser = create_parser("json")
    rows: list[tuple[str, str, float, str, float, float]] = []

    # PutItem, ~400 KB
    put = {"TableName": "bench", "Item": _big_item()}
    put_op = model.operation_model("PutItem")
    put_body = serializer.serialize_to_request(put, put_op)["body"]
    ours = _timed(lambda: _parse(ddb, "DynamoDB_20120810.PutItem", put_body))
    boto = _timed(lambda: serializer.serialize_to_request(put, put_op))
    base = _timed(lambda: json.loads(put_body))
    rows.append((f"PutItem parse ({len(put_body) // 1024} KB)", "botocore json serializer", boto, "json.loads", base, ours))

    # BatchWriteItem, 25 x 10
    batch = {"RequestItems": {"bench": [{"PutRequest": {"Item": _item(i, 10)}} for i in range(25)]}}
    batch_op = model.operation_model("BatchWriteItem")
    batch_body = serializer.serialize_to_request(batch, batch_op)["body"]
    ours = _timed(lambda: _parse(ddb, "DynamoDB_20120810.BatchWriteItem", batch_body))
    boto = _timed(lambda: serializer.serialize_to_request(batch, batch_op))
    base = _timed(lambda: json.loads(batch_body))
    rows.append(("BatchWriteItem parse (25x10)", "botocore json serializer", boto, "json.loads", base, ours))

    # Query output, 100 x 10
    query_op = model.operation_model("Query")
    output = {"Items": [_item(i, 10) for i in range(100)], "Count": 100, "ScannedCount": 100}
    body = ddb.serialize(query_op, output, "r").body
    assert isinstance(body, bytes)
    response = {"status_code": 200, "headers": {}, "body": body}
    wire_output = _wire(output)
    ours = _timed(lambda: ddb.serialize(query_op, output, "r"))
    boto = _timed(lambda: json_parser.parse(response, query_op.output_shape))
    base = _timed(lambda: json.dumps(wire_output, separators=(",", ":")))
    rows.append(("Query serialize (100x10)", "botocore json parser", boto, "json.dumps", base, ours))

    # IAM ListUsers output, 100 users (query XML)
    iam = codec_for("iam")
    list_op = iam.service_model.operation_model("ListUsers")
    created = datetime(2026, 11, 27, 11, 0, 0, tzinfo=timezone.utc)
    users = {
        "Users": [
            {
                "Path": "/",
                "UserName": f"user-{i}",
                "UserId": f"AIDA{i:016d}",
                "Arn": f"arn:aws:iam::000000000000:user/user-{i}",
                "CreateDate": created,
                "Tags": [{"Key": "team", "Value": "core & ops"}],
            }
            for i in range(100)
        ],
        "IsTruncated": False,
    }
    xml = iam.serialize(list_op, users, "r").body
    query_parser = create_parser("query")
    xml_response = {"status_code": 200, "headers": {}, "body": xml}
    ours = _timed(lambda: iam.serialize(list_op, users, "r"))
    boto = _timed(lambda: query_parser.parse(xml_response, list_op.output_shape))
    rows.append(("IAM ListUsers serialize (100 users)", "botocore query parser", boto, "-", float("nan"), ours))

    print("| case | awsemu (ms) | generic botocore walk | (ms) | baseline | (ms) |")
    print("|---|---:|---|---:|---|---:|")
    for case, boto_name, boto_ms, base_name, base_ms, ours_ms in rows:
        base_text = "-" if base_ms != base_ms else f"{base_ms:.3f}"
        print(f"| {case} | {ours_ms:.3f} | {boto_name} | {boto_ms:.3f} | {base_name} | {base_text} |")


if __name__ == "__main__":
    main()
