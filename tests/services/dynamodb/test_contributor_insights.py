"""Contributor Insights settings through boto3: ENABLING/DISABLING answers, the rule names, the
listing of a table and its global secondary indexes, and the errors."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError


def strip(out: dict[str, Any]) -> dict[str, Any]:
    out.pop("ResponseMetadata", None)
    return out


def test_enable_describe_list_disable(client: Any) -> None:
    client.create_table(
        TableName="events", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    assert strip(client.describe_contributor_insights(TableName="events")) == {
        "TableName": "events", "ContributorInsightsStatus": "DISABLED"}
    assert strip(client.update_contributor_insights(TableName="events", ContributorInsightsAction="ENABLE")) == {
        "TableName": "events", "ContributorInsightsStatus": "ENABLING", "ContributorInsightsMode": "ACCESSED_AND_THROTTLED_KEYS"}
    out = strip(client.describe_contributor_insights(TableName="events"))
    rules = out.pop("ContributorInsightsRuleList")
    stamp = rules[0].rsplit("-", 1)[1]
    assert rules == [f"DynamoDBContributorInsights-{k}-events-{stamp}" for k in ("PKC", "SKC", "PKT", "SKT")]
    assert re.fullmatch(r"\d{13}", stamp)
    assert set(out) == {"TableName", "ContributorInsightsStatus", "LastUpdateDateTime", "ContributorInsightsMode"}
    assert (out["ContributorInsightsStatus"], out["ContributorInsightsMode"]) == ("ENABLED", "ACCESSED_AND_THROTTLED_KEYS")
    assert strip(client.update_contributor_insights(TableName="events", IndexName="by-g", ContributorInsightsAction="ENABLE",
                                                    ContributorInsightsMode="THROTTLED_KEYS")) == {
        "TableName": "events", "IndexName": "by-g", "ContributorInsightsStatus": "ENABLING",
        "ContributorInsightsMode": "THROTTLED_KEYS"}
    rules = client.describe_contributor_insights(TableName="events", IndexName="by-g")["ContributorInsightsRuleList"]
    assert [r.split("-")[1] for r in rules] == ["PKT"]  # the index has no sort key; throttled keys only
    assert strip(client.list_contributor_insights()) == {"ContributorInsightsSummaries": [
        {"TableName": "events", "ContributorInsightsStatus": "ENABLED", "ContributorInsightsMode": "ACCESSED_AND_THROTTLED_KEYS"},
        {"TableName": "events", "IndexName": "by-g", "ContributorInsightsStatus": "ENABLED",
         "ContributorInsightsMode": "THROTTLED_KEYS"}]}
    page = client.list_contributor_insights(TableName="events", MaxResults=1)
    assert [s.get("IndexName") for s in page["ContributorInsightsSummaries"]] == [None]
    rest = client.list_contributor_insights(TableName="events", MaxResults=1, NextToken=page["NextToken"])
    assert [s.get("IndexName") for s in rest["ContributorInsightsSummaries"]] == ["by-g"] and "NextToken" not in rest
    assert strip(client.update_contributor_insights(TableName="events", ContributorInsightsAction="DISABLE")) == {
        "TableName": "events", "ContributorInsightsStatus": "DISABLING"}
    out = strip(client.describe_contributor_insights(TableName="events"))
    assert set(out) == {"TableName", "ContributorInsightsStatus", "LastUpdateDateTime"}
    assert out["ContributorInsightsStatus"] == "DISABLED"
    # The setting goes with its table.
    client.delete_table(TableName="events")
    client.create_table(TableName="events", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert strip(client.list_contributor_insights()) == {"ContributorInsightsSummaries": [
        {"TableName": "events", "ContributorInsightsStatus": "DISABLED"}]}


def test_errors(client: Any) -> None:
    with pytest.raises(ClientError) as exc:
        client.describe_contributor_insights(TableName="nope")
    assert exc.value.response["Error"] == {"Code": "ResourceNotFoundException",
                                           "Message": "Requested resource not found: Table: nope not found"}
    client.create_table(TableName="events", BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    with pytest.raises(ClientError) as exc:
        client.update_contributor_insights(TableName="events", IndexName="missing", ContributorInsightsAction="ENABLE")
    assert exc.value.response["Error"]["Code"] == "ResourceNotFoundException"
