"""sigv4 mode through the front door: every protocol family, valid vs tampered requests.

Requests are signed by botocore (an independent signer): boto3 clients for the valid ones, and
``botocore.auth.SigV4Auth`` for the raw ones we then tamper with. For each family (query: IAM, STS,
SQS-query; json: DynamoDB, SQS-json; rest-json: Lambda; rest-xml: S3 incl. presigned and chunked
uploads) the test sends the valid request and these variants, each of which must be rejected:
tampered signed header, tampered path/query, tampered body, wrong secret, unknown key, clock skew
(signed 20 minutes ago), replay to another Host, and unsigned. The report quotes the counts.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Iterator
from unittest import mock

import botocore.auth
import botocore.config
import pytest
import urllib3
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from awsemu.auth.sigv4 import canonical_headers, canonical_request, sign, signing_key, string_to_sign
from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess

AUTH_CODES = {"SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException",
              "InvalidSignatureException", "RequestTimeTooSkewed", "AccessDenied", "MissingAuthenticationToken",
              "MissingAuthenticationTokenException", "IncompleteSignature", "AuthorizationHeaderMalformed",
              "XAmzContentSHA256Mismatch", "ExpiredToken", "InvalidToken"}
HTTP = urllib3.PoolManager()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(env={"AWSEMU_AUTH": "sigv4", "AWSEMU_SERVICES": "s3,sqs,dynamodb,lambda,iam,sts"}) as s:
        yield s


def _error_code(response: urllib3.BaseHTTPResponse) -> str | None:
    body = response.data.decode("utf-8", "replace")
    for marker in ("<Code>", '"__type":"', '"__type": "'):
        if marker in body:
            tail = body.split(marker, 1)[1]
            code = tail.split("<" if marker == "<Code>" else '"', 1)[0]
            return code.rsplit("#", 1)[-1]
    return response.headers.get("x-amzn-ErrorType", "").split(":")[0] or None


def rejected(response: urllib3.BaseHTTPResponse) -> bool:
    return response.status in (400, 403) and _error_code(response) in AUTH_CODES


def signed(endpoint: str, method: str, path: str, service: str, body: bytes = b"", headers: dict[str, str] | None = None,
           key: str = "test", secret: str = "test", when: float | None = None) -> tuple[str, dict[str, str], bytes]:
    request = AWSRequest(method=method, url=endpoint + path, data=body, headers=dict(headers or {}))
    signer_cls = botocore.auth.S3SigV4Auth if service == "s3" else botocore.auth.SigV4Auth
    signer = signer_cls(Credentials(key, secret), service, "us-east-1")
    if when is None:
        signer.add_auth(request)
    else:
        import datetime
        with mock.patch("botocore.auth.get_current_datetime",
                        return_value=datetime.datetime.fromtimestamp(when, datetime.timezone.utc).replace(tzinfo=None)):
            signer.add_auth(request)
    return request.url, dict(request.headers.items()), body


def send(url: str, method: str, headers: dict[str, str], body: bytes) -> urllib3.BaseHTTPResponse:
    return HTTP.request(method, url, headers=headers, body=body or None, retries=False, redirect=False)


FAMILIES = {
    # name: (service, method, path, body, headers)
    "query-iam": ("iam", "POST", "/", b"Action=ListUsers&Version=2010-05-08",
                  {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
    "query-sts": ("sts", "POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15",
                  {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
    "query-sqs": ("sqs", "POST", "/", b"Action=ListQueues&Version=2012-11-05",
                  {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}),
    "json-dynamodb": ("dynamodb", "POST", "/", b"{}",
                      {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"}),
    "json-sqs": ("sqs", "POST", "/", b"{}",
                 {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"}),
    "rest-json-lambda": ("lambda", "GET", "/2015-03-31/functions/", b"", {}),
    "rest-xml-s3": ("s3", "GET", "/", b"", {}),
    "rest-xml-s3-put": ("s3", "PUT", "/sigv4-bucket/obj.txt", b"hello world", {}),
}
TAMPERS = ["header", "path", "body", "secret", "unknown-key", "skew", "other-host", "unsigned"]


def variant(endpoint: str, family: str, how: str | None) -> tuple[str, str, dict[str, str], bytes]:
    service, method, path, body, headers = FAMILIES[family]
    kwargs: dict[str, Any] = {}
    if how == "secret":
        kwargs["secret"] = "not-the-secret"
    elif how == "unknown-key":
        kwargs["key"] = "AKIAUNKNOWNKEY000000"
    elif how == "skew":
        kwargs["when"] = time.time() - 20 * 60
    url, hdrs, data = signed(endpoint, method, path, service, body, headers, **kwargs)
    if how == "header":
        hdrs["X-Amz-Date"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 1))
    elif how == "path":
        url = url + ("?x=1" if "?" not in url else "&x=1")
    elif how == "body":
        data = (data + b" ") if data else b"tampered"
        if service == "s3":
            hdrs["Content-Length"] = str(len(data))
    elif how == "other-host":
        hdrs["Host"] = "elsewhere.example.com:4566"
    elif how == "unsigned":
        hdrs.pop("Authorization", None)
    return url, method, hdrs, data


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_valid_accepted_and_every_tampering_rejected(server, family):
    s3 = make_client(server.endpoint, "s3")
    if family == "rest-xml-s3-put":
        try:
            s3.create_bucket(Bucket="sigv4-bucket")
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
    url, method, headers, body = variant(server.endpoint, family, None)
    ok = send(url, method, headers, body)
    # Past the auth step the provider answers.
    assert not rejected(ok) and ok.status == 200, (family, ok.status, ok.data[:300])
    failures = []
    for how in TAMPERS:
        if how == "body" and not FAMILIES[family][3]:
            continue
        url, method, headers, body = variant(server.endpoint, family, how)
        response = send(url, method, headers, body)
        if not rejected(response):
            failures.append((how, response.status, response.data[:200]))
    assert failures == []


def test_boto3_clients_work_in_sigv4_mode(server):
    assert make_client(server.endpoint, "sts").get_caller_identity()["Account"] == "000000000000"
    s3 = make_client(server.endpoint, "s3")
    s3.create_bucket(Bucket="boto-sigv4")
    s3.put_object(Bucket="boto-sigv4", Key="k", Body=b"x" * 4096)
    assert s3.get_object(Bucket="boto-sigv4", Key="k")["Body"].read() == b"x" * 4096
    make_client(server.endpoint, "dynamodb").list_tables()
    make_client(server.endpoint, "sqs").list_queues()
    bad = make_client(server.endpoint, "dynamodb", aws_secret_access_key="wrong")
    with pytest.raises(bad.exceptions.ClientError) as exc:
        bad.list_tables()
    assert exc.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_presigned_urls(server):
    s3 = make_client(server.endpoint, "s3", config=botocore.config.Config(signature_version="s3v4"))
    s3.create_bucket(Bucket="presign-bucket")
    s3.put_object(Bucket="presign-bucket", Key="a.txt", Body=b"abc")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "presign-bucket", "Key": "a.txt"}, ExpiresIn=60)
    good = HTTP.request("GET", url, retries=False)
    assert good.status == 200 and good.data == b"abc"
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    for tampered in (url.replace("a.txt", "b.txt"), url.replace("X-Amz-Expires=60", "X-Amz-Expires=61"),
                     url[:-3] + ("000" if not url.endswith("000") else "111")):
        response = HTTP.request("GET", tampered, retries=False)
        assert response.status == 403 and _error_code(response) == "SignatureDoesNotMatch", tampered
    other_host = HTTP.request("GET", url, headers={"Host": "evil.example.com"}, retries=False)
    assert rejected(other_host)
    short = s3.generate_presigned_url("get_object", Params={"Bucket": "presign-bucket", "Key": "a.txt"}, ExpiresIn=1)
    time.sleep(1.2)
    expired = HTTP.request("GET", short, retries=False)
    assert expired.status == 403 and _error_code(expired) == "AccessDenied" and b"Request has expired" in expired.data
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "presign-bucket", "Key": "up.txt"}, ExpiresIn=60)
    assert HTTP.request("PUT", put_url, body=b"uploaded", retries=False).status == 200
    assert s3.get_object(Bucket="presign-bucket", Key="up.txt")["Body"].read() == b"uploaded"
    v2 = make_client(server.endpoint, "s3", config=botocore.config.Config(signature_version="s3"))
    v2_url = v2.generate_presigned_url("get_object", Params={"Bucket": "presign-bucket", "Key": "a.txt"}, ExpiresIn=60)
    assert HTTP.request("GET", v2_url, retries=False).data == b"abc"
    assert rejected(HTTP.request("GET", v2_url.replace("a.txt", "b.txt"), retries=False))


def _chunked_put(endpoint: str, key: str, chunks: list[bytes], tamper: str | None = None) -> urllib3.BaseHTTPResponse:
    """A STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload, signed per chunk as the S3 docs describe."""
    host = endpoint.split("://", 1)[1]
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    decoded_length = sum(len(c) for c in chunks)
    frames_len = sum(len(f"{len(c):x};chunk-signature=".encode()) + 64 + 2 + len(c) + 2 for c in chunks + [b""])
    headers = {"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
               "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(decoded_length),
               "content-length": str(frames_len)}
    signed_names = tuple(sorted(headers))
    canonical = canonical_request("PUT", f"/chunk-bucket/{key}", "", canonical_headers(headers, signed_names),
                                  signed_names, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    k = signing_key("test", amz_date[:8], "us-east-1", "s3")
    seed = sign(k, string_to_sign(amz_date, scope, canonical))
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential=test/{scope},SignedHeaders={';'.join(signed_names)},"
                                f"Signature={seed}")
    body, previous = b"", seed
    empty = hashlib.sha256(b"").hexdigest()
    for i, chunk in enumerate(chunks + [b""]):
        signature = sign(k, f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{empty}\n"
                            f"{hashlib.sha256(chunk).hexdigest()}")
        previous = signature
        data = chunk
        if tamper == "data" and i == 1:
            data = b"X" + chunk[1:]
        if tamper == "signature" and i == 0:
            signature = "0" * 64
        body += f"{len(chunk):x};chunk-signature={signature}\r\n".encode() + data + b"\r\n"
    return HTTP.request("PUT", f"{endpoint}/chunk-bucket/{key}", headers=headers, body=body, retries=False)


def test_chunked_upload_signatures(server):
    make_client(server.endpoint, "s3").create_bucket(Bucket="chunk-bucket")
    chunks = [b"a" * 65536, b"b" * 1024]
    ok = _chunked_put(server.endpoint, "good", chunks)
    assert ok.status == 200, ok.data
    got = make_client(server.endpoint, "s3").get_object(Bucket="chunk-bucket", Key="good")["Body"].read()
    assert got == b"".join(chunks)
    for tamper in ("data", "signature"):
        response = _chunked_put(server.endpoint, f"bad-{tamper}", chunks, tamper)
        assert rejected(response), (tamper, response.status, response.data[:300])
        s3 = make_client(server.endpoint, "s3")
        with pytest.raises(s3.exceptions.ClientError):
            s3.head_object(Bucket="chunk-bucket", Key=f"bad-{tamper}")
