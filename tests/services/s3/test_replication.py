"""Bucket replication configuration: versioning prerequisites, validation, round trip, delete."""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_helpers import error_of, new_bucket

ROLE = "arn:aws:iam::000000000000:role/replication"


def _versioned(s3: Any) -> str:
    name = new_bucket(s3)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def _rule(dest: str, **extra: Any) -> dict[str, Any]:
    return {"ID": "r1", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "docs/"},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": f"arn:aws:s3:::{dest}", "StorageClass": "STANDARD_IA"}, **extra}


def _put_error(s3: Any, bucket: str, config: dict[str, Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=config)
    return error_of(exc)


def test_replication_round_trip_and_delete(s3: Any) -> None:
    src, dst = _versioned(s3), _versioned(s3)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_replication(Bucket=src)
    assert error_of(exc) == ("ReplicationConfigurationNotFoundError", "The replication configuration was not found", 404)
    assert exc.value.response["Error"]["BucketName"] == src
    rules = [
        _rule(dst),
        {"Priority": 2, "Status": "Disabled",
         "Filter": {"And": {"Prefix": "img/", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},
         "DeleteMarkerReplication": {"Status": "Disabled"},
         "SourceSelectionCriteria": {"ReplicaModifications": {"Status": "Enabled"}},
         "Destination": {"Bucket": f"arn:aws:s3:::{dst}", "Account": "000000000000",
                         "AccessControlTranslation": {"Owner": "Destination"},
                         "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
                         "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}}},
    ]
    s3.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": ROLE, "Rules": rules})
    got = s3.get_bucket_replication(Bucket=src)["ReplicationConfiguration"]
    assert got["Role"] == ROLE
    assert got["Rules"][0] == rules[0]
    generated = got["Rules"][1].pop("ID")
    assert len(generated) == 36
    assert got["Rules"][1] == rules[1]
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Suspended"})
    assert error_of(exc) == ("InvalidBucketState", "A replication configuration is present on this bucket, so you "
                             "cannot change the versioning state. To change the versioning state, first delete the "
                             "replication configuration.", 409)
    assert s3.delete_bucket_replication(Bucket=src)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_replication(Bucket=src)
    assert error_of(exc)[0] == "ReplicationConfigurationNotFoundError"
    s3.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Suspended"})
    # deleting what is not there is not an error
    assert s3.delete_bucket_replication(Bucket=src)["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_replication_legacy_prefix_schema(s3: Any) -> None:
    src, dst = _versioned(s3), _versioned(s3)
    rule = {"ID": "old", "Prefix": "logs/", "Status": "Enabled", "Destination": {"Bucket": f"arn:aws:s3:::{dst}"}}
    s3.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": ROLE, "Rules": [rule]})
    assert s3.get_bucket_replication(Bucket=src)["ReplicationConfiguration"]["Rules"] == [rule]
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [{**rule, "Priority": 1}]}) == (
        "InvalidRequest", "Priority cannot be used for this version of Cross Region Replication configuration "
        "schema. Please refer to S3 Developer Guide for more information.", 400)
    no_marker = _rule(dst)
    del no_marker["DeleteMarkerReplication"]
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [no_marker]}) == (
        "InvalidRequest", "DeleteMarkerReplication must be specified for this version of Cross Region Replication "
        "configuration schema. Please refer to S3 Developer Guide for more information.", 400)


def test_replication_needs_versioned_source_and_destination(s3: Any) -> None:
    plain = new_bucket(s3)
    dst = _versioned(s3)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_replication(Bucket=plain, ReplicationConfiguration={"Role": ROLE, "Rules": [_rule(dst)]})
    assert error_of(exc) == ("InvalidRequest",
                             "Versioning must be 'Enabled' on the bucket to apply a replication configuration", 400)
    assert exc.value.response["Error"]["BucketName"] == plain
    s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Suspended"})
    assert _put_error(s3, plain, {"Role": ROLE, "Rules": [_rule(dst)]})[0] == "InvalidRequest"

    src = _versioned(s3)
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [_rule("no-such-destination-x1")]}) == (
        "InvalidRequest", "Destination bucket must exist.", 400)
    unversioned = new_bucket(s3)
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [_rule(unversioned)]}) == (
        "InvalidRequest", "Destination bucket must have versioning enabled.", 400)
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [_rule(src)]}) == (
        "InvalidRequest", "Destination bucket cannot be the same as the source bucket.", 400)


def test_replication_validation(s3: Any) -> None:
    src, dst = _versioned(s3), _versioned(s3)
    assert _put_error(s3, src, {"Role": "not-an-arn", "Rules": [_rule(dst)]}) == (
        "InvalidArgument", "Invalid Role specified in replication configuration", 400)
    assert _put_error(s3, src, {"Role": "arn:aws:iam::000000000000:user/x", "Rules": [_rule(dst)]}) == (
        "InvalidArgument", "The relative id should start with role", 400)
    bare = _rule(dst)
    bare["Destination"] = {"Bucket": dst}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": ROLE, "Rules": [bare]})
    assert error_of(exc) == ("InvalidArgument", "Invalid bucket ARN", 400)
    assert exc.value.response["Error"]["ArgumentName"] == "Bucket"
    assert exc.value.response["Error"]["ArgumentValue"] == dst
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [_rule(dst), {**_rule(dst), "ID": "r2"}]}) == (
        "InvalidRequest", "Found duplicate priority 1.", 400)
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [_rule(dst), {**_rule(dst), "Priority": 2}]}) == (
        "InvalidArgument", "Rule Id must be unique", 400)
    tagged = _rule(dst, Filter={"Tag": {"Key": "k", "Value": "v"}}, DeleteMarkerReplication={"Status": "Enabled"})
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [tagged]}) == (
        "InvalidRequest", "Delete marker replication is not supported if any Tag filter is specified. "
        "Please refer to S3 Developer Guide for more information.", 400)
    two_predicates = _rule(dst, Filter={"Prefix": "a", "Tag": {"Key": "k", "Value": "v"}})
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [two_predicates]})[::2] == ("MalformedXML", 400)
    lone_and = _rule(dst, Filter={"And": {"Prefix": "a"}})
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [lone_and]})[::2] == ("MalformedXML", 400)
    dup_tags = _rule(dst, Filter={"And": {"Tags": [{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}]}})
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [dup_tags]}) == (
        "InvalidRequest", "Duplicate Tag Keys are not allowed.", 400)
    no_account = _rule(dst)
    no_account["Destination"] = {**no_account["Destination"], "AccessControlTranslation": {"Owner": "Destination"}}
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [no_account]}) == (
        "InvalidRequest", "Account must be specified if the Owner in AccessControlTranslation has a value", 400)
    rtc_alone = _rule(dst)
    rtc_alone["Destination"] = {**rtc_alone["Destination"],
                                "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}}}
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [rtc_alone]}) == (
        "InvalidRequest", "Replication destination must contain both ReplicationTime and Metrics or neither.", 400)
    kms = _rule(dst, SourceSelectionCriteria={"SseKmsEncryptedObjects": {"Status": "Enabled"}})
    assert _put_error(s3, src, {"Role": ROLE, "Rules": [kms]}) == (
        "InvalidRequest", "ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.", 400)
    with pytest.raises(ClientError):
        s3.get_bucket_replication(Bucket=src)


def _md5_of_md5s(*etags: str) -> str:
    return hashlib.md5(b"".join(bytes.fromhex(e.strip('"')) for e in etags)).hexdigest()


def _wait_for(call: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_new_versions_are_replicated(s3: Any) -> None:
    src, dst, other = _versioned(s3), _versioned(s3), _versioned(s3)
    s3.put_object(Bucket=src, Key="docs/before", Body=b"old")
    rules = [
        {"ID": "docs", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "docs/"},
         "DeleteMarkerReplication": {"Status": "Enabled"},
         "Destination": {"Bucket": f"arn:aws:s3:::{dst}", "StorageClass": "STANDARD_IA"}},
        {"ID": "tagged", "Priority": 2, "Status": "Enabled", "Filter": {"Tag": {"Key": "copy", "Value": "yes"}},
         "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{other}"}},
    ]
    s3.put_bucket_replication(Bucket=src, ReplicationConfiguration={"Role": ROLE, "Rules": rules})
    big = os.urandom(300_000)
    v_big = s3.put_object(Bucket=src, Key="docs/big", Body=big, Metadata={"m": "1"}, ContentType="text/x",
                          Tagging="copy=yes")["VersionId"]
    v_small = s3.put_object(Bucket=src, Key="docs/small", Body=b"tiny")["VersionId"]
    s3.put_object(Bucket=src, Key="misc/skip", Body=b"not selected")
    s3.copy_object(Bucket=src, Key="docs/copied", CopySource={"Bucket": src, "Key": "docs/small"})
    upload = s3.create_multipart_upload(Bucket=src, Key="docs/multi")["UploadId"]
    etag = s3.upload_part(Bucket=src, Key="docs/multi", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
    v_multi = s3.complete_multipart_upload(Bucket=src, Key="docs/multi", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})["VersionId"]

    got = _wait_for(lambda: s3.get_object(Bucket=dst, Key="docs/big"))
    assert got["Body"].read() == big
    assert (got["VersionId"], got["Metadata"], got["ContentType"], got["StorageClass"]) == (
        v_big, {"m": "1"}, "text/x", "STANDARD_IA")
    small = _wait_for(lambda: s3.get_object(Bucket=dst, Key="docs/small"))
    assert (small["Body"].read(), small["VersionId"]) == (b"tiny", v_small)
    assert _wait_for(lambda: s3.get_object(Bucket=dst, Key="docs/copied"))["Body"].read() == b"tiny"
    multi = _wait_for(lambda: s3.get_object(Bucket=dst, Key="docs/multi"))
    assert (multi["Body"].read(), multi["VersionId"], multi["ETag"]) == (b"part", v_multi, f'"{_md5_of_md5s(etag)}-1"')
    assert _wait_for(lambda: s3.get_object(Bucket=other, Key="docs/big"))["Body"].read() == big
    assert s3.get_object_tagging(Bucket=dst, Key="docs/big")["TagSet"] == [{"Key": "copy", "Value": "yes"}]

    marker = s3.delete_object(Bucket=src, Key="docs/small")["VersionId"]

    def marker_arrived() -> None:
        markers = s3.list_object_versions(Bucket=dst, Prefix="docs/small").get("DeleteMarkers") or []
        if [m["VersionId"] for m in markers] != [marker]:
            raise ClientError({"Error": {"Code": "NotYet"}}, "ListObjectVersions")

    _wait_for(marker_arrived)
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=dst, Key="docs/small")
    assert error_of(exc)[0] == "NoSuchKey"
    # deleting a version by its id stays in the source
    s3.delete_object(Bucket=src, Key="docs/big", VersionId=v_big)
    keys = {v["Key"] for v in s3.list_object_versions(Bucket=dst)["Versions"]}
    assert keys == {"docs/big", "docs/small", "docs/copied", "docs/multi"}
    assert s3.get_object(Bucket=dst, Key="docs/big")["Body"].read() == big
    # objects written before the configuration, or outside every rule, are not copied
    versions = s3.list_object_versions(Bucket=other).get("Versions", [])
    assert [v["Key"] for v in versions] == ["docs/big"]
    assert s3.list_object_versions(Bucket=dst, Prefix="misc/").get("Versions") is None
    assert s3.list_object_versions(Bucket=dst, Prefix="docs/before").get("Versions") is None
    # the other destination takes no delete markers
    assert s3.list_object_versions(Bucket=other).get("DeleteMarkers") is None
