"""The SQS provider: one method per SQS operation (standard and FIFO queues, DLQs, move tasks).

State lives in lsm (layout in keys.py, record shapes in records.py, message mechanics in
message_store.py); this class keeps only caches rebuilt from lsm: the open queues
(:class:`QueueState`, loaded at start and on first use) and, per FIFO queue, its group index.

Threads and the event loop: every method but ReceiveMessage is synchronous (the gateway runs it in a
worker thread). ReceiveMessage is a coroutine: an attempt is a short synchronous step on the loop; a
long poll then parks on an asyncio future (waiters.py) until a send wakes it or the next message
becomes visible, so waiting polls cost no thread. A sweeper thread expires messages past their
retention period, FIFO deduplication entries past 5 minutes, and removes purged generations.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from typing import Any, Callable

from awsemu.services.base import CallContext, Provider, ServiceError
from awsemu.services.sqs import keys, queue_attributes
from awsemu.services.sqs.dead_letters import check_redrive_target, source_queues
from awsemu.services.sqs.errors import (
    BatchRequestTooLong,
    InvalidAttributeName,
    InvalidParameterValue,
    MissingParameter,
    PurgeQueueInProgress,
    QueueDeletedRecently,
    QueueDoesNotExist,
    QueueNameExists,
    ReceiptHandleIsInvalid,
    ResourceNotFoundException,
    invalid_parameter,
)
from awsemu.services.sqs.message_input import check_batch, prepare_message
from awsemu.services.sqs.message_output import MESSAGE_SYSTEM_ATTRIBUTES, received_message, send_answer
from awsemu.services.sqs.message_store import MessageStore, QueueState, Redrive, now_ms, sequence_number
from awsemu.services.sqs.move_tasks import MoveTasks, parse_handle
from awsemu.services.sqs.receipts import Receipt
from awsemu.services.sqs.receipts import decode as decode_receipt
from awsemu.services.sqs.records import DedupRecord, MessageRecord, QueueRecord
from awsemu.services.sqs.queue_listing import QueueListingOperations
from awsemu.services.sqs.tags_and_permissions import TagAndPermissionOperations
from awsemu.services.sqs.urls import QueueRef, parse_queue_arn, parse_queue_url, queue_url

log = logging.getLogger("awsemu.sqs")

DELETED_RECENTLY_S = 60
PURGE_INTERVAL_S = 60
DEDUP_WINDOW_MS = 5 * 60 * 1000
MAX_BATCH_BYTES = 1048576
SWEEP_INTERVAL_S = 1.0


class SqsProvider(QueueListingOperations, TagAndPermissionOperations, Provider):
    service_name = "sqs"

    def __init__(self, storage: Any, config: Any) -> None:
        super().__init__(storage, config)
        self.db = storage.db
        self.store = MessageStore(self.db)
        self.moves = MoveTasks(self.db, self.store, self._state_by_arn)
        self._queues: dict[tuple[str, str, str], QueueState] = {}
        self._queues_lock = threading.RLock()
        self._sweeper: threading.Thread | None = None
        self._stop = threading.Event()
        # (account, region, name, below_gen): message generations to remove in the background.
        self._garbage: list[tuple[str, str, str, int]] = []

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        start, end = keys.all_queues_range()
        for _, raw in self.db.scan(start, end):
            record = QueueRecord.from_bytes(raw)
            self._open(record)
            self._garbage.append((record.account, record.region, record.name, record.gen))
        start, end = keys.all_tombstones_range()
        for _, raw in self.db.scan(start, end):
            tomb = json.loads(raw)
            self._garbage.append((tomb["account"], tomb["region"], tomb["name"], tomb["gen"] + 1))
        self.moves.resume_all(self._ref_by_arn)
        self._stop.clear()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="sqs-sweeper", daemon=True)
        self._sweeper.start()

    def stop(self) -> None:
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=5)
            self._sweeper = None
        self.moves.stop()
        with self._queues_lock:
            for q in self._queues.values():
                q.waiters.wake()

    def reset(self) -> None:
        self.moves.stop()
        with self._queues_lock:
            states = list(self._queues.values())
            self._queues.clear()
            self._garbage.clear()
        start, end = keys.everything_range()
        while True:
            batch = [(k, None) for k, _ in self.db.scan(start, end, limit=1000)]
            if not batch:
                break
            self.db.write_batch(batch)
        for q in states:
            q.waiters.wake()

    def state(self) -> str:
        return "running"

    def _sweep_loop(self) -> None:
        ticks = 0
        while not self._stop.wait(SWEEP_INTERVAL_S):
            ticks += 1
            try:
                self.sweep(dedup=ticks % 30 == 0)
            except Exception:  # the sweeper must survive a bad record; the next tick retries
                if self._stop.is_set():
                    return
                log.exception("sqs sweep failed")

    def sweep(self, dedup: bool = True) -> None:
        """Expire old messages, drop purged generations and (optionally) stale dedup entries."""
        with self._queues_lock:
            garbage, self._garbage = self._garbage, []
            states = list(self._queues.values())
        for account, region, name, below in garbage:
            self.store.drop_older(account, region, name, below)
        now = now_ms()
        for q in states:
            self.store.expire(q)
            if dedup and q.record.fifo:
                r = q.record
                start, end = keys.dedups_range(r.account, r.region, r.name)
                stale = [
                    (k, None)
                    for k, raw in self.db.scan(start, end)
                    if DedupRecord.from_bytes(raw).expires_ms <= now
                ]
                if stale:
                    self.db.write_batch(stale)

    # -- queue lookup -------------------------------------------------------------------------

    def _open(self, record: QueueRecord) -> QueueState:
        q = QueueState(record)
        self.store.rebuild_fifo(q)
        with self._queues_lock:
            self._queues[(record.account, record.region, record.name)] = q
        return q

    def _state(self, account: str, region: str, name: str) -> QueueState | None:
        q = self._queues.get((account, region, name))
        if q is not None:
            return q
        with self._queues_lock:
            q = self._queues.get((account, region, name))
            if q is not None:
                return q
            raw = self.db.get(keys.queue(account, region, name))
            return self._open(QueueRecord.from_bytes(raw)) if raw is not None else None

    def _queue(self, ctx: CallContext, url: str | None) -> QueueState:
        if not url:
            raise MissingParameter("The request must contain the parameter QueueUrl.")
        ref = parse_queue_url(url, ctx.region)
        q = self._state(ref.account, ref.region, ref.name)
        if q is None:
            raise QueueDoesNotExist()
        return q

    def _ref_by_arn(self, arn: str) -> QueueRef | None:
        return parse_queue_arn(arn)

    def _state_by_arn(self, arn: str) -> QueueState | None:
        ref = parse_queue_arn(arn)
        return self._state(ref.account, ref.region, ref.name) if ref else None

    def _save(self, q: QueueState) -> None:
        r = q.record
        self.db.put(keys.queue(r.account, r.region, r.name), r.to_bytes())

    def _url(self, ctx: CallContext, r: QueueRecord) -> str:
        return queue_url(ctx.endpoint, r.account, r.name)

    def _redrive(self, q: QueueState) -> Redrive | None:
        policy = q.record.attributes.get("RedrivePolicy")
        if not policy:
            return None
        target, count = queue_attributes.parse_redrive_policy(policy)
        dlq = self._state_by_arn(target)
        return Redrive(dlq, count) if dlq is not None and dlq is not q else None

    def _check_redrive(self, source_arn: str, fifo: bool) -> Callable[[str, str, int], None]:
        def check(policy: str, target_arn: str, _count: int) -> None:
            target = self._state_by_arn(target_arn)
            check_redrive_target(policy, target.record if target else None, source_arn, fifo)

        return check

    # -- queues -------------------------------------------------------------------------------

    def create_queue(
        self, ctx: CallContext, QueueName: str, Attributes: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        given = dict(Attributes or {})
        fifo = QueueName.endswith(".fifo") or str(given.get("FifoQueue", "")).lower() == "true"
        queue_attributes.validate_queue_name(QueueName, fifo)
        arn = f"arn:aws:sqs:{ctx.region}:{ctx.account_id}:{QueueName}"
        attrs = queue_attributes.normalize(given, fifo, creating=True, check_redrive=self._check_redrive(arn, fifo))
        with self._queues_lock:
            existing = self._state(ctx.account_id, ctx.region, QueueName)
            if existing is not None:
                current = existing.record.attributes
                for name, value in attrs.items():
                    if current.get(name, queue_attributes.DEFAULTS.get(name, "")) != value:
                        raise QueueNameExists(
                            f"A queue already exists with the same name and a different value for attribute {name}"
                        )
                return {"QueueUrl": self._url(ctx, existing.record)}
            tomb_raw = self.db.get(keys.tombstone(ctx.account_id, ctx.region, QueueName))
            gen = 0
            if tomb_raw is not None:
                tomb = json.loads(tomb_raw)
                if now_ms() - tomb["deleted_ms"] < DELETED_RECENTLY_S * 1000:
                    raise QueueDeletedRecently(
                        "You must wait 60 seconds after deleting a queue before you can create "
                        "another with the same name."
                    )
                gen = tomb["gen"] + 1
            now_s = now_ms() // 1000
            attributes = queue_attributes.initial(fifo, attrs)
            queue_attributes.check_combination(attributes)
            record = QueueRecord(
                account=ctx.account_id, region=ctx.region, name=QueueName,
                attributes=attributes, created=now_s, modified=now_s,
                tags=dict(tags or {}), gen=gen, incarnation=uuid.uuid4().hex,
            )  # fmt: skip
            self.db.put(keys.queue(record.account, record.region, record.name), record.to_bytes())
            self._open(record)
        return {"QueueUrl": self._url(ctx, record)}

    def get_queue_url(self, ctx: CallContext, QueueName: str, QueueOwnerAWSAccountId: str | None = None) -> dict[str, Any]:
        q = self._state(QueueOwnerAWSAccountId or ctx.account_id, ctx.region, QueueName)
        if q is None:
            raise QueueDoesNotExist()
        return {"QueueUrl": self._url(ctx, q.record)}

    def get_queue_attributes(self, ctx: CallContext, QueueUrl: str, AttributeNames: list[str] | None = None) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        names = set(queue_attributes.requested_names(AttributeNames))
        if not names:
            return {}
        everything = "All" in names
        r = q.record
        out: dict[str, str] = {}
        if everything or names & {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"}:
            visible, in_flight, delayed = self.store.counts(q)
            out["ApproximateNumberOfMessages"] = str(visible)
            out["ApproximateNumberOfMessagesNotVisible"] = str(in_flight)
            out["ApproximateNumberOfMessagesDelayed"] = str(delayed)
        out["CreatedTimestamp"] = str(r.created)
        out["LastModifiedTimestamp"] = str(r.modified)
        out["QueueArn"] = r.arn
        out.update(r.attributes)
        if not everything:
            out = {k: v for k, v in out.items() if k in names}
        return {"Attributes": out} if out else {}

    def set_queue_attributes(self, ctx: CallContext, QueueUrl: str, Attributes: dict[str, str]) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        r = q.record
        changes = queue_attributes.normalize(
            dict(Attributes or {}), r.fifo, creating=False, check_redrive=self._check_redrive(r.arn, r.fifo)
        )
        with q.lock:
            attributes = queue_attributes.apply(r.attributes, changes)
            queue_attributes.check_combination(attributes)
            r.attributes = attributes
            r.modified = now_ms() // 1000
            self._save(q)
        q.waiters.wake()  # a new VisibilityTimeout/delay changes what waiters wait for
        return {}

    def delete_queue(self, ctx: CallContext, QueueUrl: str) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        r = q.record
        tomb = {"account": r.account, "region": r.region, "name": r.name, "gen": r.gen, "deleted_ms": now_ms()}
        with self._queues_lock, q.lock:
            self.db.write_batch([
                (keys.queue(r.account, r.region, r.name), None),
                (keys.tombstone(r.account, r.region, r.name), json.dumps(tomb).encode()),
            ])
            self._queues.pop((r.account, r.region, r.name), None)
            self._garbage.append((r.account, r.region, r.name, r.gen + 1))
        q.waiters.wake()
        return {}

    def purge_queue(self, ctx: CallContext, QueueUrl: str) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        r = q.record
        with q.lock:
            now = now_ms() / 1000
            if r.last_purge and now - r.last_purge < PURGE_INTERVAL_S:
                raise PurgeQueueInProgress(
                    f"Only one PurgeQueue operation on {r.name} is allowed every {PURGE_INTERVAL_S} seconds."
                )
            r.gen += 1
            r.last_purge = now
            self._save(q)
            if q.fifo is not None:
                q.fifo.clear()
            q.attempts.clear()
        with self._queues_lock:
            self._garbage.append((r.account, r.region, r.name, r.gen))
        return {}

    # -- send ---------------------------------------------------------------------------------

    def _send(self, q: QueueState, prepared: list[MessageRecord]) -> list[MessageRecord]:
        """Number, deduplicate and write messages; returns what each send answers with."""
        r = q.record
        answers: list[MessageRecord] = []
        fresh: list[MessageRecord] = []
        extra: list[tuple[bytes, bytes | None]] = []
        with q.lock:
            seen: dict[bytes, MessageRecord] = {}
            now = now_ms()  # stamped under the lock: never below the queue's receive scan floor
            for m in prepared:
                m.visible_ms = now + (m.visible_ms - m.sent_ms)
                m.sent_ms = now
                m.seq = self.store.next_seq()
                if r.fifo:
                    scope = (m.group_id or "") if r.attributes.get("DeduplicationScope") == "messageGroup" else ""
                    dkey = keys.dedup(r.account, r.region, r.name, scope, m.dedup_id or "")
                    earlier = seen.get(dkey)
                    if earlier is not None:
                        answers.append(earlier)
                        continue
                    raw = self.db.get(dkey)
                    if raw is not None:
                        hit = DedupRecord.from_bytes(raw)
                        if hit.incarnation == r.incarnation and hit.expires_ms > m.sent_ms:
                            m.message_id, m.seq = hit.message_id, int(hit.sequence_number)
                            answers.append(m)
                            continue
                    entry = DedupRecord(r.incarnation, m.message_id, sequence_number(m.seq), m.sent_ms + DEDUP_WINDOW_MS)
                    extra.append((dkey, entry.to_bytes()))
                    seen[dkey] = m
                fresh.append(m)
                answers.append(m)
            if fresh:
                self.store.enqueue(q, fresh, extra)
        ready = sum(1 for m in fresh if m.visible_ms <= m.sent_ms)
        if ready == len(fresh):
            q.waiters.wake(ready)
        elif fresh:
            q.waiters.wake()  # delayed messages: waiters recompute when to look again
        return answers

    def send_message(self, ctx: CallContext, QueueUrl: str, MessageBody: str | None = None, **params: Any) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        record, _ = prepare_message(ctx, q.record, {"MessageBody": MessageBody, **params})
        return send_answer(q.record, self._send(q, [record])[0])

    def send_message_batch(self, ctx: CallContext, QueueUrl: str, Entries: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        entries = check_batch(Entries, "SendMessageBatchRequestEntry")
        prepared: list[tuple[str, MessageRecord]] = []
        failed: list[dict[str, Any]] = []
        total = 0
        for entry in entries:
            try:
                record, size = prepare_message(ctx, q.record, entry)
            except ServiceError as err:
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": err.code, "Message": err.message})
                continue
            total += size
            prepared.append((entry["Id"], record))
        if total > MAX_BATCH_BYTES:
            raise BatchRequestTooLong(
                f"Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."
            )
        answers = self._send(q, [m for _, m in prepared]) if prepared else []
        successful = [{"Id": entry_id, **send_answer(q.record, m)} for (entry_id, _), m in zip(prepared, answers)]
        return {"Successful": successful, "Failed": failed}

    # -- receive ------------------------------------------------------------------------------

    async def receive_message(
        self, ctx: CallContext, QueueUrl: str, AttributeNames: list[str] | None = None,
        MessageSystemAttributeNames: list[str] | None = None, MessageAttributeNames: list[str] | None = None,
        MaxNumberOfMessages: int | None = None, VisibilityTimeout: int | None = None,
        WaitTimeSeconds: int | None = None, ReceiveRequestAttemptId: str | None = None,
    ) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        r = q.record
        count = 1 if MaxNumberOfMessages is None else MaxNumberOfMessages
        if not 1 <= count <= 10:
            raise invalid_parameter("MaxNumberOfMessages", count, "Must be between 1 and 10, if provided.")
        wait = r.int_attr("ReceiveMessageWaitTimeSeconds") if WaitTimeSeconds is None else WaitTimeSeconds
        if not 0 <= wait <= 20:
            raise invalid_parameter("WaitTimeSeconds", wait, "Must be >= 0 and <= 20, if provided.")
        if VisibilityTimeout is not None and not 0 <= VisibilityTimeout <= 43200:
            raise invalid_parameter("VisibilityTimeout", VisibilityTimeout, "Must be >= 0 and <= 43200, if provided.")
        system_names = set(AttributeNames or ()) | set(MessageSystemAttributeNames or ())
        for name in system_names:
            if name not in MESSAGE_SYSTEM_ATTRIBUTES:
                raise InvalidAttributeName(f"Unknown Attribute {name}.")
        attr_names = list(MessageAttributeNames or ())
        attempt = ReceiveRequestAttemptId if r.fifo else None
        if attempt is not None:
            replay = self.store.replay_attempt(q, attempt)
            if replay is not None:
                return self._receive_answer(q, replay, system_names, attr_names)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            version = q.waiters.version
            got = self._receive_once(q, count, VisibilityTimeout)
            if got or loop.time() >= deadline or self._queues.get((r.account, r.region, r.name)) is not q:
                break
            timeout = deadline - loop.time()
            upcoming = self.store.next_visible_ms(q)
            if upcoming is not None:
                timeout = min(timeout, max((upcoming - now_ms()) / 1000, 0.001))
            await q.waiters.wait(timeout, version)
        if attempt is not None and got:
            self.store.remember_attempt(q, attempt, got)
        return self._receive_answer(q, got, system_names, attr_names)

    def _receive_once(self, q: QueueState, count: int, visibility: int | None) -> list[tuple[MessageRecord, str]]:
        vt = q.record.int_attr("VisibilityTimeout") if visibility is None else visibility
        got, targets = self.store.receive(q, count, vt, self._redrive(q))
        for target in targets:
            target.waiters.wake()
        return got

    def _receive_answer(
        self, q: QueueState, got: list[tuple[MessageRecord, str]], system_names: set[str], attr_names: list[str]
    ) -> dict[str, Any]:
        if not got:
            return {}
        return {"Messages": [received_message(q.record, m, h, system_names, attr_names) for m, h in got]}

    # -- delete and visibility ----------------------------------------------------------------

    def _receipt(self, q: QueueState, handle: str | None) -> Receipt:
        if not handle:
            raise MissingParameter("The request must contain the parameter ReceiptHandle.")
        receipt = decode_receipt(handle)
        if receipt.queue != q.record.name:
            raise ReceiptHandleIsInvalid(f'The input receipt handle "{handle}" is not a valid receipt handle.')
        return receipt

    def _delete(self, q: QueueState, receipts: list[Receipt]) -> None:
        if self.store.delete(q, receipts) and q.fifo is not None:
            q.waiters.wake()  # a group may be unblocked

    def delete_message(self, ctx: CallContext, QueueUrl: str, ReceiptHandle: str | None = None) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        self._delete(q, [self._receipt(q, ReceiptHandle)])
        return {}

    def delete_message_batch(self, ctx: CallContext, QueueUrl: str, Entries: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        entries = check_batch(Entries, "DeleteMessageBatchRequestEntry")
        successful, failed, receipts = [], [], []
        for entry in entries:
            try:
                receipts.append(self._receipt(q, entry.get("ReceiptHandle")))
            except ServiceError as err:
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": err.code, "Message": err.message})
            else:
                successful.append({"Id": entry["Id"]})
        if receipts:
            self._delete(q, receipts)
        return {"Successful": successful, "Failed": failed}

    def _change_one(self, q: QueueState, handle: str | None, timeout: int | None) -> None:
        receipt = self._receipt(q, handle)
        if timeout is None:
            raise MissingParameter("The request must contain the parameter VisibilityTimeout.")
        if not 0 <= timeout <= 43200:
            raise invalid_parameter(
                "VisibilityTimeout", timeout, "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]"
            )
        self.store.change_visibility(q, receipt, timeout, handle or "")
        q.waiters.wake()

    def change_message_visibility(
        self, ctx: CallContext, QueueUrl: str, ReceiptHandle: str | None = None, VisibilityTimeout: int | None = None
    ) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        self._change_one(q, ReceiptHandle, VisibilityTimeout)
        return {}

    def change_message_visibility_batch(
        self, ctx: CallContext, QueueUrl: str, Entries: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        q = self._queue(ctx, QueueUrl)
        entries = check_batch(Entries, "ChangeMessageVisibilityBatchRequestEntry")
        successful, failed = [], []
        for entry in entries:
            try:
                self._change_one(q, entry.get("ReceiptHandle"), entry.get("VisibilityTimeout"))
            except ServiceError as err:
                failed.append({"Id": entry["Id"], "SenderFault": True, "Code": err.code, "Message": err.message})
            else:
                successful.append({"Id": entry["Id"]})
        return {"Successful": successful, "Failed": failed}

    # -- message move tasks -------------------------------------------------------------------

    def start_message_move_task(
        self, ctx: CallContext, SourceArn: str, DestinationArn: str | None = None,
        MaxNumberOfMessagesPerSecond: int | None = None,
    ) -> dict[str, Any]:
        source = self._state_by_arn(SourceArn)
        if source is None:
            raise ResourceNotFoundException("The resource that you specified for the SourceArn parameter doesn't exist.")
        if DestinationArn is not None and self._state_by_arn(DestinationArn) is None:
            raise ResourceNotFoundException("The resource that you specified for the DestinationArn parameter doesn't exist.")
        if MaxNumberOfMessagesPerSecond is not None and not 1 <= MaxNumberOfMessagesPerSecond <= 500:
            raise invalid_parameter(
                "MaxNumberOfMessagesPerSecond", MaxNumberOfMessagesPerSecond,
                "You must enter a number that's between 1 and 500.",
            )
        if DestinationArn is not None and DestinationArn == SourceArn:
            raise invalid_parameter("DestinationArn", DestinationArn, "Source and destination queues must be different.")
        if next(source_queues(self.db, source.record), None) is None:
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        ref = parse_queue_arn(SourceArn)
        assert ref is not None
        if self.moves.running(ref) is not None:
            raise InvalidParameterValue(
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time."
            )
        visible, in_flight, _ = self.store.counts(source)
        task = self.moves.start(ref, source.record.arn, DestinationArn, MaxNumberOfMessagesPerSecond, visible + in_flight)
        return {"TaskHandle": task.task_handle}

    def cancel_message_move_task(self, ctx: CallContext, TaskHandle: str) -> dict[str, Any]:
        task_id, source_arn = parse_handle(TaskHandle)
        ref = parse_queue_arn(source_arn)
        if ref is None:
            raise ResourceNotFoundException("Task does not exist.")
        task = self.moves.cancel(ref, task_id)
        return {"ApproximateNumberOfMessagesMoved": task.moved}

    def list_message_move_tasks(self, ctx: CallContext, SourceArn: str, MaxResults: int | None = None) -> dict[str, Any]:
        if MaxResults is not None and not 1 <= MaxResults <= 10:
            raise invalid_parameter("MaxResults", MaxResults, "You must enter a number that's between 1 and 10.")
        if self._state_by_arn(SourceArn) is None:
            raise ResourceNotFoundException("The resource that you specified for the SourceArn parameter doesn't exist.")
        ref = parse_queue_arn(SourceArn)
        assert ref is not None
        tasks = self.moves.list(ref)[: MaxResults or 1]
        return {"Results": [self.moves.describe(t) for t in tasks]}
