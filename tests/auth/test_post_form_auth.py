"""Browser form uploads (S3 POST Object) in the sigv4 and iam modes, through a real server: the
form's own signature is verified (SigV4 and SigV2 forms signed by botocore's
``generate_presigned_post``), and in iam mode the upload is authorized as ``s3:PutObject`` on the
bucket and key for the form's signer, or for anyone when the form is unsigned."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid
from typing import Any, Iterator
from xml.etree import ElementTree

import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess
from awsemu.testing.forms import browser_form

B = "111111111111"  # a 12-digit key id is the root of that account (secret "test")
DENIED = (403, "AccessDenied", "Access Denied")
BAD_SIGNATURE = (403, "SignatureDoesNotMatch",
                 "The request signature we calculated does not match the signature you provided. "
                 "Check your key and signing method.")


def _post(url: str, fields: dict[str, str], content: bytes = b"form body") -> tuple[int, bytes]:
    body, ctype = browser_form(fields, content)
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _error(answer: tuple[int, bytes]) -> tuple[int, str, str]:
    root = ElementTree.fromstring(answer[1])
    return answer[0], root.findtext("Code") or "", root.findtext("Message") or ""


def _field(answer: tuple[int, bytes], name: str) -> str | None:
    return ElementTree.fromstring(answer[1]).findtext(name)


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


V4 = BotoConfig(signature_version="s3v4", retries={"max_attempts": 1})


def _presigned(endpoint: str, bucket: str, key: str, expires: int = 300, **creds: Any) -> dict[str, Any]:
    """A SigV4 form (botocore signs forms with SigV2 unless told otherwise)."""
    client = make_client(endpoint, "s3", config=V4, **creds)
    return client.generate_presigned_post(bucket, key, ExpiresIn=expires)  # type: ignore[no-any-return]


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# -- sigv4 mode: the signature ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def sigv4() -> Iterator[ServerProcess]:
    with ServerProcess(env={"AWSEMU_AUTH": "sigv4", "AWSEMU_SERVICES": "s3,iam,sts"}) as s:
        yield s


@pytest.fixture
def bucket(sigv4: ServerProcess) -> str:
    name = f"forms-{uuid.uuid4().hex[:10]}"
    make_client(sigv4.endpoint, "s3").create_bucket(Bucket=name)
    return name


def test_sigv4_form_signed_by_a_known_key_uploads(sigv4: ServerProcess, bucket: str) -> None:
    post = _presigned(sigv4.endpoint, bucket, "a/ok.txt")
    assert {"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature", "policy"} <= set(post["fields"])
    assert _post(post["url"], post["fields"], b"signed")[0] == 204
    s3 = make_client(sigv4.endpoint, "s3")
    assert s3.get_object(Bucket=bucket, Key="a/ok.txt")["Body"].read() == b"signed"


def test_sigv4_tampered_policy_or_wrong_secret_is_signature_does_not_match(sigv4: ServerProcess, bucket: str) -> None:
    post = _presigned(sigv4.endpoint, bucket, "a/k.txt")
    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if not (isinstance(c, dict) and "key" in c)]
    policy["conditions"].append(["starts-with", "$key", ""])  # any key: what a forger wants
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    answer = _post(post["url"], {**post["fields"], "key": "elsewhere.txt", "policy": forged})
    assert _error(answer) == BAD_SIGNATURE
    assert _field(answer, "StringToSign") == forged  # the policy is what a form signs
    assert _field(answer, "SignatureProvided") == post["fields"]["x-amz-signature"]
    assert _field(answer, "AWSAccessKeyId") == "test"
    assert not _exists(make_client(sigv4.endpoint, "s3"), bucket, "elsewhere.txt")

    wrong = _presigned(sigv4.endpoint, bucket, "a/wrong.txt", aws_secret_access_key="not-the-secret")
    assert _error(_post(wrong["url"], wrong["fields"])) == BAD_SIGNATURE
    assert not _exists(make_client(sigv4.endpoint, "s3"), bucket, "a/wrong.txt")


def test_unknown_key_is_invalid_access_key_id(sigv4: ServerProcess, bucket: str) -> None:
    post = _presigned(sigv4.endpoint, bucket, "a/who.txt", aws_access_key_id="AKIANOBODY", aws_secret_access_key="x")
    answer = _post(post["url"], post["fields"])
    assert _error(answer) == (403, "InvalidAccessKeyId",
                              "The AWS Access Key Id you provided does not exist in our records.")
    assert _field(answer, "AWSAccessKeyId") == "AKIANOBODY"


def test_sigv2browser_form(sigv4: ServerProcess, bucket: str) -> None:
    v2 = BotoConfig(signature_version="s3", retries={"max_attempts": 1})
    post = make_client(sigv4.endpoint, "s3", config=v2).generate_presigned_post(bucket, "v2/ok.txt", ExpiresIn=300)
    assert {"AWSAccessKeyId", "signature", "policy"} <= set(post["fields"])
    assert _post(post["url"], post["fields"], b"v2")[0] == 204
    wrong = make_client(sigv4.endpoint, "s3", config=v2, aws_secret_access_key="nope").generate_presigned_post(
        bucket, "v2/wrong.txt", ExpiresIn=300)
    answer = _post(wrong["url"], wrong["fields"])
    assert _error(answer) == BAD_SIGNATURE
    assert _field(answer, "StringToSign") == wrong["fields"]["policy"]


def test_incomplete_or_missing_signature_fields(sigv4: ServerProcess, bucket: str) -> None:
    post = _presigned(sigv4.endpoint, bucket, "a/partial.txt")
    fields = {k: v for k, v in post["fields"].items() if k != "x-amz-date"}
    answer = _post(post["url"], fields)
    assert _error(answer) == (400, "InvalidArgument", "Bucket POST must contain a field named 'X-Amz-Date'.  "
                                                      "If it is specified, please check the order of the fields.")
    assert (_field(answer, "ArgumentName"), _field(answer, "ArgumentValue")) == ("X-Amz-Date", "")
    # A policy with no signature at all, and a form with neither (anonymous, refused in sigv4 mode).
    unsigned = {k: v for k, v in post["fields"].items() if not k.startswith("x-amz-")}
    assert _error(_post(post["url"], unsigned)) == DENIED
    assert _error(_post(post["url"], {"key": "a/anon.txt"})) == DENIED
    bad_credential = {**post["fields"], "x-amz-credential": "test/20260101/us-east-1/s3"}
    answer = _post(post["url"], bad_credential)
    assert _error(answer)[:2] == (400, "InvalidArgument")
    assert _field(answer, "ArgumentName") == "x-amz-credential"
    assert not any(_exists(make_client(sigv4.endpoint, "s3"), bucket, k) for k in ("a/partial.txt", "a/anon.txt"))


def test_temporary_credentials_sign_forms_with_their_token(sigv4: ServerProcess, bucket: str) -> None:
    creds = make_client(sigv4.endpoint, "sts").get_session_token()["Credentials"]
    post = _presigned(sigv4.endpoint, bucket, "a/temp.txt", aws_access_key_id=creds["AccessKeyId"],
                      aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    assert post["fields"]["x-amz-security-token"] == creds["SessionToken"]
    without_token = {k: v for k, v in post["fields"].items() if k != "x-amz-security-token"}
    assert _error(_post(post["url"], without_token)) == (400, "InvalidToken",
                                                         "The provided token is malformed or otherwise invalid.")
    assert _post(post["url"], post["fields"], b"temp")[0] == 204


def test_expired_policy_with_a_good_signature(sigv4: ServerProcess, bucket: str) -> None:
    post = _presigned(sigv4.endpoint, bucket, "a/late.txt", expires=-60)
    assert _error(_post(post["url"], post["fields"])) == (403, "AccessDenied",
                                                          "Invalid according to Policy: Policy expired.")


def test_refused_form_leaves_the_connection_usable(sigv4: ServerProcess, bucket: str) -> None:
    """The file of a refused form is read off the connection: the next request on it is parsed cleanly."""
    import http.client
    from urllib.parse import urlsplit

    post = _presigned(sigv4.endpoint, bucket, "a/big.txt", aws_secret_access_key="wrong")
    body, ctype = browser_form(post["fields"], b"z" * 300_000)
    url = urlsplit(post["url"])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("POST", url.path or "/", body=body, headers={"Content-Type": ctype})
        first = conn.getresponse()
        assert (first.status, first.read().count(b"SignatureDoesNotMatch")) == (403, 1)
        good = _presigned(sigv4.endpoint, bucket, "a/next.txt")
        body, ctype = browser_form(good["fields"], b"next")
        conn.request("POST", url.path or "/", body=body, headers={"Content-Type": ctype})
        second = conn.getresponse()
        second.read()
        assert second.status == 204
    finally:
        conn.close()


# -- iam mode: the authorization ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def iam() -> Iterator[ServerProcess]:
    with ServerProcess(env={"AWSEMU_AUTH": "iam", "AWSEMU_SERVICES": "s3,iam,sts"}) as s:
        yield s


def user_with_policy(server: ServerProcess, name: str, policy: str, account_key: str = "test") -> dict[str, str]:
    client = make_client(server.endpoint, "iam", aws_access_key_id=account_key)
    client.create_user(UserName=name)
    client.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = client.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def test_iam_user_needs_put_object_on_the_key(iam: ServerProcess) -> None:
    root = make_client(iam.endpoint, "s3")
    root.create_bucket(Bucket="iam-forms")
    reader = user_with_policy(iam, "form-reader", doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    post = _presigned(iam.endpoint, "iam-forms", "up/r.txt", **reader)
    assert _error(_post(post["url"], post["fields"])) == DENIED
    assert not _exists(root, "iam-forms", "up/r.txt")

    writer = user_with_policy(iam, "form-writer", doc(
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::iam-forms/up/*"}))
    post = _presigned(iam.endpoint, "iam-forms", "up/w.txt", **writer)
    assert _post(post["url"], post["fields"], b"by writer")[0] == 204
    assert root.get_object(Bucket="iam-forms", Key="up/w.txt")["Body"].read() == b"by writer"
    # The user may write under up/ only: a form for another key is refused.
    post = _presigned(iam.endpoint, "iam-forms", "other/w.txt", **writer)
    assert _error(_post(post["url"], post["fields"])) == DENIED


def test_bucket_policy_grants_another_account(iam: ServerProcess) -> None:
    root = make_client(iam.endpoint, "s3")
    root.create_bucket(Bucket="iam-shared-forms")
    post = _presigned(iam.endpoint, "iam-shared-forms", "from-b.txt", aws_access_key_id=B)
    assert _error(_post(post["url"], post["fields"])) == DENIED
    root.put_bucket_policy(Bucket="iam-shared-forms", Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::iam-shared-forms/*"}))
    assert _post(post["url"], post["fields"], b"from B")[0] == 204
    assert root.get_object(Bucket="iam-shared-forms", Key="from-b.txt")["Body"].read() == b"from B"


def test_anonymous_form_only_where_the_bucket_policy_allows_anyone(iam: ServerProcess) -> None:
    root = make_client(iam.endpoint, "s3")
    root.create_bucket(Bucket="iam-public-forms")
    url = f"{iam.endpoint}/iam-public-forms"
    assert _error(_post(url, {"key": "drop/anon.txt"})) == DENIED
    assert not _exists(root, "iam-public-forms", "drop/anon.txt")
    root.delete_public_access_block(Bucket="iam-public-forms")  # new buckets block public policies
    root.put_bucket_policy(Bucket="iam-public-forms", Policy=doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::iam-public-forms/drop/*"}))
    assert _post(url, {"key": "drop/anon.txt"}, b"anyone")[0] == 204
    assert root.get_object(Bucket="iam-public-forms", Key="drop/anon.txt")["Body"].read() == b"anyone"
    assert _error(_post(url, {"key": "elsewhere.txt"})) == DENIED
