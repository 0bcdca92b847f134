"""Checks S3 makes before any operation: the bucket owner condition (ExpectedBucketOwner,
ExpectedSourceBucketOwner) and Requester Pays, through boto3 against the real server."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from s3_helpers import aws_cli, error_of, new_bucket

OTHER = "111122223333"
DENIED = ("AccessDenied", "Access Denied", 403)


@pytest.fixture
def me(aws_client: Callable[..., Any]) -> str:
    return str(aws_client("sts").get_caller_identity()["Account"])


def _denied(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    return error_of(exc)


def test_expected_bucket_owner(s3: Any, bucket: str, me: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"body", ExpectedBucketOwner=me)
    assert s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=me)["Body"].read() == b"body"
    s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=me)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, ExpectedBucketOwner=me)["Contents"]] == ["k"]
    # another owner: every operation that takes the parameter refuses, bucket and object alike
    for call, kwargs in [
        (s3.get_object, {"Key": "k"}), (s3.put_object, {"Key": "k2", "Body": b"x"}), (s3.head_object, {"Key": "k"}),
        (s3.delete_object, {"Key": "k"}), (s3.list_objects_v2, {}), (s3.list_objects, {}),
        (s3.get_bucket_versioning, {}), (s3.get_bucket_tagging, {}), (s3.put_bucket_tagging,
                                                                         {"Tagging": {"TagSet": []}}),
        (s3.create_multipart_upload, {"Key": "mp"}), (s3.get_object_tagging, {"Key": "k"}),
        (s3.get_bucket_lifecycle_configuration, {}), (s3.delete_bucket, {}),
    ]:
        with pytest.raises(ClientError) as exc:
            call(Bucket=bucket, ExpectedBucketOwner=OTHER, **kwargs)
        status = exc.value.response["ResponseMetadata"]["HTTPStatusCode"]
        assert status == 403, call
        if call.__name__ != "head_object":  # HEAD answers carry no body
            assert error_of(exc) == DENIED, call
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=OTHER)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # nothing happened: the object and the bucket are still there, untagged
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"body"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    # not an account id
    code, message, status = _denied(s3.get_object, Bucket=bucket, Key="k", ExpectedBucketOwner="12345")
    assert (code, status) == ("InvalidBucketOwnerAWSAccountID", 400)
    assert message == "The value of the expected bucket owner parameter must be an AWS Account ID... [12345]"
    assert _denied(s3.list_objects_v2, Bucket=bucket, ExpectedBucketOwner="abcdefghijkl")[0] == \
        "InvalidBucketOwnerAWSAccountID"
    # a bucket that does not exist is still NoSuchBucket
    assert _denied(s3.get_object, Bucket=f"{bucket}-none", Key="k", ExpectedBucketOwner=OTHER)[0] == "NoSuchBucket"


def test_expected_source_bucket_owner(s3: Any, bucket: str, me: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    dest = new_bucket(s3)
    s3.copy_object(Bucket=dest, Key="copy", CopySource={"Bucket": bucket, "Key": "src"},
                   ExpectedBucketOwner=me, ExpectedSourceBucketOwner=me)
    assert s3.get_object(Bucket=dest, Key="copy")["Body"].read() == b"source"
    assert _denied(s3.copy_object, Bucket=dest, Key="copy2", CopySource={"Bucket": bucket, "Key": "src"},
                   ExpectedSourceBucketOwner=OTHER) == DENIED
    assert _denied(s3.copy_object, Bucket=dest, Key="copy2", CopySource={"Bucket": bucket, "Key": "src"},
                   ExpectedBucketOwner=OTHER, ExpectedSourceBucketOwner=me) == DENIED
    assert _denied(s3.copy_object, Bucket=dest, Key="copy2", CopySource=f"{bucket}/src",
                   ExpectedSourceBucketOwner="nope")[0] == "InvalidBucketOwnerAWSAccountID"
    upload = s3.create_multipart_upload(Bucket=dest, Key="mp")["UploadId"]
    assert _denied(s3.upload_part_copy, Bucket=dest, Key="mp", UploadId=upload, PartNumber=1,
                   CopySource={"Bucket": bucket, "Key": "src"}, ExpectedSourceBucketOwner=OTHER) == DENIED
    part = s3.upload_part_copy(Bucket=dest, Key="mp", UploadId=upload, PartNumber=1,
                               CopySource={"Bucket": bucket, "Key": "src"}, ExpectedSourceBucketOwner=me)
    assert part["CopyPartResult"]["ETag"]
    assert "Contents" not in s3.list_objects_v2(Bucket=dest, Prefix="copy2")


def test_requester_pays(s3: Any, aws_client: Callable[..., Any], bucket: str) -> None:
    other = aws_client("s3", aws_access_key_id=OTHER)
    s3.put_object(Bucket=bucket, Key="k", Body=b"paid")
    # the owner pays until the bucket says otherwise: other accounts need no header
    assert other.get_object(Bucket=bucket, Key="k")["Body"].read() == b"paid"
    assert "RequestCharged" not in other.get_object(Bucket=bucket, Key="k")
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    # another account without x-amz-request-payer: refused, reads, writes and listings alike
    assert _denied(other.get_object, Bucket=bucket, Key="k") == DENIED
    assert _denied(other.put_object, Bucket=bucket, Key="new", Body=b"x") == DENIED
    assert _denied(other.list_objects_v2, Bucket=bucket) == DENIED
    with pytest.raises(ClientError) as exc:
        other.head_object(Bucket=bucket, Key="k")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # with it: served, and the answer says the requester was charged
    got = other.get_object(Bucket=bucket, Key="k", RequestPayer="requester")
    assert got["Body"].read() == b"paid" and got["RequestCharged"] == "requester"
    assert other.head_object(Bucket=bucket, Key="k", RequestPayer="requester")["RequestCharged"] == "requester"
    put = other.put_object(Bucket=bucket, Key="new", Body=b"x", RequestPayer="requester")
    assert put["RequestCharged"] == "requester"
    listed = other.list_objects_v2(Bucket=bucket, RequestPayer="requester")
    assert [o["Key"] for o in listed["Contents"]] == ["k", "new"] and listed["RequestCharged"] == "requester"
    # the owner pays for its own requests: no header needed, none charged
    mine = s3.get_object(Bucket=bucket, Key="k")
    assert mine["Body"].read() == b"paid" and "RequestCharged" not in mine
    # a copy out of a Requester Pays bucket charges the requester for the source too
    theirs = new_bucket(other)
    assert _denied(other.copy_object, Bucket=theirs, Key="c", CopySource={"Bucket": bucket, "Key": "k"}) == DENIED
    copied = other.copy_object(Bucket=theirs, Key="c", CopySource={"Bucket": bucket, "Key": "k"},
                               RequestPayer="requester")
    assert copied["RequestCharged"] == "requester"
    assert other.get_object(Bucket=theirs, Key="c")["Body"].read() == b"paid"
    # back to BucketOwner: other accounts are served without the header again
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert "RequestCharged" not in other.get_object(Bucket=bucket, Key="k")


def test_cli_expected_bucket_owner(aws_endpoint_url: str, s3: Any, bucket: str, me: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"body")
    ok = aws_cli(aws_endpoint_url, "s3api", "head-object", "--bucket", bucket, "--key", "k",
                 "--expected-bucket-owner", me)
    assert ok.returncode == 0, ok.stderr
    denied = aws_cli(aws_endpoint_url, "s3api", "list-objects-v2", "--bucket", bucket, "--expected-bucket-owner", OTHER)
    assert denied.returncode != 0 and "(AccessDenied)" in denied.stderr and "Access Denied" in denied.stderr
    bad = aws_cli(aws_endpoint_url, "s3api", "list-objects-v2", "--bucket", bucket, "--expected-bucket-owner", "1")
    assert bad.returncode != 0 and "(InvalidBucketOwnerAWSAccountID)" in bad.stderr
