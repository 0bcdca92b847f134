"""Archived storage classes and RestoreObject: GLACIER and DEEP_ARCHIVE bodies are not readable
until a temporary copy is restored.

What S3 does (API reference RestoreObject, GetObject, HeadObject; user guide "Working with
archived objects" and "Restoring an archived object"):

- GetObject of a GLACIER or DEEP_ARCHIVE version that is not restored answers 403
  ``InvalidObjectState`` with the ``StorageClass`` member; CopyObject and UploadPartCopy refuse
  such a source the same way. HeadObject works and shows ``x-amz-storage-class``. GLACIER_IR
  and the other classes read normally.
- RestoreObject (``POST /key?restore``): the first request answers 202 Accepted; a repeat while
  the restore runs 409 ``RestoreAlreadyInProgress``; on a restored copy, a new ``Days`` moves its
  expiry (relative to now) and answers 200; an object in another storage class is refused with
  403 ``InvalidObjectState``, an INTELLIGENT_TIERING one (awsemu never moves objects into the
  archive access tiers) with 403 ``ObjectAlreadyInActiveTierError``, or 400 ``InvalidArgument``
  when the request names ``Days`` (such restores take none).
- While the restore runs, HEAD and GET show ``x-amz-restore: ongoing-request="true"``; once done,
  ``ongoing-request="false", expiry-date="<RFC 1123 date>"`` and GET works until that date; the
  expiry is ``Days`` added to the time, rounded up to the next midnight UTC. The user guide
  counts from the request; awsemu counts from the completion, the same instant with the default
  restore time of 0 (with a longer one, a short ``Days`` could otherwise end before the copy
  exists). After it the copy is gone and the object is archived again (no header).
- Listings asked for ``OptionalObjectAttributes=RestoreStatus`` show ``RestoreStatus`` of the
  versions that have a restore state.

How: lazily, by timestamps. The version record keeps when the restore was asked, when its copy
is ready and when that copy expires (``restore_requested``/``restore_done``/``restore_expiry``);
every read compares them with the clock, so a restart changes nothing and no sweep is needed to
make a copy appear or vanish. How long a restore takes is the ``s3_restore_seconds`` setting
(0: at once; the first answer is still 202), the length of a restore "day" ``s3_restore_day_seconds``
(86400; any other value is used as is, without rounding to midnight, for tests).

Events (``s3:ObjectRestore:Post``/``Completed``/``Delete``): Post joins the batch that records the
request; Completed and Delete are due later, so the request also writes schedule entries
``("s3", "x", due ns, seq)``. The notification deliverer drains entries that are due (it wakes
at least once a second): an entry still matching its version's restore times becomes outbox
events in the batch that removes it; a stale one (restore extended, version gone) is dropped.
"""

from __future__ import annotations

import json
import math
import time
from email.utils import formatdate
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.s3 import keys
from awsemu.services.s3.errors import InvalidArgument, InvalidObjectState, MalformedXML, S3Error, invalid_argument
from awsemu.services.s3.records import BucketRecord, ObjectVersion
from awsemu.services.s3.store import Op, S3Store

ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})
TIERS = frozenset({"Standard", "Bulk", "Expedited"})
DAY = 86400.0

RestoreAlreadyInProgress = type("RestoreAlreadyInProgress", (S3Error,), {
    "code": "RestoreAlreadyInProgress", "status": 409, "default_message": "Object restore is already in progress",
    "sender_fault": True})
ObjectAlreadyInActiveTierError = type("ObjectAlreadyInActiveTierError", (S3Error,), {
    "code": "ObjectAlreadyInActiveTierError", "status": 403,
    "default_message": "This operation is not allowed against this storage tier.", "sender_fault": True})

RESTORE_NOT_ALLOWED = "Restore is not allowed for the object's current storage class"
COPY_NOT_ALLOWED = "Operation is not valid for the source object's storage class"
INTELLIGENT_TIERING_DAYS = ("INTELLIGENT_TIERING objects are not subject to restore expiry. "
                            "Do not specify Days when restoring this object")


# --- the restore state of a version, at a given time ----------------------------------------------

def restore_phase(rec: ObjectVersion, now: float) -> str:
    """``"none"`` (never restored, or the copy expired), ``"ongoing"`` or ``"restored"``."""
    if rec.restore_requested is None or rec.restore_done is None or rec.restore_expiry is None:
        return "none"
    if now < rec.restore_done:
        return "ongoing"
    if now < rec.restore_expiry:
        return "restored"
    return "none"


def is_readable(rec: ObjectVersion, now: float | None = None) -> bool:
    if rec.storage_class not in ARCHIVED:
        return True
    return restore_phase(rec, time.time() if now is None else now) == "restored"


def check_readable(rec: ObjectVersion) -> None:
    """GetObject's refusal of an archived version that has no restored copy."""
    if not is_readable(rec):
        raise InvalidObjectState(fields={"StorageClass": rec.storage_class})


def check_copy_source(rec: ObjectVersion) -> None:
    """CopyObject's and UploadPartCopy's refusal of an archived source without a restored copy."""
    if not is_readable(rec):
        raise InvalidObjectState(COPY_NOT_ALLOWED)


def restore_header(rec: ObjectVersion, now: float | None = None) -> str | None:
    """The ``x-amz-restore`` value of a version, None when it has no restore state."""
    phase = restore_phase(rec, time.time() if now is None else now)
    if phase == "ongoing":
        return 'ongoing-request="true"'
    if phase == "restored":
        return f'ongoing-request="false", expiry-date="{formatdate(int(rec.restore_expiry or 0), usegmt=True)}"'
    return None


def restore_status(rec: ObjectVersion, now: float | None = None) -> dict[str, Any] | None:
    """The ``RestoreStatus`` of a listing entry (OptionalObjectAttributes), None when none."""
    from awsemu.services.s3.object_attrs import http_date

    phase = restore_phase(rec, time.time() if now is None else now)
    if phase == "ongoing":
        return {"IsRestoreInProgress": True}
    if phase == "restored":
        return {"IsRestoreInProgress": False, "RestoreExpiryDate": http_date(rec.restore_expiry or 0)}
    return None


def wants_restore_status(p: dict[str, Any]) -> bool:
    return "RestoreStatus" in (p.get("OptionalObjectAttributes") or ())


# --- timing --------------------------------------------------------------------------------------

def expiry_after(start: float, days: int, day_seconds: float) -> float:
    """``days`` after ``start``, rounded up to the next midnight UTC (S3's rule for restored copies)."""
    if day_seconds != DAY:
        return start + days * day_seconds
    return math.floor((start + days * DAY) / DAY + 1) * DAY


def schedule_key(due: float, seq: int) -> bytes:
    return keys.seek(keys.SERVICE, "x", int(due * 1e9), seq)


def _parse_request(request: dict[str, Any] | None) -> int:
    """The ``Days`` of a RestoreRequest, validated."""
    if not request:
        raise MalformedXML()
    if request.get("Type") == "SELECT" or request.get("SelectParameters") or request.get("OutputLocation"):
        # S3 Select restores (closed to new customers): not emulated
        raise S3Error("A header you provided implies functionality that is not implemented",
                      code="NotImplemented", status=501)
    tier = request.get("Tier") or (request.get("GlacierJobParameters") or {}).get("Tier")
    if tier is not None and tier not in TIERS:
        raise MalformedXML()
    days = request.get("Days")
    if days is None:
        raise MalformedXML()
    if int(days) < 1:
        raise invalid_argument("Days must be a positive integer", "Days", days)
    return int(days)


class ArchiveMixin:
    """Comes before NotificationsMixin among the provider's bases: it extends ``deliver_outbox``."""

    store: S3Store
    config: Any
    _bucket: Callable[[str], BucketRecord]
    _resolve: Callable[..., ObjectVersion]
    _event_ops: Callable[..., list[Any]]
    _outbox_wake: Any

    def restore_object(self, ctx: CallContext, Bucket: str, Key: str, RestoreRequest: dict[str, Any] | None = None,
                       **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        found = self._resolve(bucket, Key, p.get("VersionId"))
        if found.storage_class == "INTELLIGENT_TIERING":
            # awsemu keeps such objects in the frequent access tier: nothing to restore
            if (RestoreRequest or {}).get("Days") is not None:
                raise InvalidArgument(INTELLIGENT_TIERING_DAYS)
            raise ObjectAlreadyInActiveTierError()
        if found.storage_class not in ARCHIVED:
            raise InvalidObjectState(RESTORE_NOT_ALLOWED)
        days = _parse_request(RestoreRequest)
        restore_seconds = self.config.s3_restore_seconds
        day_seconds = self.config.s3_restore_day_seconds
        started: list[bool] = []

        def change(rec: ObjectVersion) -> list[Op]:
            now = time.time()
            phase = restore_phase(rec, now)
            if phase == "ongoing":
                raise RestoreAlreadyInProgress()
            ops: list[Op] = []
            if phase == "restored":
                # a new period, counted from now (user guide: "relative to the current time")
                rec.restore_expiry = expiry_after(now, days, day_seconds)
            else:
                rec.restore_requested = now
                rec.restore_done = now + restore_seconds
                rec.restore_expiry = expiry_after(rec.restore_done, days, day_seconds)
                ops += self._event_ops(ctx, bucket, "ObjectRestore:Post", rec)
                ops += self._schedule_op(ctx, bucket.name, rec, "ObjectRestore:Completed", rec.restore_done)
                started.append(True)
            ops += self._schedule_op(ctx, bucket.name, rec, "ObjectRestore:Delete", rec.restore_expiry)
            return ops

        stored = self.store.update_version(bucket.name, Key, found.seq, change)
        if stored is None:  # removed between the lookup and the lock
            from awsemu.services.s3.errors import no_such_key

            raise no_such_key(Key)
        if started and stored.restore_done is not None and stored.restore_done <= time.time():
            self._outbox_wake.set()  # a Completed event is due at once
        return {"StatusCode": 202} if started else {}

    def _schedule_op(self, ctx: CallContext, bucket: str, rec: ObjectVersion, event: str, due: float) -> list[Op]:
        entry = {"bucket": bucket, "key": rec.key, "seq": rec.seq, "event": event, "due": due,
                 "account": ctx.account_id, "region": ctx.region, "endpoint": ctx.endpoint,
                 "source_ip": ctx.source_ip, "request_id": ctx.request_id}
        return [(schedule_key(due, self.store.seq.next()), json.dumps(entry).encode())]

    # --- scheduled events (run by the notification deliverer) -----------------------------------

    def deliver_outbox(self) -> int:
        delivered: int = super().deliver_outbox()  # type: ignore[misc]
        return delivered + self.deliver_restore_events()

    def deliver_restore_events(self, now: float | None = None) -> int:
        """Turn the restore events that are due into outbox entries; returns how many were handled."""
        start, _ = keys.kind_range("x")
        end = keys.seek(keys.SERVICE, "x", int((time.time() if now is None else now) * 1e9) + 1)
        handled = 0
        for key, value in list(self.store.db.scan(start, end)):
            entry = json.loads(value)
            ops: list[Op] = [(key, None)]
            bucket = self.store.bucket(entry["bucket"])
            raw = self.store.db.get(keys.version(entry["bucket"], entry["key"], entry["seq"]))
            if bucket is not None and raw is not None:
                rec = ObjectVersion.decode(raw)
                field = rec.restore_done if entry["event"] == "ObjectRestore:Completed" else rec.restore_expiry
                if field == entry["due"]:
                    ctx = CallContext(service="s3", operation="RestoreObject", account_id=entry["account"],
                                      region=entry["region"], endpoint=entry["endpoint"],
                                      source_ip=entry["source_ip"], request_id=entry["request_id"])
                    ops += self._event_ops(ctx, bucket, entry["event"], rec)
            self.store.db.write_batch(ops)
            handled += 1
        return handled
