"""What Send and Receive answer: the per-message output shapes, with attribute selection.

ReceiveMessage returns the system attributes asked for in ``MessageSystemAttributeNames`` (or the
deprecated ``AttributeNames``; ``All`` for every one) and the message attributes asked for in
``MessageAttributeNames`` (``All``/``.*``, exact names, or ``prefix.*``); ``MD5OfMessageAttributes``
is computed over the attributes returned, as AWS does, so SDKs that verify it agree.
"""

from __future__ import annotations

from typing import Any

from awsemu.services.sqs.checksums import md5_of_attributes
from awsemu.services.sqs.message_store import sequence_number
from awsemu.services.sqs.records import MessageRecord, QueueRecord

MESSAGE_SYSTEM_ATTRIBUTES = frozenset({
    "All", "SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp",
    "SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "AWSTraceHeader",
    "DeadLetterQueueSourceArn", "SqsManagedSseEnabled",
})  # fmt: skip


def send_answer(queue: QueueRecord, m: MessageRecord) -> dict[str, Any]:
    out: dict[str, Any] = {"MessageId": m.message_id, "MD5OfMessageBody": m.md5_body}
    if m.md5_attributes:
        out["MD5OfMessageAttributes"] = m.md5_attributes
    if m.md5_system_attributes:
        out["MD5OfMessageSystemAttributes"] = m.md5_system_attributes
    if queue.fifo:
        out["SequenceNumber"] = sequence_number(m.seq)
    return out


def received_message(
    queue: QueueRecord, m: MessageRecord, handle: str, system_names: set[str], attr_names: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {"MessageId": m.message_id, "ReceiptHandle": handle, "MD5OfBody": m.md5_body, "Body": m.body}
    every = "All" in system_names
    system: dict[str, str] = {}

    def want(name: str) -> bool:
        return every or name in system_names

    if want("SenderId"):
        system["SenderId"] = m.sender_id
    if want("SentTimestamp"):
        system["SentTimestamp"] = str(m.sent_ms)
    if want("ApproximateReceiveCount"):
        system["ApproximateReceiveCount"] = str(m.receive_count)
    if want("ApproximateFirstReceiveTimestamp"):
        system["ApproximateFirstReceiveTimestamp"] = str(m.first_receive_ms)
    if queue.fifo:
        if want("SequenceNumber"):
            system["SequenceNumber"] = sequence_number(m.seq)
        if want("MessageDeduplicationId") and m.dedup_id:
            system["MessageDeduplicationId"] = m.dedup_id
    if want("MessageGroupId") and m.group_id:
        system["MessageGroupId"] = m.group_id
    if want("AWSTraceHeader") and "AWSTraceHeader" in m.system_attributes:
        system["AWSTraceHeader"] = m.system_attributes["AWSTraceHeader"]["StringValue"]
    if want("DeadLetterQueueSourceArn") and m.dead_letter_source_arn:
        system["DeadLetterQueueSourceArn"] = m.dead_letter_source_arn
    if want("SqsManagedSseEnabled") and queue.attributes.get("SqsManagedSseEnabled") == "true":
        system["SqsManagedSseEnabled"] = "true"
    if system:
        out["Attributes"] = system
    if attr_names and m.attributes:
        if "All" in attr_names or ".*" in attr_names:
            chosen = dict(m.attributes)
        else:
            prefixes = tuple(n[:-1] for n in attr_names if n.endswith(".*"))
            exact = set(attr_names)
            chosen = {k: v for k, v in m.attributes.items() if k in exact or (prefixes and k.startswith(prefixes))}
        if chosen:
            out["MessageAttributes"] = chosen
            out["MD5OfMessageAttributes"] = md5_of_attributes(chosen)
    return out
