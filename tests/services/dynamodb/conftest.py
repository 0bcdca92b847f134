"""Fixtures for DynamoDB tests.

``ddb``: the provider over a real lsm DB in a temp dir, called directly (botocore member names in,
output dicts out; ServiceError raised as the gateway sees it). ``client``/``resource``: boto3
through a real awsemu server (the session's, wiped before each test that uses them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from awsemu.services.base import ServiceError
from awsemu.services.dynamodb.provider import DynamoDBProvider
from awsemu.services.dynamodb.streams_provider import DynamoDBStreamsProvider
from awsemu.testing.provider import InProcessProvider

class Ddb(InProcessProvider[DynamoDBProvider]):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(DynamoDBProvider, data_dir, service="dynamodb")

    def started(self, provider: DynamoDBProvider) -> None:
        provider.sweep_interval = 3600.0  # tests sweep explicitly with provider.sweep_once()
        self.streams = DynamoDBStreamsProvider(provider.storage, self.config())

    def target(self, operation: str) -> Any:
        if operation in ("ListStreams", "DescribeStream", "GetShardIterator", "GetRecords"):
            return self.streams
        return self.provider

    def error(self, operation: str, **params: Any) -> ServiceError:
        with pytest.raises(ServiceError) as exc:
            self(operation, **params)
        return exc.value

    def create(self, name: str = "tbl", hash_type: str = "S", range_type: str | None = None, **extra: Any) -> Any:
        attrs = [{"AttributeName": "pk", "AttributeType": hash_type}]
        schema = [{"AttributeName": "pk", "KeyType": "HASH"}]
        if range_type:
            attrs.append({"AttributeName": "sk", "AttributeType": range_type})
            schema.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs += extra.pop("ExtraAttributes", [])
        return self("CreateTable", TableName=name, AttributeDefinitions=attrs, KeySchema=schema,
                    BillingMode="PAY_PER_REQUEST", **extra)


@pytest.fixture
def ddb(tmp_path: Path) -> Iterator[Ddb]:
    d = Ddb(tmp_path)
    try:
        yield d
    finally:
        d.close()


# --- front door: boto3 against a real server ------------------------------------------------------

from awsemu.testing.plugin import make_client, make_resource, reset_server  # noqa: E402
from awsemu.testing.server import ServerProcess  # noqa: E402


# Only the services under test: a faster start, and no coupling to other providers' state.
SERVER_ENV = {"AWSEMU_SERVICES": "dynamodb,dynamodbstreams"}


@pytest.fixture(scope="session")
def ddb_server() -> Iterator[ServerProcess]:
    server = ServerProcess(env=SERVER_ENV)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def client(ddb_server: ServerProcess) -> Any:
    reset_server(ddb_server.endpoint, "dynamodb")
    return make_client(ddb_server.endpoint, "dynamodb")


@pytest.fixture
def resource(ddb_server: ServerProcess) -> Any:
    reset_server(ddb_server.endpoint, "dynamodb")
    return make_resource(ddb_server.endpoint, "dynamodb")


def _wait_index(client: Any, table: str, index: str, status: str = "ACTIVE", timeout: float = 10.0) -> dict[str, Any]:
    """Poll DescribeTable until an index reaches ``status`` (or the timeout); returns its description."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        gsis = client.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
        found: dict[str, Any] = next(g for g in gsis if g["IndexName"] == index)
        if found["IndexStatus"] == status or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


@pytest.fixture
def wait_index() -> Any:
    """``wait_index(client, table, index, status="ACTIVE")``: an index added by UpdateTable builds in the background."""
    return _wait_index


@pytest.fixture
def streams_client(ddb_server: ServerProcess) -> Any:
    return make_client(ddb_server.endpoint, "dynamodbstreams")
