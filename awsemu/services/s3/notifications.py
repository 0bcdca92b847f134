"""Event notifications: configuration, the event records, and delivery to SQS queues and Lambda
functions through an outbox.

An object change that matches a queue configuration (event name, prefix/suffix filter) adds an
outbox entry ``("s3", "q", seq)`` to the very batch that commits the change, so an event exists
if and only if the change does, across crashes. A deliverer thread sends outbox entries to their
queues and deletes them once SQS accepted them (at-least-once, like S3).

Delivery calls the SQS provider's ``send_message`` directly (the app hands providers their siblings
through ``attach``): a trusted call inside the server that works in every auth mode, and goes
through SQS's own code, so its caches and long-poll waiters see the message as they see any send. The event JSON is AWS's
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import quote_plus

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.s3 import keys
from awsemu.services.s3.errors import invalid_argument
from awsemu.services.s3.records import BucketRecord, ObjectVersion
from awsemu.services.s3.store import S3Store

log = logging.getLogger("awsemu.s3.notifications")

EVENTS = frozenset(
    """s3:ObjectCreated:* s3:ObjectCreated:Put s3:ObjectCreated:Post s3:ObjectCreated:Copy
    s3:ObjectCreated:CompleteMultipartUpload s3:ObjectRemoved:* s3:ObjectRemoved:Delete
    s3:ObjectRemoved:DeleteMarkerCreated s3:ObjectRestore:* s3:ObjectRestore:Post s3:ObjectRestore:Completed
    s3:ObjectRestore:Delete s3:ReducedRedundancyLostObject s3:Replication:* s3:LifecycleExpiration:*
    s3:LifecycleExpiration:Delete s3:LifecycleExpiration:DeleteMarkerCreated s3:LifecycleTransition
    s3:IntelligentTiering s3:ObjectTagging:* s3:ObjectTagging:Put s3:ObjectTagging:Delete s3:ObjectAcl:Put
    s3:TestEvent""".split()
)


def event_matches(patterns: list[str], name: str) -> bool:
    full = "s3:" + name
    for pattern in patterns:
        if pattern == full or (pattern.endswith("*") and full.startswith(pattern[:-1])):
            return True
    return False


def filter_matches(config: dict[str, Any], key: str) -> bool:
    rules = ((config.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []
    for rule in rules:
        name, value = (rule.get("Name") or "").lower(), rule.get("Value") or ""
        if name == "prefix" and not key.startswith(value):
            return False
        if name == "suffix" and not key.endswith(value):
            return False
    return True


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def event_record(ctx: CallContext, bucket: BucketRecord, name: str, rec: ObjectVersion, config_id: str,
                 when: float, sequencer: int) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": quote_plus(rec.key, safe="/")}
    if name.startswith(("ObjectCreated", "ObjectRestore")):
        obj["size"] = rec.size
        obj["eTag"] = rec.etag
    if bucket.versioning and rec.version_id != "null":
        obj["versionId"] = rec.version_id
    obj["sequencer"] = f"{sequencer:016X}"
    principal = f"AWS:{ctx.account_id}"
    record: dict[str, Any] = {
        # 2.3 for restore-copy deletions (user guide, "Event message structure"), else 2.1
        "eventVersion": "2.3" if name == "ObjectRestore:Delete" else "2.1",
        "eventSource": "aws:s3",
        "awsRegion": bucket.region,
        "eventTime": _iso(when),
        "eventName": name,
        "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": ctx.source_ip},
        "responseElements": {"x-amz-request-id": ctx.request_id or uuid.uuid4().hex[:16].upper(),
                             "x-amz-id-2": ctx.request_id or ""},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": config_id,
            "bucket": {"name": bucket.name, "ownerIdentity": {"principalId": bucket.owner},
                       "arn": f"arn:aws:s3:::{bucket.name}"},
            "object": obj,
        },
    }
    if name == "ObjectRestore:Completed" and rec.restore_expiry is not None:
        # only Completed events carry glacierEventData (user guide, "Event message structure")
        record["glacierEventData"] = {"restoreEventData": {
            "lifecycleRestorationExpiryTime": _iso(rec.restore_expiry),
            "lifecycleRestoreStorageClass": rec.storage_class}}
    return record


class DeliveryFailed(Exception):
    """The destination queue does not exist or refused the message."""


def send_to_queue(sqs: Any, endpoint: str, queue_arn: str, body: str) -> None:
    """SendMessage to the queue named by ``queue_arn``, calling the SQS provider directly: a trusted
    call inside the server, so it works in every auth mode (S3 itself is the sender)."""
    if sqs is None:
        raise DeliveryFailed("SQS is not served by this awsemu")
    try:
        _, _, _, region, account, name = queue_arn.split(":", 5)
    except ValueError:
        raise DeliveryFailed(f"not a queue ARN: {queue_arn}") from None
    ctx = CallContext(service="sqs", operation="SendMessage", account_id=account, region=region, endpoint=endpoint)
    try:
        sqs.send_message(ctx, QueueUrl=f"{endpoint}/{account}/{name}", MessageBody=body)
    except ServiceError as err:
        raise DeliveryFailed(f"{err.code}: {err.message}") from None


class NotificationsMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]

    def put_bucket_notification_configuration(self, ctx: CallContext, Bucket: str,
                                              NotificationConfiguration: dict[str, Any] | None = None,
                                              **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        config = dict(NotificationConfiguration or {})
        for kind, arn_member in (("QueueConfigurations", "QueueArn"), ("TopicConfigurations", "TopicArn"),
                                 ("LambdaFunctionConfigurations", "LambdaFunctionArn")):
            entries = []
            for entry in config.get(kind) or []:
                entry = dict(entry)
                if not entry.get(arn_member) or not entry.get("Events"):
                    raise invalid_argument("Unable to validate the following destination configurations",
                                           entry.get(arn_member) or arn_member, entry.get(arn_member))
                for event in entry["Events"]:
                    if event not in EVENTS or event == "s3:TestEvent":
                        raise invalid_argument("The event is not supported for notifications", event, event)
                for rule in ((entry.get("Filter") or {}).get("Key") or {}).get("FilterRules") or []:
                    if (rule.get("Name") or "").lower() not in ("prefix", "suffix"):
                        raise invalid_argument("filter rule name must be either prefix or suffix",
                                               "FilterRule.Name", rule.get("Name"))
                entry.setdefault("Id", uuid.uuid4().hex)
                entries.append(entry)
            if entries:
                config[kind] = entries
            else:
                config.pop(kind, None)
        queues = config.get("QueueConfigurations") or []
        if queues and not p.get("SkipDestinationValidation"):
            self._test_events(ctx, bucket, queues)
        functions = config.get("LambdaFunctionConfigurations") or []
        if functions and not p.get("SkipDestinationValidation"):
            missing = [e["LambdaFunctionArn"] for e in functions if not self._function_exists(e["LambdaFunctionArn"])]
            if missing:
                raise invalid_argument("Unable to validate the following destination configurations", missing[0],
                                       "Not authorized to invoke function [" + missing[0] + "]")
        self.store.update_bucket(Bucket, lambda rec: rec.config.__setitem__("notification", config))
        return {}

    def get_bucket_notification_configuration(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        return dict(self._bucket(Bucket).config.get("notification") or {})

    def _test_events(self, ctx: CallContext, bucket: BucketRecord, queues: list[dict[str, Any]]) -> None:
        """Send S3's ``s3:TestEvent`` to each queue; a queue that cannot take it fails validation."""
        failed = []
        for entry in queues:
            body = json.dumps({
                "Service": "Amazon S3", "Event": "s3:TestEvent", "Time": _iso(datetime.now(timezone.utc).timestamp()),
                "Bucket": bucket.name, "RequestId": ctx.request_id, "HostId": ctx.request_id,
            })
            try:
                send_to_queue(self._sqs, ctx.endpoint, entry["QueueArn"], body)
            except DeliveryFailed:
                failed.append(entry["QueueArn"])
        if failed:
            raise invalid_argument("Unable to validate the following destination configurations", failed[0],
                                   "Permissions on the destination queue do not allow S3 to publish notifications from this bucket")

    def _event_ops(self, ctx: CallContext, bucket: BucketRecord, name: str | None, rec: ObjectVersion) -> list[Any]:
        """Outbox entries for an object event, to add to the batch that commits the change."""
        config = bucket.config.get("notification") if name else None
        if not config:
            return []
        ops = []
        when = time.time()
        targets = [("queue", e["QueueArn"], e) for e in config.get("QueueConfigurations") or []]
        targets += [("function", e["LambdaFunctionArn"], e) for e in config.get("LambdaFunctionConfigurations") or []]
        for kind, arn, entry in targets:
            if event_matches(entry["Events"], name or "") and filter_matches(entry, rec.key):
                # the sequencer orders events of a key: a fresh sequence number, later than any before
                seq = self.store.seq.next()
                record = event_record(ctx, bucket, name or "", rec, entry["Id"], when, seq)
                value = json.dumps({"endpoint": ctx.endpoint, kind: arn, "body": json.dumps({"Records": [record]})})
                ops.append((keys.outbox(seq), value.encode()))
        if ops:
            self._outbox_wake.set()
        return ops

    # --- the deliverer -------------------------------------------------------------------------

    def attach(self, providers: dict[str, Any]) -> None:
        self._sqs = providers.get("sqs")
        self._lambda = providers.get("lambda")
        try:  # the server's loop, on which Lambda's (async) Invoke runs
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._outbox_wake.set()  # entries left by a previous run can go now

    def _function_exists(self, arn: str) -> bool:
        if self._lambda is None:
            return False
        parts = arn.split(":")
        if len(parts) < 7:
            return False
        ctx = CallContext(service="lambda", operation="GetFunctionConfiguration", account_id=parts[4],
                          region=parts[3])
        try:
            self._lambda.get_function_configuration(ctx, FunctionName=arn)
        except ServiceError:
            return False
        return True

    def _invoke_function(self, endpoint: str, arn: str, body: str) -> None:
        """An asynchronous (Event) invoke, as S3 makes: Lambda queues it durably and retries it."""
        if self._lambda is None or self._loop is None:
            raise DeliveryFailed("Lambda is not served by this awsemu")
        parts = arn.split(":")
        ctx = CallContext(service="lambda", operation="Invoke", account_id=parts[4] if len(parts) > 4 else "",
                          region=parts[3] if len(parts) > 3 else "", endpoint=endpoint)
        call = self._lambda.invoke(ctx, FunctionName=arn, InvocationType="Event", Payload=body.encode())
        try:
            asyncio.run_coroutine_threadsafe(call, self._loop).result(timeout=30)
        except ServiceError as err:
            raise DeliveryFailed(f"{err.code}: {err.message}") from None

    def start_notifications(self) -> None:
        self._sqs: Any = None  # set by attach() once every provider is up
        self._lambda: Any = None
        self._loop = None
        self._outbox_stop = threading.Event()
        self._outbox_wake = threading.Event()
        self._outbox_thread = threading.Thread(target=self._deliver_loop, name="s3-notify", daemon=True)
        self._outbox_thread.start()

    def stop_notifications(self) -> None:
        stop = getattr(self, "_outbox_stop", None)
        if stop is not None:
            stop.set()
            self._outbox_wake.set()
            self._outbox_thread.join(timeout=5)

    def _deliver_loop(self) -> None:
        while not self._outbox_stop.is_set():
            self._outbox_wake.wait(1.0)
            self._outbox_wake.clear()
            if self._outbox_stop.is_set():
                return
            try:
                self.deliver_outbox()
            except Exception:
                log.exception("notification delivery failed")

    def deliver_outbox(self) -> int:
        start, end = keys.outbox_range()
        sent = 0
        for key, value in list(self.store.db.scan(start, end)):
            entry = json.loads(value)
            try:
                if "function" in entry:
                    self._invoke_function(entry["endpoint"], entry["function"], entry["body"])
                else:
                    send_to_queue(self._sqs, entry["endpoint"], entry["queue"], entry["body"])
            except DeliveryFailed as err:
                log.warning("dropping S3 event for %s: %s", entry.get("function") or entry.get("queue"), err)
            self.store.db.delete(key)
            sent += 1
        return sent
