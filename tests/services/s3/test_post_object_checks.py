"""Browser form uploads (POST Object) under the checks every other object operation gets: the
bucket owner condition (``x-amz-expected-bucket-owner``) and Requester Pays
(``x-amz-request-payer``), each as a request header or as a form field, through a real server
with plain HTTP the way a browser posts a form signed by ``generate_presigned_post``."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any, Callable
from xml.etree import ElementTree

import pytest
from awsemu.testing.forms import browser_form
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

OTHER = "111122223333"
DENIED = (403, "AccessDenied", "Access Denied")


@pytest.fixture
def me(aws_client: Callable[..., Any]) -> str:
    return str(aws_client("sts").get_caller_identity()["Account"])


@pytest.fixture
def other(aws_client: Callable[..., Any]) -> Any:
    """An S3 client of another account (a 12-digit access key id is the account)."""
    return aws_client("s3", aws_access_key_id=OTHER)


def _post(post: dict[str, Any], content: bytes, headers: dict[str, str] | None = None,
          fields: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    body, ctype = browser_form({**post["fields"], **(fields or {})}, content)
    req = urllib.request.Request(post["url"], data=body, method="POST",
                                 headers={"Content-Type": ctype, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def _error(answer: tuple[int, dict[str, str], bytes]) -> tuple[int, str, str]:
    root = ElementTree.fromstring(answer[2])
    return answer[0], root.findtext("Code") or "", root.findtext("Message") or ""


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


def _signed_form(client: Any, bucket: str, key: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    """A presigned POST whose policy covers ``fields`` (each form field needs a policy condition)."""
    fields = fields or {}
    return client.generate_presigned_post(bucket, key, Fields=fields, Conditions=[{k: v} for k, v in fields.items()],
                                          ExpiresIn=300)


def test_expected_bucket_owner_header(s3: Any, bucket: str, me: str) -> None:
    post = _signed_form(s3, bucket, "h/ok.txt")
    assert _post(post, b"mine", {"x-amz-expected-bucket-owner": me})[0] == 204
    assert s3.get_object(Bucket=bucket, Key="h/ok.txt")["Body"].read() == b"mine"

    post = _signed_form(s3, bucket, "h/denied.txt")
    assert _error(_post(post, b"theirs?", {"x-amz-expected-bucket-owner": OTHER})) == DENIED
    assert not _exists(s3, bucket, "h/denied.txt")

    answer = _post(post, b"x", {"x-amz-expected-bucket-owner": "12345"})
    assert _error(answer) == (400, "InvalidBucketOwnerAWSAccountID",
                              "The value of the expected bucket owner parameter must be an AWS Account ID... [12345]")
    assert not _exists(s3, bucket, "h/denied.txt")


def test_expected_bucket_owner_form_field(s3: Any, bucket: str, me: str) -> None:
    post = _signed_form(s3, bucket, "f/ok.txt", {"x-amz-expected-bucket-owner": me})
    assert _post(post, b"mine")[0] == 204
    assert s3.get_object(Bucket=bucket, Key="f/ok.txt")["Body"].read() == b"mine"

    post = _signed_form(s3, bucket, "f/denied.txt", {"x-amz-expected-bucket-owner": OTHER})
    assert _error(_post(post, b"x")) == DENIED
    assert not _exists(s3, bucket, "f/denied.txt")
    # a field and a header must both hold
    post = _signed_form(s3, bucket, "f/both.txt", {"x-amz-expected-bucket-owner": me})
    assert _error(_post(post, b"x", {"x-amz-expected-bucket-owner": OTHER})) == DENIED
    assert not _exists(s3, bucket, "f/both.txt")
    # like every form field, it must be covered by the policy
    post = _signed_form(s3, bucket, "f/extra.txt")
    answer = _post(post, b"x", fields={"x-amz-expected-bucket-owner": me})
    assert _error(answer) == (403, "AccessDenied",
                              "Invalid according to Policy: Extra input fields: x-amz-expected-bucket-owner")


def test_requester_pays(s3: Any, other: Any, bucket: str) -> None:
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    # another account's form without agreeing to pay: refused, nothing stored
    post = _signed_form(other, bucket, "rp/none.txt")
    assert _error(_post(post, b"x")) == DENIED
    assert not _exists(s3, bucket, "rp/none.txt")
    # agreeing by header
    post = _signed_form(other, bucket, "rp/header.txt")
    status, headers, _ = _post(post, b"by header", {"x-amz-request-payer": "requester"})
    assert status == 204 and headers["x-amz-request-charged"] == "requester"
    assert s3.get_object(Bucket=bucket, Key="rp/header.txt")["Body"].read() == b"by header"
    # agreeing by form field (in the policy, like any field)
    post = _signed_form(other, bucket, "rp/field.txt", {"x-amz-request-payer": "requester"})
    status, headers, _ = _post(post, b"by field")
    assert status == 204 and headers["x-amz-request-charged"] == "requester"
    assert s3.get_object(Bucket=bucket, Key="rp/field.txt")["Body"].read() == b"by field"
    # any other value is no agreement
    post = _signed_form(other, bucket, "rp/wrong.txt")
    assert _error(_post(post, b"x", {"x-amz-request-payer": "bucket-owner"})) == DENIED
    assert not _exists(s3, bucket, "rp/wrong.txt")
    # the uploader owns what it uploaded, as with PutObject
    other.put_object(Bucket=bucket, Key="rp/put.txt", Body=b"put", RequestPayer="requester")
    owners = {o["Key"]: o["Owner"]["ID"] for o in s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]}
    assert owners["rp/header.txt"] == owners["rp/field.txt"] == owners["rp/put.txt"]
    # the bucket owner pays for its own uploads: no header needed, none charged
    post = _signed_form(s3, bucket, "rp/owner.txt")
    status, headers, _ = _post(post, b"owner")
    assert status == 204 and "x-amz-request-charged" not in headers
    assert owners["rp/header.txt"] != s3.list_objects_v2(Bucket=bucket, Prefix="rp/owner.txt",
                                                         FetchOwner=True)["Contents"][0]["Owner"]["ID"]
    # back to BucketOwner: other accounts upload without agreeing, and are not charged
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    post = _signed_form(other, bucket, "rp/free.txt")
    status, headers, _ = _post(post, b"free")
    assert status == 204 and "x-amz-request-charged" not in headers


def test_requester_pays_sigv2browser_form(aws_client: Callable[..., Any], s3: Any, bucket: str) -> None:
    """A SigV2 form names its key in ``AWSAccessKeyId``: that key's account is the requester."""
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    v2 = aws_client("s3", aws_access_key_id=OTHER, config=BotoConfig(signature_version="s3"))
    post = v2.generate_presigned_post(bucket, "v2.txt", ExpiresIn=300)
    assert post["fields"]["AWSAccessKeyId"] == OTHER
    assert _error(_post(post, b"x")) == DENIED
    status, headers, _ = _post(post, b"v2", {"x-amz-request-payer": "requester"})
    assert status == 204 and headers["x-amz-request-charged"] == "requester"
    assert s3.get_object(Bucket=bucket, Key="v2.txt")["Body"].read() == b"v2"


def test_checks_leave_a_missing_bucket_to_no_such_bucket(s3: Any, bucket: str) -> None:
    missing = f"{bucket}-none"
    post = _signed_form(s3, missing, "k")
    status, code, _ = _error(_post(post, b"x", {"x-amz-expected-bucket-owner": OTHER}))
    assert (status, code) == (404, "NoSuchBucket")
