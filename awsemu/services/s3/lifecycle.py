"""Lifecycle configuration, the ``x-amz-expiration`` header, and the sweeper that applies it.

Rules are stored as given (``LifecycleConfiguration.Rules``). The sweeper (a daemon thread,
every ``AWSEMU_S3_LIFECYCLE_INTERVAL`` seconds, default 60) walks, for each bucket with rules,
the version range of each enabled rule's prefix, key by key (the first version of a key is its
current one), and applies:

- ``Expiration`` (Days or Date) to current versions: removal when unversioned, a delete marker
  when versioned; ``ExpiredObjectDeleteMarker`` removes a lone current delete marker;
- ``NoncurrentVersionExpiration`` (NoncurrentDays, NewerNoncurrentVersions) to older versions,
  counting from when the next version replaced them;
- ``AbortIncompleteMultipartUpload`` (DaysAfterInitiation) to uploads under the prefix.

S3 counts days from object creation rounded up to the next midnight UTC; a "day" can be
shortened with ``AWSEMU_S3_LIFECYCLE_DAY_SECONDS`` (tests), then no rounding applies.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from datetime import datetime, timezone
from email.utils import formatdate
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.s3 import keys
from awsemu.services.s3.errors import MalformedXML, NoSuchLifecycleConfiguration, invalid_argument
from awsemu.services.s3.records import BucketRecord, ObjectVersion, UploadRecord
from awsemu.services.s3.store import S3Store

log = logging.getLogger("awsemu.s3.lifecycle")
DAY = 86400.0


def day_seconds() -> float:
    return float(os.environ.get("AWSEMU_S3_LIFECYCLE_DAY_SECONDS", DAY))


def _after_days(start: float, days: int) -> float:
    length = day_seconds()
    if length == DAY:
        return math.ceil((start + days * DAY) / DAY) * DAY  # next midnight UTC
    return start + days * length


def _prefix(rule: dict[str, Any]) -> str:
    flt = rule.get("Filter") or {}
    return rule.get("Prefix") or flt.get("Prefix") or (flt.get("And") or {}).get("Prefix") or ""


def rule_matches(rule: dict[str, Any], rec: ObjectVersion) -> bool:
    if rule.get("Status") != "Enabled" or not rec.key.startswith(_prefix(rule)):
        return False
    flt = rule.get("Filter") or {}
    cond = flt.get("And") or flt
    tags = list(cond.get("Tags") or []) + ([flt["Tag"]] if flt.get("Tag") else [])
    for tag in tags:
        if rec.tags.get(tag.get("Key")) != tag.get("Value"):
            return False
    if cond.get("ObjectSizeGreaterThan") is not None and not rec.size > cond["ObjectSizeGreaterThan"]:
        return False
    if cond.get("ObjectSizeLessThan") is not None and not rec.size < cond["ObjectSizeLessThan"]:
        return False
    return True


def expiry_of(rule: dict[str, Any], rec: ObjectVersion) -> float | None:
    expiration = rule.get("Expiration") or {}
    if expiration.get("Days") is not None:
        return _after_days(rec.last_modified, int(expiration["Days"]))
    if expiration.get("Date") is not None:
        date = expiration["Date"]
        if isinstance(date, str):
            date = datetime.fromisoformat(date.replace("Z", "+00:00"))
        if date.tzinfo is None:
            date = date.replace(tzinfo=timezone.utc)
        return date.timestamp()
    return None


def validate_rules(rules: list[dict[str, Any]]) -> None:
    if not rules or len(rules) > 1000:
        raise MalformedXML()
    ids = set()
    for rule in rules:
        if rule.get("Status") not in ("Enabled", "Disabled"):
            raise MalformedXML()
        rid = rule.get("ID")
        if rid is not None:
            if len(rid) > 255:
                raise invalid_argument("ID length should not exceed allowed limit of 255", "ID", rid)
            if rid in ids:
                raise invalid_argument("Rule ID must be unique. Found same ID for more than one rule", "ID", rid)
            ids.add(rid)
        if "Filter" not in rule and "Prefix" not in rule:
            raise MalformedXML()
        actions = ("Expiration", "Transitions", "NoncurrentVersionExpiration", "NoncurrentVersionTransitions",
                   "AbortIncompleteMultipartUpload")
        if not any(rule.get(a) for a in actions):
            raise invalid_argument("At least one action needs to be specified in a rule", "Action", None)
        exp = rule.get("Expiration") or {}
        if exp.get("Days") is not None and exp["Days"] <= 0:
            raise invalid_argument("'Days' for Expiration action must be a positive integer", "Days", exp["Days"])
        nc = rule.get("NoncurrentVersionExpiration") or {}
        if nc.get("NoncurrentDays") is not None and nc["NoncurrentDays"] <= 0:
            raise invalid_argument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
                                   "NoncurrentDays", nc["NoncurrentDays"])


class LifecycleMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]
    _delete_one: Callable[..., dict[str, Any]]
    abort_ops: Callable[..., list[Any]]

    def put_bucket_lifecycle_configuration(self, ctx: CallContext, Bucket: str,
                                           LifecycleConfiguration: dict[str, Any] | None = None, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        rules = (LifecycleConfiguration or {}).get("Rules") or []
        validate_rules(rules)
        size = p.get("TransitionDefaultMinimumObjectSize") or "all_storage_classes_128K"

        def change(rec: BucketRecord) -> None:
            rec.config["lifecycle"] = {"Rules": rules, "TransitionDefaultMinimumObjectSize": size}

        self.store.update_bucket(Bucket, change)
        return {"TransitionDefaultMinimumObjectSize": size}

    def get_bucket_lifecycle_configuration(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        config = self._bucket(Bucket).config.get("lifecycle")
        if not config:
            raise NoSuchLifecycleConfiguration(fields={"BucketName": Bucket})
        return dict(config)

    def delete_bucket_lifecycle(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        self.store.update_bucket(Bucket, lambda rec: rec.config.pop("lifecycle", None))
        return {}

    def _expiration_header(self, bucket: BucketRecord, rec: ObjectVersion) -> str | None:
        config = bucket.config.get("lifecycle")
        if not config:
            return None
        best: tuple[float, str] | None = None
        for rule in config.get("Rules") or []:
            if rule_matches(rule, rec):
                when = expiry_of(rule, rec)
                if when is not None and (best is None or when < best[0]):
                    best = (when, rule.get("ID") or "")
        if best is None:
            return None
        return f'expiry-date="{formatdate(best[0], usegmt=True)}", rule-id="{best[1]}"'

    # --- the sweeper ---------------------------------------------------------------------------

    def start_lifecycle(self) -> None:
        interval = float(os.environ.get("AWSEMU_S3_LIFECYCLE_INTERVAL", "60"))
        self._lifecycle_stop = threading.Event()

        def loop() -> None:
            while not self._lifecycle_stop.wait(interval):
                try:
                    self.sweep_lifecycle()
                except Exception:  # a bad rule must not kill the sweeper
                    log.exception("lifecycle sweep failed")

        self._lifecycle_thread = threading.Thread(target=loop, name="s3-lifecycle", daemon=True)
        self._lifecycle_thread.start()

    def stop_lifecycle(self) -> None:
        stop = getattr(self, "_lifecycle_stop", None)
        if stop is not None:
            stop.set()
            self._lifecycle_thread.join(timeout=5)

    def sweep_lifecycle(self, now: float | None = None) -> int:
        """Apply every bucket's lifecycle rules once; returns the number of actions taken."""
        now = time.time() if now is None else now
        done = 0
        for bucket in list(self.store.all_buckets()):
            config = bucket.config.get("lifecycle")
            if not config:
                continue
            ctx = CallContext(service="s3", operation="Lifecycle", account_id=bucket.owner, region=bucket.region)
            for rule in config.get("Rules") or []:
                if rule.get("Status") == "Enabled":
                    done += self._sweep_rule(ctx, bucket, rule, now)
        return done

    def _sweep_rule(self, ctx: CallContext, bucket: BucketRecord, rule: dict[str, Any], now: float) -> int:
        prefix = _prefix(rule)
        done = 0
        start = keys.seek(keys.SERVICE, "v", bucket.name, prefix)
        _, end = keys.versions_range(bucket.name)
        nc = rule.get("NoncurrentVersionExpiration") or {}
        expired_markers = (rule.get("Expiration") or {}).get("ExpiredObjectDeleteMarker")
        group: list[ObjectVersion] = []

        def flush() -> int:
            if not group:
                return 0
            acted = 0
            current = group[0]
            if current.delete_marker:
                if expired_markers and len(group) == 1:
                    self._delete_one(ctx, bucket, current.key, current.version_id, lifecycle=True)
                    acted += 1
            elif rule_matches(rule, current):
                when = expiry_of(rule, current)
                if when is not None and when <= now:
                    self._delete_one(ctx, bucket, current.key, None, lifecycle=True)
                    acted += 1
            if nc:
                keep = nc.get("NewerNoncurrentVersions") or 0
                for i, old in enumerate(group[1:]):
                    became_noncurrent = group[i].last_modified
                    due = nc.get("NoncurrentDays") is None or _after_days(became_noncurrent, int(nc["NoncurrentDays"])) <= now
                    if i >= keep and due and (old.delete_marker or rule_matches(rule, old)):
                        self._delete_one(ctx, bucket, old.key, old.version_id, lifecycle=True)
                        acted += 1
            return acted

        for raw_key, raw in self.store.db.scan(start, end):
            key = str(keys.parse(raw_key)[3])
            if not key.startswith(prefix):
                break
            rec = ObjectVersion.decode(raw)
            if group and group[0].key != key:
                done += flush()
                group = []
            group.append(rec)
        done += flush()
        abort = rule.get("AbortIncompleteMultipartUpload") or {}
        if abort.get("DaysAfterInitiation") is not None:
            ustart = keys.seek(keys.SERVICE, "u", bucket.name, prefix)
            _, uend = keys.uploads_range(bucket.name)
            for _, raw in list(self.store.db.scan(ustart, uend)):
                up = UploadRecord.decode(raw)
                if not up.key.startswith(prefix):
                    break
                if _after_days(up.initiated, int(abort["DaysAfterInitiation"])) <= now:
                    with self.store.upload_lock(up.upload_id):
                        if self.store.upload(bucket.name, up.key, up.upload_id) is not None:
                            self.store.db.write_batch(self.abort_ops(bucket.name, up.key, up.upload_id))
                            done += 1
        return done
