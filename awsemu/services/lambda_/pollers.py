"""The data plane of event source mappings: one asyncio task per enabled mapping.

:class:`PollerSet` owns the tasks; ``sync(uuid)`` (called on the event loop after any change of a
mapping) stops the mapping's task and starts a new one from the stored record when it is enabled.

SQS (:class:`SqsPoller`): receive up to BatchSize messages through the SQS provider's
``receive_message`` (a long poll; with a batching window, keep receiving until the batch is full
or the window ends), drop (delete) the messages the FilterCriteria reject, invoke the function
synchronously with AWS's SQS event, then delete the batch on success. On a function error the batch
is left alone: the messages come back when their visibility timeout ends. With
``ReportBatchItemFailures`` a ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}`` answer
deletes all but the listed messages (an unknown or empty identifier fails the whole batch, as in AWS).

DynamoDB Streams (:class:`StreamPoller`): read each shard through the streams provider from the
stored checkpoint (``AFTER_SEQUENCE_NUMBER``) or the mapping's StartingPosition, a batch at a time;
records the filters reject are skipped; a failed batch is retried (split in halves first with
BisectBatchOnFunctionError; with ReportBatchItemFailures from the first failed SequenceNumber on)
until it succeeds, MaximumRetryAttempts is spent or its records are older than
MaximumRecordAgeInSeconds; then they are skipped, logged, and described to the mapping's
DestinationConfig OnFailure queue (delivery.stream_failure_record: condition
``RetryAttemptsExhausted`` or ``RecordAgeExceeded``, the shard and sequence-number range).
After each handled batch the last sequence number of the shard is stored under
``("lambda", "esmck", uuid, shard)``. New shards are found by describing the stream again (every
second); a child shard is read once its parent is finished. Shards are read one after the other by
the one task (ParallelizationFactor is stored, not applied).

Limits: a LATEST mapping that had processed nothing in a shard before a restart starts at LATEST
again (records written while the server was down are not seen); a deleted function or queue makes
the poller wait and retry every few seconds rather than disabling the mapping.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from datetime import datetime
from typing import Any, Awaitable, Callable

from awsemu.services.base import CallContext, Provider, ServiceError
from awsemu.services.lambda_ import delivery
from awsemu.services.lambda_.esm_ops import DYNAMODB, SQS, checkpoint_range
from awsemu.services.lambda_.event_filter import matches_any, parse_criteria
from awsemu.services.lambda_.invoke import InvokeResult, root_access_key
from awsemu.storage.lsm.keycodec import encode

log = logging.getLogger("awsemu.lambda")

# fn, qualifier, payload, endpoint -> result (raises ServiceError when the function is gone or throttled)
InvokeFn = Callable[[tuple[str, str, str], "str | None", bytes, str], Awaitable[InvokeResult]]
ERROR_BACKOFF_S = 2.0
RETRY_BACKOFF_S = 0.5
SHARD_REFRESH_S = 1.0
IDLE_POLL_S = 0.2


def checkpoint_key(mapping_id: str, shard: str) -> bytes:
    return encode("lambda", "esmck", mapping_id, shard)


class PollerSet:
    """The running pollers, keyed by mapping UUID."""

    def __init__(self, load: Callable[[str], dict[str, Any] | None], set_state: Callable[..., None],
                 invoke: InvokeFn, db: Any) -> None:
        self.load = load
        self.set_state = set_state
        self.invoke = invoke
        self.db = db
        self.siblings: dict[str, Provider] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def sync(self, mapping_id: str) -> None:
        """Restart (or stop) the poller of a mapping after it changed. Runs on the event loop."""
        old = self.tasks.pop(mapping_id, None)
        if old is not None:
            old.cancel()
        task = asyncio.ensure_future(self._start(mapping_id, old))
        self.tasks[mapping_id] = task
        task.add_done_callback(lambda t: self.tasks.pop(mapping_id, None) if self.tasks.get(mapping_id) is t else None)

    async def _start(self, mapping_id: str, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # let it finish cancelling (its outcome does not matter here)
        record = await asyncio.to_thread(self.load, mapping_id)
        if record is None:  # deleted: drop checkpoints the stopped poller may have written meanwhile
            await asyncio.to_thread(self._drop_checkpoints, mapping_id)
            return
        if not record.get("_enabled", True):
            await asyncio.to_thread(self.set_state, mapping_id, "Disabled")
            return
        kind = record["_kind"]
        provider = self.siblings.get("sqs" if kind == SQS else "dynamodbstreams")
        if provider is None:
            log.warning("event source mapping %s: its source service is not running", mapping_id)
            return
        try:
            if kind == SQS:
                await asyncio.to_thread(self.set_state, mapping_id, "Enabled")
                await SqsPoller(record, provider, self.invoke).run()
            elif kind == DYNAMODB:
                await StreamPoller(record, provider, self.invoke, self.db, self.set_state).run()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a bug must not go unnoticed, nor take the server down
            log.exception("event source mapping %s stopped", mapping_id)

    def _drop_checkpoints(self, mapping_id: str) -> None:
        start, end = checkpoint_range(mapping_id)
        ops: list[tuple[bytes, bytes | None]] = [(k, None) for k, _ in self.db.scan(start, end)]
        if ops:
            self.db.write_batch(ops)

    def stop_all(self) -> None:
        for task in list(self.tasks.values()):
            task.cancel()
        self.tasks.clear()


def _source_ctx(service: str, arn: str, endpoint: str, operation: str) -> CallContext:
    parts = arn.split(":")
    return CallContext(service=service, operation=operation, account_id=parts[4], region=parts[3], endpoint=endpoint)


def _batch_failures(result: InvokeResult, ids: list[str]) -> set[str] | None:
    """The identifiers a ReportBatchItemFailures answer lists; None means the whole batch failed."""
    try:
        answer = json.loads(result.payload or b"null")
    except ValueError:
        return set()  # not JSON: a success without failures
    if not isinstance(answer, dict) or answer.get("batchItemFailures") is None:
        return set()
    failures = answer["batchItemFailures"]
    if not isinstance(failures, list):
        return None
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in ids:
            return None
        failed.add(identifier)
    return failed


class SqsPoller:
    def __init__(self, record: dict[str, Any], provider: Provider, invoke: InvokeFn) -> None:
        self.record = record
        self.provider: Any = provider
        self.invoke = invoke
        arn = record["EventSourceArn"]
        parts = arn.split(":")
        self.arn = arn
        self.region = parts[3]
        self.queue_url = f"{record['_endpoint'].rstrip('/')}/{parts[4]}/{parts[5]}"
        self.ctx = _source_ctx("sqs", arn, record["_endpoint"], "ReceiveMessage")
        self.patterns = parse_criteria(record.get("FilterCriteria"))
        self.partial = "ReportBatchItemFailures" in (record.get("FunctionResponseTypes") or [])

    async def run(self) -> None:
        while True:
            try:
                messages = await self._receive()
                if messages:
                    await self._handle(messages)
            except ServiceError as exc:  # queue or function gone, throttled: wait and try again
                log.info("SQS mapping %s: %s", self.record["UUID"], exc.message)
                await asyncio.sleep(ERROR_BACKOFF_S)
            except Exception:  # noqa: BLE001 - log a bug, keep the mapping alive
                log.exception("SQS mapping %s", self.record["UUID"])
                await asyncio.sleep(ERROR_BACKOFF_S)

    async def _receive(self) -> list[dict[str, Any]]:
        size = self.record["BatchSize"]
        window = self.record["MaximumBatchingWindowInSeconds"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + window
        batch: list[dict[str, Any]] = []
        while len(batch) < size:
            if window == 0:
                wait = 0 if batch else 20  # long-poll for the first message, then take what is there
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                wait = min(20, max(1, int(remaining + 0.999)))
            answer = await self.provider.receive_message(
                self.ctx, QueueUrl=self.queue_url, MaxNumberOfMessages=min(10, size - len(batch)),
                WaitTimeSeconds=wait, AttributeNames=["All"], MessageAttributeNames=["All"])
            got = answer.get("Messages") or []
            batch += got
            if window == 0 and batch and not got:
                break
        return batch

    def _event_record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {}
        for name, value in (message.get("MessageAttributes") or {}).items():
            binary = value.get("BinaryValue")
            attributes[name] = {
                "stringValue": value.get("StringValue"),
                "binaryValue": base64.b64encode(binary).decode() if isinstance(binary, bytes) else binary,
                "stringListValues": [], "binaryListValues": [], "dataType": value.get("DataType"),
            }
            attributes[name] = {k: v for k, v in attributes[name].items() if v is not None}
        record: dict[str, Any] = {
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": dict(message.get("Attributes") or {}), "messageAttributes": attributes,
            "md5OfBody": message["MD5OfBody"],
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        record.update({"eventSource": "aws:sqs", "eventSourceARN": self.arn, "awsRegion": self.region})
        return record

    def _filter_view(self, record: dict[str, Any]) -> dict[str, Any]:
        try:
            body = json.loads(record["body"])
        except ValueError:
            body = record["body"]
        return {**record, "body": body}

    async def _delete(self, handles: list[str]) -> None:
        for i in range(0, len(handles), 10):
            entries = [{"Id": str(n), "ReceiptHandle": h} for n, h in enumerate(handles[i:i + 10])]
            await asyncio.to_thread(self.provider.delete_message_batch, self.ctx, QueueUrl=self.queue_url,
                                    Entries=entries)

    async def _handle(self, messages: list[dict[str, Any]]) -> None:
        records = [self._event_record(m) for m in messages]
        kept = [r for r in records if matches_any(self.patterns, self._filter_view(r))]
        dropped = [r["receiptHandle"] for r in records if r not in kept]
        if dropped:
            await self._delete(dropped)  # filtered-out messages are deleted, as Lambda does
        if not kept:
            return
        fn = tuple(self.record["_fn"])
        payload = json.dumps({"Records": kept}).encode()
        result = await self.invoke(fn, self.record["_qualifier"], payload, self.record["_endpoint"])  # type: ignore[arg-type]
        if result.function_error is not None:
            return  # the whole batch comes back after its visibility timeout
        failed: set[str] | None = set()
        if self.partial:
            failed = _batch_failures(result, [r["messageId"] for r in kept])
        if failed is None:
            return
        await self._delete([r["receiptHandle"] for r in kept if r["messageId"] not in failed])


class StreamPoller:
    def __init__(self, record: dict[str, Any], provider: Provider, invoke: InvokeFn, db: Any,
                 set_state: Callable[..., None]) -> None:
        self.record = record
        self.provider: Any = provider
        self.invoke = invoke
        self.db = db
        self.set_state = set_state
        self.arn = record["EventSourceArn"]
        self.id = record["UUID"]
        self.ctx = _source_ctx("dynamodbstreams", self.arn, record["_endpoint"], "GetRecords")
        self.patterns = parse_criteria(record.get("FilterCriteria"))
        self.partial = "ReportBatchItemFailures" in (record.get("FunctionResponseTypes") or [])
        self.iterators: dict[str, str | None] = {}  # shard -> next iterator (None: shard finished)
        self.parents: dict[str, str | None] = {}
        self.reported = record.get("LastProcessingResult") == "OK"

    async def _call(self, method: str, **params: Any) -> dict[str, Any]:
        return await asyncio.to_thread(getattr(self.provider, method), self.ctx, **params)  # type: ignore[no-any-return]

    def _checkpoint(self, shard: str) -> str | None:
        raw = self.db.get(checkpoint_key(self.id, shard))
        return raw.decode() if raw is not None else None

    async def _iterator(self, shard: str, new_shard: bool) -> str:
        done = await asyncio.to_thread(self._checkpoint, shard)
        if done is not None:
            params = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": done}
        elif new_shard:
            params = {"ShardIteratorType": "TRIM_HORIZON"}  # a shard born after the mapping started: all of it
        else:
            params = {"ShardIteratorType": self.record["StartingPosition"]}
        answer = await self._call("get_shard_iterator", StreamArn=self.arn, ShardId=shard, **params)
        return str(answer["ShardIterator"])

    async def _refresh_shards(self, first: bool) -> None:
        description = (await self._call("describe_stream", StreamArn=self.arn))["StreamDescription"]
        for shard in description["Shards"]:
            sid = shard["ShardId"]
            if sid in self.iterators:
                continue
            self.parents[sid] = shard.get("ParentShardId")
            self.iterators[sid] = await self._iterator(sid, new_shard=not first)

    async def run(self) -> None:
        while True:
            try:
                await self._refresh_shards(first=True)
                break
            except ServiceError as exc:  # the stream is gone or disabled: keep trying
                log.info("DynamoDB stream mapping %s: %s", self.id, exc.message)
                await asyncio.sleep(ERROR_BACKOFF_S)
        await asyncio.to_thread(self.set_state, self.id, "Enabled")
        refreshed = time.monotonic()
        while True:
            busy = False
            try:
                for shard in list(self.iterators):
                    parent = self.parents.get(shard)
                    if parent is not None and self.iterators.get(parent) is not None:
                        continue  # the parent shard is read first
                    busy |= await self._poll_shard(shard)
                if time.monotonic() - refreshed > SHARD_REFRESH_S:
                    await self._refresh_shards(first=False)
                    refreshed = time.monotonic()
            except ServiceError as exc:
                log.info("DynamoDB stream mapping %s: %s", self.id, exc.message)
                await asyncio.sleep(ERROR_BACKOFF_S)
                continue
            except Exception:  # noqa: BLE001 - log a bug, keep the mapping alive
                log.exception("DynamoDB stream mapping %s", self.id)
                await asyncio.sleep(ERROR_BACKOFF_S)
                continue
            if not busy:
                await asyncio.sleep(IDLE_POLL_S)

    async def _read(self, shard: str, limit: int) -> list[dict[str, Any]]:
        iterator = self.iterators.get(shard)
        if iterator is None:
            return []
        try:
            answer = await self._call("get_records", ShardIterator=iterator, Limit=limit)
        except ServiceError as exc:
            if exc.code != "ExpiredIteratorException":
                raise
            self.iterators[shard] = await self._iterator(shard, new_shard=False)
            return []
        self.iterators[shard] = answer.get("NextShardIterator")
        return list(answer.get("Records") or [])

    async def _poll_shard(self, shard: str) -> bool:
        size = self.record["BatchSize"]
        window = self.record["MaximumBatchingWindowInSeconds"]
        records = await self._read(shard, size)
        if not records:
            return False
        deadline = time.monotonic() + window
        while len(records) < size and time.monotonic() < deadline and self.iterators.get(shard) is not None:
            more = await self._read(shard, size - len(records))
            records += more
            if not more:
                await asyncio.sleep(IDLE_POLL_S)
        last = records[-1]["dynamodb"]["SequenceNumber"]
        batch = [self._event_record(r) for r in records]
        batch = [r for r in batch if matches_any(self.patterns, r)]
        if batch:
            await self._deliver(shard, batch)
        await asyncio.to_thread(self.db.put, checkpoint_key(self.id, shard), last.encode())
        if not self.reported:  # LastProcessingResult says OK once a batch was handled (and checkpointed)
            await asyncio.to_thread(self.set_state, self.id, "Enabled", LastProcessingResult="OK")
            self.reported = True
        return True

    def _event_record(self, record: dict[str, Any]) -> dict[str, Any]:
        data = dict(record["dynamodb"])
        created = data.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            data["ApproximateCreationDateTime"] = int(created.timestamp())
        return {**record, "dynamodb": data, "eventSourceARN": self.arn}

    async def _deliver(self, shard: str, batch: list[dict[str, Any]]) -> None:
        """Invoke until the batch is handled, bisecting and retrying as the mapping says.

        Each (sub-)batch has its own retry budget (MaximumRetryAttempts, -1 = until it succeeds);
        with BisectBatchOnFunctionError a failed batch of several records is split in halves first,
        and a split does not spend a retry (as in Lambda). Records discarded after their last retry
        or for their age go to the OnFailure destination (:meth:`_discard`).
        """
        maximum = self.record.get("MaximumRetryAttempts", -1)
        # (records, retries left, invocations of these records so far, the last result)
        pending: list[tuple[list[dict[str, Any]], int, int, InvokeResult | None]] = [(batch, maximum, 0, None)]
        delay = RETRY_BACKOFF_S
        while pending:
            current, retries_left, invoked, last = pending.pop(0)
            current = await self._young_enough(shard, current, invoked, last)
            if not current:
                continue
            failed_from, last = await self._invoke_once(current)
            invoked += 1
            if failed_from is None:
                continue
            current = current[failed_from:]
            if self.record.get("BisectBatchOnFunctionError") and len(current) > 1:
                half = len(current) // 2
                pending[:0] = [(current[:half], maximum, invoked, last), (current[half:], maximum, invoked, last)]
            elif retries_left == 0:
                log.warning("DynamoDB stream mapping %s: dropping %d records after retries", self.id, len(current))
                await self._discard(shard, current, "RetryAttemptsExhausted", invoked, last)
                continue
            else:
                pending.insert(0, (current, retries_left - 1 if retries_left > 0 else -1, invoked, last))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _young_enough(self, shard: str, batch: list[dict[str, Any]], invoked: int,
                            last: InvokeResult | None) -> list[dict[str, Any]]:
        """The records not older than MaximumRecordAgeInSeconds (-1: no limit); older ones are discarded."""
        age = self.record.get("MaximumRecordAgeInSeconds", -1)
        if age is None or age < 0:
            return batch
        cutoff = time.time() - age
        kept = [r for r in batch if r["dynamodb"].get("ApproximateCreationDateTime", cutoff) >= cutoff]
        if len(kept) < len(batch):
            log.warning("DynamoDB stream mapping %s: dropping %d records older than %d s",
                        self.id, len(batch) - len(kept), age)
            kept_ids = {id(r) for r in kept}
            await self._discard(shard, [r for r in batch if id(r) not in kept_ids], "RecordAgeExceeded",
                                invoked, last)
        return kept

    async def _discard(self, shard: str, records: list[dict[str, Any]], condition: str, invoked: int,
                       last: InvokeResult | None) -> None:
        """Tell the mapping's OnFailure destination (if any) which records were given up on."""
        target = ((self.record.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if not target:
            return
        document = delivery.stream_failure_record(
            request_id=str(uuid.uuid4()), function_arn=self.record["FunctionArn"], condition=condition,
            attempts=invoked, executed_version=last.executed_version if last is not None else None,
            function_error=last.function_error if last is not None else None, shard_id=shard,
            stream_arn=self.arn, records=records,
        )
        try:
            await asyncio.to_thread(delivery.send_to_queue, self.record["_endpoint"],
                                    root_access_key(self.record["_fn"][0]), target, document)
        except Exception:  # noqa: BLE001 - a missing queue must not stop the shard
            log.exception("DynamoDB stream mapping %s: OnFailure delivery to %s failed", self.id, target)

    async def _invoke_once(self, batch: list[dict[str, Any]]) -> tuple[int | None, InvokeResult | None]:
        """(None when the batch succeeded, else the index of the first record to retry from; the result)."""
        fn = tuple(self.record["_fn"])
        payload = json.dumps({"Records": batch}).encode()
        try:
            result = await self.invoke(fn, self.record["_qualifier"], payload, self.record["_endpoint"])  # type: ignore[arg-type]
        except ServiceError as exc:
            log.info("DynamoDB stream mapping %s: %s", self.id, exc.message)
            return 0, None
        if result.function_error is not None:
            return 0, result
        if not self.partial:
            return None, result
        sequence = [r["dynamodb"]["SequenceNumber"] for r in batch]
        failed = _batch_failures(result, sequence)
        if failed is None:
            return 0, result
        if not failed:
            return None, result
        return min(sequence.index(s) for s in failed), result
