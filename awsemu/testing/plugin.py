"""pytest fixtures for testing against a real awsemu server.

- ``awsemu_server``: a session-wide server on a free port with a temp data dir.
- ``aws_endpoint_url``: its URL.
- ``aws_client``: factory, ``aws_client("s3")`` -> a boto3 client for that server.
- ``fresh_server``: a server of the test's own (for restart/kill tests), stopped after the test.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from awsemu.testing.server import ServerProcess

TEST_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test", "region_name": "us-east-1"}


def make_client(endpoint: str, service: str, **kwargs: Any) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    params: dict[str, Any] = {**TEST_CREDENTIALS, "endpoint_url": endpoint}
    params.update(kwargs)
    params.setdefault("config", BotoConfig(retries={"max_attempts": 1}))
    return boto3.client(service, **params)


@pytest.fixture(scope="session")
def awsemu_server() -> Iterator[ServerProcess]:
    server = ServerProcess()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def aws_endpoint_url(awsemu_server: ServerProcess) -> str:
    return awsemu_server.endpoint


@pytest.fixture
def aws_client(aws_endpoint_url: str) -> Callable[..., Any]:
    def factory(service: str, **kwargs: Any) -> Any:
        return make_client(aws_endpoint_url, service, **kwargs)

    return factory


@pytest.fixture
def fresh_server(tmp_path: Any) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path / "data")
    try:
        yield server
    finally:
        server.close()
