"""Server access logging, Requester Pays and Transfer Acceleration: defaults, round trips, errors."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_helpers import client_for, error_of, new_bucket

from awsemu.testing.server import ServerProcess

def _no_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def test_logging_default_put_get_and_disable(s3: Any, bucket: str) -> None:
    assert _no_metadata(s3.get_bucket_logging(Bucket=bucket)) == {}
    target = new_bucket(s3)
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": target, "TargetPrefix": "logs/",
        "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}})
    assert _no_metadata(s3.get_bucket_logging(Bucket=bucket)) == {"LoggingEnabled": {
        "TargetBucket": target, "TargetPrefix": "logs/",
        "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}}
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
        "TargetBucket": target, "TargetPrefix": "", "TargetObjectKeyFormat": {"SimplePrefix": {}}}})
    assert _no_metadata(s3.get_bucket_logging(Bucket=bucket)) == {"LoggingEnabled": {
        "TargetBucket": target, "TargetPrefix": "", "TargetObjectKeyFormat": {"SimplePrefix": {}}}}
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    assert _no_metadata(s3.get_bucket_logging(Bucket=bucket)) == {}


def test_logging_target_grants_need_acl_enabled_target(s3: Any, bucket: str) -> None:
    target = new_bucket(s3)
    grant = {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
             "Permission": "READ"}
    status = {"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "p/", "TargetGrants": [grant]}}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus=status)
    assert error_of(exc) == ("AccessControlListNotSupported",
                             "Target grants not allowed for bucket owner enforced buckets", 400)
    s3.put_bucket_ownership_controls(Bucket=target, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus=status)
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]["TargetGrants"] == [grant]


def test_logging_target_errors(s3: Any, bucket: str, aws_endpoint_url: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": "no-such-target-bucket-x1", "TargetPrefix": "p/"}})
    assert error_of(exc) == ("InvalidTargetBucketForLogging", "The target bucket for logging does not exist", 400)
    assert exc.value.response["Error"]["TargetBucket"] == "no-such-target-bucket-x1"

    other = client_for(aws_endpoint_url, aws_access_key_id="111122223333")
    foreign = new_bucket(other)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": foreign, "TargetPrefix": "p/"}})
    assert error_of(exc) == ("InvalidTargetBucketForLogging",
                             "The owner for the bucket to be logged and the target bucket must be the same.", 400)

    west = client_for(aws_endpoint_url, region_name="eu-west-1")
    far = new_bucket(west, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={"LoggingEnabled": {
            "TargetBucket": far, "TargetPrefix": "p/"}})
    assert error_of(exc) == ("CrossLocationLoggingProhibitted", "Cross S3 location logging not allowed. ", 403)
    assert exc.value.response["Error"]["TargetBucketLocation"] == "eu-west-1"
    assert _no_metadata(s3.get_bucket_logging(Bucket=bucket)) == {}

    with pytest.raises(ClientError) as exc:
        s3.get_bucket_logging(Bucket="no-such-bucket-logging-x1")
    assert error_of(exc) == ("NoSuchBucket", "The specified bucket does not exist", 404)


def test_request_payment(s3: Any, bucket: str) -> None:
    assert _no_metadata(s3.get_bucket_request_payment(Bucket=bucket)) == {"Payer": "BucketOwner"}
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    assert _no_metadata(s3.get_bucket_request_payment(Bucket=bucket)) == {"Payer": "Requester"}
    s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "BucketOwner"})
    assert _no_metadata(s3.get_bucket_request_payment(Bucket=bucket)) == {"Payer": "BucketOwner"}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_request_payment(Bucket=bucket, RequestPaymentConfiguration={"Payer": "Nobody"})
    assert error_of(exc) == ("MalformedXML", "The XML you provided was not well-formed or did not validate "
                             "against our published schema", 400)


def test_accelerate(s3: Any, bucket: str) -> None:
    assert _no_metadata(s3.get_bucket_accelerate_configuration(Bucket=bucket)) == {}
    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    assert _no_metadata(s3.get_bucket_accelerate_configuration(Bucket=bucket)) == {"Status": "Enabled"}
    s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Suspended"})
    assert _no_metadata(s3.get_bucket_accelerate_configuration(Bucket=bucket)) == {"Status": "Suspended"}
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "On"})
    assert error_of(exc)[::2] == ("MalformedXML", 400)

    dotted = f"{bucket}.dots"
    s3.create_bucket(Bucket=dotted)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_accelerate_configuration(Bucket=dotted, AccelerateConfiguration={"Status": "Enabled"})
    assert error_of(exc) == ("InvalidRequest",
                             "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names",
                             400)
    assert _no_metadata(s3.get_bucket_accelerate_configuration(Bucket=dotted)) == {}


def test_new_configurations_survive_sigkill(fresh_server: ServerProcess) -> None:
    s3 = client_for(fresh_server.start())
    for name in ("cfg-src", "cfg-dst", "cfg-logs"):
        s3.create_bucket(Bucket=name)
    for name in ("cfg-src", "cfg-dst"):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    logging = {"TargetBucket": "cfg-logs", "TargetPrefix": "src/"}
    replication = {"Role": "arn:aws:iam::000000000000:role/r", "Rules": [
        {"ID": "all", "Priority": 0, "Status": "Enabled", "Filter": {}, "DeleteMarkerReplication": {"Status": "Enabled"},
         "Destination": {"Bucket": "arn:aws:s3:::cfg-dst"}}]}
    metrics = {"Id": "m", "Filter": {"Prefix": "p/"}}
    s3.put_bucket_logging(Bucket="cfg-src", BucketLoggingStatus={"LoggingEnabled": logging})
    s3.put_bucket_request_payment(Bucket="cfg-src", RequestPaymentConfiguration={"Payer": "Requester"})
    s3.put_bucket_accelerate_configuration(Bucket="cfg-src", AccelerateConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket="cfg-src", ReplicationConfiguration=replication)
    s3.put_bucket_metrics_configuration(Bucket="cfg-src", Id="m", MetricsConfiguration=metrics)
    version = s3.put_object(Bucket="cfg-src", Key="replicated", Body=b"r")["VersionId"]
    fresh_server.kill()

    s3 = client_for(fresh_server.start())
    assert s3.get_bucket_logging(Bucket="cfg-src")["LoggingEnabled"] == logging
    assert s3.get_bucket_request_payment(Bucket="cfg-src")["Payer"] == "Requester"
    assert s3.get_bucket_accelerate_configuration(Bucket="cfg-src")["Status"] == "Enabled"
    assert s3.get_bucket_replication(Bucket="cfg-src")["ReplicationConfiguration"] == replication
    assert s3.get_bucket_metrics_configuration(Bucket="cfg-src", Id="m")["MetricsConfiguration"] == metrics
    # a replication entry committed with the object is delivered, before the kill or after the restart
    deadline = time.monotonic() + 10
    while True:
        try:
            replica = s3.get_object(Bucket="cfg-dst", Key="replicated")
            break
        except ClientError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert (replica["Body"].read(), replica["VersionId"]) == (b"r", version)
    fresh_server.stop()
