"""x-amz-replication-status beneath the gateway: the provider in-process with its deliverer thread
stopped, so PENDING is observable and delivery runs when the test says, including a crash between
committing a replica and settling its source's status."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from awsemu.services.s3 import keys
from awsemu.services.s3.provider import S3Provider
from awsemu.testing.provider import InProcessProvider

RULE = {"ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Disabled"}}


class _ManualDelivery(InProcessProvider[S3Provider]):
    def open(self) -> None:
        super().open()
        assert self.provider is not None
        self.provider.stop_notifications()  # the test delivers by calling deliver_replicas()


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[_ManualDelivery]:
    p = _ManualDelivery(S3Provider, tmp_path, service="s3", with_blobs=True)
    for name in ("src", "dst", "dst2"):
        p("CreateBucket", Bucket=name)
        p("PutBucketVersioning", Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    rules = [{**RULE, "ID": "one", "Destination": {"Bucket": "arn:aws:s3:::dst"}},
             {**RULE, "ID": "two", "Priority": 2, "Destination": {"Bucket": "arn:aws:s3:::dst2"}}]
    p("PutBucketReplication", Bucket="src", ReplicationConfiguration={"Role": "arn:aws:iam::000000000000:role/r",
                                                                     "Rules": rules})
    yield p
    p.close()


def _pending_entries(s3: _ManualDelivery) -> int:
    assert s3.provider is not None
    return len(list(s3.provider.store.db.scan(*keys.kind_range("r"))))


def test_pending_until_every_destination_has_its_replica(s3: Any) -> None:
    s3("PutObject", Bucket="src", Key="k", Body=b"body")
    assert s3("HeadObject", Bucket="src", Key="k")["ReplicationStatus"] == "PENDING"
    assert _pending_entries(s3) == 2
    assert s3.provider.deliver_replicas() == 2
    assert s3("HeadObject", Bucket="src", Key="k")["ReplicationStatus"] == "COMPLETED"
    for dest in ("dst", "dst2"):
        assert s3("GetObject", Bucket=dest, Key="k")["ReplicationStatus"] == "REPLICA"
    assert _pending_entries(s3) == 0


def test_one_dropped_replica_fails_the_source(s3: Any) -> None:
    s3("PutObject", Bucket="src", Key="k", Body=b"body")
    s3("DeleteBucket", Bucket="dst2")
    s3.provider.deliver_replicas()
    assert s3("HeadObject", Bucket="src", Key="k")["ReplicationStatus"] == "FAILED"
    assert s3("HeadObject", Bucket="dst", Key="k")["ReplicationStatus"] == "REPLICA"


def test_crash_between_replica_and_source_status(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    s3("PutObject", Bucket="src", Key="k", Body=b"body")

    def crash(*_args: Any) -> None:
        raise KeyboardInterrupt("killed after the replicas were committed")

    monkeypatch.setattr(s3.provider, "_settle_source", crash)
    with pytest.raises(KeyboardInterrupt):
        s3.provider.deliver_replicas()
    s3.restart()
    # the replicas exist, the source still says PENDING, the entries remember their outcome
    assert s3("HeadObject", Bucket="dst", Key="k")["ReplicationStatus"] == "REPLICA"
    assert s3("HeadObject", Bucket="src", Key="k")["ReplicationStatus"] == "PENDING"
    assert _pending_entries(s3) == 2
    assert s3.provider.deliver_replicas() == 0  # nothing is replicated twice
    assert s3("HeadObject", Bucket="src", Key="k")["ReplicationStatus"] == "COMPLETED"
    assert _pending_entries(s3) == 0
    versions = s3("ListObjectVersions", Bucket="dst")["Versions"]
    assert len(versions) == 1
