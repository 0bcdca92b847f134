"""S3 figures, awsemu against moto's server in the same run with the same boto3 client code.

Rows: PutObject / GetObject of 4 KiB with 1 and 8 client threads (ops/s; boto3 clients, whose
own CPU cost is a large share on a small machine), ListObjectsV2 over
10,000 keys (seconds for the full listing, 10 pages), 256 MiB multipart upload and download
(MiB/s, boto3's transfer manager with its defaults), a single 64 MiB PutObject / GetObject (MiB/s),
and the server's RSS growth during a 1 GiB multipart upload (peak minus before, sampled every
20 ms with psutil). Targets: >= 2x moto on throughput rows, <= 1/2 moto's time on listing,
RSS growth <= 64 MiB.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import boto3
import psutil
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig

from awsemu.testing.server import ServerProcess

MiB = 1024 * 1024
SECONDS = 3.0


def client(endpoint: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1",
        config=BotoConfig(retries={"max_attempts": 1}, max_pool_connections=32),
    )


def ops_per_second(make_op: Callable[[Any, int], Callable[[], None]], endpoint: str, threads: int) -> float:
    clients = [client(endpoint) for _ in range(threads)]
    stop = time.perf_counter() + SECONDS
    counts = [0] * threads

    def worker(i: int) -> None:
        op = make_op(clients[i], i)
        n = 0
        while time.perf_counter() < stop:
            op()
            n += 1
        counts[i] = n

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))
    return sum(counts) / (time.perf_counter() - started)


def measure(endpoint: str, pid: int, tmp: Path) -> dict[str, float]:
    s3 = client(endpoint)
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    small = os.urandom(4096)
    out: dict[str, float] = {}

    def put_op(c: Any, i: int) -> Callable[[], None]:
        return lambda: c.put_object(Bucket=bucket, Key=f"small/{i}/{uuid.uuid4().hex}", Body=small)

    def get_op(c: Any, i: int) -> Callable[[], None]:
        return lambda: c.get_object(Bucket=bucket, Key="small-one")["Body"].read()

    ops_per_second(put_op, endpoint, 1)  # warm-up
    out["put1"] = ops_per_second(put_op, endpoint, 1)
    out["put8"] = ops_per_second(put_op, endpoint, 8)
    s3.put_object(Bucket=bucket, Key="small-one", Body=small)
    out["get1"] = ops_per_second(get_op, endpoint, 1)
    out["get8"] = ops_per_second(get_op, endpoint, 8)

    list_bucket = f"bench-list-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=list_bucket)
    clients = [client(endpoint) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: clients[i % 8].put_object(Bucket=list_bucket, Key=f"k/{i:06d}", Body=b"x"),
                      range(10_000)))
    started = time.perf_counter()
    listed = sum(page.get("KeyCount", 0) for page in s3.get_paginator("list_objects_v2").paginate(Bucket=list_bucket))
    out["list"] = time.perf_counter() - started
    assert listed == 10_000, listed

    big = tmp / "256m.bin"
    with open(big, "wb") as f:
        for _ in range(256):
            f.write(os.urandom(MiB))
    config = TransferConfig()
    started = time.perf_counter()
    s3.upload_file(str(big), bucket, "big", Config=config)
    out["mpu_up"] = 256 / (time.perf_counter() - started)
    started = time.perf_counter()
    s3.download_file(bucket, "big", str(tmp / "256m.out"), Config=config)
    out["mpu_down"] = 256 / (time.perf_counter() - started)
    (tmp / "256m.out").unlink()

    body = os.urandom(64 * MiB)
    started = time.perf_counter()
    s3.put_object(Bucket=bucket, Key="single64", Body=body)
    out["put64"] = 64 / (time.perf_counter() - started)
    started = time.perf_counter()
    got = s3.get_object(Bucket=bucket, Key="single64")["Body"].read()
    out["get64"] = 64 / (time.perf_counter() - started)
    assert len(got) == len(body)
    del body, got

    gib = tmp / "1g.bin"
    with open(gib, "wb") as f:
        chunk = os.urandom(16 * MiB)
        for _ in range(64):
            f.write(chunk)
    proc = psutil.Process(pid)
    before = proc.memory_info().rss
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                peak[0] = max(peak[0], proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        s3.upload_file(str(gib), bucket, "gib", Config=config)
    finally:
        done.set()
        sampler.join()
    out["rss"] = (peak[0] - before) / MiB
    gib.unlink()
    big.unlink()
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "awsemu", env={"AWSEMU_LOG_LEVEL": "warning", "AWSEMU_SERVICES": "s3"})
        server.start()
        try:
            assert server.proc is not None
            ours = measure(server.endpoint, server.proc.pid, Path(tmp))
        finally:
            server.close()
        port = free_port()
        moto_bin = Path(sys.executable).with_name("moto_server")
        moto = subprocess.Popen([str(moto_bin), "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            endpoint = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            theirs = measure(endpoint, moto.pid, Path(tmp))
        finally:
            moto.terminate()
            moto.wait()
    rows = [
        ("PutObject 4 KiB, 1 thread", "put1", "ops/s", "higher"),
        ("PutObject 4 KiB, 8 threads", "put8", "ops/s", "higher"),
        ("GetObject 4 KiB, 1 thread", "get1", "ops/s", "higher"),
        ("GetObject 4 KiB, 8 threads", "get8", "ops/s", "higher"),
        ("ListObjectsV2 over 10,000 keys (full listing)", "list", "s", "lower"),
        ("256 MiB multipart upload", "mpu_up", "MiB/s", "higher"),
        ("256 MiB multipart download", "mpu_down", "MiB/s", "higher"),
        ("64 MiB PutObject", "put64", "MiB/s", "higher"),
        ("64 MiB GetObject", "get64", "MiB/s", "higher"),
        ("server RSS growth during a 1 GiB upload", "rss", "MiB", "lower"),
    ]
    print("| figure | awsemu | moto | awsemu vs moto | target |")
    print("|---|---|---|---|---|")
    for label, key, unit, better in rows:
        a, m = ours[key], theirs[key]
        if key == "rss":
            target = "<= 64 MiB growth"
            ratio = f"{a:.0f} vs {m:.0f} MiB"
        elif better == "lower":
            target = "<= 0.5x moto's time"
            ratio = f"{a / m:.2f}x time"
        else:
            target = ">= 2x moto"
            ratio = f"{a / m:.1f}x"
        print(f"| {label} | {a:,.2f} {unit} | {m:,.2f} {unit} | {ratio} | {target} |")


if __name__ == "__main__":
    main()
