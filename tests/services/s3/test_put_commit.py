"""PutObject / UploadPart commit the body's manifest with their record: a body that fails a
check leaves nothing behind (not even for the GC), an accepted one is referenced from the start.

Runs the provider in-process over a real data dir, so the blob store can be inspected directly.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from awsemu.services.base import ServiceError
from awsemu.services.s3.provider import S3Provider
from awsemu.storage.blobs.shards import iter_shard_files
from awsemu.testing.provider import InProcessProvider

MiB = 1024 * 1024
SIZES = [5, 200 * 1024, 2 * MiB + 3]  # inline, one partial stripe, several stripes


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[InProcessProvider[S3Provider]]:
    p = InProcessProvider(S3Provider, tmp_path, service="s3", with_blobs=True)
    p("CreateBucket", Bucket="bkt")
    yield p
    p.close()


def blobs_of(s3: InProcessProvider[S3Provider]) -> list[tuple[str, bool, list[str]]]:
    assert s3.provider is not None
    return list(s3.provider.storage.blobs.iter_blobs())


def shard_blob_ids(s3: InProcessProvider[S3Provider]) -> set[str]:
    assert s3.provider is not None
    return {blob_id for _, blob_id in iter_shard_files(s3.provider.storage.blobs.drives)}


def settle(s3: InProcessProvider[S3Provider]) -> None:
    """Wait for the blob store's clean-up job (it runs on a store worker after a failed write)."""
    assert s3.provider is not None
    deadline = time.monotonic() + 10
    while s3.provider.storage.blobs._writing and time.monotonic() < deadline:
        time.sleep(0.01)


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@pytest.mark.parametrize("size", SIZES)
def test_put_object_commits_body_and_version_together(s3: Any, size: int) -> None:
    body = os.urandom(size)
    out = s3("PutObject", Bucket="bkt", Key="k", Body=body, ContentMD5=md5_b64(body))
    assert out["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    (blob_id, has_manifest, owners), = blobs_of(s3)
    assert has_manifest and len(owners) == 1 and owners[0].startswith("s3:bkt/k#")
    assert b"".join(bytes(c) for c in s3.provider.storage.blobs.iter_read(blob_id)) == body
    assert s3("HeadObject", Bucket="bkt", Key="k")["ContentLength"] == size


@pytest.mark.parametrize("size", SIZES)
def test_put_object_with_bad_digest_leaves_no_blob(s3: Any, size: int) -> None:
    body = os.urandom(size)
    with pytest.raises(ServiceError) as err:
        s3("PutObject", Bucket="bkt", Key="k", Body=body, ContentMD5=md5_b64(body + b"!"))
    assert err.value.code == "BadDigest"
    settle(s3)
    assert blobs_of(s3) == [] and shard_blob_ids(s3) == set()
    with pytest.raises(ServiceError) as err:
        s3("HeadObject", Bucket="bkt", Key="k")
    assert err.value.status == 404


def test_failed_conditional_put_leaves_no_blob(s3: Any) -> None:
    s3("PutObject", Bucket="bkt", Key="k", Body=b"first")
    (kept, _, _), = blobs_of(s3)
    with pytest.raises(ServiceError) as err:
        s3("PutObject", Bucket="bkt", Key="k", Body=os.urandom(MiB + 1), IfNoneMatch="*")
    assert err.value.status == 412
    settle(s3)
    assert [b for b, _, _ in blobs_of(s3)] == [kept] and shard_blob_ids(s3) == set()


def test_upload_part_with_bad_checksum_leaves_no_blob(s3: Any) -> None:
    upload_id = s3("CreateMultipartUpload", Bucket="bkt", Key="mp")["UploadId"]
    part = os.urandom(MiB + 9)
    with pytest.raises(ServiceError) as err:
        s3("UploadPart", Bucket="bkt", Key="mp", UploadId=upload_id, PartNumber=1, Body=part,
           ContentMD5=md5_b64(b"other"))
    assert err.value.code == "BadDigest"
    settle(s3)
    assert blobs_of(s3) == [] and shard_blob_ids(s3) == set()
    etag = s3("UploadPart", Bucket="bkt", Key="mp", UploadId=upload_id, PartNumber=1, Body=part)["ETag"]
    (blob_id, has_manifest, owners), = blobs_of(s3)
    assert has_manifest and owners == [f"s3mpu:{upload_id}/1"]
    assert etag == f'"{hashlib.md5(part).hexdigest()}"'
