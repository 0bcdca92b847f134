"""Integrity: Content-MD5, flexible checksums in headers and aws-chunked trailers, checksum mode."""

from __future__ import annotations

import base64
import hashlib
import http.client
import zlib
from typing import Any
from urllib.parse import urlsplit

import crc32c
import pytest
from awscrt import checksums as crt
from botocore.exceptions import ClientError
from s3_helpers import error_of

BODY = b"The quick brown fox jumps over the lazy dog" * 100


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


EXPECTED = {
    "CRC32": b64(zlib.crc32(BODY).to_bytes(4, "big")),
    "CRC32C": b64(crc32c.crc32c(BODY).to_bytes(4, "big")),
    "CRC64NVME": b64(crt.crc64nvme(BODY).to_bytes(8, "big")),
    "SHA1": b64(hashlib.sha1(BODY).digest()),
    "SHA256": b64(hashlib.sha256(BODY).digest()),
}


def raw_put(endpoint: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    url = urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("PUT", path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def test_content_md5(s3: Any, bucket: str) -> None:
    good = b64(hashlib.md5(BODY).digest())
    s3.put_object(Bucket=bucket, Key="md5", Body=BODY, ContentMD5=good)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="md5", Body=BODY, ContentMD5=b64(hashlib.md5(b"other").digest()))
    assert error_of(exc) == ("BadDigest", "The Content-MD5 you specified did not match what we received.", 400)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="md5", Body=BODY, ContentMD5="not-base64!")
    assert error_of(exc) == ("InvalidDigest", "The Content-MD5 you specified was invalid.", 400)
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == BODY


@pytest.mark.parametrize("algorithm", sorted(EXPECTED))
def test_flexible_checksum_headers_and_mode(s3: Any, bucket: str, algorithm: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="c", Body=BODY, ChecksumAlgorithm=algorithm)
    assert put[f"Checksum{algorithm}"] == EXPECTED[algorithm]
    assert put["ChecksumType"] == "FULL_OBJECT"
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == EXPECTED[algorithm]
    assert head["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert got["Body"].read() == BODY  # botocore validates the checksum while reading
    assert got[f"Checksum{algorithm}"] == EXPECTED[algorithm]
    assert "ChecksumCRC32" not in s3.head_object(Bucket=bucket, Key="c") or algorithm == "CRC32"


def test_server_side_crc64nvme_default(aws_endpoint_url: str, s3: Any, bucket: str) -> None:
    status, _ = raw_put(aws_endpoint_url, f"/{bucket}/plain", {"Content-Length": str(len(BODY))}, BODY)
    assert status == 200
    head = s3.head_object(Bucket=bucket, Key="plain", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == EXPECTED["CRC64NVME"]
    assert head["ChecksumType"] == "FULL_OBJECT"


def test_checksum_header_mismatch_and_malformed(aws_endpoint_url: str, s3: Any, bucket: str) -> None:
    wrong = b64(zlib.crc32(b"other").to_bytes(4, "big"))
    status, body = raw_put(aws_endpoint_url, f"/{bucket}/bad", {"x-amz-checksum-crc32": wrong}, BODY)
    assert status == 400
    assert b"<Code>BadDigest</Code>" in body
    assert b"The CRC32 you specified did not match the calculated checksum." in body
    status, body = raw_put(aws_endpoint_url, f"/{bucket}/bad", {"x-amz-checksum-sha256": "AAAA"}, BODY)
    assert status == 400
    assert b"<Code>InvalidRequest</Code>" in body
    assert b"Value for x-amz-checksum-sha256 header is invalid." in body
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")


def chunked(body: bytes, trailers: dict[str, str], chunk: int = 1000) -> bytes:
    out = bytearray()
    for i in range(0, len(body), chunk):
        piece = body[i : i + chunk]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += b"0\r\n"
    for name, value in trailers.items():
        out += f"{name}:{value}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA256"])
def test_aws_chunked_trailer(aws_endpoint_url: str, s3: Any, bucket: str, algorithm: str) -> None:
    name = f"x-amz-checksum-{algorithm.lower()}"
    payload = chunked(BODY, {name: EXPECTED[algorithm]})
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(BODY)),
        "x-amz-trailer": name,
        "x-amz-sdk-checksum-algorithm": algorithm,
        "Content-Length": str(len(payload)),
    }
    status, body = raw_put(aws_endpoint_url, f"/{bucket}/chunked", headers, payload)
    assert status == 200, body
    got = s3.get_object(Bucket=bucket, Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == BODY
    assert got[f"Checksum{algorithm}"] == EXPECTED[algorithm]
    assert "ContentEncoding" not in got  # aws-chunked is framing, not stored


def test_aws_chunked_trailer_mismatch(aws_endpoint_url: str, s3: Any, bucket: str) -> None:
    payload = chunked(BODY, {"x-amz-checksum-crc32c": EXPECTED["CRC32"]})
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(BODY)),
        "x-amz-trailer": "x-amz-checksum-crc32c",
        "x-amz-sdk-checksum-algorithm": "CRC32C",
    }
    status, body = raw_put(aws_endpoint_url, f"/{bucket}/chunked-bad", headers, payload)
    assert status == 400
    assert b"The CRC32C you specified did not match the calculated checksum." in body
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="chunked-bad")
    assert error_of(exc)[2] == 404


def test_signed_streaming_chunks_decoded(aws_endpoint_url: str, s3: Any, bucket: str) -> None:
    out = bytearray()
    for i in range(0, len(BODY), 1500):
        piece = BODY[i : i + 1500]
        out += f"{len(piece):x};chunk-signature={'0' * 64}\r\n".encode() + piece + b"\r\n"
    out += f"0;chunk-signature={'0' * 64}\r\n\r\n".encode()
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-decoded-content-length": str(len(BODY)),
    }
    status, body = raw_put(aws_endpoint_url, f"/{bucket}/signed", headers, bytes(out))
    assert status == 200, body
    assert s3.get_object(Bucket=bucket, Key="signed")["Body"].read() == BODY


def test_expect_100_continue(aws_endpoint_url: str, s3: Any, bucket: str) -> None:
    url = urlsplit(aws_endpoint_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("PUT", f"/{bucket}/expect")
    conn.putheader("Content-Length", str(len(BODY)))
    conn.putheader("Expect", "100-continue")
    conn.endheaders()
    conn.sock.settimeout(5)
    interim = conn.sock.recv(100)
    assert interim.startswith(b"HTTP/1.1 100")
    conn.send(BODY)
    response = conn.getresponse()
    assert response.status == 200
    conn.close()
    assert s3.get_object(Bucket=bucket, Key="expect")["Body"].read() == BODY
