"""Bucket replication configuration: PutBucketReplication, GetBucketReplication, DeleteBucketReplication.

Validated as S3 validates it (S3 API reference PutBucketReplication, and the user guide's
"Replication configuration file elements"), then stored in the bucket record under
``replication`` and answered as stored, with the rule IDs S3 generates for rules sent without
one.

What S3 checks, in order:

- the source bucket's versioning is ``Enabled`` (InvalidRequest, with BucketName);
- the ``Role`` is an IAM role ARN (InvalidArgument, ArgumentName Role);
- each rule: Status Enabled/Disabled, a filter of exactly one predicate (filters.py), and the
  schema version it implies: V1 rules (a top-level ``Prefix``) may not carry ``Priority`` or
  ``DeleteMarkerReplication``, V2 rules (a ``Filter``) must carry both, and every rule in one
  configuration uses the same version; IDs at most 255 characters and unique; priorities unique;
  no delete-marker replication with a tag filter;
- each destination: a bucket ARN (InvalidArgument), not the source itself, an existing bucket
  with versioning ``Enabled`` (InvalidRequest); ``AccessControlTranslation`` needs ``Account``;
  ``ReplicationTime`` comes with ``Metrics``, both at 15 minutes.

Replication itself (user guide, "What does Amazon S3 replicate?"): a new object version written
after the configuration (Put, Copy, Post, CompleteMultipartUpload) that an enabled rule selects
(prefix and tags) is copied to each destination bucket of this awsemu, keeping its version ID,
metadata, tags and checksums, with the rule's StorageClass and, with AccessControlTranslation,
the destination account as owner. Delete markers follow when the rule says so
(``DeleteMarkerReplication`` Enabled, or any legacy V1 rule); deleting a version by its ID is
never replicated, nor are replicas replicated again, nor objects older than the configuration.
When several rules send one object to one destination, the highest Priority wins. While a
configuration exists, the source's versioning cannot be suspended (versioning.py).

How: the write path asks for event operations (``_event_ops``) inside the batch that commits the
version; this mixin adds, to that batch, a replication entry ``("s3", "r", seq)`` and a hold on the
body's blob for it (so a delete of the source before delivery cannot free the body). The outbox
deliverer of notifications.py also drains these entries: it commits the replica in the
destination as a version sharing the source's blob (no bytes are copied), marking the entry
with its outcome and dropping the hold in the same batch, so a crash replays an entry at most
into the same version; a second batch settles the source's status and removes the entries
(:meth:`ReplicationMixin.deliver_replicas`). The destination must still exist with versioning
Enabled at delivery, else the replica is dropped.

``x-amz-replication-status`` (user guide, "Getting replication status information"): a source
version an enabled rule selects is ``PENDING`` from its commit (the status is set in the same
batch), then ``COMPLETED`` once every destination holds its replica, or ``FAILED`` when one was
dropped; replicas show ``REPLICA``. Not done: replication events.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.s3 import keys
from awsemu.services.s3.config import _set  # the bucket-record setter every configuration uses
from awsemu.services.s3.errors import InvalidRequest, MalformedXML, S3Error, invalid_argument
from awsemu.services.s3.filters import filter_tags, matches, validate_filter
from awsemu.services.s3.records import BucketRecord, ObjectVersion
from awsemu.services.s3.store import Op, S3Store, blob_owner

log = logging.getLogger("awsemu.s3.replication")

MAX_RULES = 1000
STATUSES = ("Enabled", "Disabled")
VERSIONING_REQUIRED = "Versioning must be 'Enabled' on the bucket to apply a replication configuration"
SCHEMA_HINT = " of Cross Region Replication configuration schema. Please refer to S3 Developer Guide for more information."
_ROLE_ARN = re.compile(r"arn:aws[a-zA-Z-]*:iam::\d{12}:(.+)")
_BUCKET_ARN = re.compile(r"arn:aws[a-zA-Z-]*:s3:::([^/:]+)")


def pending_owner(entry_seq: int) -> str:
    """The blob-store owner that keeps a body alive until its replica is committed."""
    return f"s3repl:{entry_seq}"


def entry_key(entry_seq: int) -> bytes:
    return keys.seek(keys.SERVICE, "r", entry_seq)


def destinations(config: dict[str, Any], rec: ObjectVersion, marker: bool) -> list[dict[str, Any]]:
    """The rules an object version is replicated by: per destination, the highest-priority match."""
    chosen: dict[str, dict[str, Any]] = {}
    for rule in config.get("Rules") or []:
        if rule.get("Status") != "Enabled":
            continue
        if "Filter" in rule:
            if not matches(rule["Filter"], rec.key, {} if marker else rec.tags):
                continue
            if marker and (rule.get("DeleteMarkerReplication") or {}).get("Status") != "Enabled":
                continue
        elif not rec.key.startswith(rule.get("Prefix") or ""):
            continue
        dest = rule["Destination"]["Bucket"].rpartition(":")[2]
        if dest not in chosen or rule.get("Priority", 0) > chosen[dest].get("Priority", 0):
            chosen[dest] = rule
    return list(chosen.values())


def replication_not_found(bucket: str) -> S3Error:
    return S3Error("The replication configuration was not found", code="ReplicationConfigurationNotFoundError",
                   status=404, fields={"BucketName": bucket})


def _status(value: Any) -> None:
    if value not in STATUSES:
        raise MalformedXML()


def _check_schema(rule: dict[str, Any], v2: bool) -> None:
    for member in ("Priority", "DeleteMarkerReplication"):
        if v2 and member not in rule:
            raise InvalidRequest(f"{member} must be specified for this version" + SCHEMA_HINT)
        if not v2 and member in rule:
            raise InvalidRequest(f"{member} cannot be used for this version" + SCHEMA_HINT)


def _check_time_and_metrics(dest: dict[str, Any]) -> None:
    rtc, metrics = dest.get("ReplicationTime"), dest.get("Metrics")
    if metrics is not None:
        _status(metrics.get("Status"))
    if rtc is not None:
        _status(rtc.get("Status"))
        if metrics is None:
            raise InvalidRequest("Replication destination must contain both ReplicationTime and Metrics or neither.")
        if ((rtc.get("Time") or {}).get("Minutes")) != 15:
            raise invalid_argument("Invalid time minute value", "ReplicationTime", None)
    if rtc is not None and rtc.get("Status") == "Enabled":
        minutes = ((metrics or {}).get("EventThreshold") or {}).get("Minutes")
        if minutes is None:
            raise invalid_argument("ReplicationMetrics must contain an event threshold", "ReplicationMetrics", None)
        if minutes != 15:
            raise invalid_argument("Invalid event threshold minute value", "ReplicationMetrics", None)
    elif metrics is not None and metrics.get("EventThreshold") is not None:
        raise invalid_argument("Metrics cannot contain an event threshold when ReplicationTime is not specified "
                               "or Disabled", "Metrics", None)


class _Stale(Exception):
    """The destination already has a newer current version of the key."""


class ReplicationMixin:
    """Comes before NotificationsMixin among the provider's bases: it extends ``_event_ops`` and
    ``deliver_outbox`` and calls theirs."""

    store: S3Store
    _bucket: Callable[[str], BucketRecord]
    _update: Callable[[str, Callable[[BucketRecord], None]], BucketRecord]
    _outbox_wake: Any

    def put_bucket_replication(self, ctx: CallContext, Bucket: str, ReplicationConfiguration: dict[str, Any],
                               **p: Any) -> dict[str, Any]:
        source = self._bucket(Bucket)
        if source.versioning != "Enabled":
            raise InvalidRequest(VERSIONING_REQUIRED, fields={"BucketName": Bucket})
        config = ReplicationConfiguration
        rules = config.get("Rules") or []
        role = config.get("Role")
        if not role or not rules or len(rules) > MAX_RULES:
            raise MalformedXML()
        match = _ROLE_ARN.fullmatch(role)
        if match is None:
            raise invalid_argument("Invalid Role specified in replication configuration", "Role", role)
        if not match.group(1).startswith("role/") or match.group(1) == "role/":
            raise invalid_argument("The relative id should start with role", "Role", role)
        v2 = all("Filter" in rule for rule in rules)
        ids: set[str] = set()
        priorities: set[int] = set()
        stored = []
        for rule in rules:
            rule = self._check_rule(rule, Bucket, v2)
            if rule["ID"] in ids:
                raise invalid_argument("Rule Id must be unique", "ID", rule["ID"])
            ids.add(rule["ID"])
            if "Priority" in rule:
                if rule["Priority"] in priorities:
                    raise InvalidRequest(f"Found duplicate priority {rule['Priority']}.")
                priorities.add(rule["Priority"])
            stored.append(rule)
        self._update(Bucket, _set("replication", {"Role": role, "Rules": stored}))
        return {}

    def _check_rule(self, rule: dict[str, Any], source: str, v2: bool) -> dict[str, Any]:
        """One rule as stored (with an ID), or S3's error for it."""
        _status(rule.get("Status"))
        dest = rule.get("Destination") or {}
        if not dest.get("Bucket"):
            raise MalformedXML()
        if "Filter" in rule:
            if "Prefix" in rule:
                raise MalformedXML()
            validate_filter(rule["Filter"])
        elif "Prefix" not in rule:
            raise MalformedXML()
        _check_schema(rule, v2)
        if len(rule.get("ID") or "") > 255:
            raise invalid_argument("Rule Id cannot be greater than 255", "ID", rule["ID"])
        if "Priority" in rule and rule["Priority"] < 0:
            raise InvalidRequest("Priority must be between 0 and 2147483647.")
        marker = rule.get("DeleteMarkerReplication")
        if marker is not None:
            _status(marker.get("Status"))
            if marker["Status"] == "Enabled" and filter_tags(rule.get("Filter")):
                raise InvalidRequest("Delete marker replication is not supported if any Tag filter is specified. "
                                     "Please refer to S3 Developer Guide for more information.")
        criteria = rule.get("SourceSelectionCriteria")
        if criteria is not None:
            if not criteria:
                raise InvalidRequest("SourceSelectionCriteria cannot be empty.")
            for selector in criteria.values():
                _status(selector.get("Status"))
        existing = rule.get("ExistingObjectReplication")
        if existing is not None:
            _status(existing.get("Status"))
        self._check_destination(dest, source, criteria)
        return rule if rule.get("ID") else {"ID": str(uuid.uuid4()), **rule}

    def _check_destination(self, dest: dict[str, Any], source: str, criteria: dict[str, Any] | None) -> None:
        arn = _BUCKET_ARN.fullmatch(dest["Bucket"])
        if arn is None:
            raise invalid_argument("Invalid bucket ARN", "Bucket", dest["Bucket"])
        name = arn.group(1)
        if name == source:
            raise InvalidRequest("Destination bucket cannot be the same as the source bucket.")
        translation = dest.get("AccessControlTranslation")
        if translation is not None:
            if translation.get("Owner") != "Destination":
                raise MalformedXML()
            if not dest.get("Account"):
                raise InvalidRequest("Account must be specified if the Owner in AccessControlTranslation has a value")
        kms_selected = bool((criteria or {}).get("SseKmsEncryptedObjects"))
        encryption = dest.get("EncryptionConfiguration")
        if encryption is not None and not kms_selected:
            raise InvalidRequest("SseKmsEncryptedObjects must be specified if EncryptionConfiguration is present.")
        if kms_selected and not (encryption or {}).get("ReplicaKmsKeyID"):
            raise InvalidRequest("ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.")
        _check_time_and_metrics(dest)
        target = self.store.bucket(name)
        if target is None:
            raise InvalidRequest("Destination bucket must exist.")
        if target.versioning != "Enabled":
            raise InvalidRequest("Destination bucket must have versioning enabled.")

    def get_bucket_replication(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        config = self._bucket(Bucket).config.get("replication")
        if not config:
            raise replication_not_found(Bucket)
        return {"ReplicationConfiguration": config}

    def delete_bucket_replication(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        self._update(Bucket, _set("replication", None))
        return {}

    # --- replication of new versions -----------------------------------------------------------

    def _event_ops(self, ctx: CallContext, bucket: BucketRecord, name: str | None, rec: ObjectVersion) -> list[Any]:
        ops: list[Any] = super()._event_ops(ctx, bucket, name, rec)  # type: ignore[misc]
        config = bucket.config.get("replication")
        if config and name:
            ops += self._replication_ops(bucket.name, name, rec, config)
        return ops

    def _replication_ops(self, bucket: str, name: str, rec: ObjectVersion, config: dict[str, Any]) -> list[Op]:
        marker = name == "ObjectRemoved:DeleteMarkerCreated"
        if not (marker or name.startswith("ObjectCreated:")):
            return []
        ops: list[Op] = []
        for rule in destinations(config, rec, marker):
            dest = rule["Destination"]
            seq = self.store.seq.next()
            entry = {"src": bucket, "key": rec.key, "seq": rec.seq, "dest": dest["Bucket"].rpartition(":")[2],
                     "storage_class": dest.get("StorageClass"),
                     "owner": dest.get("Account") if dest.get("AccessControlTranslation") else None,
                     "blob": rec.blob_id}
            ops.append((entry_key(seq), json.dumps(entry).encode()))
            if rec.blob_id:
                ops += self.store.blobs.ref_ops(rec.blob_id, pending_owner(seq))
        if ops:
            if not marker:
                rec.replication_status = "PENDING"  # the batch encodes rec after this (store.py)
            self._outbox_wake.set()
        return ops

    def deliver_outbox(self) -> int:
        delivered: int = super().deliver_outbox()  # type: ignore[misc]
        return delivered + self.deliver_replicas()

    def replication_reset_ops(self) -> list[Op]:
        """Ops dropping every pending replica with the hold it keeps on its body (provider reset)."""
        ops: list[Op] = []
        for key, value in self.store.db.scan(*keys.kind_range("r")):
            ops.append((key, None))
            blob = json.loads(value).get("blob")
            if blob:
                ops += self.store.blobs.unref_ops(blob, pending_owner(int(keys.parse(key)[2])))
        return ops

    def deliver_replicas(self) -> int:
        """Commit every pending replica, then settle the sources' replication status; returns how
        many entries were handled.

        Two steps, each one batch, so a crash anywhere replays into the same state: (1) the
        replica is committed in its destination and its entry marked with the outcome (the hold
        on the body goes: the replica references it now); (2) once every entry of one source
        version has an outcome, the source's status becomes COMPLETED (FAILED if any replica
        was dropped) and the entries go, in one batch. Step 2 takes the source's key lock
        alone, never inside a destination's (the lock stripes could be the same lock).
        """
        start, end = keys.kind_range("r")
        handled = 0
        sources: dict[tuple[str, str, int], list[tuple[bytes, str]]] = {}
        for key, value in list(self.store.db.scan(start, end)):
            entry = json.loads(value)
            if "outcome" not in entry:
                entry["outcome"] = self._deliver_replica(key, entry)
                handled += 1
            sources.setdefault((entry["src"], entry["key"], entry["seq"]), []).append((key, entry["outcome"]))
        for (src, obj_key, seq), outcomes in sources.items():
            self._settle_source(src, obj_key, seq, outcomes)
        return handled

    def _deliver_replica(self, key: bytes, entry: dict[str, Any]) -> str:
        """Step 1 for one entry; returns its outcome (COMPLETED or FAILED)."""
        entry_seq = int(keys.parse(key)[2])
        raw = self.store.db.get(keys.version(entry["src"], entry["key"], entry["seq"]))
        source = ObjectVersion.decode(raw) if raw is not None else None
        target = self.store.bucket(entry["dest"])
        outcome = "COMPLETED"
        if source is None or target is None or target.versioning != "Enabled":
            log.warning("dropping replication of %s/%s to %s", entry["src"], entry["key"], entry["dest"])
            outcome = "FAILED"
        done: list[Op] = [(key, json.dumps({**entry, "outcome": outcome, "blob": None}).encode())]
        if entry.get("blob"):
            done += self.store.blobs.unref_ops(entry["blob"], pending_owner(entry_seq))
        if source is None or outcome == "FAILED":
            self.store.db.write_batch(done)
        else:
            self._commit_replica(entry, source, done)
        return outcome

    def _settle_source(self, bucket: str, key: str, seq: int, outcomes: list[tuple[bytes, str]]) -> None:
        """Step 2: the source version's final status, and its entries removed (every entry of a
        version was written by the batch that committed the version, so ``outcomes`` is all of them)."""
        status = "FAILED" if any(outcome == "FAILED" for _, outcome in outcomes) else "COMPLETED"
        drop: list[Op] = [(entry, None) for entry, _ in outcomes]

        def settle(rec: ObjectVersion) -> list[Op]:
            if rec.replication_status == "PENDING":
                rec.replication_status = status
            return drop

        if self.store.update_version(bucket, key, seq, settle) is None:
            self.store.db.write_batch(drop)  # the source version is gone

    def _commit_replica(self, entry: dict[str, Any], replica: ObjectVersion, done: list[Op]) -> None:
        replica.replication_status = "REPLICA"
        # a restored copy is the source's own state, not replicated with the object
        replica.restore_requested = replica.restore_done = replica.restore_expiry = None
        if entry.get("storage_class"):
            replica.storage_class = entry["storage_class"]
        if entry.get("owner"):
            replica.owner = entry["owner"]

        def newer_first(cur: ObjectVersion | None) -> None:
            if cur is not None and cur.seq > replica.seq:
                raise _Stale()

        dest = entry["dest"]
        try:
            self.store.commit_version(dest, replica, check=newer_first, extra_ops=lambda cur: done)
        except _Stale:
            # an older version arriving late: kept as a noncurrent version (a late "null" one
            # would replace the newer null version's place, so it is dropped)
            if replica.version_id == "null":
                self.store.db.write_batch(done)
                return
            ops: list[Op] = [(keys.version(dest, replica.key, replica.seq), replica.encode())] + done
            if replica.blob_id:
                ops += self.store.blobs.ref_ops(replica.blob_id, blob_owner(dest, replica.key, replica.seq))
            with self.store.key_lock(dest, replica.key):
                self.store.db.write_batch(ops)
