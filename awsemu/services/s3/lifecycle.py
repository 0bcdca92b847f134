"""Lifecycle configuration, the ``x-amz-expiration`` header, and the sweeper that applies it.

Rules are stored as given (``LifecycleConfiguration.Rules``, dates as epoch seconds); validation,
filters and due times are lifecycle_rules.py. The sweeper (a daemon thread, every ``AWSEMU_S3_LIFECYCLE_INTERVAL``
seconds, default 60) walks, for each bucket with rules, the version range of each enabled rule's
prefix, key by key (the first version of a key is its current one), and applies:

- ``Expiration`` (Days or Date) to current versions: removal when unversioned, a delete marker
  when versioned; ``ExpiredObjectDeleteMarker`` removes a lone current delete marker;
- ``Transitions`` (Days or Date) to current versions and ``NoncurrentVersionTransitions``
  (NoncurrentDays, NewerNoncurrentVersions) to older ones: the version record's storage class
  changes in place, in one LSM write with its ``s3:LifecycleTransition`` events; the body blob is
  untouched (a GLACIER or DEEP_ARCHIVE version then needs RestoreObject, archive.py);
- ``NoncurrentVersionExpiration`` (NoncurrentDays, NewerNoncurrentVersions) to older versions,
  counting from when the next version replaced them;
- ``AbortIncompleteMultipartUpload`` (DaysAfterInitiation) to uploads under the prefix.

Expiration wins over a transition due at the same sweep, as in S3.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from email.utils import formatdate
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.s3 import keys
from awsemu.services.s3.errors import NoSuchLifecycleConfiguration
from awsemu.services.s3.lifecycle_rules import (after_days, expiry_of, rule_matches, rule_prefix, stored_rules,
                                                transition_due, validate_rules)
from awsemu.services.s3.records import BucketRecord, ObjectVersion, UploadRecord
from awsemu.services.s3.store import S3Store

log = logging.getLogger("awsemu.s3.lifecycle")


class LifecycleMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]
    _delete_one: Callable[..., dict[str, Any]]
    abort_ops: Callable[..., list[Any]]
    _event_ops: Callable[..., list[Any]]

    def put_bucket_lifecycle_configuration(self, ctx: CallContext, Bucket: str,
                                           LifecycleConfiguration: dict[str, Any] | None = None, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        rules = (LifecycleConfiguration or {}).get("Rules") or []
        size = p.get("TransitionDefaultMinimumObjectSize") or "all_storage_classes_128K"
        validate_rules(rules, size)
        rules = stored_rules(rules)

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
            min_size = config.get("TransitionDefaultMinimumObjectSize") or "all_storage_classes_128K"
            for rule in config.get("Rules") or []:
                if rule.get("Status") == "Enabled":
                    done += self._sweep_rule(ctx, bucket, rule, now, min_size)
        return done

    def _transition(self, ctx: CallContext, bucket: BucketRecord, rec: ObjectVersion, storage_class: str) -> int:
        """Move one version to ``storage_class`` in place; 0 if it changed or vanished meanwhile."""
        moved = False

        def change(stored: ObjectVersion) -> list[Any]:
            nonlocal moved
            if stored.storage_class != rec.storage_class or stored.delete_marker:
                return []  # rewritten since the scan: the next sweep decides again
            stored.storage_class = storage_class
            moved = True
            return self._event_ops(ctx, bucket, "LifecycleTransition", stored)

        self.store.update_version(bucket.name, rec.key, rec.seq, change)
        return 1 if moved else 0

    def _sweep_rule(self, ctx: CallContext, bucket: BucketRecord, rule: dict[str, Any], now: float,
                    min_size: str = "all_storage_classes_128K") -> int:
        prefix = rule_prefix(rule)
        done = 0
        start = keys.seek(keys.SERVICE, "v", bucket.name, prefix)
        _, end = keys.versions_range(bucket.name)
        nc = rule.get("NoncurrentVersionExpiration") or {}
        expired_markers = (rule.get("Expiration") or {}).get("ExpiredObjectDeleteMarker")
        transitions = bool(rule.get("Transitions"))
        nc_transitions = bool(rule.get("NoncurrentVersionTransitions"))
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
                elif transitions and (target := transition_due(rule, min_size, current, now)):
                    acted += self._transition(ctx, bucket, current, target)
            keep = nc.get("NewerNoncurrentVersions") or 0
            for i, old in enumerate(group[1:]):
                became_noncurrent = group[i].last_modified
                if nc:
                    due = nc.get("NoncurrentDays") is None or after_days(became_noncurrent, int(nc["NoncurrentDays"])) <= now
                    if i >= keep and due and (old.delete_marker or rule_matches(rule, old)):
                        self._delete_one(ctx, bucket, old.key, old.version_id, lifecycle=True)
                        acted += 1
                        continue
                if nc_transitions and (target := transition_due(rule, min_size, old, now, became_noncurrent, i)):
                    acted += self._transition(ctx, bucket, old, target)
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
                if after_days(up.initiated, int(abort["DaysAfterInitiation"])) <= now:
                    with self.store.upload_lock(up.upload_id):
                        if self.store.upload(bucket.name, up.key, up.upload_id) is not None:
                            self.store.db.write_batch(self.abort_ops(bucket.name, up.key, up.upload_id))
                            done += 1
        return done
