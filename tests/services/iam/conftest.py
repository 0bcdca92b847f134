"""An IAM/STS server for the IAM provider tests (front door, boto3), shared by the session.

Only the iam and sts services are enabled so these tests depend on nothing else; names are made
unique per test because the server is shared.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterator

import pytest

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess

_counter = itertools.count()


@pytest.fixture(scope="session")
def iam_server() -> Iterator[ServerProcess]:
    with ServerProcess(env={"AWSEMU_SERVICES": "iam,sts"}) as server:
        yield server


@pytest.fixture
def client(iam_server: ServerProcess) -> Callable[..., Any]:
    def factory(service: str = "iam", **kwargs: Any) -> Any:
        return make_client(iam_server.endpoint, service, **kwargs)

    return factory


@pytest.fixture
def iam(client: Callable[..., Any]) -> Any:
    return client("iam")


@pytest.fixture
def name() -> Callable[[str], str]:
    run = next(_counter)

    def make(base: str) -> str:
        return f"{base}-{run}"

    return make
