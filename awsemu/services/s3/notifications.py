"""Event notifications: configuration, the event records, and delivery to SQS through an outbox.

An object change that matches a queue configuration (event name, prefix/suffix filter) adds an
outbox entry ``("s3", "q", seq)`` to the very batch that commits the change, so an event exists
if and only if the change does, across crashes. A deliverer thread sends outbox entries to their
queues and deletes them once SQS accepted them (at-least-once, like S3).

Delivery goes through SQS's public API on this server (``AmazonSQS.SendMessage`` over HTTP to the
endpoint the triggering request came in on): the SQS provider keeps its own caches and long-poll
waiters, which writing its keys directly would bypass. The event JSON is AWS's
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import quote_plus

from awsemu.services.base import CallContext
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
    if name.startswith("ObjectCreated"):
        obj["size"] = rec.size
        obj["eTag"] = rec.etag
    if bucket.versioning and rec.version_id != "null":
        obj["versionId"] = rec.version_id
    obj["sequencer"] = f"{sequencer:016X}"
    principal = f"AWS:{ctx.account_id}"
    return {
        "eventVersion": "2.1",
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


def send_to_queue(endpoint: str, queue_arn: str, body: str) -> None:
    """SendMessage to the queue named by ``queue_arn`` through SQS's JSON API on ``endpoint``."""
    _, _, _, region, account, name = queue_arn.split(":", 5)
    url = f"{endpoint}/{account}/{name}"
    payload = json.dumps({"QueueUrl": url, "MessageBody": body}).encode()
    request = urllib.request.Request(
        endpoint + "/",
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.SendMessage",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={account}/20260101/{region}/sqs/aws4_request, "
                             "SignedHeaders=host, Signature=0",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


class NotificationsMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]

    def put_bucket_notification_configuration(self, ctx: CallContext, Bucket: str,
                                              NotificationConfiguration: dict[str, Any] | None = None,
                                              **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        self._live_endpoint = ctx.endpoint
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
                send_to_queue(ctx.endpoint, entry["QueueArn"], body)
            except (urllib.error.URLError, ValueError, OSError):
                failed.append(entry["QueueArn"])
        if failed:
            raise invalid_argument("Unable to validate the following destination configurations", failed[0],
                                   "Permissions on the destination queue do not allow S3 to publish notifications from this bucket")

    def _event_ops(self, ctx: CallContext, bucket: BucketRecord, name: str | None, rec: ObjectVersion) -> list[Any]:
        """Outbox entries for an object event, to add to the batch that commits the change."""
        if ctx.operation != "Lifecycle":
            self._live_endpoint = ctx.endpoint
        config = bucket.config.get("notification") if name else None
        if not config:
            return []
        ops = []
        when = time.time()
        for entry in config.get("QueueConfigurations") or []:
            if event_matches(entry["Events"], name or "") and filter_matches(entry, rec.key):
                # the sequencer orders events of a key: a fresh sequence number, later than any before
                seq = self.store.seq.next()
                record = event_record(ctx, bucket, name or "", rec, entry["Id"], when, seq)
                value = json.dumps({"endpoint": self._live_endpoint or ctx.endpoint, "queue": entry["QueueArn"],
                                    "body": json.dumps({"Records": [record]})})
                ops.append((keys.outbox(seq), value.encode()))
        if ops:
            self._outbox_wake.set()
        return ops

    # --- the deliverer -------------------------------------------------------------------------

    def start_notifications(self) -> None:
        # how this server reaches itself: the endpoint of the latest S3 request (the listening port
        # may change across restarts, so stored entries defer to it once a request has been seen)
        self._live_endpoint: str | None = None
        self._outbox_stop = threading.Event()
        self._outbox_wake = threading.Event()
        self._outbox_wake.set()  # deliver what a previous run left
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
                send_to_queue(self._live_endpoint or entry["endpoint"], entry["queue"], entry["body"])
            except urllib.error.HTTPError as err:
                log.warning("dropping S3 event for %s: SQS answered %s", entry["queue"], err.code)
            except (urllib.error.URLError, OSError):
                return sent  # server not reachable (stopping?): retry on the next round
            self.store.db.delete(key)
            sent += 1
        return sent
