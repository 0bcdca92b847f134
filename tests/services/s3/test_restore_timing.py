"""A restore that takes time, on its own server: a restore of one second and a "day" of two, so
the whole life of a restored copy (in progress, restored, expired) and its events are observable,
across a SIGKILL and restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_helpers import client_for, error_of

from awsemu.testing.server import ServerProcess
from awsemu.testing.polling import eventually

NOT_VALID = "The operation is not valid for the object's storage class"


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_restore_in_progress_done_expired_across_restart(tmp_path: Path) -> None:
    # Windows wide enough for a loaded CI machine: 2 s "ongoing" covers the checks before the
    # SIGKILL, a 6 s restored copy covers the restart (a 2 s copy expired during a slow restart).
    server = ServerProcess(tmp_path / "data", env={"AWSEMU_S3_RESTORE_SECONDS": "2",
                                                   "AWSEMU_S3_RESTORE_DAY_SECONDS": "6"})
    try:
        endpoint = server.start()
        s3, sqs = client_for(endpoint), client_for(endpoint, "sqs")
        url = sqs.create_queue(QueueName="restores")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.create_bucket(Bucket="cold")
        s3.put_bucket_notification_configuration(Bucket="cold", NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectRestore:*"]}]})
        s3.put_object(Bucket="cold", Key="k", Body=b"frozen", StorageClass="GLACIER")

        assert s3.restore_object(Bucket="cold", Key="k", RestoreRequest={"Days": 1})[
            "ResponseMetadata"]["HTTPStatusCode"] == 202
        head = s3.head_object(Bucket="cold", Key="k")
        assert head["Restore"] == 'ongoing-request="true"'
        assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-restore"] == 'ongoing-request="true"'
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket="cold", Key="k")
        assert error_of(exc) == ("InvalidObjectState", NOT_VALID, 403)
        with pytest.raises(ClientError) as exc:
            s3.restore_object(Bucket="cold", Key="k", RestoreRequest={"Days": 1})
        assert error_of(exc) == ("RestoreAlreadyInProgress", "Object restore is already in progress", 409)
        listed = s3.list_objects_v2(Bucket="cold", OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]
        assert listed["RestoreStatus"] == {"IsRestoreInProgress": True}

        # the restore's state and its pending events live in lsm: a crash loses neither
        server.kill()
        endpoint = server.start()
        s3, sqs = client_for(endpoint), client_for(endpoint, "sqs")
        done = eventually(lambda: s3.head_object(Bucket="cold", Key="k").get("Restore", "").startswith(
            'ongoing-request="false", expiry-date="'))
        assert done
        assert s3.get_object(Bucket="cold", Key="k")["Body"].read() == b"frozen"
        listed = s3.list_objects_v2(Bucket="cold", OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]
        assert listed["RestoreStatus"]["IsRestoreInProgress"] is False

        # the copy expires: archived again, no header, readable only after a new restore
        assert eventually(lambda: "Restore" not in s3.head_object(Bucket="cold", Key="k"), timeout=20.0)
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket="cold", Key="k")
        assert error_of(exc) == ("InvalidObjectState", NOT_VALID, 403)
        assert "RestoreStatus" not in s3.list_objects_v2(
            Bucket="cold", OptionalObjectAttributes=["RestoreStatus"])["Contents"][0]

        names: list[str] = []
        records: list[dict[str, Any]] = []

        def all_events() -> bool:
            for body in _drain(sqs, url):
                if "Records" in body:
                    records.extend(body["Records"])
                    names.extend(r["eventName"] for r in body["Records"])
            return len(names) >= 3

        assert eventually(all_events)
        assert names == ["ObjectRestore:Post", "ObjectRestore:Completed", "ObjectRestore:Delete"]
        assert [r["eventVersion"] for r in records] == ["2.1", "2.1", "2.3"]
        sequencers = [r["s3"]["object"]["sequencer"] for r in records]
        assert sequencers == sorted(sequencers)
        assert s3.restore_object(Bucket="cold", Key="k", RestoreRequest={"Days": 1})[
            "ResponseMetadata"]["HTTPStatusCode"] == 202
    finally:
        server.close()
