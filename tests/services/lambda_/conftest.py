"""Fixtures for Lambda tests: zip builders, a boto3 Lambda client on the session server, unique names.

Every test goes through the front door (boto3 against a real ``awsemu serve``) and runs real
handlers in real execution environments. Names are unique per test so tests share the session
server without resetting it. Handlers and tests synchronise through files in ``tmp_path`` (the
environments are local processes), never through sleeps. Environments run in the bubblewrap sandbox
(sandbox.py) wherever ``bwrap`` works, which hides the host's /tmp: the session's temporary folder is
shared with them (``AWSEMU_LAMBDA_SANDBOX_SHARE``, set in tests/conftest.py for every server the
session starts).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from botocore.config import Config as BotoConfig

from awsemu.testing.server import ServerProcess

sys.path.insert(0, str(Path(__file__).parent))

from lambda_helpers import ROLE, python_zip  # noqa: E402


@pytest.fixture
def lam(aws_client: Callable[..., Any]) -> Any:
    # generous read timeout: a cold start on a loaded 2-core machine, and handlers that sleep
    return aws_client("lambda", config=BotoConfig(retries={"max_attempts": 1}, read_timeout=120))


@pytest.fixture
def fname(lam: Any) -> Iterator[str]:
    """A unique function name; the function (and so its environments) is deleted after the test."""
    name = f"fn-{uuid.uuid4().hex[:12]}"
    yield name
    try:
        lam.delete_function(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        pass


@pytest.fixture
def create(lam: Any, fname: str) -> Callable[..., dict[str, Any]]:
    """create(source, **overrides): a python3.11 function named ``fname`` running ``source``."""

    def factory(source: str, **kwargs: Any) -> dict[str, Any]:
        params: dict[str, Any] = {
            "FunctionName": fname,
            "Runtime": "python3.11",
            "Role": ROLE,
            "Handler": "lambda_function.handler",
            "Code": {"ZipFile": python_zip(source)},
        }
        params.update(kwargs)
        return lam.create_function(**params)  # type: ignore[no-any-return]

    return factory


@pytest.fixture(scope="module")
def iam_server() -> Iterator[ServerProcess]:
    """A server of its own in iam mode, one per test module (for resource-policy and auth tests)."""
    with ServerProcess(env={"AWSEMU_AUTH": "iam", "AWSEMU_SERVICES": "lambda,iam,sts"}) as server:
        yield server
