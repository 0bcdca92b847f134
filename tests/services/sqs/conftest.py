"""Fixtures for SQS provider tests: a provider over a real lsm DB in a temp dir.

Provider-level tests call the operations directly (botocore member names in, output dicts out);
front-door tests (test_front_door_*.py) go through a real server with boto3 and raw query requests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from awsemu.protocol.models import variant_raw_model

from awsemu.services.sqs.provider import SqsProvider
from awsemu.testing.provider import InProcessProvider

class Sqs(InProcessProvider[SqsProvider]):
    """A provider plus a call helper that raises ServiceError like the gateway would see it."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__(SqsProvider, data_dir, service="sqs")

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


@pytest.fixture(scope="session")
def query_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A botocore data dir holding SQS's model switched to the query protocol (our sqs_query patch),
    so a plain boto3 client speaks the legacy query wire format."""
    import json

    root = tmp_path_factory.mktemp("botocore-data")
    target = root / "sqs" / "2012-11-05"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(variant_raw_model("sqs", "sqs_query")))
    return root
