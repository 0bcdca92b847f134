"""What the gateway calls for S3's HTTP-level features: CORS preflight and response headers,
presigned-URL expiry, POST Object (browser form upload). Tested on the provider in-process,
on a real storage directory, since the gateway wiring is the gateway's."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest

from awsemu.app import close_storage, open_storage
from awsemu.config import Config
from awsemu.datadir import DataDir
from awsemu.services.base import CallContext, ServiceError
from awsemu.services.s3 import cors
from awsemu.services.s3.presign import check_presigned_expiry
from awsemu.services.s3.provider import S3Provider

CTX = CallContext(service="s3", operation="test", endpoint="http://localhost:4566")


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[S3Provider]:
    config = Config(data_dir=tmp_path / "data", services=("s3",))
    data_dir = DataDir.acquire(config.data_dir, False)
    storage = open_storage(data_dir, config)
    p = S3Provider(storage, config)
    try:
        yield p
    finally:
        close_storage(storage)
        data_dir.release()


RULES = {"CORSRules": [
    {"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT", "GET"],
     "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
]}


def test_cors_preflight_and_response_headers(provider: S3Provider) -> None:
    provider.create_bucket(CTX, Bucket="web")
    with pytest.raises(ServiceError) as exc:
        provider.cors_preflight("web", "https://app.example.com", "PUT", None)
    assert (exc.value.code, exc.value.status, exc.value.message) == (
        "AccessForbidden", 403, "CORSResponse: CORS is not enabled for this bucket.")
    provider.put_bucket_cors(CTX, Bucket="web", CORSConfiguration=RULES)
    headers = provider.cors_preflight("web", "https://app.example.com", "PUT", "Content-Type, X-Amz-Date")
    assert headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert headers["Access-Control-Allow-Methods"] == "PUT, GET"
    assert headers["Access-Control-Allow-Headers"] == "content-type, x-amz-date"
    assert headers["Access-Control-Max-Age"] == "600"
    assert headers["Access-Control-Expose-Headers"] == "ETag"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    with pytest.raises(ServiceError) as exc:
        provider.cors_preflight("web", "https://app.example.com", "DELETE", None)
    assert exc.value.code == "AccessForbidden" and exc.value.message == cors.NOT_ALLOWED
    with pytest.raises(ServiceError) as exc:
        provider.cors_preflight("web", "https://app.example.com", "PUT", "x-custom")
    assert exc.value.code == "AccessForbidden"
    with pytest.raises(ServiceError) as exc:
        provider.cors_preflight("web", None, "PUT", None)
    assert (exc.value.code, exc.value.status) == ("BadRequest", 400)
    anyone = provider.cors_headers("web", "https://elsewhere.org", "GET")
    assert anyone["Access-Control-Allow-Origin"] == "*" and "Access-Control-Allow-Credentials" not in anyone
    assert provider.cors_headers("web", "https://elsewhere.org", "PUT") == {}
    assert provider.cors_headers("web", None, "GET") == {}


def test_presigned_expiry() -> None:
    signed = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    query = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Date", "20260101T120000Z"),
             ("X-Amz-Expires", "60"), ("X-Amz-Signature", "abc")]
    check_presigned_expiry(query, now=signed.timestamp() + 59)
    with pytest.raises(ServiceError) as exc:
        check_presigned_expiry(query, now=signed.timestamp() + 61)
    assert (exc.value.code, exc.value.status, exc.value.message) == ("AccessDenied", 403, "Request has expired")
    assert exc.value.fields == {"X-Amz-Expires": "60", "Expires": "2026-01-01T12:01:00Z",
                                "ServerTime": "2026-01-01T12:01:01Z"}
    too_long = [(k, "604801" if k == "X-Amz-Expires" else v) for k, v in query]
    with pytest.raises(ServiceError) as exc:
        check_presigned_expiry(too_long, now=signed.timestamp())
    assert exc.value.code == "AuthorizationQueryParametersError"
    v2 = [("AWSAccessKeyId", "test"), ("Expires", str(int(signed.timestamp()))), ("Signature", "x")]
    with pytest.raises(ServiceError) as exc:
        check_presigned_expiry(v2, now=signed.timestamp() + 1)
    assert exc.value.message == "Request has expired"
    check_presigned_expiry([("list-type", "2")])  # not presigned: nothing to check


def form_body(fields: list[tuple[str, str]], content: bytes, boundary: str = "XyZzY") -> bytes:
    out = b""
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="pic.png"\r\n'
            f"Content-Type: image/png\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return out


async def chunks(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def policy(conditions: list[Any], minutes: int = 5) -> str:
    expiration = (datetime.now(timezone.utc) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return base64.b64encode(json.dumps({"expiration": expiration, "conditions": conditions}).encode()).decode()


def test_post_object(provider: S3Provider) -> None:
    provider.create_bucket(CTX, Bucket="uploads")
    content = b"\x89PNG" + bytes(range(256)) * 40
    doc = policy([{"bucket": "uploads"}, ["starts-with", "$key", "user/"], ["content-length-range", 1, 100000],
                  {"success_action_status": "201"}, ["starts-with", "$x-amz-meta-tag", ""]])
    fields = [("key", "user/${filename}"), ("policy", doc), ("success_action_status", "201"),
              ("x-amz-meta-tag", "holiday"), ("x-amz-signature", "ignored-here")]
    body = form_body(fields, content)
    status, headers, xml = asyncio.run(
        provider.post_object(CTX, "uploads", "multipart/form-data; boundary=XyZzY", chunks(body)))
    assert status == 201
    assert b"<Key>user/pic.png</Key>" in xml and b"<Bucket>uploads</Bucket>" in xml
    got = provider.get_object(CTX, Bucket="uploads", Key="user/pic.png")
    assert got["Body"] == content
    assert got["ContentType"] == "image/png" and got["Metadata"] == {"tag": "holiday"}
    assert headers["ETag"] == got["ETag"]
    redirect = [("key", "user/r.png"), ("success_action_redirect", "https://app.example.com/done")]
    status, headers, _ = asyncio.run(provider.post_object(
        CTX, "uploads", "multipart/form-data; boundary=XyZzY", chunks(form_body(redirect, b"x"))))
    assert status == 303
    assert headers["Location"].startswith("https://app.example.com/done?bucket=uploads&key=user%2Fr.png&etag=")


def test_post_object_policy_failures(provider: S3Provider) -> None:
    provider.create_bucket(CTX, Bucket="uploads")
    cases = [
        (policy([["starts-with", "$key", "user/"]]), "other/x", b"x",
         'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "user/"]'),
        (policy([["starts-with", "$key", ""]], minutes=-1), "k", b"x", "Invalid according to Policy: Policy expired."),
        (policy([["starts-with", "$key", ""]]), "k", b"x", None),
    ]
    for doc, key, content, message in cases:
        fields = [("key", key), ("policy", doc)] + ([("x-amz-meta-extra", "1")] if message is None else [])
        with pytest.raises(ServiceError) as exc:
            asyncio.run(provider.post_object(CTX, "uploads", "multipart/form-data; boundary=XyZzY",
                                             chunks(form_body(fields, content))))
        assert exc.value.code == "AccessDenied"
        assert exc.value.message == (message or "Invalid according to Policy: Extra input fields: x-amz-meta-extra")
    too_big = [("key", "k"), ("policy", policy([["starts-with", "$key", ""], ["content-length-range", 1, 10]]))]
    with pytest.raises(ServiceError) as exc:
        asyncio.run(provider.post_object(CTX, "uploads", "multipart/form-data; boundary=XyZzY",
                                         chunks(form_body(too_big, b"x" * 11))))
    assert (exc.value.code, exc.value.message) == ("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
