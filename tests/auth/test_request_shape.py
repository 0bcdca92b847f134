"""request_shape: two requests of equal shape need the same (action, resource, resource account)
pairs from ``authorizations``, whatever their other parameters; a parameter that changes the
pairs changes the shape. The enforcement step reuses verdicts per shape, so this is the property
its correctness rests on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awsemu.auth.actions import authorizations
from awsemu.auth.request_shape import request_shape

A = "000000000000"
REGION = "eu-west-1"


def pairs(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(a.action, a.resource, a.resource_account) for a in authorizations(service, operation, params, A, REGION)]


# (service, operation, base parameters, parameters that may vary without changing the pairs)
CASES = [
    ("s3", "GetObject", {"Bucket": "b", "Key": "k"}, {"Range": "bytes=0-1", "IfMatch": '"e"', "PartNumber": 2}),
    ("s3", "HeadObject", {"Bucket": "b", "Key": "dir/k"}, {"IfNoneMatch": "x"}),
    ("s3", "PutObject", {"Bucket": "b", "Key": "k"}, {"ACL": "public-read", "Tagging": "a=1&b=2", "ContentType": "x/y"}),
    ("s3", "ListObjectsV2", {"Bucket": "b"}, {"Prefix": "p/", "Delimiter": "/", "MaxKeys": 5}),
    ("s3", "ListBuckets", {}, {"MaxBuckets": 10}),
    ("s3", "DeleteObject", {"Bucket": "b", "Key": "k"}, {"MFA": "123 456"}),
    ("dynamodb", "GetItem", {"TableName": "t"}, {"Key": {"pk": {"S": "a"}}, "ConsistentRead": True}),
    ("dynamodb", "PutItem", {"TableName": "t"}, {"Item": {"pk": {"S": "b"}}, "ReturnValues": "ALL_OLD"}),
    ("dynamodb", "Query", {"TableName": "t", "IndexName": "i"}, {"Select": "COUNT", "Limit": 3}),
    ("dynamodb", "Query", {"TableName": f"arn:aws:dynamodb:{REGION}:{A}:table/t"}, {"Limit": 1}),
    ("dynamodbstreams", "GetRecords", {"StreamArn": f"arn:aws:dynamodb:{REGION}:{A}:table/t/stream/x"}, {"Limit": 2}),
    ("sqs", "SendMessage", {"QueueUrl": f"http://localhost:4566/{A}/q"}, {"MessageBody": "hi", "DelaySeconds": 3}),
    ("sqs", "CreateQueue", {"QueueName": "q"}, {"Attributes": {"DelaySeconds": "1"}, "tags": {"a": "b"}}),
    ("sqs", "GetQueueUrl", {"QueueName": "q", "QueueOwnerAWSAccountId": "111111111111"}, {}),
]


@pytest.mark.parametrize("service,operation,base,varying", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_equal_shapes_need_equal_pairs(service, operation, base, varying):
    shape = request_shape(service, operation, base)
    assert shape is not None
    hash(shape)
    for name, value in varying.items():
        other = {**base, name: value}
        assert request_shape(service, operation, other) == shape
        assert pairs(service, operation, other) == pairs(service, operation, base)


@pytest.mark.parametrize("service,operation,base,changed", [
    ("s3", "GetObject", {"Bucket": "b", "Key": "k"}, {"Key": "k2"}),
    ("s3", "GetObject", {"Bucket": "b", "Key": "k"}, {"Bucket": "c"}),
    ("s3", "GetObject", {"Bucket": "b", "Key": "k"}, {"VersionId": "v1"}),
    ("s3", "DeleteObject", {"Bucket": "b", "Key": "k"}, {"VersionId": "v1"}),
    ("dynamodb", "Query", {"TableName": "t"}, {"IndexName": "i"}),
    ("dynamodb", "GetItem", {"TableName": "t"}, {"TableName": "u"}),
    ("sqs", "SendMessage", {"QueueUrl": f"http://localhost:4566/{A}/q"}, {"QueueUrl": "http://localhost:4566/111111111111/q"}),
    ("sqs", "GetQueueUrl", {"QueueName": "q"}, {"QueueOwnerAWSAccountId": "111111111111"}),
])
def test_parameters_that_change_the_pairs_change_the_shape(service, operation, base, changed):
    other = {**base, **changed}
    assert pairs(service, operation, other) != pairs(service, operation, base)
    assert request_shape(service, operation, other) != request_shape(service, operation, base)


@pytest.mark.parametrize("service,operation", [
    ("s3", "CopyObject"), ("s3", "UploadPartCopy"), ("s3", "DeleteObjects"),
    ("dynamodb", "BatchGetItem"), ("dynamodb", "BatchWriteItem"), ("dynamodb", "TransactWriteItems"),
    ("dynamodb", "TransactGetItems"), ("lambda", "Invoke"), ("iam", "GetUser"), ("sts", "AssumeRole"),
])
def test_operations_naming_resources_elsewhere_have_no_shape(service, operation):
    assert request_shape(service, operation, {"Bucket": "b", "Key": "k", "FunctionName": "f"}) is None


_names = st.text(alphabet="abc/-_.*", min_size=0, max_size=6)


@settings(max_examples=200, deadline=None)
@given(bucket=st.one_of(st.none(), _names), key=st.one_of(st.none(), _names), version=st.one_of(st.none(), _names),
       prefix=st.one_of(st.none(), _names), operation=st.sampled_from(
           ["GetObject", "HeadObject", "PutObject", "DeleteObject", "GetObjectAcl", "ListObjects", "GetBucketPolicy"]),
       bucket2=st.one_of(st.none(), _names), key2=st.one_of(st.none(), _names), version2=st.one_of(st.none(), _names))
def test_s3_shapes_decide_the_pairs(bucket, key, version, prefix, operation, bucket2, key2, version2):
    """Any two S3 requests: equal shapes imply equal pairs."""
    first = {k: v for k, v in {"Bucket": bucket, "Key": key, "VersionId": version, "Prefix": prefix}.items() if v is not None}
    second = {k: v for k, v in {"Bucket": bucket2, "Key": key2, "VersionId": version2}.items() if v is not None}
    if request_shape("s3", operation, first) == request_shape("s3", operation, second):
        assert pairs("s3", operation, first) == pairs("s3", operation, second)
