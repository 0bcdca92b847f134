"""SQS errors as data: one ServiceError subclass per AWS error code.

``code`` is the error shape name of the SQS JSON model (what AWS puts in ``__type``). The codecs
add the legacy query-era code (``AWS.SimpleQueueService.NonExistentQueue`` ...) from the patched
model (protocol/patches/sqs.json): JSON answers carry it in ``x-amzn-query-error``, query answers in
``<Code>``. Errors that are not modelled shapes (``InvalidParameterValue``, ``MissingParameter`` ...)
use the same code in both protocols.
"""

from __future__ import annotations

from awsemu.services.base import ServiceError


class SqsError(ServiceError):
    """Base of the SQS errors (all are the sender's fault, HTTP 400, unless stated)."""


class QueueDoesNotExist(SqsError):
    code = "QueueDoesNotExist"

    def __init__(self, message: str = "The specified queue does not exist.") -> None:
        super().__init__(message)


class QueueNameExists(SqsError):
    code = "QueueNameExists"


class QueueDeletedRecently(SqsError):
    code = "QueueDeletedRecently"


class PurgeQueueInProgress(SqsError):
    code = "PurgeQueueInProgress"


class InvalidAttributeName(SqsError):
    code = "InvalidAttributeName"


class InvalidAttributeValue(SqsError):
    code = "InvalidAttributeValue"


class InvalidParameterValue(SqsError):
    code = "InvalidParameterValue"


class MissingParameter(SqsError):
    code = "MissingParameter"


class InvalidMessageContents(SqsError):
    code = "InvalidMessageContents"


class ReceiptHandleIsInvalid(SqsError):
    code = "ReceiptHandleIsInvalid"


class MessageNotInflight(SqsError):
    code = "MessageNotInflight"


class EmptyBatchRequest(SqsError):
    code = "EmptyBatchRequest"


class TooManyEntriesInBatchRequest(SqsError):
    code = "TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(SqsError):
    code = "BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(SqsError):
    code = "InvalidBatchEntryId"


class BatchRequestTooLong(SqsError):
    code = "BatchRequestTooLong"


class UnsupportedOperation(SqsError):
    code = "UnsupportedOperation"


class ResourceNotFoundException(SqsError):
    code = "ResourceNotFoundException"


class InvalidAddress(SqsError):
    code = "InvalidAddress"


class OverLimit(SqsError):
    code = "OverLimit"


def invalid_parameter(name: str, value: object, reason: str) -> InvalidParameterValue:
    """AWS's usual wording: ``Value X for parameter Name is invalid. Reason: ...``."""
    return InvalidParameterValue(f"Value {value} for parameter {name} is invalid. Reason: {reason}")
