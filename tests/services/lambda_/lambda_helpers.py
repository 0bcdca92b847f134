"""Helpers shared by the Lambda tests (conftest puts this folder on sys.path)."""

from __future__ import annotations

import io
import textwrap
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ACCOUNT = "000000000000"
REGION = "us-east-1"
WAIT_S = 60.0  # bound of every wait on a file, a process or a queue (never an assertion on time)


def make_zip(files: dict[str, str], mode: int = 0o644) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name == "bootstrap" else mode) << 16
            archive.writestr(info, textwrap.dedent(text))
    return buf.getvalue()


def python_zip(source: str, module: str = "lambda_function") -> bytes:
    return make_zip({f"{module}.py": source})


def error_of(excinfo: Any) -> tuple[str, str, int]:
    """(code, message, status) of a botocore ClientError."""
    response = excinfo.value.response
    return (response["Error"].get("Code", ""), response["Error"].get("Message", ""),
            response["ResponseMetadata"]["HTTPStatusCode"])


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its parent's wait() counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def wait_gone(pid: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while alive(pid):
        assert time.monotonic() < deadline, f"process {pid} still alive"
        time.sleep(0.05)


def url_request(endpoint: str, host: str, path: str = "/", method: str = "GET", body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """A plain HTTP request to a function URL: awsemu's endpoint with the URL's Host header."""
    request = urllib.request.Request(endpoint + path, data=body, method=method, headers=headers or {})
    request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def wait_provisioned(lam: Any, name: str, qualifier: str) -> dict[str, Any]:
    """GetProvisionedConcurrencyConfig once its environments are initialized (Status READY)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        config: dict[str, Any] = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if config["Status"] == "READY":
            return config
        assert config["Status"] == "IN_PROGRESS", config
        assert time.monotonic() < deadline, f"provisioned concurrency of {name}:{qualifier} never READY"
        time.sleep(0.05)
