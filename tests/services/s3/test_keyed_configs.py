"""Analytics, inventory, metrics and Intelligent-Tiering configurations: Put/Get/Delete/List by Id."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_helpers import error_of, new_bucket

MALFORMED = ("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
             "published schema", 400)
NO_SUCH = ("NoSuchConfiguration", "The specified configuration does not exist.", 404)


def _error(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    return error_of(exc)


def _analytics(config_id: str, target: str) -> dict[str, Any]:
    return {"Id": config_id, "Filter": {"Tag": {"Key": "team", "Value": "a"}},
            "StorageClassAnalysis": {"DataExport": {"OutputSchemaVersion": "V_1", "Destination": {
                "S3BucketDestination": {"Format": "CSV", "BucketAccountId": "000000000000",
                                        "Bucket": f"arn:aws:s3:::{target}", "Prefix": "analytics/"}}}}}


def _inventory(config_id: str, target: str) -> dict[str, Any]:
    return {"Id": config_id, "IsEnabled": True, "IncludedObjectVersions": "All",
            "Filter": {"Prefix": "data/"}, "OptionalFields": ["Size", "ETag", "StorageClass"],
            "Schedule": {"Frequency": "Weekly"},
            "Destination": {"S3BucketDestination": {"Bucket": f"arn:aws:s3:::{target}", "Format": "Parquet",
                                                    "AccountId": "000000000000", "Prefix": "inv",
                                                    "Encryption": {"SSEKMS": {"KeyId": "arn:aws:kms:us-east-1:000000000000:key/k"}}}}}


def _tiering(config_id: str) -> dict[str, Any]:
    return {"Id": config_id, "Status": "Enabled", "Filter": {"Prefix": "cold/"},
            "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}, {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]}


def test_analytics_crud(s3: Any, bucket: str) -> None:
    target = new_bucket(s3)
    assert s3.list_bucket_analytics_configurations(Bucket=bucket)["IsTruncated"] is False
    assert "AnalyticsConfigurationList" not in s3.list_bucket_analytics_configurations(Bucket=bucket)
    assert _error(s3.get_bucket_analytics_configuration, Bucket=bucket, Id="a1") == NO_SUCH
    assert _error(s3.delete_bucket_analytics_configuration, Bucket=bucket, Id="a1") == NO_SUCH
    s3.put_bucket_analytics_configuration(Bucket=bucket, Id="a1", AnalyticsConfiguration=_analytics("a1", target))
    plain = {"Id": "a0", "StorageClassAnalysis": {}}
    s3.put_bucket_analytics_configuration(Bucket=bucket, Id="a0", AnalyticsConfiguration=plain)
    assert s3.get_bucket_analytics_configuration(Bucket=bucket, Id="a1")["AnalyticsConfiguration"] == _analytics("a1", target)
    listed = s3.list_bucket_analytics_configurations(Bucket=bucket)
    assert listed["AnalyticsConfigurationList"] == [plain, _analytics("a1", target)]
    assert listed["IsTruncated"] is False and "NextContinuationToken" not in listed
    response = s3.delete_bucket_analytics_configuration(Bucket=bucket, Id="a1")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert _error(s3.get_bucket_analytics_configuration, Bucket=bucket, Id="a1") == NO_SUCH
    assert s3.list_bucket_analytics_configurations(Bucket=bucket)["AnalyticsConfigurationList"] == [plain]


def test_analytics_validation(s3: Any, bucket: str) -> None:
    target = new_bucket(s3)
    put = s3.put_bucket_analytics_configuration
    assert _error(put, Bucket=bucket, Id="other", AnalyticsConfiguration=_analytics("a1", target)) == MALFORMED
    bad_schema = _analytics("a1", target)
    bad_schema["StorageClassAnalysis"]["DataExport"]["OutputSchemaVersion"] = "V_2"
    assert _error(put, Bucket=bucket, Id="a1", AnalyticsConfiguration=bad_schema) == MALFORMED
    two = _analytics("a1", target)
    two["Filter"] = {"Prefix": "p", "Tag": {"Key": "k", "Value": "v"}}
    assert _error(put, Bucket=bucket, Id="a1", AnalyticsConfiguration=two) == MALFORMED
    assert _error(put, Bucket=bucket, Id="", AnalyticsConfiguration=_analytics("", target)) == (
        "InvalidConfigurationId", "The specified configuration id is invalid.", 400)
    assert _error(put, Bucket="no-such-bucket-analytics-x1", Id="a1",
                  AnalyticsConfiguration=_analytics("a1", target)) == (
        "NoSuchBucket", "The specified bucket does not exist", 404)


def test_inventory_crud_and_validation(s3: Any, bucket: str) -> None:
    target = new_bucket(s3)
    put = s3.put_bucket_inventory_configuration
    put(Bucket=bucket, Id="inv", InventoryConfiguration=_inventory("inv", target))
    assert s3.get_bucket_inventory_configuration(Bucket=bucket, Id="inv")["InventoryConfiguration"] == _inventory("inv", target)
    minimal = {"Id": "min", "IsEnabled": False, "IncludedObjectVersions": "Current", "Schedule": {"Frequency": "Daily"},
               "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::anywhere-even-missing", "Format": "CSV",
                                                       "Encryption": {"SSES3": {}}}}}
    put(Bucket=bucket, Id="min", InventoryConfiguration=minimal)
    listed = s3.list_bucket_inventory_configurations(Bucket=bucket)
    assert listed["InventoryConfigurationList"] == [_inventory("inv", target), minimal]
    assert listed["IsTruncated"] is False

    assert _error(put, Bucket=bucket, Id="x", InventoryConfiguration=_inventory("inv", target)) == (
        "IdMismatch", "Document ID does not match the specified configuration ID.", 400)
    not_arn = _inventory("inv", target)
    not_arn["Destination"]["S3BucketDestination"]["Bucket"] = target
    assert _error(put, Bucket=bucket, Id="inv", InventoryConfiguration=not_arn) == (
        "InvalidS3DestinationBucket", "Invalid bucket ARN.", 400)
    for path, value in ((("Schedule", "Frequency"), "Hourly"), (("IncludedObjectVersions",), "CURRENT"),
                        (("Destination", "S3BucketDestination", "Format"), "JSON"), (("OptionalFields",), ["Colour"])):
        doc = _inventory("inv", target)
        node = doc
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value
        assert _error(put, Bucket=bucket, Id="inv", InventoryConfiguration=doc) == MALFORMED, path
    assert _error(put, Bucket=bucket, Id="", InventoryConfiguration=_inventory("", target))[0] == "InvalidConfigurationId"
    s3.delete_bucket_inventory_configuration(Bucket=bucket, Id="inv")
    assert _error(s3.get_bucket_inventory_configuration, Bucket=bucket, Id="inv") == NO_SUCH


def test_metrics_crud_paging_and_validation(s3: Any, bucket: str) -> None:
    put = s3.put_bucket_metrics_configuration
    ids = [f"m{i:03d}" for i in range(205)]
    for config_id in reversed(ids):
        put(Bucket=bucket, Id=config_id, MetricsConfiguration={"Id": config_id, "Filter": {"Prefix": config_id}})
    put(Bucket=bucket, Id="m000", MetricsConfiguration={"Id": "m000", "Filter": {
        "And": {"Prefix": "p", "Tags": [{"Key": "k", "Value": "v"}], "AccessPointArn":
                "arn:aws:s3:us-east-1:000000000000:accesspoint/ap"}}})
    first = s3.list_bucket_metrics_configurations(Bucket=bucket)
    assert first["IsTruncated"] is True and "ContinuationToken" not in first
    assert [c["Id"] for c in first["MetricsConfigurationList"]] == ids[:100]
    assert first["MetricsConfigurationList"][0]["Filter"]["And"]["Tags"] == [{"Key": "k", "Value": "v"}]
    second = s3.list_bucket_metrics_configurations(Bucket=bucket, ContinuationToken=first["NextContinuationToken"])
    assert second["ContinuationToken"] == first["NextContinuationToken"]
    assert [c["Id"] for c in second["MetricsConfigurationList"]] == ids[100:200]
    third = s3.list_bucket_metrics_configurations(Bucket=bucket, ContinuationToken=second["NextContinuationToken"])
    assert [c["Id"] for c in third["MetricsConfigurationList"]] == ids[200:]
    assert third["IsTruncated"] is False and "NextContinuationToken" not in third
    assert s3.get_bucket_metrics_configuration(Bucket=bucket, Id="m204")["MetricsConfiguration"] == {
        "Id": "m204", "Filter": {"Prefix": "m204"}}
    s3.delete_bucket_metrics_configuration(Bucket=bucket, Id="m204")
    assert _error(s3.get_bucket_metrics_configuration, Bucket=bucket, Id="m204") == NO_SUCH

    assert _error(put, Bucket=bucket, Id="bad id!", MetricsConfiguration={"Id": "bad id!"}) == MALFORMED
    assert _error(put, Bucket=bucket, Id="x" * 65, MetricsConfiguration={"Id": "x" * 65}) == MALFORMED
    assert _error(put, Bucket=bucket, Id="one", MetricsConfiguration={"Id": "two"}) == MALFORMED
    assert _error(put, Bucket=bucket, Id="", MetricsConfiguration={"Id": ""})[0] == "InvalidConfigurationId"
    with pytest.raises(ClientError) as exc:
        s3.list_bucket_metrics_configurations(Bucket=bucket, ContinuationToken="%%%")
    assert error_of(exc) == ("InvalidArgument", "The continuation token provided is incorrect", 400)


def test_intelligent_tiering_crud_and_validation(s3: Any, bucket: str) -> None:
    put = s3.put_bucket_intelligent_tiering_configuration
    put(Bucket=bucket, Id="t1", IntelligentTieringConfiguration=_tiering("t1"))
    assert s3.get_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="t1")[
        "IntelligentTieringConfiguration"] == _tiering("t1")
    listed = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    assert listed["IntelligentTieringConfigurationList"] == [_tiering("t1")]
    assert listed["IsTruncated"] is False

    assert _error(put, Bucket=bucket, Id="bad/id", IntelligentTieringConfiguration=_tiering("bad/id")) == (
        "InvalidConfigId", "Config Id does not match the pattern ^[a-zA-Z0-9\\-_.]+$", 400)
    assert _error(put, Bucket=bucket, Id="t" * 65, IntelligentTieringConfiguration=_tiering("t" * 65)) == (
        "InvalidConfigId", "Config Id should be more than 1 character and less than 64 characters in length.", 400)
    assert _error(put, Bucket=bucket, Id="t2", IntelligentTieringConfiguration=_tiering("t1")) == MALFORMED
    bad_status = {**_tiering("t2"), "Status": "On"}
    assert _error(put, Bucket=bucket, Id="t2", IntelligentTieringConfiguration=bad_status) == MALFORMED
    too_soon = {**_tiering("t2"), "Tierings": [{"Days": 30, "AccessTier": "ARCHIVE_ACCESS"}]}
    code, _, status = _error(put, Bucket=bucket, Id="t2", IntelligentTieringConfiguration=too_soon)
    assert (code, status) == ("InvalidArgument", 400)
    s3.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id="t1")
    assert _error(s3.get_bucket_intelligent_tiering_configuration, Bucket=bucket, Id="t1") == NO_SUCH
    assert "IntelligentTieringConfigurationList" not in s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)


@pytest.mark.long
def test_configuration_limit(s3: Any, bucket: str) -> None:
    put = s3.put_bucket_metrics_configuration
    for i in range(1000):
        put(Bucket=bucket, Id=f"m{i}", MetricsConfiguration={"Id": f"m{i}"})
    put(Bucket=bucket, Id="m7", MetricsConfiguration={"Id": "m7", "Filter": {"Prefix": "again"}})  # replacing is fine
    assert _error(put, Bucket=bucket, Id="one-more", MetricsConfiguration={"Id": "one-more"}) == (
        "TooManyConfigurations",
        "You are attempting to create a new configuration but have already reached the 1,000-configuration limit.", 400)
