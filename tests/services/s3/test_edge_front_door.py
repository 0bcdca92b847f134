"""S3's HTTP edge through a real server with plain HTTP, the way a browser or curl speaks it:
CORS preflight + PUT to a presigned URL, POST Object form uploads, expired presigned URLs, 206
partial content, and early errors that must not leave `Expect: 100-continue` clients waiting."""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from awsemu.testing.forms import browser_form
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree



def _request(url: str, method: str, data: bytes | None = None, headers: dict[str, str] | None = None
             ) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def _error(body: bytes) -> tuple[str, str]:
    root = ElementTree.fromstring(body)
    return root.findtext("Code") or "", root.findtext("Message") or ""


def test_browser_preflight_then_put_to_presigned_url(s3: Any, bucket: str, aws_endpoint_url: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["https://app.example"], "AllowedMethods": ["PUT", "GET"],
        "AllowedHeaders": ["content-type"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600}]})
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "upload.txt"}, ExpiresIn=300)

    status, headers, _ = _request(url, "OPTIONS", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert "PUT" in headers["access-control-allow-methods"]
    assert headers["access-control-allow-headers"].lower() == "content-type"
    assert headers["access-control-max-age"] == "600"
    assert headers["x-amz-request-id"]

    status, headers, _ = _request(url, "PUT", b"from the browser", {
        "Origin": "https://app.example", "Content-Type": "text/plain"})
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example"
    assert headers["access-control-expose-headers"] == "ETag"
    obj = s3.get_object(Bucket=bucket, Key="upload.txt")
    assert obj["Body"].read() == b"from the browser"

    status, _, body = _request(url.split("?")[0], "OPTIONS", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"})
    assert status == 403
    assert _error(body)[0] == "AccessForbidden"


def test_preflight_without_cors_configuration_is_forbidden(bucket: str, aws_endpoint_url: str) -> None:
    status, _, body = _request(f"{aws_endpoint_url}/{bucket}/k", "OPTIONS", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert status == 403
    assert _error(body) == ("AccessForbidden", "CORSResponse: CORS is not enabled for this bucket.")


def test_expired_presigned_url_is_access_denied(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    assert _request(url, "GET")[0] == 200
    time.sleep(2.1)
    status, _, body = _request(url, "GET")
    assert status == 403
    assert _error(body) == ("AccessDenied", "Request has expired")


def test_post_object_form_upload_with_policy(s3: Any, bucket: str) -> None:
    post = s3.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"success_action_status": "201"},
        Conditions=[["starts-with", "$key", "uploads/"], {"success_action_status": "201"},
                    ["content-length-range", 1, 1024]],
        ExpiresIn=300)
    body, ctype = browser_form(list(post["fields"].items()), b"form data", "hello.txt")
    status, headers, answer = _request(post["url"], "POST", body, {"Content-Type": ctype})
    assert status == 201, answer
    root = ElementTree.fromstring(answer)
    assert root.tag == "PostResponse"
    assert root.findtext("Bucket") == bucket and root.findtext("Key") == "uploads/hello.txt"
    assert s3.get_object(Bucket=bucket, Key="uploads/hello.txt")["Body"].read() == b"form data"

    too_big, ctype = browser_form(list(post["fields"].items()), b"x" * 2000, "big.txt")
    status, _, answer = _request(post["url"], "POST", too_big, {"Content-Type": ctype})
    assert status == 400
    assert _error(answer)[0] == "EntityTooLarge"


def test_ranged_get_is_206_partial_content(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"0123456789")
    part = s3.get_object(Bucket=bucket, Key="k", Range="bytes=2-5")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["ContentRange"] == "bytes 2-5/10"
    assert part["Body"].read() == b"2345"
    whole = s3.get_object(Bucket=bucket, Key="k")
    assert whole["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_early_error_does_not_leave_expect_continue_client_waiting(bucket: str, aws_endpoint_url: str) -> None:
    parts = urlsplit(aws_endpoint_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        # partNumber must be an integer: the codec refuses the request before reading its body.
        conn.putrequest("PUT", f"/{bucket}/k?partNumber=abc&uploadId=x")
        conn.putheader("Content-Length", "1048576")
        conn.putheader("Expect", "100-continue")
        conn.endheaders()
        resp = conn.getresponse()  # a server waiting for the body would hit the 10 s socket timeout
        body = resp.read()
        assert resp.status == 400
        assert _error(body)[0] == "InvalidArgument"
        assert resp.getheader("Connection") == "close"
    finally:
        conn.close()
