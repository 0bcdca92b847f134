"""S3 errors as data: one class per S3 error code, named exactly after it, with AWS's message.

Codes, statuses and default messages follow the S3 API reference "Error responses" page
(https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) and what S3 actually answers.
Extra members S3 returns beside Code/Message (``BucketName``, ``Key``, ``UploadId`` ...) go in
``fields``; the rest-xml codec writes them in order after ``<Message>``.
"""

from __future__ import annotations

from typing import Any

from awsemu.services.base import ServiceError


class S3Error(ServiceError):
    """Base: ``message`` defaults to the class's AWS message."""

    default_message = ""

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(self.default_message if message is None else message, **kwargs)


def _error(code: str, status: int, message: str) -> type[S3Error]:
    return type(code, (S3Error,), {"code": code, "status": status, "default_message": message,
                                   "sender_fault": status < 500})


AccessDenied = _error("AccessDenied", 403, "Access Denied")
AccessControlListNotSupported = _error("AccessControlListNotSupported", 400, "The bucket does not allow ACLs")
BadDigest = _error("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
BucketAlreadyExists = _error(
    "BucketAlreadyExists",
    409,
    "The requested bucket name is not available. The bucket namespace is shared by all users of the system. "
    "Please select a different name and try again.",
)
BucketAlreadyOwnedByYou = _error(
    "BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it."
)
BucketNotEmpty = _error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
EntityTooLarge = _error("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed size")
EntityTooSmall = _error("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed size")
IllegalLocationConstraintException = _error(
    "IllegalLocationConstraintException",
    400,
    "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
)
IncompleteBody = _error(
    "IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header"
)
InvalidArgument = _error("InvalidArgument", 400, "Invalid Argument")
InvalidBucketName = _error("InvalidBucketName", 400, "The specified bucket is not valid.")
InvalidBucketState = _error("InvalidBucketState", 409, "The request is not valid with the current state of the bucket.")
InvalidDigest = _error("InvalidDigest", 400, "The Content-MD5 you specified was invalid.")
InvalidLocationConstraint = _error("InvalidLocationConstraint", 400, "The specified location-constraint is not valid")
InvalidPart = _error(
    "InvalidPart",
    400,
    "One or more of the specified parts could not be found.  The part may not have been uploaded, "
    "or the specified entity tag may not match the part's entity tag.",
)
InvalidPartOrder = _error(
    "InvalidPartOrder",
    400,
    "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
)
InvalidRange = _error("InvalidRange", 416, "The requested range is not satisfiable")
InvalidRequest = _error("InvalidRequest", 400, "Invalid Request")
InvalidStorageClass = _error("InvalidStorageClass", 400, "The storage class you specified is not valid")
InvalidTag = _error("InvalidTag", 400, "The TagValue you have provided is invalid")
KeyTooLongError = _error("KeyTooLongError", 400, "Your key is too long")
MalformedPOSTRequest = _error(
    "MalformedPOSTRequest", 400, "The body of your POST request is not well-formed multipart/form-data."
)
MalformedPolicy = _error("MalformedPolicy", 400, "Policies must be valid JSON and the first byte must be '{'")
MalformedXML = _error(
    "MalformedXML",
    400,
    "The XML you provided was not well-formed or did not validate against our published schema",
)
MethodNotAllowed = _error("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
MissingContentLength = _error("MissingContentLength", 411, "You must provide the Content-Length HTTP header.")
NoSuchBucket = _error("NoSuchBucket", 404, "The specified bucket does not exist")
NoSuchBucketPolicy = _error("NoSuchBucketPolicy", 404, "The bucket policy does not exist")
NoSuchCORSConfiguration = _error("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist")
NoSuchKey = _error("NoSuchKey", 404, "The specified key does not exist.")
NoSuchLifecycleConfiguration = _error("NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not exist")
NoSuchObjectLockConfiguration = _error(
    "NoSuchObjectLockConfiguration", 404, "The specified object does not have a ObjectLock configuration"
)
NoSuchPublicAccessBlockConfiguration = _error(
    "NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found"
)
NoSuchTagSet = _error("NoSuchTagSet", 404, "The TagSet does not exist")
NoSuchUpload = _error(
    "NoSuchUpload",
    404,
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
)
NoSuchVersion = _error("NoSuchVersion", 404, "The specified version does not exist.")
NoSuchWebsiteConfiguration = _error(
    "NoSuchWebsiteConfiguration", 404, "The specified bucket does not have a website configuration"
)
NotModified = _error("NotModified", 304, "Not Modified")
ObjectLockConfigurationNotFoundError = _error(
    "ObjectLockConfigurationNotFoundError", 404, "Object Lock configuration does not exist for this bucket"
)
OwnershipControlsNotFoundError = _error(
    "OwnershipControlsNotFoundError", 404, "The bucket ownership controls were not found"
)
PreconditionFailed = _error("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold")
ConditionalRequestConflict = _error(
    "ConditionalRequestConflict",
    409,
    "The conditional request cannot succeed due to a conflicting operation against this resource.",
)
ServerSideEncryptionConfigurationNotFoundError = _error(
    "ServerSideEncryptionConfigurationNotFoundError", 404, "The server side encryption configuration was not found"
)
TooManyBuckets = _error("TooManyBuckets", 400, "You have attempted to create more buckets than allowed")
XAmzContentSHA256Mismatch = _error(
    "XAmzContentSHA256Mismatch", 400, "The provided 'x-amz-content-sha256' header does not match what was computed."
)
InvalidObjectState = _error(
    "InvalidObjectState", 403, "The operation is not valid for the object's storage class"
)
NoSuchConfiguration = _error("NoSuchConfiguration", 404, "The specified configuration does not exist.")


def no_such_bucket(bucket: str) -> S3Error:
    return NoSuchBucket(fields={"BucketName": bucket})


def no_such_key(key: str) -> S3Error:
    return NoSuchKey(fields={"Key": key})


def invalid_argument(message: str, name: str | None = None, value: Any = None) -> S3Error:
    fields: dict[str, Any] = {}
    if name is not None:
        fields["ArgumentName"] = name
        fields["ArgumentValue"] = "" if value is None else str(value)
    return InvalidArgument(message, fields=fields)


def precondition_failed(condition: str) -> S3Error:
    return PreconditionFailed(fields={"Condition": condition})
