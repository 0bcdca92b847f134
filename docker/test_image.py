"""`make test-docker`: the image end to end through the mapped port (not part of `make test`).

Starts the image, waits for its healthcheck, smoke-tests every service the server reports running
with boto3, restarts the container and checks the data survived on the volume, stops it and times the
stop. Prints image size, start-to-healthy and stop times. Exits non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import boto3

ENGINE = os.environ.get("CONTAINER_ENGINE") or shutil.which("podman") or shutil.which("docker") or "docker"
IMAGE = os.environ.get("IMAGE", "awsemu:latest")
# podman's default crun refuses hybrid-cgroup hosts; runc (Debian package) works there.
# podman raises RLIMIT_NOFILE/NPROC above what sandboxed hosts let it set (runc: "error setting
# rlimits ... operation not permitted"): ask for the host's open-files limit and a modest nproc.
NOFILE: list[str] = []
if ENGINE.endswith("podman"):
    NOFILE = ["--ulimit", f"nofile={resource.getrlimit(resource.RLIMIT_NOFILE)[1]}", "--ulimit", "nproc=4096"]
GLOBAL_FLAGS = ["--runtime", "runc"] if ENGINE.endswith("podman") and shutil.which("runc") else []


def sh(*args: str, check: bool = True) -> str:
    out = subprocess.run([ENGINE, *GLOBAL_FLAGS, *args], capture_output=True, text=True)
    if check and out.returncode != 0:
        raise RuntimeError(f"{ENGINE} {' '.join(args)} failed: {out.stderr.strip()}")
    return out.stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(name: str, timeout: float = 30.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        # `healthcheck run` runs the image's HEALTHCHECK now (podman without systemd timers needs it).
        if ENGINE.endswith("podman"):
            ok = subprocess.run([ENGINE, *GLOBAL_FLAGS, "healthcheck", "run", name], capture_output=True).returncode == 0
        else:
            ok = sh("inspect", "--format", "{{.State.Health.Status}}", name, check=False) == "healthy"
        if ok:
            return time.perf_counter() - started
        time.sleep(0.05)
    raise RuntimeError(f"container not healthy in {timeout}s:\n{sh('logs', name, check=False)}")


def wait_http(endpoint: str, timeout: float = 30.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            with urllib.request.urlopen(f"{endpoint}/_awsemu/health", timeout=1) as resp:
                if resp.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"no health answer at {endpoint} in {timeout}s")


def client(service: str, endpoint: str):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def _handler_zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return {'n': event['n'] + 1}\n")
    return buf.getvalue()


def main() -> int:
    name = f"awsemu-test-{uuid.uuid4().hex[:8]}"
    volume = f"{name}-data"
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    size_mb = int(sh("image", "inspect", "--format", "{{.Size}}", IMAGE)) / 1e6
    sh("volume", "create", volume)
    try:
        t0 = time.perf_counter()
        sh("run", "-d", "--name", name, *NOFILE, "-p", f"127.0.0.1:{port}:4566", "-v", f"{volume}:/var/lib/awsemu", IMAGE)
        t_run = time.perf_counter()
        http_ready = wait_http(endpoint)  # what users' wait scripts see through the mapped port
        wait_healthy(name)
        healthy_total = time.perf_counter() - t0  # to the first passing HEALTHCHECK (an exec in the container)
        health = json.load(urllib.request.urlopen(f"{endpoint}/_awsemu/health"))
        running = {s for s, state in health["services"].items() if state == "running"}
        assert client("sts", endpoint).get_caller_identity()["Account"] == "000000000000"
        checked = ["sts"]
        if "s3" in running:
            s3 = client("s3", endpoint)
            s3.create_bucket(Bucket="smoke")
            s3.put_object(Bucket="smoke", Key="k", Body=b"kept")
            checked.append("s3")
        if "sqs" in running:
            sqs = client("sqs", endpoint)
            url = sqs.create_queue(QueueName="smoke")["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody="kept")
            checked.append("sqs")
        if "dynamodb" in running:
            ddb = client("dynamodb", endpoint)
            ddb.create_table(TableName="smoke", BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
            ddb.put_item(TableName="smoke", Item={"pk": {"S": "kept"}})
            checked.append("dynamodb")
        if "lambda" in running:
            lam = client("lambda", endpoint)
            lam.create_function(FunctionName="smoke", Runtime="python3.11", Handler="app.handler",
                                Role="arn:aws:iam::000000000000:role/smoke", Code={"ZipFile": _handler_zip()})
            out = lam.invoke(FunctionName="smoke", Payload=b'{"n": 1}')
            assert json.loads(out["Payload"].read()) == {"n": 2}, out
            checked.append("lambda")
        sh("restart", "-t", "10", name)
        wait_healthy(name)
        if "s3" in checked:
            assert client("s3", endpoint).get_object(Bucket="smoke", Key="k")["Body"].read() == b"kept"
        if "sqs" in checked:
            sqs = client("sqs", endpoint)
            url = sqs.get_queue_url(QueueName="smoke")["QueueUrl"]
            assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "kept"
        if "dynamodb" in checked:
            item = client("dynamodb", endpoint).get_item(TableName="smoke", Key={"pk": {"S": "kept"}})
            assert item["Item"] == {"pk": {"S": "kept"}}
        if "lambda" in checked:
            out = client("lambda", endpoint).invoke(FunctionName="smoke", Payload=b'{"n": 41}')
            assert json.loads(out["Payload"].read()) == {"n": 42}, out
        t1 = time.perf_counter()
        sh("stop", "-t", "10", name)
        stop_seconds = time.perf_counter() - t1
        exit_code = sh("inspect", "--format", "{{.State.ExitCode}}", name)
        print("| figure | value | target |")
        print("|---|---|---|")
        print(f"| image size | {size_mb:.0f} MB | <= 200 MB |")
        print(f"| `run` to /_awsemu/health answering on the mapped port | {http_ready + (t_run - t0):.2f} s | <= 1.5 s |")
        print(f"| `run` to HEALTHCHECK passing | {healthy_total:.2f} s | |")
        print(f"| docker stop (SIGTERM to exit) | {stop_seconds:.2f} s, exit code {exit_code} | < 2 s, 0 |")
        print(f"| services smoke-tested, data kept across restart | {', '.join(checked)} | |")
        print("\ncontainer log:\n" + sh("logs", name, check=False))
        return 0 if exit_code == "0" and stop_seconds < 2 else 1
    finally:
        sh("rm", "-f", name, check=False)
        sh("volume", "rm", "-f", volume, check=False)


if __name__ == "__main__":
    sys.exit(main())
