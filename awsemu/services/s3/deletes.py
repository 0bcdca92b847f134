"""DeleteObject and DeleteObjects, with versioning and object-lock semantics.

- unversioned bucket: the ``null`` version is removed for good;
- versioning Enabled, no version id: a delete marker becomes the current version;
- versioning Suspended, no version id: a ``null`` delete marker replaces the ``null`` version;
- with a version id: that version is removed for good (object lock may refuse it: retention
  until a future date, COMPLIANCE always, GOVERNANCE unless ``x-amz-bypass-governance-retention``;
  a legal hold always), and MFA delete asks for the ``x-amz-mfa`` header (versioning.py): on
  DeleteObjects for the whole request as soon as one entry names a version.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.s3.errors import AccessDenied, MalformedXML, S3Error, invalid_argument, precondition_failed
from awsemu.services.s3.records import BucketRecord, ObjectVersion
from awsemu.services.s3.store import S3Store, parse_version_id
from awsemu.services.s3.versioning import require_mfa

MAX_DELETE_KEYS = 1000


def lock_blocks_delete(rec: ObjectVersion, bypass_governance: bool) -> bool:
    if rec.legal_hold == "ON":
        return True
    if rec.lock_mode and rec.lock_until:
        until = datetime.fromisoformat(rec.lock_until)
        if until.tzinfo is None:
            until = until.replace(tzinfo=timezone.utc)
        if until > datetime.now(timezone.utc):
            return not (rec.lock_mode == "GOVERNANCE" and bypass_governance)
    return False


class DeletesMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]
    _event_ops: Callable[..., list[Any]]

    def _delete_one(
        self, ctx: CallContext, bucket: BucketRecord, key: str, version_id: str | None,
        bypass: bool = False, if_match: str | None = None, lifecycle: bool = False,
    ) -> dict[str, Any]:
        """Delete one key or version; returns DeleteObject's output members. Raises S3Error.

        ``lifecycle``: the sweeper's expiry, notified as ``LifecycleExpiration:*`` events.
        """
        removed_event = "LifecycleExpiration:Delete" if lifecycle else "ObjectRemoved:Delete"
        marker_event = "LifecycleExpiration:DeleteMarkerCreated" if lifecycle else "ObjectRemoved:DeleteMarkerCreated"
        if version_id is not None:
            if version_id != "null" and parse_version_id(version_id) is None:
                raise invalid_argument("Invalid version id specified", "versionId", version_id)
            target = self.store.version(bucket.name, key, version_id)
            if target is None:
                return {"VersionId": version_id}

            def check(rec: ObjectVersion) -> None:
                if lock_blocks_delete(rec, bypass):
                    raise AccessDenied("Access Denied because object protected by object lock.")

            def extra(rec: ObjectVersion) -> list[Any]:
                return self._event_ops(ctx, bucket, removed_event, rec)

            removed = self.store.remove_version(bucket.name, key, target.seq, check=check, extra_ops=extra)
            out: dict[str, Any] = {"VersionId": version_id}
            if removed is not None and removed.delete_marker:
                out["DeleteMarker"] = True
            return out
        if not bucket.versioning:
            cur = self.store.current(bucket.name, key)
            if if_match is not None:
                if cur is None or cur.delete_marker:
                    from awsemu.services.s3.errors import no_such_key

                    raise no_such_key(key)
                if if_match.strip('"') not in ("*", cur.etag):
                    raise precondition_failed("If-Match")
            if cur is not None:
                self.store.remove_version(
                    bucket.name, key, cur.seq,
                    extra_ops=lambda rec: self._event_ops(ctx, bucket, removed_event, rec),
                )
            return {}
        marker = ObjectVersion(key=key, seq=self.store.seq.next(), version_id="", last_modified=time.time(),
                               owner=ctx.account_id, delete_marker=True)
        marker.version_id = self.store.new_version_id(marker.seq, bucket.versioning == "Enabled")

        def check_marker(cur: ObjectVersion | None) -> None:
            if if_match is not None:
                if cur is None or cur.delete_marker:
                    from awsemu.services.s3.errors import no_such_key

                    raise no_such_key(key)
                if if_match.strip('"') not in ("*", cur.etag):
                    raise precondition_failed("If-Match")

        self.store.commit_version(
            bucket.name, marker, check=check_marker,
            extra_ops=lambda cur: self._event_ops(ctx, bucket, marker_event, marker),
        )
        return {"DeleteMarker": True, "VersionId": marker.version_id}

    def delete_object(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        if bucket.mfa_delete == "Enabled" and p.get("VersionId") is not None:
            require_mfa(p.get("MFA"))
        return self._delete_one(ctx, bucket, Key, p.get("VersionId"), bool(p.get("BypassGovernanceRetention")),
                                p.get("IfMatch"))

    def delete_objects(self, ctx: CallContext, Bucket: str, Delete: dict[str, Any] | None = None, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        objects = (Delete or {}).get("Objects") or []
        if not objects or len(objects) > MAX_DELETE_KEYS:
            raise MalformedXML()
        if bucket.mfa_delete == "Enabled" and (
                p.get("MFA") is not None or any(item.get("VersionId") is not None for item in objects)):
            require_mfa(p.get("MFA"))  # a bad token fails the whole request, versions named or not
        quiet = bool((Delete or {}).get("Quiet"))
        bypass = bool(p.get("BypassGovernanceRetention"))
        deleted: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item in objects:
            key = item.get("Key", "")
            version_id = item.get("VersionId")
            try:
                result = self._delete_one(ctx, bucket, key, version_id, bypass, item.get("ETag"))
            except S3Error as err:
                entry = {"Key": key, "Code": err.code, "Message": err.message}
                if version_id is not None:
                    entry["VersionId"] = version_id
                errors.append(entry)
                continue
            if quiet:
                continue
            entry = {"Key": key}
            if version_id is not None:
                entry["VersionId"] = version_id
                if result.get("DeleteMarker"):
                    entry["DeleteMarker"] = True
                    entry["DeleteMarkerVersionId"] = version_id
            elif result.get("DeleteMarker"):
                entry["DeleteMarker"] = True
                entry["DeleteMarkerVersionId"] = result["VersionId"]
            deleted.append(entry)
        out: dict[str, Any] = {}
        if deleted:
            out["Deleted"] = deleted
        if errors:
            out["Errors"] = errors
        return out
