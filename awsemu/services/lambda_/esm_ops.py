"""Event source mappings: Create/Get/List/Update/DeleteEventSourceMapping (the control plane).

A mapping is one JSON record under ``("lambda", "esm", uuid)`` holding the output fields Lambda
reports (``UUID``, ``State``, ``BatchSize``, ...) plus what the poller needs and the client never
sees (keys starting with ``_``: the endpoint the creating client used, the target function). The
pollers (pollers.py) keep their progress beside it: DynamoDB stream checkpoints under
``("lambda", "esmck", uuid, shard)``. Both survive a restart; the provider restarts the pollers of
enabled mappings when the app attaches the sibling providers.

States: Create answers ``Creating`` (``Disabled`` when ``Enabled`` is false); the poller moves the
record to ``Enabled`` once it is polling. Update answers ``Updating`` and the restarted poller moves
it to ``Enabled``/``Disabled``. Delete answers ``Deleting`` and removes the record. Sources served:
SQS queues and DynamoDB streams; other sources (Kinesis, Kafka, MQ, DocumentDB) are refused.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from awsemu.services.base import CallContext, Provider, ServiceError
from awsemu.services.lambda_.checks import Fn, marker, page_size, unmarker
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.services.lambda_.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from awsemu.services.lambda_.event_filter import parse_criteria
from awsemu.services.lambda_.functions import FunctionStore
from awsemu.storage.lsm.keycodec import encode, prefix_end

SQS, DYNAMODB = "sqs", "dynamodb"
DEFAULT_BATCH = {SQS: 10, DYNAMODB: 100}
MAX_BATCH = {SQS: 10000, DYNAMODB: 10000}
STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")


def esm_key(mapping_id: str) -> bytes:
    return encode("lambda", "esm", mapping_id)


def checkpoint_range(mapping_id: str) -> tuple[bytes, bytes]:
    start = encode("lambda", "esmck", mapping_id)
    end = prefix_end(start)
    assert end is not None
    return start, end


def source_kind(arn: str) -> str | None:
    parts = (arn or "").split(":")
    if len(parts) >= 6 and parts[0] == "arn":
        if parts[2] == "sqs":
            return SQS
        if parts[2] == "dynamodb" and "/stream/" in arn:
            return DYNAMODB
    return None


def public_view(record: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if not k.startswith("_")}
    out["LastModified"] = datetime.fromtimestamp(record["LastModified"], timezone.utc)
    return out


def _destination_config(kind: str, config: dict[str, Any] | None) -> dict[str, Any]:
    """DestinationConfig as stored and shown: stream sources take an OnFailure destination only
    (awsemu delivers to SQS queues; other targets are accepted and logged at delivery)."""
    if config is None:
        return {"OnFailure": {}}
    if kind == SQS:
        raise InvalidParameterValueException("Unsupported DestinationConfig parameter for given event source mapping type.")
    if (config.get("OnSuccess") or {}).get("Destination"):
        raise InvalidParameterValueException("Unsupported OnSuccess destination for given event source mapping type.")
    target = (config.get("OnFailure") or {}).get("Destination")
    if target and not str(target).startswith("arn:"):
        raise InvalidParameterValueException(f"Invalid DestinationConfig OnFailure destination: {target}")
    return {"OnFailure": {"Destination": target} if target else {}}


class EventSourceMappingOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock``, ``_target``, ``_arn``, ``config``, and
    ``esm_changed(uuid)`` (restart or stop the mapping's poller) and ``siblings`` (other providers)."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock
    siblings: dict[str, Provider]

    # -- records -----------------------------------------------------------------------------------
    def esm_record(self, mapping_id: str) -> dict[str, Any] | None:
        raw = self.db.get(esm_key(mapping_id))
        return json.loads(raw) if raw is not None else None

    def esm_records(self) -> list[dict[str, Any]]:
        start = encode("lambda", "esm")
        end = prefix_end(start)
        return [json.loads(v) for _, v in self.db.scan(start, end)]

    def esm_save(self, record: dict[str, Any]) -> None:
        self.db.put(esm_key(record["UUID"]), json.dumps(record).encode())

    def esm_set_state(self, mapping_id: str, state: str, **fields: Any) -> None:
        """Record a poller's state change (unless the mapping was deleted or changed meanwhile)."""
        with self._lock:
            record = self.esm_record(mapping_id)
            if record is None:
                return
            record["State"] = state
            record.update(fields)
            self.esm_save(record)

    def _require_esm(self, mapping_id: str) -> dict[str, Any]:
        record = self.esm_record(mapping_id or "")
        if record is None:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        return record

    def _function_for_esm(self, ctx: CallContext, function_name: str) -> tuple[Fn, str | None, str]:
        fn, qualifier = self._target(ctx, function_name)
        self.store.resolve(*fn, qualifier)  # ResourceNotFound when the function (or its qualifier) is missing
        return fn, qualifier, self._arn(fn, qualifier)

    # -- checks ------------------------------------------------------------------------------------
    def _check_source(self, ctx: CallContext, kind: str | None, arn: str, function_timeout: int) -> None:
        if kind is None:
            raise InvalidParameterValueException(
                f"Unrecognized event source, must be an SQS queue or a DynamoDB stream (awsemu): {arn}")
        provider = self.siblings.get("sqs" if kind == SQS else "dynamodbstreams")
        if provider is None:
            raise InvalidParameterValueException(f"The event source service of {arn} is not enabled in awsemu.")
        parts = arn.split(":")
        source_ctx = CallContext(service=provider.service_name, operation="Describe", account_id=parts[4],
                                 region=parts[3], endpoint=ctx.endpoint)
        try:
            if kind == SQS:
                url = f"{ctx.endpoint.rstrip('/')}/{parts[4]}/{parts[5]}"
                attrs = provider.get_queue_attributes(  # type: ignore[attr-defined]
                    source_ctx, QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
                visibility = int(attrs["VisibilityTimeout"])
                if visibility < function_timeout:
                    raise InvalidParameterValueException(
                        f"Queue visibility timeout: {visibility} seconds is less than Function timeout: "
                        f"{function_timeout} seconds")
            else:
                provider.describe_stream(source_ctx, StreamArn=arn)  # type: ignore[attr-defined]
        except InvalidParameterValueException:
            raise
        except ServiceError as exc:
            if kind == SQS:
                raise InvalidParameterValueException(
                    "Error occurred while ReceiveMessage. SQS Error Code: "
                    f"AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: {exc.message}") from None
            raise InvalidParameterValueException(f"Stream not found: {arn}") from None

    @staticmethod
    def _check_settings(kind: str, record: dict[str, Any]) -> None:
        batch = record["BatchSize"]
        if not 1 <= batch <= MAX_BATCH[kind]:
            raise InvalidParameterValueException(
                f"BatchSize must be between 1 and {MAX_BATCH[kind]} for this event source.")
        window = record["MaximumBatchingWindowInSeconds"]
        if not 0 <= window <= 300:
            raise InvalidParameterValueException("MaximumBatchingWindowInSeconds must be between 0 and 300.")
        if kind == SQS and batch > 10 and window < 1:
            raise InvalidParameterValueException(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
        for item in record.get("FunctionResponseTypes") or []:
            if item != "ReportBatchItemFailures":
                raise InvalidParameterValueException(
                    f"1 validation error detected: Value '[{item}]' at 'functionResponseTypes' failed to satisfy "
                    "constraint: Member must satisfy enum value set: [ReportBatchItemFailures]")
        if kind == DYNAMODB:
            if not -1 <= record["MaximumRetryAttempts"] <= 10000:
                raise InvalidParameterValueException("MaximumRetryAttempts must be between -1 and 10000.")
            age = record["MaximumRecordAgeInSeconds"]
            if age != -1 and not 60 <= age <= 604800:
                raise InvalidParameterValueException(
                    "MaximumRecordAgeInSeconds must be -1 or between 60 and 604800.")
        parse_criteria(record.get("FilterCriteria"))

    # -- operations --------------------------------------------------------------------------------
    def create_event_source_mapping(self, ctx: CallContext, FunctionName: str, EventSourceArn: str | None = None,
                                    Enabled: bool | None = None, BatchSize: int | None = None,
                                    FilterCriteria: dict[str, Any] | None = None,
                                    MaximumBatchingWindowInSeconds: int | None = None,
                                    StartingPosition: str | None = None,
                                    FunctionResponseTypes: list[str] | None = None,
                                    BisectBatchOnFunctionError: bool | None = None,
                                    MaximumRetryAttempts: int | None = None,
                                    MaximumRecordAgeInSeconds: int | None = None,
                                    ParallelizationFactor: int | None = None,
                                    DestinationConfig: dict[str, Any] | None = None,
                                    Tags: dict[str, str] | None = None, **unused: Any) -> dict[str, Any]:
        kind = source_kind(EventSourceArn or "")
        fn, qualifier, function_arn = self._function_for_esm(ctx, FunctionName)
        timeout = self.store.resolve(*fn, qualifier).timeout
        self._check_source(ctx, kind, EventSourceArn or "", timeout)
        assert kind is not None
        if kind == SQS and StartingPosition is not None:
            raise InvalidParameterValueException("Unsupported starting position for this event source: SQS")
        destinations = _destination_config(kind, DestinationConfig)
        if kind == DYNAMODB:
            if StartingPosition is None:
                raise InvalidParameterValueException("StartingPosition is required for DynamoDB stream event sources.")
            if StartingPosition not in STARTING_POSITIONS:
                raise InvalidParameterValueException(f"Unsupported starting position: {StartingPosition}")
            if StartingPosition == "AT_TIMESTAMP":
                raise InvalidParameterValueException("Unsupported starting position for DynamoDB streams: AT_TIMESTAMP")
        mapping_id = str(uuid.uuid4())
        enabled = True if Enabled is None else bool(Enabled)
        record: dict[str, Any] = {
            "UUID": mapping_id,
            "BatchSize": DEFAULT_BATCH[kind] if BatchSize is None else BatchSize,
            "MaximumBatchingWindowInSeconds": MaximumBatchingWindowInSeconds or 0,
            "EventSourceArn": EventSourceArn,
            "FunctionArn": function_arn,
            "LastModified": datetime.now(timezone.utc).timestamp(),
            "State": "Creating" if enabled else "Disabled",
            "StateTransitionReason": "USER_INITIATED",
            "FunctionResponseTypes": list(FunctionResponseTypes or []),
            "EventSourceMappingArn": f"arn:aws:lambda:{fn[1]}:{fn[0]}:event-source-mapping:{mapping_id}",
            "_endpoint": ctx.endpoint, "_fn": list(fn), "_qualifier": qualifier, "_kind": kind,
            "_enabled": enabled, "_tags": dict(Tags or {}),
        }
        if FilterCriteria is not None:
            record["FilterCriteria"] = FilterCriteria
        if kind == DYNAMODB:
            record.update({
                "StartingPosition": StartingPosition, "ParallelizationFactor": ParallelizationFactor or 1,
                "BisectBatchOnFunctionError": bool(BisectBatchOnFunctionError),
                "MaximumRetryAttempts": -1 if MaximumRetryAttempts is None else MaximumRetryAttempts,
                "MaximumRecordAgeInSeconds": -1 if MaximumRecordAgeInSeconds is None else MaximumRecordAgeInSeconds,
                "DestinationConfig": destinations, "TumblingWindowInSeconds": 0,
                "LastProcessingResult": "No records processed",
            })
        self._check_settings(kind, record)
        with self._lock:
            for other in self.esm_records():
                if other["EventSourceArn"] == EventSourceArn and other["FunctionArn"] == function_arn:
                    raise ResourceConflictException(
                        f"The event source arn (\" {EventSourceArn} \") and function (\" {fn[2]} \") provided "
                        f"mapping already exists. Please update or delete the existing mapping with UUID {other['UUID']}")
            self.esm_save(record)
        self.esm_changed(mapping_id)
        return public_view(record)

    def get_event_source_mapping(self, ctx: CallContext, UUID: str) -> dict[str, Any]:
        return public_view(self._require_esm(UUID))

    def list_event_source_mappings(self, ctx: CallContext, EventSourceArn: str | None = None,
                                   FunctionName: str | None = None, Marker: str | None = None,
                                   MaxItems: int | None = None) -> dict[str, Any]:
        size = page_size(MaxItems)
        after = unmarker(Marker)
        wanted_fn = None
        wanted_qualifier: str | None = None
        if FunctionName is not None:
            wanted_fn, wanted_qualifier = self._target(ctx, FunctionName)
        records = sorted(self.esm_records(), key=lambda r: (r["LastModified"], r["UUID"]))
        chosen = []
        for record in records:
            if EventSourceArn is not None and record["EventSourceArn"] != EventSourceArn:
                continue
            if wanted_fn is not None and (tuple(record["_fn"]) != wanted_fn or (
                    wanted_qualifier is not None and record["_qualifier"] != wanted_qualifier)):
                continue
            chosen.append(record)
        if after is not None:
            ids = [r["UUID"] for r in chosen]
            chosen = chosen[ids.index(after) + 1:] if after in ids else []
        out: dict[str, Any] = {"EventSourceMappings": [public_view(r) for r in chosen[:size]]}
        if len(chosen) > size:
            out["NextMarker"] = marker(chosen[size - 1]["UUID"])
        return out

    def update_event_source_mapping(self, ctx: CallContext, UUID: str, FunctionName: str | None = None,
                                    Enabled: bool | None = None, BatchSize: int | None = None,
                                    FilterCriteria: dict[str, Any] | None = None,
                                    MaximumBatchingWindowInSeconds: int | None = None,
                                    FunctionResponseTypes: list[str] | None = None,
                                    BisectBatchOnFunctionError: bool | None = None,
                                    MaximumRetryAttempts: int | None = None,
                                    MaximumRecordAgeInSeconds: int | None = None,
                                    DestinationConfig: dict[str, Any] | None = None,
                                    **unused: Any) -> dict[str, Any]:
        with self._lock:
            record = self._require_esm(UUID)
            if record["State"] in ("Creating", "Updating", "Deleting"):
                raise ResourceConflictException(
                    f"The operation cannot be performed at this time. The event source mapping is currently in "
                    f"{record['State']} state.")
            kind = record["_kind"]
            if FunctionName is not None:
                fn, qualifier, function_arn = self._function_for_esm(ctx, FunctionName)
                record.update({"_fn": list(fn), "_qualifier": qualifier, "FunctionArn": function_arn})
            for name, value in (("BatchSize", BatchSize), ("FilterCriteria", FilterCriteria),
                                ("MaximumBatchingWindowInSeconds", MaximumBatchingWindowInSeconds),
                                ("FunctionResponseTypes", FunctionResponseTypes)):
                if value is not None:
                    record[name] = value
            if FilterCriteria is not None and not FilterCriteria.get("Filters"):
                record.pop("FilterCriteria", None)  # an empty criteria removes the filters
            if DestinationConfig is not None:
                record["DestinationConfig"] = _destination_config(kind, DestinationConfig)
            if kind == DYNAMODB:
                for name, value in (("BisectBatchOnFunctionError", BisectBatchOnFunctionError),
                                    ("MaximumRetryAttempts", MaximumRetryAttempts),
                                    ("MaximumRecordAgeInSeconds", MaximumRecordAgeInSeconds)):
                    if value is not None:
                        record[name] = value
            self._check_settings(kind, record)
            if Enabled is not None:
                record["_enabled"] = bool(Enabled)
            record["State"] = "Updating"
            record["StateTransitionReason"] = "USER_INITIATED"
            record["LastModified"] = datetime.now(timezone.utc).timestamp()
            self.esm_save(record)
        self.esm_changed(UUID)
        return public_view(record)

    def delete_event_source_mapping(self, ctx: CallContext, UUID: str) -> dict[str, Any]:
        with self._lock:
            record = self._require_esm(UUID)
            start, end = checkpoint_range(UUID)
            ops: list[tuple[bytes, bytes | None]] = [(k, None) for k, _ in self.db.scan(start, end)]
            ops.append((esm_key(UUID), None))
            self.db.write_batch(ops)
        self.esm_changed(UUID)
        record["State"] = "Deleting"
        return public_view(record)
