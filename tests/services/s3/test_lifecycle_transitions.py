"""Lifecycle transitions: validated as S3 words its refusals, and applied by the real sweeper
(a lifecycle "day" of 50 ms), in place, durably, with AWS's filters and size rules."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from s3_helpers import client_for, error_of

from awsemu.testing.server import ServerProcess

KiB = 1024


def _put_rules(s3: Any, bucket: str, *rules: dict[str, Any]) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)})


def _refusal(s3: Any, bucket: str, rule: dict[str, Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        _put_rules(s3, bucket, {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, **rule})
    return error_of(exc)


def test_transition_validation(s3: Any, bucket: str) -> None:
    assert _refusal(s3, bucket, {"Transitions": [{"Days": 20, "StorageClass": "STANDARD_IA"}]}) == (
        "InvalidArgument", "'Days' in Transition action must be greater than or equal to 30 for storageClass "
        "'STANDARD_IA'", 400)
    assert _refusal(s3, bucket, {"Transitions": [{"Days": 29, "StorageClass": "ONEZONE_IA"}]})[1].endswith(
        "for storageClass 'ONEZONE_IA'")
    assert _refusal(s3, bucket, {"NoncurrentVersionTransitions": [
        {"NoncurrentDays": 5, "StorageClass": "STANDARD_IA"}]}) == (
        "InvalidArgument", "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal "
        "to 30 for storageClass 'STANDARD_IA'", 400)
    assert _refusal(s3, bucket, {"Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
                                 "Expiration": {"Days": 30}}) == (
        "InvalidArgument", "'Days' in the Expiration action for filter '(prefix=logs/)' must be greater than "
        "'Days' in the Transition action", 400)
    assert _refusal(s3, bucket, {"Transitions": [{"Days": 30, "StorageClass": "GLACIER"},
                                                 {"Days": 90, "StorageClass": "GLACIER"}]}) == (
        "InvalidRequest", "'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter "
        "'(prefix=logs/)'", 400)
    # each transition comes the warmer class's minimum storage duration after the one before
    assert _refusal(s3, bucket, {"Transitions": [{"Days": 30, "StorageClass": "GLACIER"},
                                                 {"Days": 100, "StorageClass": "DEEP_ARCHIVE"}]}) == (
        "InvalidArgument", "'Days' in the 'Transition' action for StorageClass 'DEEP_ARCHIVE' for filter "
        "'(prefix=logs/)' must be 90 days more than 'filter '(prefix=logs/)'' in the 'Transition' action for "
        "StorageClass 'GLACIER'", 400)
    assert _refusal(s3, bucket, {"Transitions": [{"Days": 90, "StorageClass": "STANDARD_IA"},
                                                 {"Days": 60, "StorageClass": "GLACIER"}]})[0] == "InvalidArgument"
    assert _refusal(s3, bucket, {"Transitions": [{"Date": "2030-01-01T12:00:00Z", "StorageClass": "GLACIER"}]}) == (
        "InvalidArgument", "'Date' must be at midnight GMT", 400)
    assert _refusal(s3, bucket, {"Transitions": [{"Date": "2030-01-01T00:00:00Z", "StorageClass": "GLACIER"}],
                                 "Expiration": {"Days": 400}})[0] == "InvalidRequest"
    assert _refusal(s3, bucket, {"NoncurrentVersionTransitions": [{"NoncurrentDays": 10, "StorageClass": "GLACIER"}],
                                 "NoncurrentVersionExpiration": {"NoncurrentDays": 10}})[0] == "InvalidArgument"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, TransitionDefaultMinimumObjectSize="tiny",
            LifecycleConfiguration={"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {},
                                               "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]}]})
    assert error_of(exc)[:2] == ("InvalidArgument", "Invalid TransitionDefaultMinimumObjectSize found")
    # a configuration S3 accepts is stored and answered as given, with its minimum-size setting
    rule = {"ID": "ok", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
            "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 60, "StorageClass": "GLACIER_IR"}],
            "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "ONEZONE_IA",
                                              "NewerNoncurrentVersions": 2}],
            "Expiration": {"Days": 365}}
    put = s3.put_bucket_lifecycle_configuration(Bucket=bucket, TransitionDefaultMinimumObjectSize="varies_by_storage_class",
                                                LifecycleConfiguration={"Rules": [rule]})
    assert put["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["Rules"] == [rule] and got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    # dates are stored and answered as the timestamps they were
    dated = {"ID": "dated", "Status": "Enabled", "Filter": {},
             "Transitions": [{"Date": datetime(2031, 1, 1, tzinfo=timezone.utc), "StorageClass": "GLACIER"}],
             "Expiration": {"Date": datetime(2032, 1, 1, tzinfo=timezone.utc)}}
    _put_rules(s3, bucket, dated)
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == [dated]
    assert 'expiry-date="Thu, 01 Jan 2032 00:00:00 GMT"' in s3.put_object(Bucket=bucket, Key="k", Body=b"x")["Expiration"]


def _wait_for(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)


def _storage_class(s3: Any, bucket: str, key: str, version: str | None = None) -> str:
    extra = {"VersionId": version} if version else {}
    return str(s3.head_object(Bucket=bucket, Key=key, **extra).get("StorageClass", "STANDARD"))


def test_sweeper_applies_transitions(tmp_path: Path) -> None:
    env = {"AWSEMU_S3_LIFECYCLE_DAY_SECONDS": "0.05", "AWSEMU_S3_LIFECYCLE_INTERVAL": "0.2"}
    server = ServerProcess(tmp_path / "data", env=env)
    try:
        s3: Any = client_for(server.start())
        s3.create_bucket(Bucket="tiers")
        big = os.urandom(128 * KiB)
        s3.put_object(Bucket="tiers", Key="big/a", Body=big)
        s3.put_object(Bucket="tiers", Key="small/b", Body=b"under 128 KiB")
        s3.put_object(Bucket="tiers", Key="sized/c", Body=b"a size filter overrides the minimum")
        s3.put_object(Bucket="tiers", Key="tag/yes", Body=b"y", Tagging="tier=deep")
        s3.put_object(Bucket="tiers", Key="tag/no", Body=b"n", Tagging="tier=warm")
        s3.put_object(Bucket="tiers", Key="big/later", Body=big)  # an object under an expiry that comes first
        s3.put_object(Bucket="tiers", Key="dated/d", Body=b"a date in the past applies at once")
        sqs: Any = client_for(server.endpoint, "sqs")
        url = sqs.create_queue(QueueName="transitions")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.put_bucket_notification_configuration(Bucket="tiers", NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:LifecycleTransition"],
             "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "dated/"}]}}}]})
        _put_rules(
            s3, "tiers",
            {"ID": "big", "Status": "Enabled", "Filter": {"Prefix": "big/a"},
             "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 60, "StorageClass": "GLACIER"}]},
            {"ID": "small", "Status": "Enabled", "Filter": {"Prefix": "small/"},
             "Transitions": [{"Days": 0, "StorageClass": "GLACIER_IR"}]},
            {"ID": "sized", "Status": "Enabled", "Filter": {"And": {"Prefix": "sized/", "ObjectSizeGreaterThan": 1}},
             "Transitions": [{"Days": 1, "StorageClass": "GLACIER_IR"}]},
            {"ID": "tagged", "Status": "Enabled",
             "Filter": {"And": {"Prefix": "tag/", "Tags": [{"Key": "tier", "Value": "deep"}],
                                "ObjectSizeLessThan": 10}},
             "Transitions": [{"Days": 2, "StorageClass": "DEEP_ARCHIVE"}]},
            {"ID": "later", "Status": "Enabled", "Filter": {"Prefix": "big/later"},
             "Transitions": [{"Days": 2000, "StorageClass": "GLACIER"}], "Expiration": {"Days": 3000}},
            {"ID": "dated", "Status": "Enabled", "Filter": {"And": {"Prefix": "dated/", "ObjectSizeGreaterThan": 0}},
             "Transitions": [{"Date": "2020-01-01T00:00:00Z", "StorageClass": "ONEZONE_IA"}]},
        )
        _wait_for(lambda: _storage_class(s3, "tiers", "sized/c") == "GLACIER_IR"
                  and _storage_class(s3, "tiers", "tag/yes") == "DEEP_ARCHIVE")
        assert _storage_class(s3, "tiers", "sized/c") == "GLACIER_IR"
        assert s3.get_object(Bucket="tiers", Key="sized/c")["Body"].read() == b"a size filter overrides the minimum"
        assert _storage_class(s3, "tiers", "tag/yes") == "DEEP_ARCHIVE"
        assert _storage_class(s3, "tiers", "tag/no") == "STANDARD"
        # the first transition is due after 1.5 s, the second after 3 s: STANDARD_IA is seen on the way
        _wait_for(lambda: _storage_class(s3, "tiers", "big/a") != "STANDARD")
        first = _storage_class(s3, "tiers", "big/a")
        assert first in ("STANDARD_IA", "GLACIER")
        _wait_for(lambda: _storage_class(s3, "tiers", "big/a") == "GLACIER")
        assert _storage_class(s3, "tiers", "big/a") == "GLACIER"
        # under 128 KiB and no size filter: never transitioned (all_storage_classes_128K)
        assert _storage_class(s3, "tiers", "small/b") == "STANDARD"
        assert _storage_class(s3, "tiers", "big/later") == "STANDARD"
        assert _storage_class(s3, "tiers", "dated/d") == "ONEZONE_IA"
        events = []
        for _ in range(10):
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            events += [json.loads(m["Body"]) for m in got]
            if any("Records" in e for e in events):
                break
        records = [e["Records"][0] for e in events if "Records" in e]  # the rest is the s3:TestEvent
        assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [("LifecycleTransition", "dated/d")]
        listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket="tiers")["Contents"]}
        assert listed["big/a"] == "GLACIER" and listed["tag/yes"] == "DEEP_ARCHIVE" and listed["small/b"] == "STANDARD"
        with pytest.raises(ClientError) as exc:
            s3.get_object(Bucket="tiers", Key="big/a")
        assert error_of(exc)[0::2] == ("InvalidObjectState", 403)
        server.kill()

        s3 = client_for(server.start())  # the transition was an LSM write: it survives SIGKILL
        assert _storage_class(s3, "tiers", "big/a") == "GLACIER"
        assert _storage_class(s3, "tiers", "tag/yes") == "DEEP_ARCHIVE"
        s3.restore_object(Bucket="tiers", Key="big/a", RestoreRequest={"Days": 1})
        _wait_for(lambda: 'ongoing-request="false"' in s3.head_object(Bucket="tiers", Key="big/a").get("Restore", ""))
        assert s3.get_object(Bucket="tiers", Key="big/a")["Body"].read() == big  # the same bytes, never copied
    finally:
        server.close()


def test_sweeper_applies_noncurrent_transitions(tmp_path: Path) -> None:
    env = {"AWSEMU_S3_LIFECYCLE_DAY_SECONDS": "0.05", "AWSEMU_S3_LIFECYCLE_INTERVAL": "0.2"}
    server = ServerProcess(tmp_path / "data", env=env)
    try:
        s3: Any = client_for(server.start())
        s3.create_bucket(Bucket="history")
        s3.put_bucket_versioning(Bucket="history", VersioningConfiguration={"Status": "Enabled"})
        ids = [s3.put_object(Bucket="history", Key="doc", Body=f"v{n}".encode())["VersionId"] for n in range(4)]
        _put_rules(s3, "history", {
            "ID": "old", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 0},
            "NoncurrentVersionTransitions": [{"NoncurrentDays": 1, "StorageClass": "GLACIER",
                                              "NewerNoncurrentVersions": 1}]})
        _wait_for(lambda: _storage_class(s3, "history", "doc", ids[0]) == "GLACIER"
                  and _storage_class(s3, "history", "doc", ids[1]) == "GLACIER")
        # newest first: current v3 stays, v2 is the one newer noncurrent version kept, v1 and v0 move
        assert [_storage_class(s3, "history", "doc", v) for v in ids] == ["GLACIER", "GLACIER", "STANDARD", "STANDARD"]
        time.sleep(0.6)  # more sweeps change nothing
        assert [_storage_class(s3, "history", "doc", v) for v in ids] == ["GLACIER", "GLACIER", "STANDARD", "STANDARD"]
        versions = s3.list_object_versions(Bucket="history")["Versions"]
        assert [v["StorageClass"] for v in versions] == ["STANDARD", "STANDARD", "GLACIER", "GLACIER"]
        assert s3.get_object(Bucket="history", Key="doc")["Body"].read() == b"v3"
    finally:
        server.close()
