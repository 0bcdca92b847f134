"""Archived storage classes and RestoreObject on the session server (restores complete at once),
and x-amz-replication-status."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from s3_helpers import aws_cli, error_of, new_bucket

DAY = 86400
NOT_VALID = "The operation is not valid for the object's storage class"
COPY_NOT_VALID = "Operation is not valid for the source object's storage class"
RESTORE_NOT_ALLOWED = "Restore is not allowed for the object's current storage class"


def _expiry_header(days: int, before: float, after: float) -> set[str]:
    """The x-amz-restore values a restore asked between ``before`` and ``after`` may show: the
    time plus ``days``, rounded up to the next midnight UTC."""
    out = set()
    for t in (before, after):
        midnight = (int(t + days * DAY) // DAY + 1) * DAY
        out.add(f'ongoing-request="false", expiry-date="{formatdate(midnight, usegmt=True)}"')
    return out


def _restore(s3: Any, bucket: str, key: str, days: int = 1, **kwargs: Any) -> int:
    response = s3.restore_object(Bucket=bucket, Key=key, RestoreRequest={
        "Days": days, "GlacierJobParameters": {"Tier": "Standard"}}, **kwargs)
    return int(response["ResponseMetadata"]["HTTPStatusCode"])


def test_archived_objects_cannot_be_read(s3: Any, bucket: str) -> None:
    for key, storage_class in (("g", "GLACIER"), ("d", "DEEP_ARCHIVE")):
        s3.put_object(Bucket=bucket, Key=key, Body=b"cold bytes", StorageClass=storage_class)
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket=bucket, Key=key)
        assert error_of(exc) == ("InvalidObjectState", NOT_VALID, 403)
        assert exc.value.response["Error"]["StorageClass"] == storage_class
        assert "AccessTier" not in exc.value.response["Error"]
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["StorageClass"] == storage_class
        assert head["ContentLength"] == 10
        assert "Restore" not in head
        assert "x-amz-restore" not in head["ResponseMetadata"]["HTTPHeaders"]
        attrs = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=["StorageClass", "ObjectSize"])
        assert (attrs["StorageClass"], attrs["ObjectSize"]) == (storage_class, 10)
        with pytest.raises(ClientError) as exc:
            s3.copy_object(Bucket=bucket, Key=key + "-copy", CopySource={"Bucket": bucket, "Key": key})
        assert error_of(exc) == ("InvalidObjectState", COPY_NOT_VALID, 403)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    with pytest.raises(ClientError) as exc:
        s3.upload_part_copy(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "g"})
    assert error_of(exc) == ("InvalidObjectState", COPY_NOT_VALID, 403)
    # Glacier Instant Retrieval is read like any other class
    s3.put_object(Bucket=bucket, Key="ir", Body=b"instant", StorageClass="GLACIER_IR")
    got = s3.get_object(Bucket=bucket, Key="ir")
    assert (got["Body"].read(), got["StorageClass"]) == (b"instant", "GLACIER_IR")


def test_restore_completes_and_extends(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="cold", Body=b"archived", StorageClass="GLACIER")
    listed = s3.list_objects_v2(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]
    assert "RestoreStatus" not in listed  # never restored: no status
    before = time.time()
    assert _restore(s3, bucket, "cold", days=2) == 202
    after = time.time()
    # the configured restore time is 0: done at once, though the first answer is still 202
    head = s3.head_object(Bucket=bucket, Key="cold")
    assert head["Restore"] in _expiry_header(2, before, after)
    assert head["StorageClass"] == "GLACIER"
    got = s3.get_object(Bucket=bucket, Key="cold")
    assert got["Body"].read() == b"archived"
    assert got["Restore"] == head["Restore"]
    expiry = datetime.strptime(head["Restore"].split('expiry-date="')[1].rstrip('"'), "%a, %d %b %Y %H:%M:%S GMT")
    expiry = expiry.replace(tzinfo=timezone.utc)
    listed = s3.list_objects_v2(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]
    assert listed["RestoreStatus"] == {"IsRestoreInProgress": False, "RestoreExpiryDate": expiry}
    assert "RestoreStatus" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    versions = s3.list_object_versions(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])["Versions"]
    assert versions[0]["RestoreStatus"] == listed["RestoreStatus"]
    v1 = s3.list_objects(Bucket=bucket, OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]
    assert v1["RestoreStatus"] == listed["RestoreStatus"]

    # a restored copy can be copied out of the archive
    s3.copy_object(Bucket=bucket, Key="warm", CopySource={"Bucket": bucket, "Key": "cold"}, StorageClass="STANDARD")
    assert s3.get_object(Bucket=bucket, Key="warm")["Body"].read() == b"archived"
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="warm")

    # a new period on a restored copy: 200, counted from now
    before = time.time()
    assert _restore(s3, bucket, "cold", days=5) == 200
    after = time.time()
    assert s3.head_object(Bucket=bucket, Key="cold")["Restore"] in _expiry_header(5, before, after)

    # the usual way out of the archive: copy the restored object onto itself in another class
    s3.copy_object(Bucket=bucket, Key="cold", CopySource={"Bucket": bucket, "Key": "cold"}, StorageClass="STANDARD")
    head = s3.head_object(Bucket=bucket, Key="cold")
    assert "Restore" not in head and "StorageClass" not in head
    assert s3.get_object(Bucket=bucket, Key="cold")["Body"].read() == b"archived"


def test_restore_refusals(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="std", Body=b"x")
    s3.put_object(Bucket=bucket, Key="ir", Body=b"x", StorageClass="GLACIER_IR")
    s3.put_object(Bucket=bucket, Key="ia", Body=b"x", StorageClass="STANDARD_IA")
    for key in ("std", "ir", "ia"):
        with pytest.raises(ClientError) as exc:
            _restore(s3, bucket, key)
        assert error_of(exc) == ("InvalidObjectState", RESTORE_NOT_ALLOWED, 403)
    # Intelligent-Tiering objects stay in the frequent access tier here: nothing to restore, and
    # their restores take no Days
    s3.put_object(Bucket=bucket, Key="it", Body=b"x", StorageClass="INTELLIGENT_TIERING")
    with pytest.raises(ClientError) as exc:
        s3.restore_object(Bucket=bucket, Key="it", RestoreRequest={"GlacierJobParameters": {"Tier": "Bulk"}})
    assert error_of(exc) == ("ObjectAlreadyInActiveTierError", "This operation is not allowed against this storage tier.",
                             403)
    with pytest.raises(ClientError) as exc:
        _restore(s3, bucket, "it")
    assert error_of(exc) == ("InvalidArgument", "INTELLIGENT_TIERING objects are not subject to restore expiry. "
                             "Do not specify Days when restoring this object", 400)
    assert s3.get_object(Bucket=bucket, Key="it")["Body"].read() == b"x"
    with pytest.raises(ClientError) as exc:
        _restore(s3, bucket, "missing")
    assert error_of(exc) == ("NoSuchKey", "The specified key does not exist.", 404)
    with pytest.raises(ClientError) as exc:
        s3.restore_object(Bucket=bucket, Key="std", RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Fast"}})
    assert error_of(exc)[0] == "InvalidObjectState"  # the storage class is checked first
    s3.put_object(Bucket=bucket, Key="g", Body=b"x", StorageClass="GLACIER")
    with pytest.raises(ClientError) as exc:
        s3.restore_object(Bucket=bucket, Key="g", RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Fast"}})
    assert error_of(exc)[0] == "MalformedXML"


def test_restore_by_version_id(s3: Any) -> None:
    bucket = new_bucket(s3)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="k", Body=b"old", StorageClass="DEEP_ARCHIVE")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"new", StorageClass="DEEP_ARCHIVE")
    assert _restore(s3, bucket, "k", VersionId=old) == 202
    got = s3.get_object(Bucket=bucket, Key="k", VersionId=old)
    assert (got["Body"].read(), got["VersionId"]) == (b"old", old)
    assert got["Restore"].startswith('ongoing-request="false", expiry-date="')
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket=bucket, Key="k")  # the current version is still archived
    assert error_of(exc) == ("InvalidObjectState", NOT_VALID, 403)
    assert "Restore" not in s3.head_object(Bucket=bucket, Key="k")
    elsewhere = s3.put_object(Bucket=bucket, Key="other", Body=b"x", StorageClass="GLACIER")["VersionId"]
    with pytest.raises(ClientError) as exc:
        _restore(s3, bucket, "k", VersionId=elsewhere)
    assert error_of(exc) == ("NoSuchVersion", "The specified version does not exist.", 404)


def _receive(sqs: Any, url: str, count: int) -> list[dict[str, Any]]:
    """The next ``count`` message bodies of a queue (fewer if they do not come within 10 s)."""
    bodies: list[dict[str, Any]] = []
    for _ in range(10):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if len(bodies) >= count:
            break
    return bodies


def test_restore_events(s3: Any, bucket: str, aws_client: Callable[..., Any]) -> None:
    sqs = aws_client("sqs")
    url = sqs.create_queue(QueueName=f"restore-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
        {"Id": "restores", "QueueArn": arn, "Events": ["s3:ObjectRestore:*"]}]})
    s3.put_object(Bucket=bucket, Key="a b", Body=b"12345", StorageClass="GLACIER")
    assert _receive(sqs, url, 1)[0]["Event"] == "s3:TestEvent"
    assert _restore(s3, bucket, "a b") == 202
    records = [body["Records"][0] for body in _receive(sqs, url, 2)]
    assert [r["eventName"] for r in records] == ["ObjectRestore:Post", "ObjectRestore:Completed"]
    post, completed = records
    assert post["s3"]["object"]["key"] == "a+b"
    assert (post["s3"]["object"]["size"], post["s3"]["object"]["eTag"]) == (5, "827ccb0eea8a706c4c34a16891f84e7b")
    assert "glacierEventData" not in post
    assert post["s3"]["object"]["sequencer"] < completed["s3"]["object"]["sequencer"]
    restore = completed["glacierEventData"]["restoreEventData"]
    assert restore["lifecycleRestoreStorageClass"] == "GLACIER"
    assert restore["lifecycleRestorationExpiryTime"].endswith("T00:00:00.000Z")


def test_restore_with_the_cli(s3: Any, bucket: str, aws_endpoint_url: str) -> None:
    s3.put_object(Bucket=bucket, Key="cli", Body=b"x", StorageClass="GLACIER")
    run = aws_cli(aws_endpoint_url, "s3api", "restore-object", "--bucket", bucket, "--key", "cli",
                  "--restore-request", '{"Days": 1, "GlacierJobParameters": {"Tier": "Bulk"}}')
    assert run.returncode == 0, run.stderr
    assert s3.head_object(Bucket=bucket, Key="cli")["Restore"].startswith('ongoing-request="false"')


# --- x-amz-replication-status -----------------------------------------------------------------------

def test_replication_status(s3: Any) -> None:
    src, dst, gone = (new_bucket(s3) for _ in range(3))
    for name in (src, dst, gone):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    rules = [{"ID": "docs", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": "docs/"},
              "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{dst}"}},
             {"ID": "lost", "Priority": 2, "Status": "Enabled", "Filter": {"Prefix": "lost/"},
              "DeleteMarkerReplication": {"Status": "Disabled"}, "Destination": {"Bucket": f"arn:aws:s3:::{gone}"}}]
    s3.put_bucket_replication(Bucket=src, ReplicationConfiguration={
        "Role": "arn:aws:iam::000000000000:role/r", "Rules": rules})
    s3.delete_bucket(Bucket=gone)  # replicas to it are dropped: FAILED
    s3.put_object(Bucket=src, Key="docs/a", Body=b"a")
    s3.put_object(Bucket=src, Key="lost/b", Body=b"b")
    s3.put_object(Bucket=src, Key="other/c", Body=b"c")
    assert s3.head_object(Bucket=src, Key="docs/a")["ReplicationStatus"] in ("PENDING", "COMPLETED")

    def settled(key: str) -> str:
        deadline = time.monotonic() + 10
        while True:
            status = s3.head_object(Bucket=src, Key=key)["ReplicationStatus"]
            if status != "PENDING" or time.monotonic() > deadline:
                return str(status)
            time.sleep(0.05)

    assert settled("docs/a") == "COMPLETED"
    assert settled("lost/b") == "FAILED"
    got = s3.get_object(Bucket=src, Key="docs/a")
    assert got["ReplicationStatus"] == "COMPLETED"
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-replication-status"] == "COMPLETED"
    assert s3.head_object(Bucket=dst, Key="docs/a")["ReplicationStatus"] == "REPLICA"
    assert s3.get_object(Bucket=dst, Key="docs/a")["ReplicationStatus"] == "REPLICA"
    assert "ReplicationStatus" not in s3.head_object(Bucket=src, Key="other/c")
