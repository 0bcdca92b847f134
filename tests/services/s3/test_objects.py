"""Objects: put/get/head/delete, metadata and content headers, ranges, conditionals, copy, SSE."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_helpers import error_of


def test_put_get_head_with_headers_and_metadata(s3: Any, bucket: str) -> None:
    body = os.urandom(3000)
    expires = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    put = s3.put_object(
        Bucket=bucket, Key="dir/file.bin", Body=body, ContentType="application/x-test",
        ContentDisposition='attachment; filename="f.bin"', ContentLanguage="de", CacheControl="max-age=60",
        ContentEncoding="identity", Expires=expires, Metadata={"color": "blue", "Mixed-Case": "v"},
        StorageClass="STANDARD_IA", WebsiteRedirectLocation="/other",
    )
    etag = '"' + hashlib.md5(body).hexdigest() + '"'
    assert put["ETag"] == etag
    assert put["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="dir/file.bin")
    assert got["Body"].read() == body
    assert got["ETag"] == etag
    assert got["ContentLength"] == 3000
    assert got["ContentType"] == "application/x-test"
    assert got["ContentDisposition"] == 'attachment; filename="f.bin"'
    assert got["ContentLanguage"] == "de"
    assert got["CacheControl"] == "max-age=60"
    assert got["ContentEncoding"] == "identity"
    assert got["Expires"] == expires
    assert got["Metadata"] == {"color": "blue", "mixed-case": "v"}
    assert got["StorageClass"] == "STANDARD_IA"
    assert got["WebsiteRedirectLocation"] == "/other"
    assert got["AcceptRanges"] == "bytes"
    head = s3.head_object(Bucket=bucket, Key="dir/file.bin")
    assert head["ContentLength"] == 3000 and head["ETag"] == etag and head["Metadata"]["color"] == "blue"
    assert abs((head["LastModified"] - datetime.now(timezone.utc)).total_seconds()) < 60


def test_default_content_type_and_empty_body(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentType"] == "binary/octet-stream"
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_non_ascii_metadata(aws_endpoint_url: str, s3: Any, bucket: str) -> None:
    import http.client
    from urllib.parse import urlsplit

    # botocore refuses non-ASCII metadata client-side; other clients send raw UTF-8 header bytes
    url = urlsplit(aws_endpoint_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("PUT", f"/{bucket}/meta")
    conn.putheader("x-amz-meta-name", "Ünïcødé ✓".encode("utf-8"))
    conn.putheader("Content-Length", "1")
    conn.endheaders(b"x")
    assert conn.getresponse().status == 200
    conn.close()
    meta = s3.head_object(Bucket=bucket, Key="meta")["Metadata"]["name"]
    # S3 answers non-ASCII metadata RFC 2047-encoded
    assert meta == "=?UTF-8?B?" + base64.b64encode("Ünïcødé ✓".encode()).decode() + "?="


def test_response_overrides(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="o", Body=b"data", ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="application/json",
                        ResponseContentDisposition="inline", ResponseCacheControl="no-cache",
                        ResponseContentLanguage="fr", ResponseContentEncoding="gzip")
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "no-cache"
    assert got["ContentLanguage"] == "fr"
    assert got["ContentEncoding"] == "gzip"


def test_missing_key_and_bucket(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="nope")
    assert error_of(exc) == ("NoSuchKey", "The specified key does not exist.", 404)
    assert exc.value.response["Error"]["Key"] == "nope"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="nope")
    assert error_of(exc)[2] == 404
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="no-such-bucket-xyz-123", Key="k", Body=b"x")
    assert error_of(exc) == ("NoSuchBucket", "The specified bucket does not exist", 404)


def test_key_too_long(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert error_of(exc) == ("KeyTooLongError", "Your key is too long", 400)


def test_invalid_storage_class(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="FANCY")
    assert error_of(exc) == ("InvalidStorageClass", "The storage class you specified is not valid", 400)


@pytest.mark.parametrize(
    "header,expected",
    [("bytes=0-4", b"01234"), ("bytes=5-", b"56789"), ("bytes=-3", b"789"), ("bytes=8-100", b"89"),
     ("bytes=-100", b"0123456789")],
)
def test_ranges(s3: Any, bucket: str, header: str, expected: bytes) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    got = s3.get_object(Bucket=bucket, Key="r", Range=header)
    assert got["Body"].read() == expected
    assert got["ContentLength"] == len(expected)
    start = b"0123456789".index(expected)
    assert got["ContentRange"] == f"bytes {start}-{start + len(expected) - 1}/10"


def test_unsatisfiable_range(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="r", Body=b"0123456789")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-20")
    assert error_of(exc) == ("InvalidRange", "The requested range is not satisfiable", 416)
    assert exc.value.response["Error"]["ActualObjectSize"] == "10"
    # a malformed range is ignored: the whole object
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=5-2")["Body"].read() == b"0123456789"


def test_large_range_streams(s3: Any, bucket: str) -> None:
    body = os.urandom(3 * 1024 * 1024 + 17)
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    got = s3.get_object(Bucket=bucket, Key="big", Range="bytes=1048570-2097160")
    assert got["Body"].read() == body[1048570:2097161]
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == body


def test_conditional_reads(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"v1")["ETag"]
    modified = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"nope"')
    assert error_of(exc) == ("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412)
    assert exc.value.response["Error"]["Condition"] == "If-Match"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert error_of(exc)[2] == 304
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified + timedelta(seconds=1))
    assert error_of(exc)[2] == 304
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified - timedelta(seconds=5))["Body"].read() == b"v1"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=modified - timedelta(seconds=5))
    assert error_of(exc)[2] == 412
    # If-Match true wins over a false If-Unmodified-Since; If-None-Match false wins over If-Modified-Since
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag,
                         IfUnmodifiedSince=modified - timedelta(seconds=5))["Body"].read() == b"v1"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag, IfModifiedSince=modified - timedelta(seconds=5))
    assert error_of(exc)[2] == 304


def test_conditional_writes(s3: Any, bucket: str) -> None:
    first = s3.put_object(Bucket=bucket, Key="w", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="w", Body=b"2", IfNoneMatch="*")
    assert error_of(exc) == ("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="w", Body=b"2", IfMatch='"0123"')
    assert error_of(exc)[2] == 412
    s3.put_object(Bucket=bucket, Key="w", Body=b"2", IfMatch=first["ETag"])
    assert s3.get_object(Bucket=bucket, Key="w")["Body"].read() == b"2"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"2", IfMatch=first["ETag"])
    assert error_of(exc)[0] == "NoSuchKey"


def test_delete_and_delete_objects(s3: Any, bucket: str) -> None:
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="k0")["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.delete_object(Bucket=bucket, Key="never-existed")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k1"}, {"Key": "k2"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["k1", "k2", "zz"]
    assert "Errors" not in result
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k3"}], "Quiet": True})
    assert "Deleted" not in quiet
    bad = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k4", "VersionId": "garbage"}]})
    assert bad["Errors"] == [{"Key": "k4", "VersionId": "garbage", "Code": "InvalidArgument",
                              "Message": "Invalid version id specified"}]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["k4"]


def test_copy_object_directives(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"payload", ContentType="text/plain",
                  Metadata={"a": "1"}, Tagging="t=1")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src")
    assert copied["CopyObjectResult"]["ETag"] == s3.head_object(Bucket=bucket, Key="src")["ETag"]
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert head["Metadata"] == {"a": "1"} and head["ContentType"] == "text/plain"
    assert s3.get_object_tagging(Bucket=bucket, Key="dst")["TagSet"] == [{"Key": "t", "Value": "1"}]
    s3.copy_object(Bucket=bucket, Key="dst2", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"b": "2"}, ContentType="image/png",
                   TaggingDirective="REPLACE", Tagging="u=2")
    head2 = s3.head_object(Bucket=bucket, Key="dst2")
    assert head2["Metadata"] == {"b": "2"} and head2["ContentType"] == "image/png"
    assert s3.get_object_tagging(Bucket=bucket, Key="dst2")["TagSet"] == [{"Key": "u", "Value": "2"}]
    assert s3.get_object(Bucket=bucket, Key="dst2")["Body"].read() == b"payload"
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert error_of(exc) == (
        "InvalidRequest",
        "This copy request is illegal because it is trying to copy an object to itself without changing the "
        "object's metadata, storage class, website redirect location or encryption attributes.",
        400,
    )
    s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src", MetadataDirective="REPLACE",
                   Metadata={"c": "3"})
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"c": "3"}
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="x", CopySource=f"{bucket}/missing")
    assert error_of(exc)[0] == "NoSuchKey"


def test_copy_source_conditionals(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"payload")["ETag"]
    s3.copy_object(Bucket=bucket, Key="a", CopySource=f"{bucket}/src", CopySourceIfMatch=etag)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="a", CopySource=f"{bucket}/src", CopySourceIfMatch='"other"')
    assert error_of(exc)[0:3:2] == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="a", CopySource=f"{bucket}/src", CopySourceIfNoneMatch=etag)
    assert error_of(exc)[0:3:2] == ("PreconditionFailed", 412)
    future = datetime.now(timezone.utc) + timedelta(days=1)
    with pytest.raises(ClientError) as exc:
        s3.copy_object(Bucket=bucket, Key="a", CopySource=f"{bucket}/src", CopySourceIfModifiedSince=future)
    assert error_of(exc)[2] == 412


def test_copy_special_characters_across_buckets(s3: Any, bucket: str) -> None:
    from s3_helpers import new_bucket

    other = new_bucket(s3)
    key = "spaced key/ü+&?.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"special")
    s3.copy_object(Bucket=other, Key=key, CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=other, Key=key)["Body"].read() == b"special"


def test_sse_headers(s3: Any, bucket: str) -> None:
    kms = s3.put_object(Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms",
                        SSEKMSKeyId="arn:aws:kms:us-east-1:000000000000:key/abc", BucketKeyEnabled=True)
    assert kms["ServerSideEncryption"] == "aws:kms"
    assert kms["SSEKMSKeyId"] == "arn:aws:kms:us-east-1:000000000000:key/abc"
    assert kms["BucketKeyEnabled"] is True
    head = s3.head_object(Bucket=bucket, Key="kms")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"].endswith("key/abc")
    key = os.urandom(32)
    c = s3.put_object(Bucket=bucket, Key="ssec", Body=b"secret", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert c["SSECustomerAlgorithm"] == "AES256"
    assert c["SSECustomerKeyMD5"] == base64.b64encode(hashlib.md5(key).digest()).decode()
    got = s3.get_object(Bucket=bucket, Key="ssec", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert got["Body"].read() == b"secret"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="ssec")
    assert error_of(exc) == (
        "InvalidRequest",
        "The object was stored using a form of Server Side Encryption. The correct parameters must be provided "
        "to retrieve the object.",
        400,
    )
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", SSECustomerAlgorithm="AES256",
                      SSECustomerKey=base64.b64encode(key).decode(),
                      SSECustomerKeyMD5=base64.b64encode(b"0" * 16).decode())
    assert error_of(exc) == ("InvalidArgument",
                             "The calculated MD5 hash of the key did not match the hash that was provided.", 400)


def test_get_object_attributes(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="attr", Body=b"attributes", ChecksumAlgorithm="SHA256")
    attrs = s3.get_object_attributes(Bucket=bucket, Key="attr",
                                     ObjectAttributes=["ETag", "Checksum", "ObjectSize", "StorageClass"])
    assert attrs["ETag"] == hashlib.md5(b"attributes").hexdigest()
    assert attrs["ObjectSize"] == 10
    assert attrs["StorageClass"] == "STANDARD"
    assert attrs["Checksum"]["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"attributes").digest()).decode()
    assert attrs["Checksum"]["ChecksumType"] == "FULL_OBJECT"


def test_racing_conditional_creates_have_one_winner(aws_client: Any, bucket: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    clients = [aws_client("s3") for _ in range(8)]

    def attempt(i: int) -> bool:
        try:
            clients[i].put_object(Bucket=bucket, Key="race", Body=str(i).encode(), IfNoneMatch="*")
            return True
        except ClientError as err:
            assert err.response["Error"]["Code"] == "PreconditionFailed"
            return False

    with ThreadPoolExecutor(8) as pool:
        wins = list(pool.map(attempt, range(8)))
    assert wins.count(True) == 1
    assert clients[0].get_object(Bucket=bucket, Key="race")["Body"].read() == str(wins.index(True)).encode()


def test_presigned_urls_with_plain_http(s3: Any, bucket: str) -> None:
    import urllib.request

    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    request = urllib.request.Request(put_url, data=b"presigned body", method="PUT")
    with urllib.request.urlopen(request) as response:
        assert response.status == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    with urllib.request.urlopen(get_url) as response:
        assert response.read() == b"presigned body"
    head_url = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    with urllib.request.urlopen(urllib.request.Request(head_url, method="HEAD")) as response:
        assert response.headers["Content-Length"] == "14"
    delete_url = s3.generate_presigned_url("delete_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    with urllib.request.urlopen(urllib.request.Request(delete_url, method="DELETE")) as response:
        assert response.status == 204
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="pre")
