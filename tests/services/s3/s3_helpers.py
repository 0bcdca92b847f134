"""Helpers shared by the S3 tests (conftest puts this folder on sys.path)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from awsemu.testing.plugin import make_client


def new_bucket(s3: Any, **kwargs: Any) -> str:
    name = f"b-{uuid.uuid4().hex[:20]}"
    s3.create_bucket(Bucket=name, **kwargs)
    return name


def error_of(excinfo: Any) -> tuple[str, str, int]:
    """(code, message, status) of a botocore ClientError."""
    response = excinfo.value.response
    return (response["Error"].get("Code", ""), response["Error"].get("Message", ""),
            response["ResponseMetadata"]["HTTPStatusCode"])


def client_for(endpoint: str, service: str = "s3", **kwargs: Any) -> Any:
    return make_client(endpoint, service, **kwargs)


def aws_cli(endpoint: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the aws CLI of this venv against ``endpoint`` with env credentials test/test."""
    aws = Path(sys.executable).with_name("aws")
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_PROFILE", None)
    return subprocess.run([str(aws), "--endpoint-url", endpoint, *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)
