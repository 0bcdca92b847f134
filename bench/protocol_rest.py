"""REST codecs (S3 rest-xml, Lambda rest-json): serialize and parse costs.

The headline figure is a 1000-key ListObjectsV2 response (target <= 5 ms), set against moto's
generic model-driven serializer (xmltodict emitter + per-member value picking) on the same dict and
against botocore's client parser reading our bytes back. Then per-request parse costs of the
common S3 and Lambda requests. Each figure is the median of repeated runs.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from awsemu.protocol.http import Headers, WireRequest
from awsemu.protocol.registry import codec_for


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm up (compiles lazily cached plans, imports)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def listing(keys: int, plain: bool = False) -> dict[str, Any]:
    """A ListObjectsV2 output; keys hold ``&`` and ``<`` (escaping on every key) unless ``plain``."""
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return {
        "IsTruncated": False,
        "Name": "bench-bucket",
        "Prefix": "",
        "MaxKeys": 1000,
        "KeyCount": keys,
        "EncodingType": "url",
        "Contents": [
            {
                "Key": f"photos/2026/{i:06d}/image-{i}.jpg" if plain else f"photos/2026/{i:06d}/image & <{i}>.jpg",
                "LastModified": base + timedelta(seconds=i, milliseconds=i % 1000),
                "ETag": f'"{i:032x}"',
                "Size": 1000 + i,
                "StorageClass": "STANDARD",
                "ChecksumAlgorithm": ["CRC32"],
            }
            for i in range(keys)
        ],
    }


def _run(coro: Any) -> Any:
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    return asyncio.run(coro)


def _request(method: str, path: str, query: str = "", headers: list[tuple[str, str]] | None = None,
             body: bytes = b"", stream: bool = False) -> Callable[[], WireRequest]:
    async def read() -> bytes:
        return body

    async def chunks() -> Any:
        yield body

    def make() -> WireRequest:
        return WireRequest(method, path, query, Headers(headers or []), read_body=read,
                           stream=chunks if stream else None)

    return make


def main() -> None:
    s3 = codec_for("s3")
    lam = codec_for("lambda")
    op = s3.service_model.operation_model("ListObjectsV2")
    data = listing(1000)
    rows: list[tuple[str, float, str]] = []

    ours = _median_ms(lambda: s3.serialize(op, data, "req"), 30)
    rows.append(("ListObjectsV2 1000 keys: serialize (awsemu)", ours, "target <= 5 ms"))
    plain = listing(1000, plain=True)
    rows.append(("ListObjectsV2 1000 plain keys: serialize (awsemu)",
                 _median_ms(lambda: s3.serialize(op, plain, "req"), 30), "no escaping needed"))

    body = s3.serialize(op, data, "req").body
    assert isinstance(body, bytes)
    try:
        from moto.core.serialize import get_serializer_class
        from moto.core.utils import get_service_model

        moto_op = get_service_model("s3").operation_model("ListObjectsV2")
        moto_ser = get_serializer_class("s3", "rest-xml")(moto_op)
        moto_ms = _median_ms(lambda: moto_ser.serialize(data), 5)
        rows.append(("ListObjectsV2 1000 keys: serialize (moto generic)", moto_ms, f"{moto_ms / ours:.0f}x awsemu"))
    except (ImportError, AssertionError, AttributeError, TypeError) as exc:  # moto: a bench extra
        rows.append((f"moto serializer unavailable ({type(exc).__name__})", float("nan"), ""))

    from botocore.awsrequest import HeadersDict
    from botocore.parsers import create_parser

    parser = create_parser("rest-xml")
    wire = {"status_code": 200, "headers": HeadersDict(), "body": body}
    rows.append((
        "ListObjectsV2 1000 keys: botocore client parse of our bytes",
        _median_ms(lambda: parser.parse(wire, op.output_shape), 5),
        f"{len(body) // 1024} KiB body",
    ))

    cases = [
        ("S3 PutObject (streaming body, 6 headers)", s3, _request(
            "PUT", "/bucket/some/key.txt", "",
            [("Content-Type", "text/plain"), ("Content-Length", "5"), ("x-amz-meta-a", "1"),
             ("x-amz-meta-b", "2"), ("x-amz-storage-class", "STANDARD"), ("x-amz-acl", "private")],
            b"hello", stream=True)),
        ("S3 UploadPart (routing among 4 PUT siblings)", s3, _request(
            "PUT", "/bucket/k", "partNumber=3&uploadId=abc", [], b"x", stream=True)),
        ("S3 GetObject (range + conditionals)", s3, _request(
            "GET", "/bucket/dir//key/", "", [("Range", "bytes=0-99"), ("If-None-Match", '"abc"')])),
        ("S3 ListObjectsV2 request", s3, _request("GET", "/bucket", "list-type=2&prefix=a%2F&max-keys=100")),
        ("S3 PutBucketTagging (XML body, 3 tags)", s3, _request(
            "PUT", "/bucket", "tagging", [],
            b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>'
            + b"".join(f"<Tag><Key>k{i}</Key><Value>v{i}</Value></Tag>".encode() for i in range(3))
            + b"</TagSet></Tagging>")),
        ("Lambda Invoke (1 KiB payload)", lam, _request(
            "POST", "/2015-03-31/functions/my-fn/invocations", "",
            [("X-Amz-Invocation-Type", "RequestResponse")], b'{"k": "' + b"x" * 1000 + b'"}')),
        ("Lambda CreateFunction (JSON body)", lam, _request(
            "POST", "/2015-03-31/functions", "", [("Content-Type", "application/json")],
            b'{"FunctionName":"f","Runtime":"python3.12","Role":"arn:aws:iam::0:role/r",'
            b'"Handler":"h.h","Code":{"ZipFile":"UEsDBA=="},"Environment":{"Variables":{"A":"1"}}}')),
    ]
    for label, codec, make in cases:
        ms = _median_ms(lambda codec=codec, make=make: _run(codec.parse(make())), 2000)
        rows.append((f"parse: {label}", ms, f"{ms * 1000:.1f} µs"))

    fop = lam.service_model.operation_model("ListFunctions")
    functions = {"Functions": [
        {"FunctionName": f"fn-{i}", "Runtime": "python3.12", "MemorySize": 128, "Timeout": 3,
         "LastModified": "2026-01-01T00:00:00.000+0000", "Environment": {"Variables": {"A": "1"}}}
        for i in range(50)
    ]}
    rows.append(("Lambda ListFunctions 50 functions: serialize", _median_ms(
        lambda: lam.serialize(fop, functions, "req"), 200), ""))

    print("| measure | median ms | note |")
    print("|---|---:|---|")
    for label, ms, note in rows:
        print(f"| {label} | {ms:.3f} | {note} |")
