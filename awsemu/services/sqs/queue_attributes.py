"""Queue names and queue attributes: defaults, validation with AWS's messages, what Get returns.

Limits from the CreateQueue / SetQueueAttributes API reference: DelaySeconds 0-900,
MaximumMessageSize 1024-1048576 (default 1 MiB), MessageRetentionPeriod 60-1209600 (default 4 days),
ReceiveMessageWaitTimeSeconds 0-20, VisibilityTimeout 0-43200, KmsDataKeyReusePeriodSeconds
60-86400. FIFO-only attributes on a standard queue are unknown attributes. ``FifoQueue`` can only be
given at creation.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from awsemu.services.sqs.errors import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    invalid_parameter,
)

QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
FIFO_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,75}\.fifo$")

INT_RANGES: dict[str, tuple[int, int]] = {
    "DelaySeconds": (0, 900),
    "MaximumMessageSize": (1024, 1048576),
    "MessageRetentionPeriod": (60, 1209600),
    "ReceiveMessageWaitTimeSeconds": (0, 20),
    "VisibilityTimeout": (0, 43200),
    "KmsDataKeyReusePeriodSeconds": (60, 86400),
}

DEFAULTS: dict[str, str] = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "SqsManagedSseEnabled": "true",
}
FIFO_DEFAULTS: dict[str, str] = {
    "FifoQueue": "true",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
}

SETTABLE = frozenset(INT_RANGES) | {
    "Policy", "RedrivePolicy", "RedriveAllowPolicy", "KmsMasterKeyId", "SqsManagedSseEnabled",
}  # fmt: skip
FIFO_ONLY = frozenset({"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})
COMPUTED = (
    "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed", "CreatedTimestamp", "LastModifiedTimestamp", "QueueArn",
)  # fmt: skip
READABLE = frozenset(COMPUTED) | SETTABLE | FIFO_ONLY | {"FifoQueue", "All"}


def validate_queue_name(name: str, fifo: bool) -> None:
    if fifo:
        if not FIFO_QUEUE_NAME.match(name):
            raise InvalidParameterValue(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                "underscores, must end with .fifo suffix and be 1 to 80 in length."
            )
    elif not QUEUE_NAME.match(name):
        raise InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def _bool_value(name: str, value: str) -> str:
    low = value.lower()
    if low not in ("true", "false"):
        raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
    return low


def _json_map(name: str, value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise InvalidAttributeValue(f"Invalid value for the parameter {name}. Reason: Invalid JSON.")
    return parsed


def parse_redrive_policy(value: str) -> tuple[str, int]:
    """(deadLetterTargetArn, maxReceiveCount) of a RedrivePolicy, validated."""
    try:
        policy = json.loads(value)
    except ValueError:
        policy = None
    if not isinstance(policy, dict):
        raise invalid_parameter("RedrivePolicy", value, "Redrive policy is not a valid JSON map.")
    target = policy.get("deadLetterTargetArn")
    count = policy.get("maxReceiveCount")
    if not target or count is None:
        raise invalid_parameter(
            "RedrivePolicy", value, "Redrive policy does not contain mandatory attribute: "
            + ("deadLetterTargetArn." if not target else "maxReceiveCount."),
        )
    try:
        count = int(count)
    except (TypeError, ValueError):
        count = 0
    if not 1 <= count <= 1000:
        raise invalid_parameter(
            "RedrivePolicy",
            value,
            f"Invalid value for maxReceiveCount: {policy.get('maxReceiveCount')}, "
            "valid values are from 1 to 1000 both inclusive.",
        )
    return str(target), count


def validate_redrive_allow_policy(value: str) -> None:
    policy = _json_map("RedriveAllowPolicy", value)
    permission = policy.get("redrivePermission")
    if permission not in ("allowAll", "denyAll", "byQueue"):
        raise InvalidAttributeValue(
            "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create the "
            "redrive allow policy, as it's in an unsupported format."
        )
    arns = policy.get("sourceQueueArns")
    if permission == "byQueue":
        if not isinstance(arns, list) or not arns or len(arns) > 10:
            raise InvalidAttributeValue(
                "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create "
                "the redrive allow policy. When you specify the byQueue permission type, you must "
                "also specify one or more sourceQueueArns values (up to 10)."
            )
    elif arns:
        raise InvalidAttributeValue(
            "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create the "
            "redrive allow policy. To specify one or more source queue ARNs, you must set "
            "redrivePermission to byQueue."
        )


def normalize(
    attributes: dict[str, str],
    fifo: bool,
    creating: bool,
    check_redrive: Callable[[str, str, int], None] | None = None,
) -> dict[str, str]:
    """Validate attributes of CreateQueue/SetQueueAttributes; return them normalized as AWS reports."""
    out: dict[str, str] = {}
    for name, raw in attributes.items():
        value = str(raw)
        if name == "FifoQueue":
            if not creating:
                raise InvalidAttributeName(f"Unknown Attribute {name}.")
            if _bool_value(name, value) != ("true" if fifo else "false"):
                if fifo:
                    raise InvalidParameterValue(
                        "The name of a FIFO queue can only include alphanumeric characters, hyphens, "
                        "or underscores, must end with .fifo suffix and be 1 to 80 in length."
                    )
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
            if fifo:
                out[name] = "true"
            continue
        if name in FIFO_ONLY and not fifo:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if name not in SETTABLE and name not in FIFO_ONLY:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
        if name in INT_RANGES:
            low, high = INT_RANGES[name]
            try:
                number = int(value)
            except ValueError:
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.") from None
            if not low <= number <= high:
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
            out[name] = str(number)
        elif name in ("ContentBasedDeduplication", "SqsManagedSseEnabled"):
            out[name] = _bool_value(name, value)
        elif name == "DeduplicationScope":
            if value not in ("queue", "messageGroup"):
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
            out[name] = value
        elif name == "FifoThroughputLimit":
            if value not in ("perQueue", "perMessageGroupId"):
                raise InvalidAttributeValue(f"Invalid value for the parameter {name}.")
            out[name] = value
        elif name == "RedrivePolicy":
            if value == "":
                out[name] = ""  # an empty policy removes redrive
                continue
            target, count = parse_redrive_policy(value)
            if check_redrive is not None:
                check_redrive(value, target, count)
            out[name] = json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": count})
        elif name == "RedriveAllowPolicy":
            if value == "":
                out[name] = ""
                continue
            validate_redrive_allow_policy(value)
            out[name] = value
        elif name == "Policy":
            if value != "":
                _json_map(name, value)
            out[name] = value
        else:  # KmsMasterKeyId
            out[name] = value
    if out.get("KmsMasterKeyId") and out.get("SqsManagedSseEnabled") == "true":
        raise InvalidAttributeName(
            "You can use one type of server-side encryption (SSE) at one time. You can either enable "
            "KMS SSE or SQS SSE."
        )
    return out


def check_combination(attrs: dict[str, str]) -> None:
    """Rules between attributes, checked on the queue's resulting attributes."""
    if attrs.get("FifoThroughputLimit") == "perMessageGroupId" and attrs.get("DeduplicationScope") == "queue":
        raise InvalidAttributeValue(
            "Invalid value for the parameter FifoThroughputLimit. Reason: To set FifoThroughputLimit "
            "to perMessageGroupId, DeduplicationScope must be set to messageGroup."
        )


def initial(fifo: bool, given: dict[str, str]) -> dict[str, str]:
    """The attributes of a new queue: defaults, then what CreateQueue gave."""
    attrs = dict(DEFAULTS)
    if fifo:
        attrs.update(FIFO_DEFAULTS)
    if given.get("KmsMasterKeyId"):
        attrs["SqsManagedSseEnabled"] = "false"
        attrs.setdefault("KmsDataKeyReusePeriodSeconds", "300")
    attrs.update(given)
    return {k: v for k, v in attrs.items() if v != ""}


def apply(current: dict[str, str], changes: dict[str, str]) -> dict[str, str]:
    """SetQueueAttributes: merge, an empty value removes an optional attribute."""
    attrs = dict(current)
    if changes.get("KmsMasterKeyId"):
        attrs["SqsManagedSseEnabled"] = "false"
        attrs.setdefault("KmsDataKeyReusePeriodSeconds", "300")
    if changes.get("SqsManagedSseEnabled") == "true":
        attrs.pop("KmsMasterKeyId", None)
        attrs.pop("KmsDataKeyReusePeriodSeconds", None)
    for name, value in changes.items():
        if value == "":
            attrs.pop(name, None)
        else:
            attrs[name] = value
    return attrs


def requested_names(names: list[str] | None) -> list[str]:
    """Validate GetQueueAttributes' AttributeNames; ``All`` expands to every readable name."""
    for name in names or ():
        if name not in READABLE:
            raise InvalidAttributeName(f"Unknown Attribute {name}.")
    return list(names or ())
