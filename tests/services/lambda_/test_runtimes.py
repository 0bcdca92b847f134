"""python3.N functions run on a matching local Python (with the server's AWS SDK), else on the
server's own interpreter with one warning per runtime in the server log."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess
from lambda_helpers import ROLE, python_zip

REPORT_VERSION = """
import sys
def handler(event, context):
    out = {"version": list(sys.version_info[:2]), "executable": sys.executable}
    if event.get("boto3"):
        import boto3
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName=event["queue"])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="from " + sys.version.split()[0])
        out["boto3"] = boto3.__version__
    return out
"""


def _installed(version: str) -> bool:
    """Whether a Python ``version`` runs here: ``python3.N`` on PATH, or installed by pyenv."""
    name = f"python{version}"
    candidates = [shutil.which(name)] + glob.glob(
        os.path.join(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"), "versions", "*", "bin", name))
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return True
    return False


def _invoke(lam: Any, name: str, event: dict[str, Any]) -> dict[str, Any]:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, body
    return body  # type: ignore[no-any-return]


def test_python312_runs_on_python312_with_the_sdk(lam: Any, fname: str, aws_client: Any) -> None:
    if not _installed("3.12"):
        pytest.skip("no Python 3.12 interpreter on this machine (PATH or pyenv)")
    lam.create_function(FunctionName=fname, Runtime="python3.12", Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(REPORT_VERSION)})
    body = _invoke(lam, fname, {"boto3": True, "queue": f"q-{fname}"})
    assert body["version"] == [3, 12]
    assert body["executable"] != sys.executable
    assert body["boto3"]  # the server's SDK, as AWS's runtimes include boto3
    sqs = aws_client("sqs")
    url = sqs.get_queue_url(QueueName=f"q-{fname}")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"]
    assert messages[0]["Body"].startswith("from 3.12.")
    # warm reuse on the same interpreter
    assert _invoke(lam, fname, {})["version"] == [3, 12]


def test_python_of_the_server_runs_on_the_server_interpreter(lam: Any, fname: str) -> None:
    runtime = "python%d.%d" % sys.version_info[:2]
    lam.create_function(FunctionName=fname, Runtime=runtime, Role=ROLE, Handler="lambda_function.handler",
                        Code={"ZipFile": python_zip(REPORT_VERSION)})
    assert _invoke(lam, fname, {})["version"] == list(sys.version_info[:2])


def test_missing_interpreter_falls_back_with_one_warning(tmp_path: Path) -> None:
    """A server that finds no Python 3.9 (empty PATH, no pyenv or uv root): python3.9 functions run
    on the server's interpreter, and the log says so once for that runtime."""
    missing = "3.9" if sys.version_info[:2] != (3, 9) else "3.10"
    empty = tmp_path / "empty"
    empty.mkdir()
    server = ServerProcess(env={"PATH": str(empty), "PYENV_ROOT": str(empty), "HOME": str(empty),
                                "AWSEMU_SERVICES": "lambda,sqs"})
    try:
        server.start()
        lam = make_client(server.endpoint, "lambda")
        for name in ("old-a", "old-b"):
            lam.create_function(FunctionName=name, Runtime=f"python{missing}", Role=ROLE,
                                Handler="lambda_function.handler", Code={"ZipFile": python_zip(REPORT_VERSION)})
            body = _invoke(lam, name, {})
            assert body["version"] == list(sys.version_info[:2])
    finally:
        server.close()
    warnings = [line for line in server.log().splitlines()
                if f"no Python {missing} interpreter found" in line]
    assert len(warnings) == 1, server.log()
    assert f"python{missing} functions run on the server's Python" in warnings[0]
