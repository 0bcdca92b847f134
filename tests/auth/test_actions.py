"""Operation -> IAM action, resource ARN and context keys (Service Authorization Reference)."""

from __future__ import annotations

import pytest

from awsemu.auth.actions import authorizations

A, R = "123456789012", "eu-west-1"


def one(service, operation, params):
    out = authorizations(service, operation, params, A, R)
    assert len(out) == 1
    return out[0]


@pytest.mark.parametrize("service,operation,params,action,resource", [
    ("s3", "ListObjectsV2", {"Bucket": "b"}, "s3:ListBucket", "arn:aws:s3:::b"),
    ("s3", "GetObject", {"Bucket": "b", "Key": "a/b.txt"}, "s3:GetObject", "arn:aws:s3:::b/a/b.txt"),
    ("s3", "GetObject", {"Bucket": "b", "Key": "k", "VersionId": "v"}, "s3:GetObjectVersion", "arn:aws:s3:::b/k"),
    ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, "s3:GetObject", "arn:aws:s3:::b/k"),
    ("s3", "ListBuckets", {}, "s3:ListAllMyBuckets", "*"),
    ("s3", "CreateMultipartUpload", {"Bucket": "b", "Key": "k"}, "s3:PutObject", "arn:aws:s3:::b/k"),
    ("s3", "PutBucketCors", {"Bucket": "b"}, "s3:PutBucketCORS", "arn:aws:s3:::b"),
    ("sqs", "SendMessageBatch", {"QueueUrl": f"http://localhost:4566/{A}/q"}, "sqs:SendMessage",
     f"arn:aws:sqs:{R}:{A}:q"),
    ("sqs", "CreateQueue", {"QueueName": "q"}, "sqs:CreateQueue", f"arn:aws:sqs:{R}:{A}:q"),
    ("dynamodb", "Query", {"TableName": "t", "IndexName": "gsi"}, "dynamodb:Query",
     f"arn:aws:dynamodb:{R}:{A}:table/t/index/gsi"),
    ("dynamodb", "DescribeBackup", {"BackupArn": f"arn:aws:dynamodb:{R}:{A}:table/t/backup/01-ab"},
     "dynamodb:DescribeBackup", f"arn:aws:dynamodb:{R}:{A}:table/t/backup/01-ab"),
    ("dynamodb", "RestoreTableToPointInTime", {"SourceTableName": "t", "TargetTableName": "u"},
     "dynamodb:RestoreTableToPointInTime", f"arn:aws:dynamodb:{R}:{A}:table/t"),
    ("dynamodb", "ExportTableToPointInTime", {"TableArn": f"arn:aws:dynamodb:{R}:{A}:table/t", "S3Bucket": "b"},
     "dynamodb:ExportTableToPointInTime", f"arn:aws:dynamodb:{R}:{A}:table/t"),
    ("dynamodb", "DescribeExport", {"ExportArn": f"arn:aws:dynamodb:{R}:{A}:table/t/export/01-ab"},
     "dynamodb:DescribeExport", f"arn:aws:dynamodb:{R}:{A}:table/t/export/01-ab"),
    ("dynamodb", "ListExports", {"TableArn": f"arn:aws:dynamodb:{R}:{A}:table/t"}, "dynamodb:ListExports", "*"),
    ("dynamodb", "ImportTable", {"TableCreationParameters": {"TableName": "n"}}, "dynamodb:ImportTable",
     f"arn:aws:dynamodb:{R}:{A}:table/n"),
    ("lambda", "Invoke", {"FunctionName": "f"}, "lambda:InvokeFunction", f"arn:aws:lambda:{R}:{A}:function:f"),
    ("lambda", "GetFunction", {"FunctionName": f"arn:aws:lambda:{R}:{A}:function:f"}, "lambda:GetFunction",
     f"arn:aws:lambda:{R}:{A}:function:f"),
    ("iam", "CreateUser", {"UserName": "u", "Path": "/eng/"}, "iam:CreateUser", f"arn:aws:iam::{A}:user/eng/u"),
    ("iam", "AttachRolePolicy", {"RoleName": "r", "PolicyArn": "arn:aws:iam::aws:policy/X"}, "iam:AttachRolePolicy",
     f"arn:aws:iam::{A}:role/r"),
    ("sts", "AssumeRole", {"RoleArn": f"arn:aws:iam::{A}:role/r", "RoleSessionName": "s"}, "sts:AssumeRole",
     f"arn:aws:iam::{A}:role/r"),
])
def test_action_and_resource(service, operation, params, action, resource):
    auth = one(service, operation, params)
    assert (auth.action, auth.resource) == (action, resource)


def test_context_keys_and_multi_resource_operations():
    listing = one("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "home/", "MaxKeys": 5, "Delimiter": "/"})
    assert listing.context == {"s3:prefix": "home/", "s3:delimiter": "/", "s3:max-keys": "5"}
    assert one("s3", "PutObject", {"Bucket": "b", "Key": "k", "ACL": "public-read"}).context["s3:x-amz-acl"] == "public-read"
    batch = authorizations("dynamodb", "BatchWriteItem", {"RequestItems": {"t1": [], "t2": []}}, A, R)
    assert [a.resource for a in batch] == [f"arn:aws:dynamodb:{R}:{A}:table/t1", f"arn:aws:dynamodb:{R}:{A}:table/t2"]
    copy = authorizations("s3", "CopyObject", {"Bucket": "dst", "Key": "k", "CopySource": "src/a%20b"}, A, R)
    assert [(a.action, a.resource) for a in copy] == [("s3:PutObject", "arn:aws:s3:::dst/k"),
                                                      ("s3:GetObject", "arn:aws:s3:::src/a b")]
    tagged = one("sqs", "CreateQueue", {"QueueName": "q", "tags": {"team": "a"}})
    assert tagged.context == {"aws:RequestTag/team": "a", "aws:TagKeys": ["team"]}
    assert one("sqs", "SendMessage", {"QueueUrl": "http://h/999999999999/q"}).resource_account == "999999999999"
    assert authorizations("sts", "GetCallerIdentity", {}, A, R) == []
    put = one("dynamodb", "PutItem", {"TableName": "t", "Item": {"pk": {"S": "user#1"}}})
    assert put.context["dynamodb:LeadingKeys"] == ["user#1"]
