"""The DynamoDB Streams API (service ``dynamodbstreams``): ListStreams, DescribeStream,
GetShardIterator, GetRecords, reading the stream rows the DynamoDB provider commits.

Table records are read from lsm on every call (not cached), so this provider, a separate
instance, always sees the DynamoDB provider's latest stream settings. A shard iterator is an
opaque token naming the stream, the shard, the next sequence number and when it was issued;
it expires after 15 minutes as DynamoDB's do.
"""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import datetime, timezone
from typing import Any

from awsemu.services.base import CallContext, Provider, ServiceError
from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.errors import ResourceNotFoundException, ValidationException
from awsemu.services.dynamodb.records import TableRecord
from awsemu.services.dynamodb.resource_policies import policy_for_arn
from awsemu.services.dynamodb.streams import RETENTION_SECONDS, last_sequence, render_record, sequence_text, shards

ITERATOR_LIFETIME = 15 * 60
_ARN = re.compile(r"arn:aws[\w-]*:dynamodb:([\w-]+):(\d{12}):table/([a-zA-Z0-9_.\-]+)/stream/(.+)\Z")


class ExpiredIteratorException(ServiceError):
    code = "ExpiredIteratorException"


class TrimmedDataAccessException(ServiceError):
    code = "TrimmedDataAccessException"


class DynamoDBStreamsProvider(Provider):
    service_name = "dynamodbstreams"

    def __init__(self, storage: Any, config: Any) -> None:
        super().__init__(storage, config)
        self.db = storage.db

    def resource_policy(self, arn: str) -> tuple[str | None, str] | None:
        """The auth layer's hook: a stream's resource-based policy (PutResourcePolicy) and owner."""
        return policy_for_arn(self.db, arn)

    # helpers ------------------------------------------------------------------------------------

    def _table(self, account: str, region: str, name: str) -> TableRecord | None:
        raw = self.db.get(keys.table_key(account, region, name))
        return None if raw is None else TableRecord.from_json(raw)

    def _stream(self, arn: str) -> TableRecord:
        """The table record a stream ARN names: the live table's, or the copy kept for 24 hours
        when the table was deleted or its stream replaced (stream disabled: shards all closed)."""
        match = _ARN.match(arn or "")
        if match is None:
            raise ValidationException(f"Invalid StreamArn: {arn}")
        region, account, name, label = match.groups()
        table = self._table(account, region, name)
        if table is not None and table.stream_label == label:
            return table
        raw = self.db.get(keys.retired_stream_key(account, region, name, label))
        if raw is not None:
            retired = TableRecord.from_json(raw)
            if time.time() < retired.retired + RETENTION_SECONDS:
                return retired
        raise ResourceNotFoundException(f"Requested resource not found: Stream: {arn} not found")

    def _shard(self, table: TableRecord, shard: str | None) -> tuple[int, dict[str, Any], bool]:
        """(position, meta, is_open) of a shard of the table's stream; ResourceNotFound if unknown."""
        chain = shards(self.db, table)
        for position, (sid, meta) in enumerate(chain):
            if sid == shard:
                return position, meta, table.stream_enabled and position == len(chain) - 1
        raise ResourceNotFoundException("Requested resource not found: Shard does not exist")

    def _first_retained(self, table: TableRecord, shard: str) -> int | None:
        start, end = keys.stream_range(table.uid, shard)
        cutoff = time.time() - RETENTION_SECONDS
        for _, raw in self.db.scan(start, end):
            row = json.loads(raw)
            if row["at"] >= cutoff:
                return int(row["seq"])
        return None

    # operations ---------------------------------------------------------------------------------

    def list_streams(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        start, end = keys.tables_range(ctx.account_id, ctx.region)
        retired_start, retired_end = keys.retired_streams_range(ctx.account_id, ctx.region)
        now = time.time()
        records = [TableRecord.from_json(raw) for _, raw in self.db.scan(start, end)]
        records += [r for r in (TableRecord.from_json(raw) for _, raw in self.db.scan(retired_start, retired_end))
                    if now < r.retired + RETENTION_SECONDS]
        streams = []
        for table in records:
            if table.stream_label is None:
                continue
            if p.get("TableName") is not None and table.name != p["TableName"]:
                continue
            streams.append({"StreamArn": table.stream_arn, "TableName": table.name, "StreamLabel": table.stream_label})
        if p.get("ExclusiveStartStreamArn") is not None:
            arns = [s["StreamArn"] for s in streams]
            if p["ExclusiveStartStreamArn"] in arns:
                streams = streams[arns.index(p["ExclusiveStartStreamArn"]) + 1 :]
        limit = p.get("Limit") or 100
        out: dict[str, Any] = {"Streams": streams[:limit]}
        if len(streams) > limit:
            out["LastEvaluatedStreamArn"] = streams[limit - 1]["StreamArn"]
        return out

    def describe_stream(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        table = self._stream(p.get("StreamArn", ""))
        chain = shards(self.db, table)
        described = []
        for position, (sid, meta) in enumerate(chain):
            entry: dict[str, Any] = {"ShardId": sid, "SequenceNumberRange": {"StartingSequenceNumber": sequence_text(meta["first"])}}
            if meta.get("parent"):
                entry["ParentShardId"] = meta["parent"]
            if not (table.stream_enabled and position == len(chain) - 1):
                entry["SequenceNumberRange"]["EndingSequenceNumber"] = sequence_text(
                    last_sequence(self.db, table, sid) or meta["first"])
            described.append(entry)
        if p.get("ExclusiveStartShardId") is not None:
            ids = [e["ShardId"] for e in described]
            if p["ExclusiveStartShardId"] in ids:
                described = described[ids.index(p["ExclusiveStartShardId"]) + 1 :]
        limit = p.get("Limit") or 100
        description: dict[str, Any] = {
            "StreamArn": table.stream_arn,
            "StreamLabel": table.stream_label,
            "StreamStatus": "ENABLED" if table.stream_enabled else "DISABLED",
            "StreamViewType": table.stream_view_type or "KEYS_ONLY",
            "CreationRequestDateTime": datetime.fromtimestamp(table.created, timezone.utc),
            "TableName": table.name,
            "KeySchema": table.schema.describe(),
            "Shards": described[:limit],
        }
        if len(described) > limit:
            description["LastEvaluatedShardId"] = described[limit - 1]["ShardId"]
        return {"StreamDescription": description}

    def get_shard_iterator(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        arn = p.get("StreamArn", "")
        table = self._stream(arn)
        shard = p.get("ShardId")
        _, meta, _ = self._shard(table, shard)
        kind = p.get("ShardIteratorType")
        first = self._first_retained(table, shard)  # type: ignore[arg-type]
        last = last_sequence(self.db, table, shard)  # type: ignore[arg-type]
        if kind == "TRIM_HORIZON":
            nxt = first if first is not None else (last + 1 if last is not None else meta["first"])
        elif kind == "LATEST":
            nxt = last + 1 if last is not None else meta["first"]
        elif kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            text = p.get("SequenceNumber")
            if not text or not str(text).isdigit():
                raise ValidationException(f"Invalid SequenceNumber for ShardIteratorType: {kind}")
            nxt = int(text) + (1 if kind == "AFTER_SEQUENCE_NUMBER" else 0)
            if first is not None and int(text) < first:
                raise TrimmedDataAccessException(
                    "The operation attempted to read past the oldest stream record in a shard."
                )
        else:
            raise ValidationException(
                f"1 validation error detected: Value '{kind}' at 'shardIteratorType' failed to satisfy constraint: "
                "Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
            )
        return {"ShardIterator": _iterator(arn, str(shard), nxt)}

    def get_records(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        arn, shard, nxt, issued = _parse_iterator(p.get("ShardIterator", ""))
        if time.time() - issued > ITERATOR_LIFETIME:
            raise ExpiredIteratorException(
                "Iterator expired. The iterator was created at time "
                f"{time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime(issued))} while right now it is "
                f"{time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime())} which is further in the future than the "
                "tolerated delay of 900000 milliseconds."
            )
        table = self._stream(arn)
        limit = p.get("Limit") or 1000
        start, end = keys.stream_range(table.uid, shard)
        start = max(start, keys.stream_key(table.uid, shard, nxt))
        cutoff = time.time() - RETENTION_SECONDS
        records = []
        last_seq = nxt - 1
        for _, raw in self.db.scan(start, end, limit=limit):
            row_at = json.loads(raw)
            last_seq = row_at["seq"]
            if row_at["at"] < cutoff:
                continue
            records.append(render_record(raw))
        out: dict[str, Any] = {"Records": records}
        _, _, is_open = self._shard(table, shard)
        # A closed shard's iterator ends once it has returned the shard's last record.
        if is_open or records:
            out["NextShardIterator"] = _iterator(arn, shard, last_seq + 1)
        return out


def _iterator(arn: str, shard: str, nxt: int) -> str:
    raw = json.dumps([arn, shard, nxt, time.time()], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _parse_iterator(token: str) -> tuple[str, str, int, float]:
    try:
        arn, shard, nxt, issued = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(arn), str(shard), int(nxt), float(issued)
    except (ValueError, TypeError):
        raise ValidationException("Invalid ShardIterator") from None
