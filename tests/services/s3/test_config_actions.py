"""The IAM action each bucket-configuration operation of this folder needs (Service Authorization
Reference, "Actions defined by Amazon S3"): several are named after the configuration, not the call."""

from __future__ import annotations

import pytest

from awsemu.auth.actions import authorizations

CASES = {
    "PutBucketLogging": "PutBucketLogging", "GetBucketLogging": "GetBucketLogging",
    "PutBucketRequestPayment": "PutBucketRequestPayment", "GetBucketRequestPayment": "GetBucketRequestPayment",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration", "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
}
for family, action in (("Analytics", "Analytics"), ("Inventory", "Inventory"), ("Metrics", "Metrics"),
                       ("IntelligentTiering", "IntelligentTiering")):
    CASES[f"PutBucket{family}Configuration"] = f"Put{action}Configuration"
    CASES[f"DeleteBucket{family}Configuration"] = f"Put{action}Configuration"
    CASES[f"GetBucket{family}Configuration"] = f"Get{action}Configuration"
    CASES[f"ListBucket{family}Configurations"] = f"Get{action}Configuration"


@pytest.mark.parametrize("operation,action", sorted(CASES.items()))
def test_configuration_operation_action(operation: str, action: str) -> None:
    [auth] = authorizations("s3", operation, {"Bucket": "b", "Id": "x"}, "123456789012", "us-east-1")
    assert (auth.action, auth.resource) == (f"s3:{action}", "arn:aws:s3:::b")
