"""DynamoDB over HTTP: awsemu against moto's server, the same requests, one run.

Figures: PutItem (1 KiB items) and GetItem ops/s at 1 and 8 threads, Query pages/s (100 items a
page out of a 1000-item partition), BatchWriteItem items/s (25 x 1 KiB per call, 8 threads), and
a full Scan of 100k small items (paged by the 1 MB rule). ``AWSEMU_BENCH_SCAN_ITEMS`` changes the
Scan size; ``AWSEMU_BENCH_SECONDS`` the time spent on each throughput figure.

The load is sent by a lean JSON-over-HTTP client (keep-alive ``http.client``, one connection per
thread), not boto3: on this 2-core machine botocore's per-request serializing and parsing in one
client process (one GIL for 8 threads) is slower than either server, so a boto3 client would
measure itself. Tables are created and checked with boto3.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config as BotoConfig

from awsemu.testing.server import ServerProcess

SECONDS = float(os.environ.get("AWSEMU_BENCH_SECONDS", "3"))
SCAN_ITEMS = int(os.environ.get("AWSEMU_BENCH_SCAN_ITEMS", "100000"))
PAYLOAD = "x" * 1000


class Raw:
    """DynamoDB JSON 1.0 requests over one keep-alive connection."""

    HEADERS = {
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0",
        "X-Amz-Date": "20260101T000000Z",
    }

    def __init__(self, endpoint: str) -> None:
        self.conn = http.client.HTTPConnection(endpoint.split("://", 1)[1], timeout=60)

    def __call__(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {**self.HEADERS, "X-Amz-Target": f"DynamoDB_20120810.{operation}"}
        self.conn.request("POST", "/", body=json.dumps(body), headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{operation}: {resp.status} {data[:200]!r}")
        return json.loads(data)  # type: ignore[no-any-return]


def client(endpoint: str) -> Any:
    return boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test", config=BotoConfig(retries={"max_attempts": 0}, max_pool_connections=16),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(exe), "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).read()
            return proc, endpoint
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto_server did not start")


def create(c: Any, name: str, range_key: bool = False) -> None:
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": "sk", "AttributeType": "N"})
        schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
    c.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=schema, BillingMode="PAY_PER_REQUEST")


def rate(endpoint: str, threads: int, work: Callable[[Any, int, int], int]) -> float:
    """Run ``work(client, thread, i)`` in a loop on each thread for SECONDS; returns units per second."""
    clients = [Raw(endpoint) for _ in range(threads)]
    stop = time.perf_counter() + SECONDS
    counts = [0] * threads

    def run(t: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            counts[t] += work(clients[t], t, i)
            i += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    return sum(counts) / (time.perf_counter() - started)


def measure(endpoint: str) -> dict[str, float]:
    c = client(endpoint)
    create(c, "bench_kv")
    create(c, "bench_q", range_key=True)
    create(c, "bench_scan")
    out: dict[str, float] = {}

    def put(cl: Any, t: int, i: int) -> int:
        cl("PutItem", {"TableName": "bench_kv", "Item": {"pk": {"S": f"{t}-{i % 2000}"}, "v": {"S": PAYLOAD}}})
        return 1

    def get(cl: Any, t: int, i: int) -> int:
        got = cl("GetItem", {"TableName": "bench_kv", "Key": {"pk": {"S": f"g{t % 8}-{i % 500}"}}})
        assert "Item" in got
        return 1

    filler = Raw(endpoint)
    for t in range(8):
        for start in range(0, 500, 25):
            filler("BatchWriteItem", {"RequestItems": {"bench_kv": [
                {"PutRequest": {"Item": {"pk": {"S": f"g{t}-{i}"}, "v": {"S": PAYLOAD}}}} for i in range(start, start + 25)]}})
    out["PutItem 1 KiB, 1 thread (ops/s)"] = rate(endpoint, 1, put)
    out["PutItem 1 KiB, 8 threads (ops/s)"] = rate(endpoint, 8, put)
    out["GetItem, 1 thread (ops/s)"] = rate(endpoint, 1, get)
    out["GetItem, 8 threads (ops/s)"] = rate(endpoint, 8, get)

    for start in range(0, 1000, 25):
        c.batch_write_item(RequestItems={"bench_q": [
            {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": str(i)}, "v": {"S": "y" * 100}}}}
            for i in range(start, start + 25)]})

    def page(cl: Any, t: int, i: int) -> int:
        kw: dict[str, Any] = {}
        if i % 10:
            kw["ExclusiveStartKey"] = {"pk": {"S": "p"}, "sk": {"N": str((i % 10) * 100 - 1)}}
        got = cl("Query", {"TableName": "bench_q", "KeyConditionExpression": "pk = :p",
                           "ExpressionAttributeValues": {":p": {"S": "p"}}, "Limit": 100, **kw})
        assert got["Count"] == 100
        return 1

    out["Query, 100-item pages, 1 thread (pages/s)"] = rate(endpoint, 1, page)

    def batch(cl: Any, t: int, i: int) -> int:
        got = cl("BatchWriteItem", {"RequestItems": {"bench_kv": [
            {"PutRequest": {"Item": {"pk": {"S": f"b{t}-{i}-{j}"}, "v": {"S": PAYLOAD}}}} for j in range(25)]}})
        assert not got.get("UnprocessedItems")
        return 25

    out["BatchWriteItem 25 x 1 KiB, 8 threads (items/s)"] = rate(endpoint, 8, batch)

    loaders = [Raw(endpoint) for _ in range(4)]

    def load(t: int) -> None:
        for start in range(t * 25, SCAN_ITEMS, 4 * 25):
            loaders[t]("BatchWriteItem", {"RequestItems": {"bench_scan": [
                {"PutRequest": {"Item": {"pk": {"S": f"s{i}"}, "n": {"N": str(i)}}}}
                for i in range(start, min(start + 25, SCAN_ITEMS))]}})

    pool = [threading.Thread(target=load, args=(t,)) for t in range(4)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    scanner = Raw(endpoint)
    started = time.perf_counter()
    seen = 0
    kw: dict[str, Any] = {}
    while True:
        got = scanner("Scan", {"TableName": "bench_scan", **kw})
        seen += got["Count"]
        if "LastEvaluatedKey" not in got:
            break
        kw = {"ExclusiveStartKey": got["LastEvaluatedKey"]}
    elapsed = time.perf_counter() - started
    assert seen == SCAN_ITEMS, seen
    out[f"Scan of {SCAN_ITEMS // 1000}k items (items/s)"] = SCAN_ITEMS / elapsed
    return out


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="awsemu-bench-ddb-"))
    server = ServerProcess(tmp / "data", env={"AWSEMU_LOG_LEVEL": "warning", "AWSEMU_SERVICES": "dynamodb"})
    server.start()
    try:
        ours = measure(server.endpoint)
    finally:
        server.close()
        shutil.rmtree(tmp, ignore_errors=True)
    moto, endpoint = start_moto()
    try:
        theirs = measure(endpoint)
    finally:
        moto.kill()
        moto.wait()
    print("| figure | awsemu | moto | ratio |")
    print("|---|---:|---:|---:|")
    for name, value in ours.items():
        other = theirs[name]
        print(f"| {name} | {value:,.0f} | {other:,.0f} | {value / other:.1f}x |")


if __name__ == "__main__":
    main()
