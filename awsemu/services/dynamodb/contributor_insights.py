"""Contributor Insights settings, as a provider mixin: UpdateContributorInsights,
DescribeContributorInsights, ListContributorInsights.

Only the setting is kept (per table and per global secondary index, under the table's uid:
``("ddb", "c", uid, index or "")``): awsemu has no CloudWatch to publish the rules' data to. What
the API reports is what DynamoDB reports: UpdateContributorInsights answers ENABLING/DISABLING,
Describe then says ENABLED/DISABLED with the CloudWatch rule names DynamoDB creates
(``DynamoDBContributorInsights-<PKC|SKC|PKT|SKT>-<table>-<ms timestamp>``: partition and sort key,
most accessed (C) and most throttled (T); the sort key rules only when there is a sort key, the
accessed ones only in ACCESSED_AND_THROTTLED_KEYS mode).
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.errors import ResourceNotFoundException, ValidationException
from awsemu.services.dynamodb.records import TableRecord
from awsemu.services.dynamodb.store import TableStore
from awsemu.services.dynamodb.tables import lookup_table, table_not_found

DEFAULT_MODE = "ACCESSED_AND_THROTTLED_KEYS"


def insights_key(uid: str, index: str = "") -> bytes:
    return keys.encode((keys.PREFIX, "c", uid, index))


def _rules(table: TableRecord, index: str, state: dict[str, Any]) -> list[str]:
    schema = table.schema if not index else table.index(index).schema  # type: ignore[union-attr]
    kinds = ["PKC", "SKC", "PKT", "SKT"] if state["mode"] == DEFAULT_MODE else ["PKT", "SKT"]
    if schema.range_name is None:
        kinds = [k for k in kinds if not k.startswith("SK")]
    return [f"DynamoDBContributorInsights-{kind}-{table.name}-{state['stamp']}" for kind in kinds]


class ContributorInsightsOperations:
    # implemented by DynamoDBProvider
    store: TableStore

    def _insights_target(self, ctx: CallContext, table_name: Any, index: Any) -> TableRecord:
        ref, table = lookup_table(self.store, ctx, table_name)
        name = ref.given
        if table is None:
            raise table_not_found(name)
        if index is not None and not any(g.name == index for g in table.gsis):
            raise ResourceNotFoundException(f"Requested resource not found: Index: {index} for table: {name} not found")
        return table

    def _insights(self, table: TableRecord, index: str) -> dict[str, Any] | None:
        raw = self.store.db.get(insights_key(table.uid, index))
        return None if raw is None else json.loads(raw)  # type: ignore[no-any-return]

    def update_contributor_insights(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        index = p.get("IndexName")
        table = self._insights_target(ctx, p.get("TableName"), index)
        action = p.get("ContributorInsightsAction")
        if action not in ("ENABLE", "DISABLE"):
            raise ValidationException(
                f"1 validation error detected: Value '{action}' at 'contributorInsightsAction' failed to satisfy "
                "constraint: Member must satisfy enum value set: [ENABLE, DISABLE]")
        now = time.time()
        state = self._insights(table, index or "") or {}
        enable = action == "ENABLE"
        mode = p.get("ContributorInsightsMode") or state.get("mode") or DEFAULT_MODE
        state = {"status": "ENABLED" if enable else "DISABLED", "mode": mode, "updated": now,
                 "stamp": int(now * 1000) if enable else state.get("stamp", 0)}
        self.store.db.write_batch([(insights_key(table.uid, index or ""), json.dumps(state).encode())])
        out: dict[str, Any] = {"TableName": table.name}
        if index is not None:
            out["IndexName"] = index
        out["ContributorInsightsStatus"] = "ENABLING" if enable else "DISABLING"
        if enable:
            out["ContributorInsightsMode"] = mode
        return out

    def describe_contributor_insights(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        index = p.get("IndexName")
        table = self._insights_target(ctx, p.get("TableName"), index)
        state = self._insights(table, index or "")
        out: dict[str, Any] = {"TableName": table.name}
        if index is not None:
            out["IndexName"] = index
        if state is None or state["status"] != "ENABLED":
            out["ContributorInsightsStatus"] = "DISABLED"
        else:
            out["ContributorInsightsRuleList"] = _rules(table, index or "", state)
            out["ContributorInsightsStatus"] = "ENABLED"
        if state is not None:
            out["LastUpdateDateTime"] = datetime.fromtimestamp(state["updated"], timezone.utc)
            if state["status"] == "ENABLED":
                out["ContributorInsightsMode"] = state["mode"]
        return out

    def list_contributor_insights(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        """Every table (or the one named) and each of its global secondary indexes."""
        if p.get("TableName") is not None:
            tables = [self._insights_target(ctx, p["TableName"], None)]
        else:
            names = sorted(self.store.list_tables(ctx.account_id, ctx.region))
            tables = [t for t in (self.store.table(ctx.account_id, ctx.region, n) for n in names) if t is not None]
        summaries: list[dict[str, Any]] = []
        for table in tables:
            for index in [""] + [g.name for g in table.gsis]:
                state = self._insights(table, index) or {"status": "DISABLED"}
                entry: dict[str, Any] = {"TableName": table.name}
                if index:
                    entry["IndexName"] = index
                entry["ContributorInsightsStatus"] = state["status"]
                if state["status"] == "ENABLED":
                    entry["ContributorInsightsMode"] = state["mode"]
                summaries.append(entry)
        start = _offset(p.get("NextToken"))
        limit = p.get("MaxResults") or 100
        out: dict[str, Any] = {"ContributorInsightsSummaries": summaries[start:start + limit]}
        if start + limit < len(summaries):
            out["NextToken"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
        return out

    def drop_contributor_insights(self, record: TableRecord) -> None:
        start = keys.encode((keys.PREFIX, "c", record.uid))
        rows: list[tuple[bytes, bytes | None]] = [(k, None) for k, _ in self.store.db.scan(start, keys.prefix_end(start))]
        if rows:
            self.store.db.write_batch(rows)


def _offset(token: Any) -> int:
    if token is None:
        return 0
    try:
        return int(base64.urlsafe_b64decode(str(token).encode()).decode())
    except ValueError:
        raise ValidationException("Invalid NextToken") from None
