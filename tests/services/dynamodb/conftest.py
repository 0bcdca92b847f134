"""Fixtures for DynamoDB tests.

``ddb``: the provider over a real lsm DB in a temp dir, called directly (botocore member names in,
output dicts out; ServiceError raised as the gateway sees it). ``client``/``resource``: boto3
through a real awsemu server (the session's, wiped before each test that uses them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from awsemu.config import Config
from awsemu.services.base import CallContext, ServiceError
from awsemu.services.dynamodb.provider import DynamoDBProvider
from awsemu.services.dynamodb.streams_provider import DynamoDBStreamsProvider
from awsemu.storage import Storage
from awsemu.storage.lsm import DB

ACCOUNT = "000000000000"


class Ddb:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.db: Any = None
        self.provider: DynamoDBProvider | None = None
        self.open()

    def open(self) -> None:
        self.db = DB.open(self.data_dir / "meta")
        storage = Storage(self.data_dir, self.db)
        self.provider = DynamoDBProvider(storage, Config(data_dir=self.data_dir))
        self.provider.sweep_interval = 3600.0  # tests sweep explicitly with provider.sweep_once()
        self.provider.start()
        self.streams = DynamoDBStreamsProvider(storage, Config(data_dir=self.data_dir))

    def close(self) -> None:
        if self.provider is not None:
            self.provider.stop()
            self.provider = None
        if self.db is not None:
            self.db.close()
            self.db = None

    def restart(self) -> None:
        self.close()
        self.open()

    def __call__(self, operation: str, *, _account: str = ACCOUNT, _region: str = "us-east-1", **params: Any) -> Any:
        assert self.provider is not None
        provider: Any = self.provider
        if operation in ("ListStreams", "DescribeStream", "GetShardIterator", "GetRecords"):
            provider = self.streams
        method = provider.handler_for(operation)
        assert method is not None, operation
        ctx = CallContext(service="dynamodb", operation=operation, account_id=_account, region=_region)
        return method(ctx, **params)

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


@pytest.fixture
def streams_client(ddb_server: ServerProcess) -> Any:
    return make_client(ddb_server.endpoint, "dynamodbstreams")
