"""Buckets: name rules, LocationConstraint rules, global names across accounts, delete, list."""

from __future__ import annotations

import uuid
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from s3_helpers import error_of, new_bucket


def test_create_head_location_delete(s3: Any) -> None:
    name = new_bucket(s3)
    head = s3.head_bucket(Bucket=name)
    assert head["BucketRegion"] == "us-east-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        s3.head_bucket(Bucket=name)
    assert error_of(exc)[2] == 404
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_location(Bucket=name)
    assert error_of(exc) == ("NoSuchBucket", "The specified bucket does not exist", 404)
    assert exc.value.response["Error"]["BucketName"] == name


@pytest.mark.parametrize(
    "name",
    ["ab", "a" * 64, "UpperCase", "under_score", "-leading", "trailing-", "double..dot", "192.168.5.4",
     "xn--punycode", "name-s3alias", "sthree-x"],
)
def test_invalid_bucket_names(s3: Any, name: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket=name)
    assert error_of(exc) == ("InvalidBucketName", "The specified bucket is not valid.", 400)


def test_location_constraints(aws_client: Callable[..., Any]) -> None:
    east = aws_client("s3")
    west = aws_client("s3", region_name="eu-west-1")
    name = f"b-{uuid.uuid4().hex[:20]}"
    with pytest.raises(ClientError) as exc:
        east.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert error_of(exc) == ("InvalidLocationConstraint", "The specified location-constraint is not valid", 400)
    with pytest.raises(ClientError) as exc:
        west.create_bucket(Bucket=name)
    assert error_of(exc) == (
        "IllegalLocationConstraintException",
        "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
        400,
    )
    with pytest.raises(ClientError) as exc:
        west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    assert error_of(exc)[0] == "IllegalLocationConstraintException"
    assert "eu-central-1 location constraint is incompatible" in error_of(exc)[1]
    west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert west.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert east.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"
    with pytest.raises(ClientError) as exc:
        west.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert error_of(exc) == (
        "BucketAlreadyOwnedByYou",
        "Your previous request to create the named bucket succeeded and you already own it.",
        409,
    )


def test_bucket_names_are_global_across_accounts(aws_client: Callable[..., Any]) -> None:
    mine = aws_client("s3")
    other = aws_client("s3", aws_access_key_id="111122223333")
    name = new_bucket(mine)
    # us-east-1 answers 200 to the owner re-creating its bucket (legacy behaviour)
    mine.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as exc:
        other.create_bucket(Bucket=name)
    assert error_of(exc) == (
        "BucketAlreadyExists",
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. "
        "Please select a different name and try again.",
        409,
    )
    assert name not in [b["Name"] for b in other.list_buckets()["Buckets"]]


def test_delete_non_empty_bucket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(exc) == ("BucketNotEmpty", "The bucket you tried to delete is not empty", 409)
    s3.delete_object(Bucket=bucket, Key="k")
    s3.create_multipart_upload(Bucket=bucket, Key="pending")
    s3.delete_bucket(Bucket=bucket)  # incomplete uploads go with the bucket
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket=bucket)
    assert error_of(exc)[0] == "NoSuchBucket"


def test_list_buckets_paging_and_prefix(aws_client: Callable[..., Any]) -> None:
    s3 = aws_client("s3", aws_access_key_id="444455556666")
    tag = uuid.uuid4().hex[:8]
    names = sorted(f"lb-{tag}-{i}" for i in range(5))
    for name in names:
        s3.create_bucket(Bucket=name)
    listed = s3.list_buckets(Prefix=f"lb-{tag}")
    assert [b["Name"] for b in listed["Buckets"]] == names
    assert listed["Prefix"] == f"lb-{tag}"
    assert len(listed["Owner"]["ID"]) == 64
    first = s3.list_buckets(Prefix=f"lb-{tag}", MaxBuckets=2)
    assert [b["Name"] for b in first["Buckets"]] == names[:2]
    second = s3.list_buckets(Prefix=f"lb-{tag}", MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in second["Buckets"]] == names[2:4]
    third = s3.list_buckets(Prefix=f"lb-{tag}", MaxBuckets=2, ContinuationToken=second["ContinuationToken"])
    assert [b["Name"] for b in third["Buckets"]] == names[4:]
    assert "ContinuationToken" not in third


def test_virtual_hosted_addressing(aws_endpoint_url: str, bucket: str, s3: Any) -> None:
    import urllib.request

    port = aws_endpoint_url.rsplit(":", 1)[1]
    s3.put_object(Bucket=bucket, Key="dir/v.txt", Body=b"virtual")
    for host in (f"{bucket}.s3.localhost.localstack.cloud:{port}", f"{bucket}.localhost:{port}"):
        request = urllib.request.Request(f"{aws_endpoint_url}/dir/v.txt", headers={"Host": host})
        with urllib.request.urlopen(request) as response:
            assert response.read() == b"virtual"
