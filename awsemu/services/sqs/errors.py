"""SQS errors as data: one ServiceError subclass per AWS error code.

``code`` is the error shape name of the SQS JSON model (what AWS puts in ``__type``); the JSON codec
adds the legacy query code in ``x-amzn-query-error`` and the query codec writes that legacy code in
``<Code>``. botocore 1.44's SQS model no longer carries those legacy codes (``awsQueryError``), so
each class also states its ``query_code`` here, as data, for the codecs (see
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-faqs.html).
Errors that are not modelled shapes (``InvalidParameterValue``, ``MissingParameter``...) use the
same code in both protocols.
"""

from __future__ import annotations

from typing import ClassVar

from awsemu.services.base import ServiceError


class SqsError(ServiceError):
    query_code: ClassVar[str] = ""

    @property
    def legacy_code(self) -> str:
        return self.query_code or self.code


class QueueDoesNotExist(SqsError):
    code = "QueueDoesNotExist"
    query_code = "AWS.SimpleQueueService.NonExistentQueue"

    def __init__(self, message: str = "The specified queue does not exist.") -> None:
        super().__init__(message)


class QueueNameExists(SqsError):
    code = "QueueNameExists"
    query_code = "QueueAlreadyExists"


class QueueDeletedRecently(SqsError):
    code = "QueueDeletedRecently"
    query_code = "AWS.SimpleQueueService.QueueDeletedRecently"


class PurgeQueueInProgress(SqsError):
    code = "PurgeQueueInProgress"
    query_code = "AWS.SimpleQueueService.PurgeQueueInProgress"


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
    query_code = "AWS.SimpleQueueService.MessageNotInflight"


class EmptyBatchRequest(SqsError):
    code = "EmptyBatchRequest"
    query_code = "AWS.SimpleQueueService.EmptyBatchRequest"


class TooManyEntriesInBatchRequest(SqsError):
    code = "TooManyEntriesInBatchRequest"
    query_code = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(SqsError):
    code = "BatchEntryIdsNotDistinct"
    query_code = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(SqsError):
    code = "InvalidBatchEntryId"
    query_code = "AWS.SimpleQueueService.InvalidBatchEntryId"


class BatchRequestTooLong(SqsError):
    code = "BatchRequestTooLong"
    query_code = "AWS.SimpleQueueService.BatchRequestTooLong"


class UnsupportedOperation(SqsError):
    code = "UnsupportedOperation"
    query_code = "AWS.SimpleQueueService.UnsupportedOperation"


class ResourceNotFoundException(SqsError):
    code = "ResourceNotFoundException"


class InvalidAddress(SqsError):
    code = "InvalidAddress"


class OverLimit(SqsError):
    code = "OverLimit"


# The legacy query code of every modelled SQS error shape, for codecs that need it.
QUERY_CODES: dict[str, str] = {
    cls.code: cls.query_code
    for cls in (
        QueueDoesNotExist,
        QueueNameExists,
        QueueDeletedRecently,
        PurgeQueueInProgress,
        MessageNotInflight,
        EmptyBatchRequest,
        TooManyEntriesInBatchRequest,
        BatchEntryIdsNotDistinct,
        InvalidBatchEntryId,
        BatchRequestTooLong,
        UnsupportedOperation,
    )
}


def invalid_parameter(name: str, value: object, reason: str) -> InvalidParameterValue:
    """AWS's usual wording: ``Value X for parameter Name is invalid. Reason: ...``."""
    return InvalidParameterValue(f"Value {value} for parameter {name} is invalid. Reason: {reason}")
