"""S3 figures, awsemu against moto's server in the same run with the same client code.

Rows: PutObject / GetObject of 4 KiB over 1 and 8 concurrent keep-alive connections (ops/s), sent
by a lean asyncio + uvloop HTTP/1.1 client in this process, not boto3: with boto3, 8 client
threads in one Python process saturate (one GIL, ~600-750 ops/s) before either server does, so
the row measured the client. The requests carry a placeholder SigV4 Authorization header, which
neither server verifies here (awsemu in auth=off, moto never), so there is no signing cost on
either side; moto answers ``Connection: close`` and the client reconnects for it. The CPU used by
each server process and by this client during those rows is printed under the table, to show
which side is the bottleneck.

The other rows use boto3 as an application would: ListObjectsV2 over 10,000 keys (seconds for
the full listing, 10 pages; also with the raw client, as boto3's XML parsing of each page is a
large share of that time), 256 MiB multipart upload and download (MiB/s, boto3's transfer
manager with its defaults), a single 64 MiB PutObject / GetObject (MiB/s, median of 3; the GET
also with the raw client, since boto3's read of one 64 MiB body is itself near the limit), and
the server's RSS growth during a 1 GiB multipart upload (peak minus before, sampled every 20 ms
with psutil). The 64 MiB and multipart upload rows are also run against a bare uvicorn app (``_s3_bare_app.py``) as
a reference for what the HTTP stack and the clients allow on this machine.
Targets: >= 2x moto on throughput rows, <= 1/2 moto's time on listing, RSS growth <= 64 MiB.

``AWSEMU_BENCH_SECONDS`` sets the seconds per 4 KiB row. ``AWSEMU_BENCH_S3_ROWS`` picks groups of
rows for quick runs while working on one path (comma-separated, default all): ``small`` (4 KiB),
``list``, ``multipart`` (256 MiB), ``single`` (64 MiB), ``rss``; ``AWSEMU_BENCH_S3_SMALL_ONLY=1``
is ``AWSEMU_BENCH_S3_ROWS=small``.
"""

from __future__ import annotations

import asyncio
import functools
import html
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
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
SECONDS = float(os.environ.get("AWSEMU_BENCH_SECONDS", "3"))
GROUPS = ("small", "list", "multipart", "single", "rss")
SINGLE_ROUNDS = 3
# a subset of the rows (quick runs while working on one path)
ROWS = set(os.environ.get("AWSEMU_BENCH_S3_ROWS", ",".join(GROUPS)).split(","))
if os.environ.get("AWSEMU_BENCH_S3_SMALL_ONLY") == "1":
    ROWS = {"small"}


def client(endpoint: str) -> Any:
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1",
        config=BotoConfig(retries={"max_attempts": 1}, max_pool_connections=32),
    )


# Both servers take this as an identified, unsigned request: awsemu in auth=off does not verify,
# moto does not verify signatures (without an Authorization header at all it treats a GET as
# anonymous and answers 403 on a private object).
AUTHORIZATION = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
                 "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0")


def _request(method: str, host: str, path: str, body: bytes = b"") -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {AUTHORIZATION}\r\n"
            f"X-Amz-Date: 20260101T000000Z\r\nX-Amz-Content-Sha256: UNSIGNED-PAYLOAD\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _connection(host: str, port: int, make: Callable[[int], bytes], stop_at: float, counts: list[int]) -> None:
    """Requests back to back on one keep-alive connection, reconnecting when the server closes it
    (moto's werkzeug server answers ``Connection: close`` to every request)."""
    done = 0
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            writer.write(make(done))
            head = await reader.readuntil(b"\r\n\r\n")
            length, close = 0, False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            if length:
                await reader.readexactly(length)
            if not head.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
                raise RuntimeError(f"unexpected response: {head[:200]!r}")
            done += 1
            if close or head.startswith(b"HTTP/1.0"):
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        counts.append(done)
        writer.close()


def raw_ops_per_second(endpoint: str, connections: int, make: Callable[[int, int], bytes]) -> float:
    """Requests/s of ``connections`` concurrent keep-alive connections from one uvloop process.
    ``make(connection, i)`` gives the i-th request bytes of a connection."""
    import uvloop

    host, port = endpoint.split("://", 1)[1].rsplit(":", 1)

    async def run() -> float:
        counts: list[int] = []
        start = time.perf_counter()
        stop_at = start + SECONDS
        await asyncio.gather(*(_connection(host, int(port), functools.partial(make, c), stop_at, counts)
                               for c in range(connections)))
        return sum(counts) / (time.perf_counter() - start)

    return uvloop.run(run())


def raw_get_mib_per_second(endpoint: str, path: str, size: int) -> float:
    """One GET of ``path`` read in 1 MiB pieces over a plain connection."""
    conn = http.client.HTTPConnection(endpoint.split("://", 1)[1], timeout=120)
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": AUTHORIZATION, "X-Amz-Date": "20260101T000000Z",
                                       "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
    resp = conn.getresponse()
    got = 0
    while piece := resp.read(MiB):
        got += len(piece)
    elapsed = time.perf_counter() - started
    conn.close()
    assert resp.status == 200 and got == size, (resp.status, got)
    return size / MiB / elapsed


def raw_list_seconds(endpoint: str, bucket: str) -> tuple[float, int]:
    """A full ListObjectsV2 walk with the raw client: (seconds, keys listed). The client only
    finds KeyCount and NextContinuationToken in each page; it does not parse the whole XML."""
    conn = http.client.HTTPConnection(endpoint.split("://", 1)[1], timeout=120)
    headers = {"Authorization": AUTHORIZATION, "X-Amz-Date": "20260101T000000Z",
               "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}
    listed, token = 0, None
    started = time.perf_counter()
    while True:
        query = "list-type=2" + (f"&continuation-token={urllib.parse.quote(token, safe='')}" if token else "")
        conn.request("GET", f"/{bucket}?{query}", headers=headers)
        resp = conn.getresponse()
        page = resp.read()
        assert resp.status == 200, page[:200]
        count = re.search(rb"<KeyCount>(\d+)</KeyCount>", page)
        listed += int(count.group(1)) if count else 0
        nxt = re.search(rb"<NextContinuationToken>([^<]+)</NextContinuationToken>", page)
        if nxt is None:
            break
        token = html.unescape(nxt.group(1).decode())
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, listed


def measure(endpoint: str, pid: int, tmp: Path) -> dict[str, float]:
    s3 = client(endpoint)
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    small = os.urandom(4096)
    out: dict[str, float] = {}

    host = endpoint.split("://", 1)[1]

    def put_requests() -> Callable[[int, int], bytes]:
        run = uuid.uuid4().hex[:6]  # fresh keys for every row: each PUT creates an object
        return lambda conn, i: _request("PUT", host, f"/{bucket}/small/{run}/{conn}/{i}", small)

    get_request = _request("GET", host, f"/{bucket}/small-one")
    proc = psutil.Process(pid)

    def row(name: str, connections: int, make: Callable[[int, int], bytes]) -> None:
        server_cpu = sum(proc.cpu_times()[:2])
        own_cpu = time.process_time()
        started = time.perf_counter()
        out[name] = raw_ops_per_second(endpoint, connections, make)
        wall = time.perf_counter() - started
        out[name + "_cpu"] = (sum(proc.cpu_times()[:2]) - server_cpu) / wall
        out[name + "_client_cpu"] = (time.process_time() - own_cpu) / wall

    if "small" in ROWS:
        raw_ops_per_second(endpoint, 1, put_requests())  # warm-up
        row("put1", 1, put_requests())
        row("put8", 8, put_requests())
        s3.put_object(Bucket=bucket, Key="small-one", Body=small)
        row("get1", 1, lambda conn, i: get_request)
        row("get8", 8, lambda conn, i: get_request)
    if "list" in ROWS:
        measure_listing(endpoint, s3, out)
    if "multipart" in ROWS:
        measure_multipart(s3, bucket, tmp, out)
    if "single" in ROWS:
        measure_single(endpoint, s3, bucket, out)
    if "rss" in ROWS:
        measure_rss(s3, bucket, pid, tmp, out)
    return out


def measure_listing(endpoint: str, s3: Any, out: dict[str, float]) -> None:
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
    out["list_raw"], listed = raw_list_seconds(endpoint, list_bucket)
    assert listed == 10_000, listed


def measure_multipart(s3: Any, bucket: str, tmp: Path, out: dict[str, float], download: bool = True) -> None:
    big = tmp / "256m.bin"
    with open(big, "wb") as f:
        for _ in range(256):
            f.write(os.urandom(MiB))
    config = TransferConfig()
    started = time.perf_counter()
    s3.upload_file(str(big), bucket, "big", Config=config)
    out["mpu_up"] = 256 / (time.perf_counter() - started)
    if not download:
        big.unlink()
        return
    started = time.perf_counter()
    s3.download_file(bucket, "big", str(tmp / "256m.out"), Config=config)
    out["mpu_down"] = 256 / (time.perf_counter() - started)
    (tmp / "256m.out").unlink()
    big.unlink()


def measure_single(endpoint: str, s3: Any, bucket: str, out: dict[str, float]) -> None:
    """One 64 MiB body put and got: the median of ``SINGLE_ROUNDS`` runs of each (one run alone
    swings by 2x on a shared machine)."""
    body = os.urandom(64 * MiB)
    puts, gets, raw_gets = [], [], []
    for _ in range(SINGLE_ROUNDS):
        started = time.perf_counter()
        s3.put_object(Bucket=bucket, Key="single64", Body=body)
        puts.append(64 / (time.perf_counter() - started))
        started = time.perf_counter()
        got = s3.get_object(Bucket=bucket, Key="single64")["Body"].read()
        gets.append(64 / (time.perf_counter() - started))
        assert len(got) == len(body)
        del got
        raw_gets.append(raw_get_mib_per_second(endpoint, f"/{bucket}/single64", len(body)))
    out["put64"], out["get64"], out["get64_raw"] = (statistics.median(v) for v in (puts, gets, raw_gets))


def measure_rss(s3: Any, bucket: str, pid: int, tmp: Path, out: dict[str, float]) -> None:
    config = TransferConfig()
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


def measure_bare_app(tmp: Path) -> dict[str, float]:
    """The 64 MiB and multipart upload rows against ``_s3_bare_app.py`` (see there)."""
    app = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_s3_bare_app.py"))],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout is not None
        endpoint = f"http://127.0.0.1:{app.stdout.readline().split()[1]}"
        out: dict[str, float] = {}
        s3 = client(endpoint)
        if "single" in ROWS:
            measure_single(endpoint, s3, "bare", out)
        if "multipart" in ROWS:
            measure_multipart(s3, "bare", tmp, out, download=False)
        return out
    finally:
        app.terminate()
        app.wait()


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
        bare = measure_bare_app(Path(tmp)) if ROWS & {"single", "multipart"} else {}
    rows = [
        ("PutObject 4 KiB, 1 connection", "put1", "ops/s", "higher"),
        ("PutObject 4 KiB, 8 connections", "put8", "ops/s", "higher"),
        ("GetObject 4 KiB, 1 connection", "get1", "ops/s", "higher"),
        ("GetObject 4 KiB, 8 connections", "get8", "ops/s", "higher"),
        ("ListObjectsV2 over 10,000 keys (full listing, boto3 paginator)", "list", "s", "lower"),
        ("ListObjectsV2 over 10,000 keys (full listing, raw HTTP client)", "list_raw", "s", "lower"),
        ("256 MiB multipart upload", "mpu_up", "MiB/s", "higher"),
        ("256 MiB multipart download", "mpu_down", "MiB/s", "higher"),
        ("64 MiB PutObject", "put64", "MiB/s", "higher"),
        ("64 MiB GetObject", "get64", "MiB/s", "higher"),
        ("64 MiB GetObject, raw HTTP client", "get64_raw", "MiB/s", "higher"),
        ("server RSS growth during a 1 GiB upload", "rss", "MiB", "lower"),
    ]
    print("| figure | awsemu | moto | awsemu vs moto | target |")
    print("|---|---|---|---|---|")
    for label, key, unit, better in rows:
        if key not in ours:
            continue
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
    if bare:
        print()
        print("The large-body rows against a bare uvicorn app in the same run with the same clients")
        print("(bench/_s3_bare_app.py: PUT only MD5s the body, on a thread next to the receiving; GET serves")
        print("a body from memory with its CRC32 as S3 does, so boto3 validates it as it does ours):")
        print()
        print("| figure | bare uvicorn app | bare app vs moto | awsemu vs bare app |")
        print("|---|---|---|---|")
        for label, key in (("256 MiB multipart upload", "mpu_up"), ("64 MiB PutObject", "put64"),
                           ("64 MiB GetObject", "get64"), ("64 MiB GetObject, raw HTTP client", "get64_raw")):
            if key not in bare:
                continue
            f = bare[key]
            print(f"| {label} | {f:,.2f} MiB/s | {f / theirs[key]:.1f}x | {ours[key] / f:.0%} |")
    print()
    print("CPU during the 4 KiB rows, in cores (server process / this client process), and requests")
    print("per second of server CPU (the fairer figure when other work shares the machine):")
    for key in ("put1", "put8", "get1", "get8"):
        if key not in ours:
            continue
        a_eff, m_eff = ours[key] / ours[key + "_cpu"], theirs[key] / theirs[key + "_cpu"]
        print(f"- {key}: awsemu {ours[key + '_cpu']:.2f} / {ours[key + '_client_cpu']:.2f}, "
              f"moto {theirs[key + '_cpu']:.2f} / {theirs[key + '_client_cpu']:.2f}; "
              f"per CPU-second awsemu {a_eff:,.0f}, moto {m_eff:,.0f} ({a_eff / m_eff:.1f}x)")


if __name__ == "__main__":
    main()
