"""Authentication and authorization errors, worded the way each service family words them.

The same failure has a different code, status and message per service (read from AWS responses
and the services' docs):

============== ============================ ============================= ===================
failure        S3 (rest-xml)                IAM/STS/SQS-query (query)     DynamoDB/SQS-json/Lambda
============== ============================ ============================= ===================
unknown key    403 InvalidAccessKeyId       403 InvalidClientTokenId      400/403 UnrecognizedClientException
bad signature  403 SignatureDoesNotMatch    403 SignatureDoesNotMatch     400/403 InvalidSignatureException
clock skew     403 RequestTimeTooSkewed     403 SignatureDoesNotMatch     400/403 InvalidSignatureException
expired token  400 ExpiredToken             403 ExpiredToken              400/403 ExpiredTokenException
============== ============================ ============================= ===================

(DynamoDB answers 400 for these, Lambda and SQS-json 403.) :func:`auth_error` maps a neutral
failure kind to the service's :class:`ServiceError`.
"""

from __future__ import annotations

from typing import Any

from awsemu.services.base import ServiceError

UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
SKEWED = "skewed"
EXPIRED_TOKEN = "expired_token"
INVALID_TOKEN = "invalid_token"
MISSING_AUTH = "missing_auth"
MALFORMED = "malformed"
PRESIGN_EXPIRED = "presign_expired"
CONTENT_SHA_MISMATCH = "content_sha_mismatch"

_S3_SIG = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
_SIG = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_BAD_TOKEN = "The security token included in the request is invalid."

_S3: dict[str, tuple[str, int, str]] = {
    UNKNOWN_KEY: ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."),
    BAD_SIGNATURE: ("SignatureDoesNotMatch", 403, _S3_SIG),
    SKEWED: ("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."),
    EXPIRED_TOKEN: ("ExpiredToken", 400, "The provided token has expired."),
    INVALID_TOKEN: ("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
    MISSING_AUTH: ("AccessDenied", 403, "Access Denied"),
    MALFORMED: ("AuthorizationHeaderMalformed", 400, "The authorization header is malformed."),
    PRESIGN_EXPIRED: ("AccessDenied", 403, "Request has expired"),
    CONTENT_SHA_MISMATCH: (
        "XAmzContentSHA256Mismatch",
        400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
}

_QUERY: dict[str, tuple[str, int, str]] = {
    UNKNOWN_KEY: ("InvalidClientTokenId", 403, _BAD_TOKEN),
    BAD_SIGNATURE: ("SignatureDoesNotMatch", 403, _SIG),
    SKEWED: ("SignatureDoesNotMatch", 403, "Signature expired"),
    EXPIRED_TOKEN: ("ExpiredToken", 403, "The security token included in the request is expired"),
    INVALID_TOKEN: ("InvalidClientTokenId", 403, _BAD_TOKEN),
    MISSING_AUTH: ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
    MALFORMED: ("IncompleteSignature", 403, "The request signature does not conform to AWS standards."),
    PRESIGN_EXPIRED: ("AccessDenied", 403, "Request has expired"),
    CONTENT_SHA_MISMATCH: ("SignatureDoesNotMatch", 403, _SIG),
}

_JSON: dict[str, tuple[str, int, str]] = {
    UNKNOWN_KEY: ("UnrecognizedClientException", 400, _BAD_TOKEN),
    BAD_SIGNATURE: ("InvalidSignatureException", 400, _SIG),
    SKEWED: ("InvalidSignatureException", 400, "Signature expired"),
    EXPIRED_TOKEN: ("ExpiredTokenException", 400, "The security token included in the request is expired"),
    INVALID_TOKEN: ("UnrecognizedClientException", 400, _BAD_TOKEN),
    MISSING_AUTH: ("MissingAuthenticationTokenException", 400, "Request is missing Authentication Token"),
    MALFORMED: ("IncompleteSignatureException", 400, "The request signature does not conform to AWS standards."),
    PRESIGN_EXPIRED: ("InvalidSignatureException", 400, "Signature expired"),
    CONTENT_SHA_MISMATCH: ("InvalidSignatureException", 400, _SIG),
}


def auth_error(service: str, kind: str, detail: str = "", fields: dict[str, Any] | None = None) -> ServiceError:
    """The service's error for a failure kind. ``detail`` replaces the message where AWS adds one
    (the skew message names the times: "Signature expired: 20130524T000000Z is now earlier than ...")."""
    if service == "s3":
        code, status, message = _S3[kind]
    elif service in ("iam", "sts") or service == "sqs-query":
        code, status, message = _QUERY[kind]
    else:
        code, status, message = _JSON[kind]
        if service in ("lambda", "sqs"):
            status = 403
    if detail and kind in (SKEWED, MALFORMED) and service != "s3":
        message = detail
    return ServiceError(message, code=code, status=status, fields=fields or {})


def access_denied(service: str, principal_arn: str, action: str, resource: str, explicit: bool) -> ServiceError:
    """The denial of an authorized-but-not-permitted request, worded per service."""
    how = "with an explicit deny in an identity-based policy" if explicit else "because no identity-based policy allows the"
    if service == "s3":
        return ServiceError("Access Denied", code="AccessDenied", status=403)
    if explicit:
        tail = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {how}"
    else:
        tail = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {how} {action} action"
    if service == "dynamodb" or service == "dynamodbstreams":
        return ServiceError(tail, code="AccessDeniedException", status=400)
    if service == "lambda":
        return ServiceError(tail, code="AccessDeniedException", status=403)
    if service == "sqs":
        return ServiceError(tail, code="AccessDenied", status=403)
    return ServiceError(tail, code="AccessDenied", status=403)
