"""The foundation through the front door: a real server process, real clients."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import botocore.exceptions
import pytest

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess


def _get_json(url: str, method: str = "GET") -> tuple[int, dict]:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_health_reports_version_services_data_dir_uptime(awsemu_server):
    status, body = _get_json(f"{awsemu_server.endpoint}/_awsemu/health")
    assert status == 200
    from awsemu import __version__

    assert body["version"] == __version__
    assert set(body["services"]) == {"s3", "dynamodb", "dynamodbstreams", "sqs", "lambda", "iam", "sts"}
    assert body["services"]["sts"] == "running"
    assert body["data_dir"] == str(awsemu_server.data_dir / "state")
    assert body["ephemeral"] is False
    assert body["uptime_seconds"] >= 0
    assert body["blobs"]["data_shards"] == 4 and body["blobs"]["parity_shards"] == 2
    assert body["blobs"]["parity_encoder"] == "isa-l", "install Debian's libisal2 (make system-deps does)"
    assert len(body["blobs"]["drives"]) == 6 and all(d["present"] for d in body["blobs"]["drives"])


def test_localstack_health_shape(awsemu_server):
    status, body = _get_json(f"{awsemu_server.endpoint}/_localstack/health")
    assert status == 200
    assert body["edition"] == "community"
    assert body["services"]["sts"] == "running"
    assert set(body["services"]) >= {"s3", "sqs", "dynamodb", "lambda", "iam", "sts"}
    assert body["version"].startswith("awsemu-")


def test_reset_all_one_and_unknown_service(awsemu_server):
    status, body = _get_json(f"{awsemu_server.endpoint}/_awsemu/reset", "POST")
    assert status == 200 and "sts" in body["reset"]
    status, body = _get_json(f"{awsemu_server.endpoint}/_awsemu/reset?service=sts", "POST")
    assert status == 200 and body["reset"] == ["sts"]
    status, body = _get_json(f"{awsemu_server.endpoint}/_awsemu/reset?service=nope", "POST")
    assert status == 400
    assert body["error"] == "UnknownService"


def test_get_caller_identity_default_account(aws_client):
    sts = aws_client("sts")
    identity = sts.get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"
    assert identity["UserId"] == "000000000000"
    meta = identity["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200
    assert meta["RequestId"]
    assert meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"]
    assert "date" in meta["HTTPHeaders"]


def test_twelve_digit_access_key_is_the_account_and_region_is_free(aws_endpoint_url):
    sts = make_client(aws_endpoint_url, "sts", aws_access_key_id="123456789012", region_name="eu-west-3")
    identity = sts.get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:iam::123456789012:root"


def test_aws_cli_get_caller_identity(aws_endpoint_url, tmp_path):
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    aws = Path(sys.executable).parent / "aws"
    out = subprocess.run(
        [str(aws), "sts", "get-caller-identity", "--endpoint-url", aws_endpoint_url, "--output", "json"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "UserId": "000000000000",
        "Account": "000000000000",
        "Arn": "arn:aws:iam::000000000000:root",
    }


def test_aws_endpoint_url_environment_variable(aws_endpoint_url, monkeypatch):
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL", aws_endpoint_url)
    sts = boto3.client("sts", aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    assert sts.get_caller_identity()["Account"] == "000000000000"


def test_unknown_json_operation_is_unknown_operation_exception(aws_endpoint_url):
    req = urllib.request.Request(
        aws_endpoint_url + "/",
        data=b"{}",
        method="POST",
        headers={"X-Amz-Target": "DynamoDB_20120810.NoSuchThing", "Content-Type": "application/x-amz-json-1.0"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert info.value.code == 400
    body = json.load(info.value)
    assert body["__type"].endswith("UnknownOperationException")


def test_unknown_service_gets_protocol_shaped_error(aws_endpoint_url):
    kms = make_client(aws_endpoint_url, "kms")
    with pytest.raises(botocore.exceptions.ClientError) as info:
        kms.list_keys()
    assert info.value.response["Error"]["Code"] == "UnknownOperationException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.fixture(scope="module")
def sts_only_server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("sts-only"), env={"AWSEMU_SERVICES": "sts"})
    server.start()
    yield server
    server.close()


@pytest.mark.parametrize(
    "service, call, operation",
    [
        ("iam", lambda c: c.list_users(), "ListUsers"),
        ("sqs", lambda c: c.list_queues(), "ListQueues"),
        ("dynamodb", lambda c: c.list_tables(), "ListTables"),
        ("lambda", lambda c: c.list_functions(), "ListFunctions"),
        ("s3", lambda c: c.list_buckets(), "ListBuckets"),
    ],
)
def test_operation_without_provider_is_501_not_implemented(sts_only_server, service, call, operation):
    client = make_client(sts_only_server.endpoint, service)
    with pytest.raises(botocore.exceptions.ClientError) as info:
        call(client)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert info.value.response["Error"]["Code"] == "NotImplemented"
    assert operation in info.value.response["Error"]["Message"]


def test_request_log_line_names_service_operation_status(awsemu_server, aws_client):
    aws_client("sts").get_caller_identity()
    time.sleep(0.1)
    assert any(
        "awsemu.request: sts GetCallerIdentity 200 " in line and line.endswith("ms")
        for line in awsemu_server.log().splitlines()
    )


# -- process behaviour -------------------------------------------------------------------------

def _run_cli(*args: str, env: dict | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "awsemu", *args], capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=timeout,
    )


def test_port_taken_is_one_line_error(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        out = _run_cli("serve", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    assert out.returncode == 1
    assert out.stderr.strip() == f"awsemu: error: port {port} on 127.0.0.1 is already in use"
    assert "Traceback" not in out.stderr


def test_unusable_data_dir_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = _run_cli("serve", "--port", "0", "--data-dir", str(blocker / "sub"))
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"awsemu: error: data dir {blocker / 'sub'} is not usable")


def test_data_dir_in_use_by_another_server(tmp_path):
    with ServerProcess(tmp_path / "data") as first:
        out = _run_cli("serve", "--port", "0", "--data-dir", str(first.data_dir / "state"))
    assert out.returncode == 1
    assert out.stderr.strip().endswith("is in use by another awsemu process")


def test_env_settings_and_bad_values(tmp_path):
    out = _run_cli("serve", env={"AWSEMU_PORT": "99999"})
    assert out.returncode == 2
    assert out.stderr.strip() == "awsemu: error: port must be 0-65535, got 99999"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_clean_shutdown_on_signal_exits_zero(tmp_path, sig):
    server = ServerProcess(tmp_path / "data")
    server.start()
    try:
        proc = server.proc
        assert proc is not None
        proc.send_signal(sig)
        assert proc.wait(15) == 0
        server.proc = None
    finally:
        server.close()


def test_ephemeral_uses_temp_dir_and_removes_it(tmp_path):
    server = ServerProcess(tmp_path / "data", extra_args=["--ephemeral"])
    server.start()
    try:
        status, body = _get_json(f"{server.endpoint}/_awsemu/health")
        assert body["ephemeral"] is True
        temp_dir = Path(body["data_dir"])
        assert temp_dir.is_dir() and temp_dir != server.data_dir / "state"
        assert server.stop() == 0
        assert not temp_dir.exists()
    finally:
        server.close()


def test_version_flag():
    from awsemu import __version__

    out = _run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"awsemu {__version__}"
