"""Where failed (and, with destinations, finished) asynchronous invocations are reported.

- A function's DeadLetterConfig (an SQS queue ARN): after the last retry, the event itself is sent
  there, with the message attributes Lambda sets: ``RequestID``, ``ErrorCode``, ``ErrorMessage``.
- DestinationConfig OnFailure / OnSuccess (SQS queue ARNs): an invocation record
  (``version``, ``timestamp``, ``requestContext``, ``requestPayload``, ``responseContext``,
  ``responsePayload``) as Lambda writes it.

- An event source mapping's DestinationConfig OnFailure (DynamoDB Streams sources): for records
  discarded after MaximumRetryAttempts or MaximumRecordAgeInSeconds, a record of where they are
  (``DDBStreamBatchInfo``), see :func:`stream_failure_record`.

Delivery goes through awsemu's own SQS API, the way Lambda talks to SQS, never to SQS's storage.
SNS topics, EventBridge buses and other Lambda functions as targets are not supported yet (logged).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger("awsemu.lambda")

SQS_ARN = re.compile(r"^arn:aws[a-zA-Z-]*:sqs:(?P<region>[^:]+):(?P<account>\d{12}):(?P<name>.+)$")
ERROR_MESSAGE_MAX = 1024


def send_to_queue(endpoint: str, access_key_id: str, queue_arn: str, body: str,
                  attributes: dict[str, Any] | None = None) -> bool:
    """Send one message to the queue named by ``queue_arn`` (blocking). False if it is not a queue."""
    match = SQS_ARN.match(queue_arn or "")
    if match is None:
        log.warning("awsemu delivers async invocation results to SQS queues only, not to %s", queue_arn)
        return False
    import botocore.session
    from botocore.config import Config as BotoConfig

    client = botocore.session.get_session().create_client(
        "sqs", endpoint_url=endpoint, region_name=match["region"], aws_access_key_id=access_key_id,
        aws_secret_access_key="test", config=BotoConfig(retries={"max_attempts": 2}),
    )
    url = client.get_queue_url(QueueName=match["name"], QueueOwnerAWSAccountId=match["account"])["QueueUrl"]
    params: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
    if attributes:
        params["MessageAttributes"] = attributes
    client.send_message(**params)
    return True


def dead_letter_attributes(request_id: str, error_message: str) -> dict[str, Any]:
    return {
        "RequestID": {"DataType": "String", "StringValue": request_id},
        "ErrorCode": {"DataType": "Number", "StringValue": "200"},
        "ErrorMessage": {"DataType": "String", "StringValue": error_message[:ERROR_MESSAGE_MAX] or "Unhandled"},
    }


def invocation_record(*, request_id: str, function_arn: str, condition: str, attempts: int, payload: bytes,
                      executed_version: str, function_error: str | None, response: bytes) -> str:
    """The document Lambda sends to an OnSuccess/OnFailure destination."""

    def as_json(raw: bytes) -> Any:
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    now = datetime.now(timezone.utc)
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": executed_version}
    if function_error:
        response_context["functionError"] = function_error
    return json.dumps({
        "version": "1.0",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "requestContext": {"requestId": request_id, "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": attempts},
        "requestPayload": as_json(payload),
        "responseContext": response_context,
        "responsePayload": as_json(response),
    })


def error_message_of(response: bytes) -> str:
    try:
        doc = json.loads(response)
    except ValueError:
        return ""
    return str(doc.get("errorMessage", "")) if isinstance(doc, dict) else ""


def _iso_seconds(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def stream_failure_record(*, request_id: str, function_arn: str, condition: str, attempts: int,
                          executed_version: str | None, function_error: str | None, shard_id: str,
                          stream_arn: str, records: list[dict[str, Any]]) -> str:
    """The document Lambda sends to an event source mapping's OnFailure destination for discarded
    stream records: where they are (shard, first/last sequence numbers, arrival times), not the
    records themselves, which the reader fetches from the stream."""
    now = datetime.now(timezone.utc)
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
    document: dict[str, Any] = {
        "requestContext": {"requestId": request_id, "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": attempts},
    }
    if executed_version is not None:  # there was an invocation to tell about
        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": executed_version}
        if function_error:
            response_context["functionError"] = function_error
        document["responseContext"] = response_context
    document.update({
        "version": "1.0",
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso_seconds(first.get("ApproximateCreationDateTime") or 0),
            "approximateArrivalOfLastRecord": _iso_seconds(last.get("ApproximateCreationDateTime") or 0),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    })
    return json.dumps(document)
