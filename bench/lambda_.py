"""Lambda figures: control plane, cold and warm invokes, fork server vs interpreter start, memory.

Two servers run side by side, as plain processes (``AWSEMU_LAMBDA_SANDBOX=none``): one with the fork
server (the default) and one with ``AWSEMU_LAMBDA_FORK_SERVER=0`` (each environment a new
interpreter). A third runs in the bubblewrap sandbox (``AWSEMU_LAMBDA_SANDBOX=bwrap``, when ``bwrap``
is installed) for the sandbox rows. Invokes go through boto3
(what users run), so every figure includes the client's signing and parsing; the warm invoke is
also measured with a raw keep-alive HTTP client to show the server's own share.

- CreateFunction: median over 10 functions (zip of one small handler module);
- cold invoke: the first invoke of a new function (fork server already running), median over 10,
  with a plain handler and with a handler that imports boto3 at module level;
- warm invoke: 200 sequential invokes of one function, p50 and p99;
- 20 concurrent invokes of one function from 20 threads: wall time when all 20 are cold, then warm;
- memory of a warm environment: RSS and USS (pages it does not share with the fork server);
- InvokeWithResponseStream: 200 sequential warm calls through boto3 (iterating the event stream to
  InvokeComplete), next to 200 plain warm invokes of the same function measured right before;
- SnapStart: a handler whose init sleeps 0.3 s; cold invoke of $LATEST (init per environment) vs
  cold invoke of its SnapStart version (forked from the template initialized at PublishVersion, which
  is given 1 s to finish first), median of 5 functions;
- provisioned concurrency: the same 0.3 s-init handler published, 1 environment provisioned on the
  version (waited READY); the first invoke of the version (a provisioned environment: no init) vs
  the first invoke of $LATEST (an on-demand cold start), median of 5 functions;
- an 18 MiB streamed response (a custom runtime writing 256 KiB chunks) through
  InvokeWithResponseStream: wall time and the server's peak RSS growth while it streams (the
  stream is never held whole: about 1 MiB per stream waits for the client at most);
- nodejs20.x on the local node: cold invoke (a node process start, no fork server), median of 5, and
  warm invoke p50 over 200 (skipped, with a row saying so, when no node is installed);
- bubblewrap sandbox: the first cold invoke of a new function (code never seen before: a fork from
  the interpreter's one sandboxed fork server, which mounts that code; on hosts without a mount
  namespace per fork, a sandboxed fork server starts for that code: bwrap, interpreter, then the
  fork), median of 5, each given 1.5 s before the next measure (a new fork server preloads the SDK
  once idle); a cold invoke of a function invoked before (UpdateFunctionConfiguration retires the
  environment, the code stays), median of 10; warm p50/p99 over 200; 20 concurrent cold invokes;
  nodejs20.x cold
  (bwrap + node start). Only these rows: ``python -c "import bench.lambda_ as b; b.sandbox_only()"``.
"""

from __future__ import annotations

import http.client
import io
import statistics
import sys
import threading
import time
import uuid
import zipfile
from urllib.parse import urlparse

import shutil

import psutil
from botocore.config import Config as BotoConfig

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess

ROLE = "arn:aws:iam::000000000000:role/bench"
PLAIN = "def handler(event, context):\n    return event\n"
WITH_BOTO3 = "import boto3\nS3 = boto3.client('s3')\ndef handler(event, context):\n    return event\n"
NODE = "exports.handler = async (event) => event;\n"
SLOW_INIT = "import time\ntime.sleep(0.3)\ndef handler(event, context):\n    return event\n"


def _zip(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("lambda_function.py", source)
    return buf.getvalue()


# A custom runtime streaming event["size"] bytes in 256 KiB chunks of one chunked POST.
STREAMER = """#!{python}
import json, os, socket
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
api = "/2018-06-01/runtime"

def request(s, head):
    s.sendall(head)
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        data += s.recv(65536)
    top, rest = data.split(b"\\r\\n\\r\\n", 1)
    headers = dict(l.split(":", 1) for l in top.decode().split("\\r\\n")[1:])
    headers = {{k.strip().lower(): v.strip() for k, v in headers.items()}}
    while len(rest) < int(headers.get("content-length", "0")):
        rest += s.recv(65536)
    return headers, rest

while True:
    s = socket.create_connection((host, int(port)))
    headers, body = request(s, f"GET {{api}}/invocation/next HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n".encode())
    s.close()
    rid, size = headers["lambda-runtime-aws-request-id"], json.loads(body)["size"]
    s = socket.create_connection((host, int(port)))
    s.sendall(f"POST {{api}}/invocation/{{rid}}/response HTTP/1.1\\r\\nHost: x\\r\\n"
              "Lambda-Runtime-Function-Response-Mode: streaming\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n".encode())
    sent = 0
    while sent < size:
        piece = b"x" * min(262144, size - sent)
        s.sendall(b"%x\\r\\n%s\\r\\n" % (len(piece), piece))
        sent += len(piece)
    request(s, b"0\\r\\n\\r\\n")
    s.close()
"""


def _zip_files(files: dict[str, str], executable: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name == executable else 0o644) << 16
            archive.writestr(info, text)
    return buf.getvalue()


def provisioned_and_stream_rows(fb: "Bench") -> list[tuple[str, str]]:
    """The provisioned concurrency and 18 MiB stream rows (``provisioned_and_stream_only()`` runs just these)."""
    runs = [fb.provisioned() for _ in range(5)]
    stream_s, growth = fb.big_stream()
    return [
        ("first invoke, 0.3 s init, $LATEST (on-demand cold start), median of 5 (ms)",
         _ms(statistics.median(r[0] for r in runs))),
        ("first invoke, 0.3 s init, version with provisioned concurrency (initialized ahead), median of 5 (ms)",
         _ms(statistics.median(r[1] for r in runs))),
        ("18 MiB streamed response, InvokeWithResponseStream through boto3: wall (ms)", _ms(stream_s)),
        ("18 MiB streamed response: server peak RSS growth while streaming (MiB)", f"{growth / 2**20:.1f}"),
    ]


def provisioned_and_stream_only() -> None:
    server = ServerProcess(env={"AWSEMU_LAMBDA_SANDBOX": "none", "AWSEMU_LOG_LEVEL": "warning"})
    try:
        server.start()
        fb = Bench(server)
        fb.invoke(fb.create()[0])  # the fork server is up and warm
        _print(provisioned_and_stream_rows(fb))
    finally:
        server.close()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Bench:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.lam = make_client(server.endpoint, "lambda",
                               config=BotoConfig(retries={"max_attempts": 1}, read_timeout=120,
                                                 max_pool_connections=32))

    def create(self, source: str = PLAIN) -> tuple[str, float]:
        name = f"b-{uuid.uuid4().hex[:10]}"
        started = time.perf_counter()
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE,
                                 Handler="lambda_function.handler", Code={"ZipFile": _zip(source)}, Timeout=60)
        return name, time.perf_counter() - started

    def create_node(self) -> str:
        name = f"n-{uuid.uuid4().hex[:10]}"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("index.js", NODE)
        self.lam.create_function(FunctionName=name, Runtime="nodejs20.x", Role=ROLE, Handler="index.handler",
                                 Code={"ZipFile": buf.getvalue()}, Timeout=60)
        return name

    def stream_invoke(self, name: str) -> float:
        started = time.perf_counter()
        out = self.lam.invoke_with_response_stream(FunctionName=name, Payload=b'{"k": 1}')
        events = list(out["EventStream"])
        elapsed = time.perf_counter() - started
        if "ErrorCode" in events[-1].get("InvokeComplete", {"ErrorCode": "missing"}):
            raise RuntimeError(f"{name} failed: {events[-1]}")
        return elapsed

    def snapstart(self) -> tuple[float, float]:
        """(cold $LATEST, cold SnapStart version) of a new function with a 0.3 s init."""
        name = f"s-{uuid.uuid4().hex[:10]}"
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                                 Code={"ZipFile": _zip(SLOW_INIT)}, Timeout=60,
                                 SnapStart={"ApplyOn": "PublishedVersions"})
        version = self.lam.publish_version(FunctionName=name)["Version"]
        time.sleep(1.0)  # the template's init (0.3 s) runs in the background after PublishVersion
        return self.invoke(name), self.invoke(name, version)

    def provisioned(self) -> tuple[float, float]:
        """(first invoke of $LATEST, first invoke of a version with 1 provisioned environment) of a
        new function with a 0.3 s init."""
        name = f"p-{uuid.uuid4().hex[:10]}"
        self.lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                                 Code={"ZipFile": _zip(SLOW_INIT)}, Timeout=60, Publish=True)
        self.lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
        while self.lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")["Status"] != "READY":
            time.sleep(0.05)
        return self.invoke(name), self.invoke(name, "1")

    def big_stream(self, size: int = 18 * 2**20) -> tuple[float, float]:
        """(wall seconds, peak server RSS growth in bytes) of one streamed response of ``size`` bytes."""
        name = f"st-{uuid.uuid4().hex[:10]}"
        self.lam.create_function(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="x.y", Timeout=60,
                                 Code={"ZipFile": _zip_files({"bootstrap": STREAMER.format(python=sys.executable)},
                                                             executable="bootstrap")})
        self.lam.invoke_with_response_stream(FunctionName=name, Payload=b'{"size": 1}')["EventStream"].close()
        server = psutil.Process(self.server.proc.pid)  # type: ignore[union-attr]
        base = server.memory_info().rss
        peak = [base]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], server.memory_info().rss)
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        out = self.lam.invoke_with_response_stream(FunctionName=name, Payload=f'{{"size": {size}}}'.encode())
        total = sum(len(e["PayloadChunk"]["Payload"]) for e in out["EventStream"] if "PayloadChunk" in e)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        if total != size:
            raise RuntimeError(f"{name} streamed {total} of {size} bytes")
        return elapsed, peak[0] - base

    def retire(self, name: str) -> None:
        """A configuration change: the function's environments are retired, its code (and so its
        sandboxed fork server) stays."""
        self.lam.update_function_configuration(FunctionName=name, Description=uuid.uuid4().hex)

    def invoke(self, name: str, qualifier: str = "$LATEST") -> float:
        started = time.perf_counter()
        out = self.lam.invoke(FunctionName=name, Payload=b'{"k": 1}', Qualifier=qualifier)
        out["Payload"].read()
        elapsed = time.perf_counter() - started
        if out.get("FunctionError"):
            raise RuntimeError(f"{name} failed: {out}")
        return elapsed

    def cold(self, source: str, n: int = 10) -> float:
        return statistics.median(self.invoke(self.create(source)[0]) for _ in range(n))

    def concurrent(self, name: str, n: int = 20) -> float:
        barrier = threading.Barrier(n + 1)
        errors: list[BaseException] = []

        def worker() -> None:
            barrier.wait()
            try:
                self.invoke(name)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(n)]
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return time.perf_counter() - started

    def environments(self) -> list[psutil.Process]:
        assert self.server.proc is not None
        root = psutil.Process(self.server.proc.pid)
        found = []
        for child in root.children(recursive=True):
            try:
                if "fork_server.py" in " ".join(child.cmdline()) and child.ppid() == root.pid:
                    continue  # the fork server itself
            except psutil.Error:
                continue
            found.append(child)
        return found


def raw_warm(endpoint: str, name: str, n: int = 200) -> list[float]:
    url = urlparse(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port)
    auth = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, "
            "SignedHeaders=host, Signature=" + "0" * 64)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        conn.request("POST", f"/2015-03-31/functions/{name}/invocations", body=b'{"k": 1}',
                     headers={"Authorization": auth, "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        times.append(time.perf_counter() - started)
    conn.close()
    return times


def sandbox_rows() -> list[tuple[str, str]]:
    """The bubblewrap rows, next to the same measures on plain processes in the same run."""
    if not shutil.which("bwrap"):
        return [("bubblewrap sandbox", "not measured: no bwrap installed")]
    rows: list[tuple[str, str]] = []
    servers = {mode: ServerProcess(env={"AWSEMU_LAMBDA_SANDBOX": mode, "AWSEMU_LOG_LEVEL": "warning"})
               for mode in ("bwrap", "none")}
    try:
        for server in servers.values():
            server.start()
        for mode, server in servers.items():
            b = Bench(server)
            b.invoke(b.create()[0])  # the fork server is up (the per-interpreter one in the sandbox)
            firsts, colds, names = [], [], []
            for _ in range(5):
                name, _ = b.create(PLAIN + f"# {uuid.uuid4().hex}\n")  # code of its own
                names.append(name)
                firsts.append(b.invoke(name))
                time.sleep(1.5)  # its fork server preloads the SDK once idle: not on the next one's time
            for i in range(10):
                name = names[i % len(names)]
                b.retire(name)
                colds.append(b.invoke(name))
            rows.append((f"[{mode}] first cold invoke of a new function (new code), median of 5 (ms)",
                         _ms(statistics.median(firsts))))
            rows.append((f"[{mode}] cold invoke of a function invoked before, median of 10 (ms)",
                         _ms(statistics.median(colds))))
            name = names[0]
            b.invoke(name)
            warm = [b.invoke(name) for _ in range(200)]
            rows.append((f"[{mode}] warm invoke p50, boto3, 200 sequential (ms)", _ms(_pct(warm, 0.5))))
            rows.append((f"[{mode}] warm invoke p99, boto3, 200 sequential (ms)", _ms(_pct(warm, 0.99))))
            b.retire(name)
            rows.append((f"[{mode}] 20 concurrent invokes, all cold, fork server running: wall (ms)",
                         _ms(b.concurrent(name))))
            if shutil.which("node"):
                colds = [b.invoke(b.create_node()) for _ in range(5)]
                rows.append((f"[{mode}] nodejs20.x cold invoke, median of 5 (ms)", _ms(statistics.median(colds))))
    finally:
        for server in servers.values():
            server.close()
    return rows


def sandbox_only() -> None:
    _print(sandbox_rows())


def main() -> None:
    rows: list[tuple[str, str]] = []
    fork = ServerProcess(env={"AWSEMU_LAMBDA_SANDBOX": "none", "AWSEMU_LOG_LEVEL": "warning"})
    plain = ServerProcess(env={"AWSEMU_LAMBDA_SANDBOX": "none", "AWSEMU_LAMBDA_FORK_SERVER": "0",
                               "AWSEMU_LOG_LEVEL": "warning"})
    try:
        fork.start()
        plain.start()
        fb, pb = Bench(fork), Bench(plain)
        creates = [fb.create()[1] for _ in range(10)]
        rows.append(("CreateFunction, median of 10 (ms)", _ms(statistics.median(creates))))
        fb.invoke(fb.create()[0])  # the fork server is up and warm
        pb.invoke(pb.create()[0])
        rows.append(("cold invoke via fork server, median of 10 (ms)", _ms(fb.cold(PLAIN))))
        rows.append(("cold invoke via interpreter start, median of 10 (ms)", _ms(pb.cold(PLAIN))))
        rows.append(("cold invoke, handler imports boto3, fork server (ms)", _ms(fb.cold(WITH_BOTO3, 5))))
        rows.append(("cold invoke, handler imports boto3, interpreter start (ms)", _ms(pb.cold(WITH_BOTO3, 5))))
        name, _ = fb.create()
        fb.invoke(name)
        warm = [fb.invoke(name) for _ in range(200)]
        rows.append(("warm invoke p50, boto3, 200 sequential (ms)", _ms(_pct(warm, 0.5))))
        rows.append(("warm invoke p99, boto3, 200 sequential (ms)", _ms(_pct(warm, 0.99))))
        raw = raw_warm(fork.endpoint, name)
        rows.append(("warm invoke p50, raw keep-alive HTTP (ms)", _ms(_pct(raw, 0.5))))
        rows.append(("warm invoke p99, raw keep-alive HTTP (ms)", _ms(_pct(raw, 0.99))))
        name, _ = fb.create()
        rows.append(("20 concurrent invokes, all cold, fork server: wall (ms)", _ms(fb.concurrent(name))))
        rows.append(("20 concurrent invokes, warm: wall (ms)", _ms(fb.concurrent(name))))
        name, _ = pb.create()
        rows.append(("20 concurrent invokes, all cold, interpreter start: wall (ms)", _ms(pb.concurrent(name))))
        envs = fb.environments()
        rss = [p.memory_full_info() for p in envs]
        if rss:
            rows.append((f"warm environment RSS, median of {len(rss)} (MiB)",
                         f"{statistics.median(m.rss for m in rss) / 2**20:.1f}"))
            rows.append((f"warm environment USS (unshared), median of {len(rss)} (MiB)",
                         f"{statistics.median(m.uss for m in rss) / 2**20:.1f}"))
        penvs = pb.environments()
        prss = [p.memory_full_info() for p in penvs]
        if prss:
            rows.append((f"interpreter-start environment USS, median of {len(prss)} (MiB)",
                         f"{statistics.median(m.uss for m in prss) / 2**20:.1f}"))
        name, _ = fb.create()
        fb.invoke(name)
        warm = [fb.invoke(name) for _ in range(200)]
        streamed = [fb.stream_invoke(name) for _ in range(200)]
        rows.append(("warm Invoke p50, same function, just before the streamed calls (ms)", _ms(_pct(warm, 0.5))))
        rows.append(("warm InvokeWithResponseStream p50, boto3, 200 sequential (ms)", _ms(_pct(streamed, 0.5))))
        rows.append(("warm InvokeWithResponseStream p99, boto3, 200 sequential (ms)", _ms(_pct(streamed, 0.99))))
        snap = [fb.snapstart() for _ in range(5)]
        rows.append(("cold invoke, 0.3 s init, $LATEST (init per environment), median of 5 (ms)",
                     _ms(statistics.median(s[0] for s in snap))))
        rows.append(("cold invoke, 0.3 s init, SnapStart version (fork of the template), median of 5 (ms)",
                     _ms(statistics.median(s[1] for s in snap))))
        rows += provisioned_and_stream_rows(fb)
        if shutil.which("node"):
            colds = []
            for _ in range(5):
                colds.append(fb.invoke(fb.create_node()))
            rows.append(("nodejs20.x cold invoke (node process start), median of 5 (ms)",
                         _ms(statistics.median(colds))))
            name = fb.create_node()
            fb.invoke(name)
            node_warm = [fb.invoke(name) for _ in range(200)]
            rows.append(("nodejs20.x warm invoke p50, boto3, 200 sequential (ms)", _ms(_pct(node_warm, 0.5))))
        else:
            rows.append(("nodejs20.x invokes", "not measured: no node installed"))
    finally:
        fork.close()
        plain.close()
    rows += sandbox_rows()
    _print(rows)


def _print(rows: list[tuple[str, str]]) -> None:
    print("| measure | value |")
    print("|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    main()
