"""Restore events beneath the gateway: the schedule entries a RestoreObject writes become outbox
events when due, once each, and an entry made stale by an extension or a removal sends nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from awsemu.services.s3 import keys
from awsemu.services.s3.provider import S3Provider
from awsemu.testing.provider import InProcessProvider


class _ManualDelivery(InProcessProvider[S3Provider]):
    def open(self) -> None:
        super().open()
        assert self.provider is not None
        self.provider.stop_notifications()  # the test runs the deliverer's steps itself


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[_ManualDelivery]:
    p = _ManualDelivery(S3Provider, tmp_path, service="s3", with_blobs=True)
    p("CreateBucket", Bucket="bkt")
    p("PutBucketNotificationConfiguration", Bucket="bkt", SkipDestinationValidation=True,
      NotificationConfiguration={"QueueConfigurations": [
          {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "Events": ["s3:ObjectRestore:*"]}]})
    yield p
    p.close()


def _outbox_events(s3: _ManualDelivery) -> list[str]:
    assert s3.provider is not None
    names = []
    for _, value in s3.provider.store.db.scan(*keys.outbox_range()):
        body = json.loads(json.loads(value)["body"])
        names.append(body["Records"][0]["eventName"])
    return names


def _scheduled(s3: _ManualDelivery) -> int:
    assert s3.provider is not None
    return len(list(s3.provider.store.db.scan(*keys.kind_range("x"))))


def test_each_restore_event_once_and_stale_ones_dropped(s3: Any) -> None:
    s3("PutObject", Bucket="bkt", Key="k", Body=b"x", StorageClass="GLACIER")
    s3("PutObject", Bucket="bkt", Key="gone", Body=b"x", StorageClass="GLACIER")
    assert s3("RestoreObject", Bucket="bkt", Key="k", RestoreRequest={"Days": 1}) == {"StatusCode": 202}
    assert s3("RestoreObject", Bucket="bkt", Key="k", RestoreRequest={"Days": 3}) == {}  # an extension
    s3("RestoreObject", Bucket="bkt", Key="gone", RestoreRequest={"Days": 1})
    s3("DeleteObject", Bucket="bkt", Key="gone")
    assert _outbox_events(s3) == ["ObjectRestore:Post", "ObjectRestore:Post"]
    # Completed (x2), the first Delete made stale by the extension, the new Delete, gone's Delete
    assert _scheduled(s3) == 5
    s3.restart()  # the schedule is in lsm
    assert s3.provider.deliver_restore_events(now=time.time()) == 2  # both Completed events are due
    assert _outbox_events(s3)[2:] == ["ObjectRestore:Completed"]  # gone's version no longer exists
    assert s3.provider.deliver_restore_events(now=time.time() + 10 * 86400) == 3
    assert _outbox_events(s3)[3:] == ["ObjectRestore:Delete"]
    assert _scheduled(s3) == 0
