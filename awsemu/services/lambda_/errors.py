"""Lambda's errors, named exactly as its error codes, with the HTTP status Lambda answers them with."""

from __future__ import annotations

from awsemu.services.base import ServiceError


class LambdaError(ServiceError):
    code = "ServiceException"
    status = 500
    sender_fault = False


class ResourceNotFoundException(ServiceError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceConflictException(ServiceError):
    code = "ResourceConflictException"
    status = 409


class InvalidParameterValueException(ServiceError):
    code = "InvalidParameterValueException"
    status = 400


class ValidationException(ServiceError):
    code = "ValidationException"
    status = 400


class PreconditionFailedException(ServiceError):
    code = "PreconditionFailedException"
    status = 412


class InvalidRequestContentException(ServiceError):
    code = "InvalidRequestContentException"
    status = 400


class RequestTooLargeException(ServiceError):
    code = "RequestTooLargeException"
    status = 413


class TooManyRequestsException(ServiceError):
    code = "TooManyRequestsException"
    status = 429


class ProvisionedConcurrencyConfigNotFoundException(ServiceError):
    code = "ProvisionedConcurrencyConfigNotFoundException"
    status = 404


class CodeSigningConfigNotFoundException(ServiceError):
    code = "CodeSigningConfigNotFoundException"
    status = 404


class PolicyLengthExceededException(ServiceError):
    code = "PolicyLengthExceededException"
    status = 400


def function_not_found(arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {arn}")


def validation(value: object, member: str, constraint: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"
    )


def throttled(reason: str) -> TooManyRequestsException:
    return TooManyRequestsException(
        "Rate Exceeded.", fields={"Reason": reason}, headers={"Retry-After": "1"}
    )
