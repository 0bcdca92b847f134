"""Foundation figures: startup to health-ready, and GetCallerIdentity requests/s through awsemu
versus a bare starlette app answering a constant (target >= 60 %), same client, same run."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from awsemu.testing.server import ServerProcess
from bench._http import requests_per_second


def _signed_get_caller_identity(host: str) -> bytes:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    req = AWSRequest("POST", f"http://{host}/", data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials("test", "test"), "sts", "us-east-1").add_auth(req)
    lines = ["POST / HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in req.headers.items() if k.lower() not in ("host", "content-length")]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def startup_seconds(runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            server = ServerProcess(Path(tmp) / "d")
            started = time.perf_counter()
            server.start()
            with urllib.request.urlopen(server.endpoint + "/_awsemu/health") as resp:
                assert resp.status == 200
            times.append(time.perf_counter() - started)
            server.close()
    return times


def main() -> None:
    starts = startup_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "d", env={"AWSEMU_LOG_LEVEL": "warning"})
        server.start()
        host = server.endpoint.split("//", 1)[1]
        ip, port = host.rsplit(":", 1)
        request = _signed_get_caller_identity(host)
        requests_per_second(ip, int(port), request, seconds=1.0)  # warm up (model load, JIT of plans)
        ours = requests_per_second(ip, int(port), request)
        server.close()
    bare = subprocess.Popen([sys.executable, "-m", "bench._bare_app"], stdout=subprocess.PIPE, text=True)
    try:
        line = bare.stdout.readline() if bare.stdout else ""
        bport = int(line.split()[1])
        time.sleep(0.3)
        request = _signed_get_caller_identity(f"127.0.0.1:{bport}")
        requests_per_second("127.0.0.1", bport, request, seconds=1.0)
        base = requests_per_second("127.0.0.1", bport, request)
    finally:
        bare.terminate()
        bare.wait()
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| startup to health ready (median of {len(starts)}) | {statistics.median(starts) * 1000:.0f} ms "
          f"(max {max(starts) * 1000:.0f} ms) | <= 500 ms |")
    print(f"| GetCallerIdentity through awsemu | {ours:,.0f} req/s | |")
    print(f"| bare starlette constant | {base:,.0f} req/s | |")
    print(f"| ratio | {ours / base * 100:.0f} % | >= 60 % |")


if __name__ == "__main__":
    main()
