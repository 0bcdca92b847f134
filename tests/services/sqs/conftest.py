"""Fixtures for SQS provider tests: a provider over a real lsm DB in a temp dir.

Provider-level tests call the operations directly (botocore member names in, output dicts out);
front-door tests (test_front_door_*.py) go through a real server with boto3 and raw query requests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from awsemu.config import Config
from awsemu.services.base import CallContext
from awsemu.services.sqs.provider import SqsProvider
from awsemu.storage import Storage
from awsemu.storage.lsm import DB

ACCOUNT = "000000000000"
ENDPOINT = "http://localhost:4566"


class Sqs:
    """A provider plus a call helper that raises ServiceError like the gateway would see it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.db: Any = None
        self.provider: SqsProvider | None = None
        self.open()

    def open(self) -> None:
        self.db = DB.open(self.data_dir / "meta")
        self.provider = SqsProvider(Storage(self.data_dir, self.db), Config(data_dir=self.data_dir))
        self.provider.start()

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

    def ctx(self, operation: str, account: str = ACCOUNT, region: str = "us-east-1", endpoint: str = ENDPOINT) -> CallContext:
        return CallContext(service="sqs", operation=operation, account_id=account, region=region, endpoint=endpoint)

    def __call__(self, operation: str, *, _account: str = ACCOUNT, _region: str = "us-east-1",
                 _endpoint: str = ENDPOINT, **params: Any) -> dict[str, Any]:
        assert self.provider is not None
        method = self.provider.handler_for(operation)
        assert method is not None, operation
        result = method(self.ctx(operation, _account, _region, _endpoint), **params)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
        return result

    def create(self, name: str, **attributes: str) -> str:
        return self("CreateQueue", QueueName=name, Attributes=attributes)["QueueUrl"]


@pytest.fixture
def sqs(tmp_path: Path) -> Iterator[Sqs]:
    s = Sqs(tmp_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def open_sqs() -> Iterator[Callable[[Path], Sqs]]:
    """Open a provider over an existing data dir (crash tests reopen what a killed process left)."""
    opened: list[Sqs] = []

    def factory(path: Path) -> Sqs:
        s = Sqs(path)
        opened.append(s)
        return s

    yield factory
    for s in opened:
        s.close()
