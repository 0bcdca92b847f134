"""SQS figures, awsemu vs moto's server, in one run with the same raw JSON-protocol client.

- SendMessage and SendMessageBatch(10) throughput (messages/s, 16 keep-alive connections);
- drain: ReceiveMessage(10) + DeleteMessageBatch until a preloaded queue is empty (messages/s);
- long-poll wake latency: a ReceiveMessage parked with WaitTimeSeconds=10, then a SendMessage on
  another connection; time from the send's start to the receive's answer (median, p90);
- server RSS and thread count with 1000 long polls waiting.

The client speaks AWS JSON 1.0 (``X-Amz-Target: AmazonSQS.*``, what boto3 sends) with a fixed
SigV4-shaped Authorization header (both servers run without signature checks).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import psutil

from awsemu.testing.server import ServerProcess

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sqs/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-target, Signature=" + "0" * 64)
BODY = "x" * 200


def _request(host: str, operation: str, payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload).encode()
    head = (
        f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"X-Amz-Target: AmazonSQS.{operation}\r\nAuthorization: {AUTH}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> "Connection":
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.reader is not None and self.writer is not None
        request = _request(f"{self.host}:{self.port}", operation, payload)
        self.writer.write(request)
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise
            # the server closed an idle keep-alive connection: reconnect once
            self.close()
            await self.open()
            assert self.reader is not None and self.writer is not None
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        chunked = False
        for line in head.split(b"\r\n"):
            low = line.lower()
            if low.startswith(b"content-length:"):
                length = int(line[15:].strip())
            elif low.startswith(b"transfer-encoding:") and b"chunked" in low:
                chunked = True
        if chunked:
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(length) if length else b""
        if b"\r\nconnection: close" in head.lower():
            # moto's werkzeug server closes after every answer: reconnect for the next call
            self.close()
            await self.open()
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"{operation}: {head[:60]!r} {data[:200]!r}")
        return json.loads(data) if data else {}

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _throughput(port: int, seconds: float, connections: int, step: Callable[[Connection], Any]) -> float:
    """Units per second: each step returns how many units (messages) it handled."""
    conns = [await Connection("127.0.0.1", port).open() for _ in range(connections)]
    done = [0] * connections
    stop_at = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        while time.perf_counter() < stop_at:
            done[i] += await step(conns[i])

    start = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    elapsed = time.perf_counter() - start
    for c in conns:
        c.close()
    return sum(done) / elapsed


def _progress(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def _measure(port: int, pid: int) -> dict[str, float]:
    admin = await Connection("127.0.0.1", port).open()
    results: dict[str, float] = {}
    url = (await admin.call("CreateQueue", {"QueueName": "bench-send"}))["QueueUrl"]

    async def send(c: Connection) -> int:
        await c.call("SendMessage", {"QueueUrl": url, "MessageBody": BODY})
        return 1

    results["send"] = await _throughput(port, 3.0, 16, send)
    _progress(f"send: {results['send']:.2f}")
    entries = [{"Id": str(i), "MessageBody": BODY} for i in range(10)]

    async def send_batch(c: Connection) -> int:
        await c.call("SendMessageBatch", {"QueueUrl": url, "Entries": entries})
        return 10

    results["send_batch"] = await _throughput(port, 3.0, 16, send_batch)
    _progress(f"send_batch: {results['send_batch']:.2f}")

    drain_url = (await admin.call("CreateQueue", {"QueueName": "bench-drain"}))["QueueUrl"]
    # Preload what the server can take in about 5 s of batch sends (at most 8000), so a slow
    # server is not measured mostly on loading.
    total = max(400, min(8000, int(results["send_batch"] * 5) // 80 * 80))
    loaders = [await Connection("127.0.0.1", port).open() for _ in range(8)]

    async def load(c: Connection, n: int) -> None:
        for _ in range(n):
            await c.call("SendMessageBatch", {"QueueUrl": drain_url, "Entries": entries})

    await asyncio.gather(*(load(c, total // 10 // 8) for c in loaders))
    received = 0

    drain_deadline = time.perf_counter() + 30  # a server slower than this is measured on what it did

    async def drain(c: Connection) -> None:
        nonlocal received
        while time.perf_counter() < drain_deadline:
            got = await c.call("ReceiveMessage", {"QueueUrl": drain_url, "MaxNumberOfMessages": 10,
                                                  "VisibilityTimeout": 60})
            messages = got.get("Messages", [])
            if not messages:
                return
            received += len(messages)
            await c.call("DeleteMessageBatch", {"QueueUrl": drain_url, "Entries": [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]})

    start = time.perf_counter()
    await asyncio.gather(*(drain(c) for c in loaders))
    results["drain"] = received / (time.perf_counter() - start)
    _progress(f"drain: {results['drain']:.2f}")
    for c in loaders:
        c.close()

    wake_url = (await admin.call("CreateQueue", {"QueueName": "bench-wake"}))["QueueUrl"]
    poller = await Connection("127.0.0.1", port).open()
    latencies = []
    for _ in range(30):
        poll = asyncio.ensure_future(poller.call("ReceiveMessage", {"QueueUrl": wake_url, "WaitTimeSeconds": 10}))
        await asyncio.sleep(0.05)
        sent_at = time.perf_counter()
        await admin.call("SendMessage", {"QueueUrl": wake_url, "MessageBody": "wake"})
        got = await poll
        latencies.append((time.perf_counter() - sent_at) * 1000)
        await admin.call("DeleteMessage", {"QueueUrl": wake_url, "ReceiptHandle": got["Messages"][0]["ReceiptHandle"]})
    poller.close()
    latencies.sort()
    results["wake_median_ms"] = statistics.median(latencies)
    _progress(f"wake_median_ms: {results['wake_median_ms']:.2f}")
    results["wake_p90_ms"] = latencies[int(len(latencies) * 0.9) - 1]

    proc = psutil.Process(pid)
    idle_url = (await admin.call("CreateQueue", {"QueueName": "bench-idle"}))["QueueUrl"]
    results["rss_idle_mb"] = proc.memory_info().rss / 2**20
    waiters = [await Connection("127.0.0.1", port).open() for _ in range(1000)]
    polls = [asyncio.ensure_future(c.call("ReceiveMessage", {"QueueUrl": idle_url, "WaitTimeSeconds": 20}))
             for c in waiters]
    await asyncio.sleep(3.0)
    results["rss_1000_polls_mb"] = proc.memory_info().rss / 2**20
    _progress(f"rss_1000_polls_mb: {results['rss_1000_polls_mb']:.2f}")
    results["threads_1000_polls"] = proc.num_threads()
    # Release the polls by sending 1000 messages; a server that busy-waits its polls may be too
    # slow to take them all in 20 s, so this stops there and reports how many polls got answered.
    release_deadline = time.perf_counter() + 20
    for _ in range(100):
        if time.perf_counter() > release_deadline:
            break
        try:
            await asyncio.wait_for(admin.call("SendMessageBatch", {"QueueUrl": idle_url, "Entries": entries}),
                                   timeout=max(release_deadline - time.perf_counter(), 0.1))
        except asyncio.TimeoutError:
            break
    done, pending = await asyncio.wait(polls, timeout=max(release_deadline - time.perf_counter(), 1.0))
    results["polls_answered"] = len(done)
    _progress(f"polls_answered: {results['polls_answered']:.2f}")
    for p in pending:
        p.cancel()
    for c in waiters:
        c.close()
    admin.close()
    return results


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(port: int, pid: int) -> dict[str, float]:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    return asyncio.run(_measure(port, pid))


def bench_awsemu() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "d", env={"AWSEMU_LOG_LEVEL": "warning"})
        server.start()
        try:
            assert server.proc is not None
            port = int(server.endpoint.rsplit(":", 1)[1])
            return _run(port, server.proc.pid)
        finally:
            server.stop()


def bench_moto() -> dict[str, float]:
    port = _free_port()
    exe = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen([str(exe), "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        return _run(port, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


ROWS = [
    ("SendMessage (msgs/s)", "send", "{:.0f}", True),
    ("SendMessageBatch x10 (msgs/s)", "send_batch", "{:.0f}", True),
    ("Receive(10)+DeleteBatch drain (msgs/s)", "drain", "{:.0f}", True),
    ("Long-poll wake latency median (ms)", "wake_median_ms", "{:.2f}", False),
    ("Long-poll wake latency p90 (ms)", "wake_p90_ms", "{:.2f}", False),
    ("Server RSS idle (MB)", "rss_idle_mb", "{:.0f}", False),
    ("Server RSS, 1000 waiting long polls (MB)", "rss_1000_polls_mb", "{:.0f}", False),
    ("Server threads, 1000 waiting long polls", "threads_1000_polls", "{:.0f}", False),
    ("Long polls answered after 1000 sends", "polls_answered", "{:.0f}", False),
]


def main() -> None:
    ours = bench_awsemu()
    try:
        theirs = bench_moto()
    except Exception as exc:  # moto missing or broken: still report ours
        print(f"(moto run failed: {exc})")
        theirs = {}
    print("| figure | awsemu | moto | awsemu/moto |")
    print("|---|---:|---:|---:|")
    for label, key, fmt, ratio in ROWS:
        a = ours.get(key)
        b = theirs.get(key)
        cells = [fmt.format(a) if a is not None else "-", fmt.format(b) if b is not None else "-"]
        cells.append(f"{a / b:.1f}x" if ratio and a and b else "")
        print(f"| {label} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
