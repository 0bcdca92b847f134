"""DynamoDB's errors, one class per AWS error code; the JSON codec writes ``code`` into ``__type``.

Messages are DynamoDB's own wording (the API reference and what the service answers), because SDKs
and user code match on them.
"""

from __future__ import annotations

from typing import Any

from awsemu.services.base import ServiceError


class ValidationException(ServiceError):
    code = "ValidationException"


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"

    def __init__(self, message: str = "Requested resource not found", **kw: Any) -> None:
        super().__init__(message, **kw)


class ResourceInUseException(ServiceError):
    code = "ResourceInUseException"


class ConditionalCheckFailedException(ServiceError):
    code = "ConditionalCheckFailedException"

    def __init__(self, item: dict[str, Any] | None = None) -> None:
        # ReturnValuesOnConditionCheckFailure=ALL_OLD puts the current item beside the message.
        super().__init__("The conditional request failed", fields={"Item": item} if item is not None else None)


class TransactionCanceledException(ServiceError):
    code = "TransactionCanceledException"

    def __init__(self, reasons: list[dict[str, Any]]) -> None:
        codes = ", ".join(r.get("Code", "None") for r in reasons)
        super().__init__(
            f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            fields={"CancellationReasons": reasons},
        )
        self.reasons = reasons


class TransactionConflictException(ServiceError):
    code = "TransactionConflictException"


class IdempotentParameterMismatchException(ServiceError):
    code = "IdempotentParameterMismatchException"


class LimitExceededException(ServiceError):
    code = "LimitExceededException"


class TableNotFoundException(ServiceError):
    code = "TableNotFoundException"


class TableAlreadyExistsException(ServiceError):
    code = "TableAlreadyExistsException"


class BackupNotFoundException(ServiceError):
    code = "BackupNotFoundException"


class BackupInUseException(ServiceError):
    code = "BackupInUseException"


class PointInTimeRecoveryUnavailableException(ServiceError):
    code = "PointInTimeRecoveryUnavailableException"


class InvalidRestoreTimeException(ServiceError):
    code = "InvalidRestoreTimeException"


class PolicyNotFoundException(ServiceError):
    code = "PolicyNotFoundException"


class ItemCollectionSizeLimitExceededException(ServiceError):
    code = "ItemCollectionSizeLimitExceededException"


class InternalServerError(ServiceError):
    code = "InternalServerError"
    status = 500
    sender_fault = False


def table_not_found(name: str) -> ResourceNotFoundException:
    """DescribeTable/DeleteTable/UpdateTable wording; item operations say only 'Requested resource not found'."""
    return ResourceNotFoundException(f"Requested resource not found: Table: {name} not found")


# Global tables version 2017.11.29 (legacy_global_tables.py).
class GlobalTableAlreadyExistsException(ServiceError):
    code = "GlobalTableAlreadyExistsException"


class GlobalTableNotFoundException(ServiceError):
    code = "GlobalTableNotFoundException"


class ReplicaAlreadyExistsException(ServiceError):
    code = "ReplicaAlreadyExistsException"


class ReplicaNotFoundException(ServiceError):
    code = "ReplicaNotFoundException"
