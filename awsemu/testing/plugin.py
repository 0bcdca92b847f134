"""pytest plugin shipped with awsemu (entry point ``pytest11``: loaded wherever awsemu is installed).

Fixtures:

- ``awsemu`` (session): a server on a free port with a temp data dir, or the already running one
  named by ``--awsemu-endpoint`` / ``AWSEMU_ENDPOINT``. Under pytest-xdist each worker process gets
  its own server (the session fixture runs once per worker).
- ``aws_endpoint_url``: its URL.
- ``aws_client``: factory, ``aws_client("s3")`` -> a boto3 client for it (test/test credentials).
- ``aws_resource``: factory for boto3 resources (``aws_resource("dynamodb")``).
- ``awsemu_reset``: request it (or set ``awsemu_reset_each_test = true`` in the ini file) to wipe all
  state before the test.
- ``awsemu_server``: always a server process of this session (our own suite uses its log).
- ``fresh_server``: a server of the test's own (restart and kill tests), stopped after the test.
"""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest

from awsemu.testing.server import ServerProcess

TEST_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("awsemu")
    group.addoption(
        "--awsemu-endpoint",
        default=None,
        help="use an already running awsemu at this URL instead of starting one (or AWSEMU_ENDPOINT)",
    )
    parser.addini("awsemu_reset_each_test", "wipe awsemu state before every test", type="bool", default=False)


def make_client(endpoint: str, service: str, **kwargs: Any) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    params: dict[str, Any] = {**TEST_CREDENTIALS, "endpoint_url": endpoint}
    params.update(kwargs)
    params.setdefault("config", BotoConfig(retries={"max_attempts": 1}))
    return boto3.client(service, **params)


def make_resource(endpoint: str, service: str, **kwargs: Any) -> Any:
    import boto3

    params: dict[str, Any] = {**TEST_CREDENTIALS, "endpoint_url": endpoint}
    params.update(kwargs)
    return boto3.resource(service, **params)


@dataclass
class RunningServer:
    """A server this session did not start: only its endpoint is known."""

    endpoint: str


def reset_server(endpoint: str, service: str | None = None) -> None:
    url = f"{endpoint}/_awsemu/reset" + (f"?service={service}" if service else "")
    with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=30) as resp:
        resp.read()


@pytest.fixture(scope="session")
def awsemu_server() -> Iterator[ServerProcess]:
    server = ServerProcess()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def awsemu(request: pytest.FixtureRequest) -> Any:
    endpoint = request.config.getoption("--awsemu-endpoint") or os.environ.get("AWSEMU_ENDPOINT")
    if endpoint:
        return RunningServer(endpoint.rstrip("/"))
    return request.getfixturevalue("awsemu_server")


@pytest.fixture(scope="session")
def aws_endpoint_url(awsemu: Any) -> str:
    return str(awsemu.endpoint)


@pytest.fixture
def awsemu_reset(aws_endpoint_url: str) -> None:
    reset_server(aws_endpoint_url)


@pytest.fixture(autouse=True)
def _awsemu_reset_each_test(request: pytest.FixtureRequest) -> None:
    if request.config.getini("awsemu_reset_each_test"):
        request.getfixturevalue("awsemu_reset")


@pytest.fixture
def aws_client(aws_endpoint_url: str) -> Callable[..., Any]:
    def factory(service: str, **kwargs: Any) -> Any:
        return make_client(aws_endpoint_url, service, **kwargs)

    return factory


@pytest.fixture
def aws_resource(aws_endpoint_url: str) -> Callable[..., Any]:
    def factory(service: str, **kwargs: Any) -> Any:
        return make_resource(aws_endpoint_url, service, **kwargs)

    return factory


@pytest.fixture
def fresh_server(tmp_path: Any) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path / "data")
    try:
        yield server
    finally:
        server.close()
