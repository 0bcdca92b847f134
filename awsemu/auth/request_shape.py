"""The few parameters of a request that decide which (action, resource) pairs it needs.

:func:`awsemu.auth.actions.authorizations` maps an operation and its parameters to the IAM
actions and resource ARNs to authorize, plus the condition keys the request supplies. For a given
caller (account, region), the actions and resources depend on a handful of parameters only: an
S3 GetObject on the bucket, the key and whether a VersionId is given; a DynamoDB GetItem on the
table name; an SQS SendMessage on the queue URL. Everything else (the message body, a Range, an
item) can only change the condition keys.

:func:`request_shape` returns those deciding parameters as a hashable key, or None when an
operation's resources depend on more (a batch naming several tables, a copy's source, a list of
objects to delete) or the service has no shape here. Two requests of equal shape, from the same
caller, need the same (action, resource, resource account) list; tests/auth/test_request_shape.py
checks that against ``authorizations`` for requests that differ outside the shape.

The enforcement step uses the shape to reuse a principal's earlier verdict on a request's pairs
without recomputing the ARNs, under the same conditions as any reused decision (see
:class:`awsemu.auth.enforcement.AuthGuard`): the verdict read no condition key and every policy
object it was made from is still the current one.
"""

from __future__ import annotations

from typing import Any, Hashable, Mapping

# S3 operations whose resources come from more than Bucket, Key and VersionId.
_S3_WIDE = frozenset({"CopyObject", "UploadPartCopy", "DeleteObjects"})
# DynamoDB operations naming several tables; Query and Scan name an index too.
_DYNAMODB_WIDE = frozenset({"BatchGetItem", "BatchWriteItem", "TransactWriteItems", "TransactGetItems"})
_DYNAMODB_INDEXED = frozenset({"Query", "Scan"})


def request_shape(service: str, operation: str, params: Mapping[str, Any]) -> Hashable | None:
    """The parameters that decide the request's (action, resource) pairs, or None (see above)."""
    get = params.get
    if service == "s3":
        if operation in _S3_WIDE:
            return None
        return ("s3", operation, get("Bucket"), get("Key"), bool(get("VersionId")))
    if service == "dynamodb" or service == "dynamodbstreams":
        if operation in _DYNAMODB_WIDE:
            return None
        return (service, operation, get("TableName"), get("StreamArn"), get("ResourceArn"),
                get("IndexName") if operation in _DYNAMODB_INDEXED else None)
    if service == "sqs":
        return ("sqs", operation, get("QueueUrl"), get("QueueName"), get("QueueOwnerAWSAccountId"), get("SourceArn"))
    return None
