"""The OnFailure path of DynamoDB stream mappings for records too old to retry, in process (their
minimum MaximumRecordAgeInSeconds is 60 s, too long to wait for through a server)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from awsemu.services.lambda_ import delivery, pollers
from awsemu.services.lambda_.invoke import InvokeResult

STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000"
QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:failures"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:f"


def _record(sequence: int, created: float) -> dict[str, Any]:
    return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(sequence),
                                                "ApproximateCreationDateTime": int(created)}}


def _poller(invocations: list[list[str]], fail: bool, destination: str | None) -> pollers.StreamPoller:
    mapping = {
        "UUID": "m-1", "EventSourceArn": STREAM_ARN, "FunctionArn": FUNCTION_ARN, "_endpoint": "http://x",
        "_fn": ["000000000000", "us-east-1", "f"], "_qualifier": None, "BatchSize": 10,
        "MaximumRetryAttempts": 1, "MaximumRecordAgeInSeconds": 60, "BisectBatchOnFunctionError": False,
        "DestinationConfig": {"OnFailure": {"Destination": destination} if destination else {}},
    }

    async def invoke(fn: Any, qualifier: Any, payload: bytes, endpoint: str) -> InvokeResult:
        invocations.append([r["dynamodb"]["SequenceNumber"] for r in json.loads(payload)["Records"]])
        if fail:
            return InvokeResult(b'{"errorMessage": "x"}', "$LATEST", "Unhandled")
        return InvokeResult(b"null", "$LATEST")

    return pollers.StreamPoller(mapping, provider=None, invoke=invoke, db=None,  # type: ignore[arg-type]
                                set_state=lambda *a, **k: None)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What would go to SQS: (queue ARN, document)."""
    out: list[tuple[str, dict[str, Any]]] = []

    def send(endpoint: str, key: str, arn: str, body: str, attributes: Any = None) -> bool:
        out.append((arn, json.loads(body)))
        return True

    monkeypatch.setattr(delivery, "send_to_queue", send)
    return out


def test_records_past_their_age_are_described_not_invoked(sent: list[tuple[str, dict[str, Any]]]) -> None:
    invocations: list[list[str]] = []
    now = time.time()
    batch = [_record(100, now - 3600), _record(101, now - 120), _record(102, now)]
    asyncio.run(_poller(invocations, fail=False, destination=QUEUE_ARN)._deliver("shard-1", batch))
    assert invocations == [["102"]]
    ((arn, document),) = sent
    assert arn == QUEUE_ARN
    assert document["requestContext"]["condition"] == "RecordAgeExceeded"
    assert document["requestContext"]["approximateInvokeCount"] == 0
    assert document["requestContext"]["functionArn"] == FUNCTION_ARN
    assert "responseContext" not in document  # never invoked: nothing to tell of a response
    info = document["DDBStreamBatchInfo"]
    assert (info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        "shard-1", "100", "101", 2)
    assert info["approximateArrivalOfFirstRecord"] == time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                    time.gmtime(int(now - 3600)))


def test_retries_exhausted_without_destination_sends_nothing(sent: list[tuple[str, dict[str, Any]]],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pollers, "RETRY_BACKOFF_S", 0.0)
    invocations: list[list[str]] = []
    batch = [_record(7, time.time())]
    asyncio.run(_poller(invocations, fail=True, destination=None)._deliver("shard-1", batch))
    assert invocations == [["7"], ["7"]]  # a try and MaximumRetryAttempts=1 retry
    assert sent == []
    asyncio.run(_poller(invocations, fail=True, destination=QUEUE_ARN)._deliver("shard-1", batch))
    ((_, document),) = sent
    assert document["requestContext"]["approximateInvokeCount"] == 2
    assert document["responseContext"]["functionError"] == "Unhandled"
