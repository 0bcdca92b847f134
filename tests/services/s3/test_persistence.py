"""State survives SIGKILL; the lifecycle sweeper really expires versions and aborts uploads."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_helpers import client_for

from awsemu.testing.server import ServerProcess

MiB = 1024 * 1024


def test_everything_survives_sigkill(fresh_server: ServerProcess) -> None:
    s3 = client_for(fresh_server.start())
    s3.create_bucket(Bucket="keep")
    s3.put_bucket_versioning(Bucket="keep", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket="keep", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.put_bucket_cors(Bucket="keep", CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})
    small = os.urandom(1000)
    big = os.urandom(3 * MiB + 5)
    v1 = s3.put_object(Bucket="keep", Key="small", Body=b"old")["VersionId"]
    v2 = s3.put_object(Bucket="keep", Key="small", Body=small, Metadata={"m": "1"})["VersionId"]
    s3.put_object(Bucket="keep", Key="big", Body=big)
    s3.put_object(Bucket="keep", Key="gone", Body=b"x")
    s3.delete_object(Bucket="keep", Key="gone")
    upload_id = s3.create_multipart_upload(Bucket="keep", Key="mp")["UploadId"]
    part1 = os.urandom(5 * MiB)
    etag1 = s3.upload_part(Bucket="keep", Key="mp", UploadId=upload_id, PartNumber=1, Body=part1)["ETag"]
    fresh_server.kill()

    s3 = client_for(fresh_server.start())
    assert s3.get_object(Bucket="keep", Key="small")["Body"].read() == small
    assert s3.head_object(Bucket="keep", Key="small")["Metadata"] == {"m": "1"}
    assert s3.get_object(Bucket="keep", Key="small", VersionId=v1)["Body"].read() == b"old"
    assert s3.get_object(Bucket="keep", Key="big")["Body"].read() == big
    with pytest.raises(ClientError):
        s3.get_object(Bucket="keep", Key="gone")
    versions = s3.list_object_versions(Bucket="keep", Prefix="small")["Versions"]
    assert [v["VersionId"] for v in versions] == [v2, v1]
    assert s3.get_bucket_versioning(Bucket="keep")["Status"] == "Enabled"
    assert s3.get_bucket_tagging(Bucket="keep")["TagSet"] == [{"Key": "k", "Value": "v"}]
    assert s3.get_bucket_cors(Bucket="keep")["CORSRules"][0]["AllowedOrigins"] == ["*"]
    assert s3.list_parts(Bucket="keep", Key="mp", UploadId=upload_id)["Parts"][0]["ETag"] == etag1
    etag2 = s3.upload_part(Bucket="keep", Key="mp", UploadId=upload_id, PartNumber=2, Body=b"end")["ETag"]
    s3.complete_multipart_upload(Bucket="keep", Key="mp", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag1}, {"PartNumber": 2, "ETag": etag2}]})
    fresh_server.stop()

    s3 = client_for(fresh_server.start())
    assert s3.get_object(Bucket="keep", Key="mp")["Body"].read() == part1 + b"end"


def test_lifecycle_sweeper_expires(tmp_path: Path) -> None:
    # a lifecycle "day" of one second and a sweep every 0.3 s make the real sweeper observable
    env = {"AWSEMU_S3_LIFECYCLE_DAY_SECONDS": "1", "AWSEMU_S3_LIFECYCLE_INTERVAL": "0.3"}
    server = ServerProcess(tmp_path / "data", env=env)
    try:
        s3: Any = client_for(server.start())
        s3.create_bucket(Bucket="life")
        s3.create_bucket(Bucket="life-versioned")
        s3.put_bucket_versioning(Bucket="life-versioned", VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket="life", Key="tmp/a", Body=b"a")
        s3.put_object(Bucket="life", Key="keep/b", Body=b"b")
        upload_id = s3.create_multipart_upload(Bucket="life", Key="tmp/upload")["UploadId"]
        old = s3.put_object(Bucket="life-versioned", Key="doc", Body=b"1")["VersionId"]
        s3.put_object(Bucket="life-versioned", Key="doc", Body=b"2")
        s3.put_bucket_lifecycle_configuration(Bucket="life", LifecycleConfiguration={"Rules": [
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1},
             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]})
        s3.put_bucket_lifecycle_configuration(Bucket="life-versioned", LifecycleConfiguration={"Rules": [
            {"ID": "all", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 2},
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            keys = [o["Key"] for o in s3.list_objects_v2(Bucket="life").get("Contents", [])]
            versions = s3.list_object_versions(Bucket="life-versioned")
            if keys == ["keep/b"] and old not in [v["VersionId"] for v in versions.get("Versions", [])] \
                    and versions.get("DeleteMarkers"):
                break
            time.sleep(0.3)
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="life").get("Contents", [])] == ["keep/b"]
        assert "Uploads" not in s3.list_multipart_uploads(Bucket="life")
        with pytest.raises(ClientError):
            s3.list_parts(Bucket="life", Key="tmp/upload", UploadId=upload_id)
        versions = s3.list_object_versions(Bucket="life-versioned")
        assert old not in [v["VersionId"] for v in versions.get("Versions", [])]
        # the current version expired into a delete marker; the replaced one went after a "day"
        assert versions["DeleteMarkers"][0]["IsLatest"] is True
    finally:
        server.close()
