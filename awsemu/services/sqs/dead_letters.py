"""Dead-letter queue rules: who may redrive into whom, and which queues name a queue as their DLQ.

A RedrivePolicy must name an existing queue of the same type (FIFO to FIFO, standard to standard)
whose RedriveAllowPolicy lets the source in: ``allowAll`` (the default), ``denyAll``, or ``byQueue``
with the source's ARN in ``sourceQueueArns``. The reverse lookup (ListDeadLetterSourceQueues, and
StartMessageMoveTask's "is this a DLQ?") scans the account's queue records: queues are few, and a
secondary index would be one more thing to keep consistent.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from awsemu.services.sqs import keys
from awsemu.services.sqs.errors import invalid_parameter
from awsemu.services.sqs.records import QueueRecord


def check_redrive_target(policy: str, target: QueueRecord | None, source_arn: str, fifo: bool) -> None:
    """Raise InvalidParameterValue (quoting the policy as given) if ``target`` cannot be the DLQ."""
    if target is None:
        raise invalid_parameter("RedrivePolicy", policy, "Dead letter target does not exist.")
    if target.fifo != fifo:
        raise invalid_parameter("RedrivePolicy", policy, "Dead-letter queue must be same type of queue as the source.")
    allow = target.attributes.get("RedriveAllowPolicy")
    if not allow:
        return
    rules = json.loads(allow)
    permission = rules.get("redrivePermission")
    if permission == "denyAll" or (permission == "byQueue" and source_arn not in rules.get("sourceQueueArns", [])):
        raise invalid_parameter(
            "RedrivePolicy", policy,
            f"Queue {source_arn} doesn't have permission to use {target.arn} as a dead-letter queue.",
        )


def dead_letter_target(record: QueueRecord) -> str | None:
    policy = record.attributes.get("RedrivePolicy")
    return str(json.loads(policy).get("deadLetterTargetArn")) if policy else None


def source_queues(db: Any, dlq: QueueRecord, after: str | None = None) -> Iterator[QueueRecord]:
    """Queues of the DLQ's account and region whose RedrivePolicy targets it, in name order."""
    start, end = keys.queues_range(dlq.account, dlq.region, after)
    for _, raw in db.scan(start, end):
        record = QueueRecord.from_bytes(raw)
        if dead_letter_target(record) == dlq.arn:
            yield record
