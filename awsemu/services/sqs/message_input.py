"""Validation of what SendMessage(Batch) carries, and the message record built from it: body characters, attributes, sizes, batch ids.

The body may hold only ``#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF``. A
message has at most 10 attributes; names are up to 256 characters of alphanumerics, ``-``, ``_``
and ``.`` (no leading, trailing or doubled ``.``, no ``AWS.``/``Amazon.`` prefix); data types are
``String``, ``Number`` or ``Binary`` with an optional ``.custom`` suffix. The message size is the
body plus every attribute's name, type and value, and must not exceed the queue's
MaximumMessageSize. The only system attribute is ``AWSTraceHeader`` (a String).
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from awsemu.services.sqs.checksums import md5_of_attributes, md5_of_body
from awsemu.services.sqs.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    InvalidMessageContents,
    InvalidParameterValue,
    MissingParameter,
    TooManyEntriesInBatchRequest,
    invalid_parameter,
)
from awsemu.services.sqs.message_store import content_dedup_id, now_ms
from awsemu.services.sqs.records import AttributeValue, MessageRecord, QueueRecord

if TYPE_CHECKING:
    from awsemu.services.base import CallContext

_INVALID_CHARS = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_\-.]{1,256}$")
_DATA_TYPE = re.compile(r"^(String|Number|Binary)(\..+)?$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
MAX_ATTRIBUTES = 10
MAX_BATCH_ENTRIES = 10


def check_body(body: str | None) -> None:
    if body is None or body == "":
        raise MissingParameter("The request must contain the parameter MessageBody.")
    if _INVALID_CHARS.search(body):
        raise InvalidMessageContents(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to "
            "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF"
        )


def check_attributes(attributes: dict[str, Any] | None, system: bool = False) -> dict[str, AttributeValue]:
    """Validated attributes in canonical form; the error texts are those AWS answers with."""
    if not attributes:
        return {}
    kind = "system" if system else "user"
    if not system and len(attributes) > MAX_ATTRIBUTES:
        raise InvalidParameterValue(
            f"Number of message attributes [{len(attributes)}] exceeds the allowed maximum [{MAX_ATTRIBUTES}]."
        )
    out: dict[str, AttributeValue] = {}
    for name, value in attributes.items():
        if system:
            if name != "AWSTraceHeader":
                raise InvalidParameterValue(f"Message system attribute name '{name}' is invalid.")
        elif (
            not _ATTRIBUTE_NAME.match(name)
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
            or name.lower().startswith(("aws.", "amazon."))
        ):
            raise InvalidParameterValue(f"Message ({kind}) attribute name '{name}' is invalid.")
        value = value or {}
        data_type = value.get("DataType")
        if not data_type:
            raise InvalidParameterValue(f"The message ({kind}) attribute '{name}' must contain a non-empty message attribute type.")
        match = _DATA_TYPE.match(data_type)
        if not match:
            raise InvalidParameterValue(
                f"The type of message ({kind}) attribute '{name}' is invalid. You must use only the "
                "following supported type prefixes: Binary, Number, String."
            )
        if value.get("StringListValues") or value.get("BinaryListValues"):
            raise InvalidParameterValue(f"Message ({kind}) attribute '{name}' uses unsupported list values.")
        base = match.group(1)
        if system and base != "String":
            raise InvalidParameterValue(f"Message ({kind}) attribute '{name}' must be of type 'String'.")
        if base == "Binary":
            blob = value.get("BinaryValue")
            if blob is None or len(blob) == 0:
                raise InvalidParameterValue(
                    f"Message ({kind}) attribute '{name}' must contain a non-empty value of type 'Binary'."
                )
            out[name] = {"DataType": data_type, "BinaryValue": bytes(blob)}
            continue
        text = value.get("StringValue")
        if text is None or text == "":
            raise InvalidParameterValue(
                f"Message ({kind}) attribute '{name}' must contain a non-empty value of type '{base}'."
            )
        if _INVALID_CHARS.search(text):
            raise InvalidMessageContents(
                f"Message ({kind}) attribute '{name}' value contains invalid characters."
            )
        if base == "Number":
            try:
                number = Decimal(text)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                raise InvalidParameterValue(f"Could not cast message attribute '{name}' value to number.")
        out[name] = {"DataType": data_type, "StringValue": text}
    return out


def attributes_size(attributes: dict[str, AttributeValue]) -> int:
    size = 0
    for name, value in attributes.items():
        size += len(name.encode()) + len(value["DataType"].encode())
        if "BinaryValue" in value:
            size += len(value["BinaryValue"])
        else:
            size += len(value["StringValue"].encode())
    return size


def check_size(body: str, attributes: dict[str, AttributeValue], limit: int) -> int:
    size = len(body.encode("utf-8")) + attributes_size(attributes)
    if size > limit:
        raise InvalidParameterValue(
            f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
        )
    return size


def check_batch(entries: list[dict[str, Any]] | None, entry_shape: str) -> list[dict[str, Any]]:
    """The rules every *Batch operation shares: 1-10 entries, valid and distinct ids."""
    if not entries:
        raise EmptyBatchRequest(f"There should be at least one {entry_shape} in the request.")
    if len(entries) > MAX_BATCH_ENTRIES:
        raise TooManyEntriesInBatchRequest(
            f"Maximum number of entries per request are {MAX_BATCH_ENTRIES}. You have sent {len(entries)}."
        )
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id", "")
        if not _BATCH_ID.match(entry_id):
            raise InvalidBatchEntryId(
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
                "It can be at most 80 letters long."
            )
        if entry_id in seen:
            raise BatchEntryIdsNotDistinct(f"Id {entry_id} repeated.")
        seen.add(entry_id)
    return entries


def prepare_message(ctx: CallContext, queue: QueueRecord, entry: dict[str, Any]) -> tuple[MessageRecord, int]:
    """Validate one message to send and build its record (not yet numbered for dedup hits)."""
    r = queue
    body = entry.get("MessageBody")
    check_body(body)
    attrs = check_attributes(entry.get("MessageAttributes"))
    system = check_attributes(entry.get("MessageSystemAttributes"), system=True)
    size = check_size(body, attrs, r.int_attr("MaximumMessageSize"))
    delay = entry.get("DelaySeconds")
    group = entry.get("MessageGroupId")
    dedup = entry.get("MessageDeduplicationId")
    if r.fifo:
        if delay is not None:
            raise invalid_parameter(
                "DelaySeconds", delay, "The request include parameter that is not valid for this queue type."
            )
        if not group:
            raise MissingParameter("The request must contain the parameter MessageGroupId.")
        if not dedup:
            if r.attributes.get("ContentBasedDeduplication") != "true":
                raise InvalidParameterValue(
                    "The queue should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly"
                )
            dedup = content_dedup_id(body)
    elif dedup is not None:
        raise invalid_parameter(
            "MessageDeduplicationId", dedup, "The request include parameter that is not valid for this queue type."
        )
    for name, value in (("MessageGroupId", group), ("MessageDeduplicationId", dedup)):
        if value is not None and (len(value) > 128 or not value or any(not 33 <= ord(c) <= 126 for c in value)):
            raise invalid_parameter(name, value, f"{name} can only include alphanumeric and punctuation characters. 1 to 128 in length.")
    if delay is None:
        delay = r.int_attr("DelaySeconds")
    elif not 0 <= delay <= 900:
        raise invalid_parameter("DelaySeconds", delay, "DelaySeconds must be >= 0 and <= 900.")
    now = now_ms()
    record = MessageRecord(
        message_id=str(uuid.uuid4()), body=body, md5_body=md5_of_body(body),
        attributes=attrs, md5_attributes=md5_of_attributes(attrs),
        system_attributes=system, md5_system_attributes=md5_of_attributes(system),
        sent_ms=now, sender_id=ctx.user_id or ctx.account_id, seq=0, visible_ms=now + delay * 1000,
        group_id=group, dedup_id=dedup,
    )  # fmt: skip
    return record, size
