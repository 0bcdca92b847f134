"""Bucket versioning (Enabled / Suspended) and object lock: configuration, retention, legal hold.

MFA delete (``MFADelete: Enabled`` in the versioning configuration): deleting a version for good
and changing the versioning configuration then need the ``x-amz-mfa`` header, "<device serial>
<code>"; so does turning MFA delete on. awsemu has no MFA devices to check a code against, so a
well-formed header is accepted; a missing one is refused and a malformed one is an
InvalidArgument, with AWS's wording for both.

Object lock needs versioning: a lock-enabled bucket is versioned from creation and cannot be
suspended. A version's retention (mode + retain-until date) and legal hold live in its record;
deletes.py refuses to remove a protected version; overwrites never remove versions in a versioned
bucket, so they need no check.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.s3.errors import (
    AccessDenied,
    InvalidBucketState,
    InvalidRequest,
    MalformedXML,
    NoSuchObjectLockConfiguration,
    ObjectLockConfigurationNotFoundError,
    invalid_argument,
)
from awsemu.services.s3.records import BucketRecord, ObjectVersion
from awsemu.services.s3.store import S3Store

LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


MFA_REQUIRED = "Mfa Authentication must be used for this request"


def require_mfa(header: str | None) -> None:
    """Refuse a request that MFA delete guards unless it carries a well-formed ``x-amz-mfa``."""
    if header is None or not header.strip():
        raise AccessDenied(MFA_REQUIRED)
    serial, _, code = header.strip().partition(" ")
    if not serial or not code or " " in code:
        raise invalid_argument("Mfa header is invalid -- the header should be formatted as "
                               "{serialNumber}(space){tokenCode}", "x-amz-mfa", header)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


class VersioningMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]
    _resolve: Callable[..., ObjectVersion]

    def put_bucket_versioning(self, ctx: CallContext, Bucket: str, VersioningConfiguration: dict[str, Any],
                              **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        status = VersioningConfiguration.get("Status")
        if status not in ("Enabled", "Suspended"):
            raise MalformedXML()
        if bucket.object_lock and status != "Enabled":
            raise InvalidBucketState(
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
        if bucket.config.get("replication") and status != "Enabled":
            raise InvalidBucketState(
                "A replication configuration is present on this bucket, so you cannot change the versioning state. "
                "To change the versioning state, first delete the replication configuration.")
        mfa = VersioningConfiguration.get("MFADelete")
        if mfa not in (None, "Enabled", "Disabled"):
            raise MalformedXML()
        if bucket.mfa_delete == "Enabled" or mfa == "Enabled":
            require_mfa(p.get("MFA"))

        def change(rec: BucketRecord) -> None:
            rec.versioning = status
            if mfa:
                rec.mfa_delete = mfa

        self.store.update_bucket(Bucket, change)
        return {}

    def get_bucket_versioning(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        out: dict[str, Any] = {}
        if bucket.versioning:
            out["Status"] = bucket.versioning
            if bucket.mfa_delete:
                out["MFADelete"] = bucket.mfa_delete
        return out

    # --- object lock configuration -------------------------------------------------------------

    def put_object_lock_configuration(self, ctx: CallContext, Bucket: str, ObjectLockConfiguration: dict[str, Any] | None = None,
                                      **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        config = ObjectLockConfiguration or {}
        if config.get("ObjectLockEnabled") != "Enabled":
            raise MalformedXML()
        if not bucket.object_lock and bucket.versioning != "Enabled":
            raise InvalidBucketState("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
        retention = ((config.get("Rule") or {}).get("DefaultRetention")) or None
        if retention is not None:
            if retention.get("Mode") not in LOCK_MODES:
                raise MalformedXML()
            days, years = retention.get("Days"), retention.get("Years")
            if (days is None) == (years is None):
                raise MalformedXML()
            if (days is not None and days <= 0) or (years is not None and years <= 0):
                raise invalid_argument("Default retention period must be a positive integer value.",
                                       "DefaultRetention", days if days is not None else years)

        def change(rec: BucketRecord) -> None:
            rec.object_lock = True
            rec.versioning = "Enabled"
            rec.config["object_lock"] = config

        self.store.update_bucket(Bucket, change)
        return {}

    def get_object_lock_configuration(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        if not bucket.object_lock:
            raise ObjectLockConfigurationNotFoundError(fields={"BucketName": Bucket})
        return {"ObjectLockConfiguration": bucket.config.get("object_lock") or {"ObjectLockEnabled": "Enabled"}}

    def _lock_fields(self, bucket: BucketRecord, p: dict[str, Any]) -> dict[str, Any]:
        """Retention and legal hold of a new version: explicit headers, else the bucket default."""
        mode = p.get("ObjectLockMode")
        until = p.get("ObjectLockRetainUntilDate")
        hold = p.get("ObjectLockLegalHoldStatus")
        if (mode is None) != (until is None):
            raise invalid_argument("x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
                                   "x-amz-object-lock-mode" if mode is None else "x-amz-object-lock-retain-until-date", None)
        if (mode or hold) and not bucket.object_lock:
            raise InvalidRequest("Bucket is missing Object Lock Configuration")
        out: dict[str, Any] = {}
        if mode is not None:
            if mode not in LOCK_MODES:
                raise invalid_argument("Unknown wormMode directive.", "x-amz-object-lock-mode", mode)
            when = _aware(until)
            if when <= datetime.now(timezone.utc):
                raise invalid_argument("The retain until date must be in the future!", "x-amz-object-lock-retain-until-date", until)
            out["lock_mode"], out["lock_until"] = mode, when.isoformat()
        elif bucket.object_lock:
            retention = ((bucket.config.get("object_lock") or {}).get("Rule") or {}).get("DefaultRetention")
            if retention:
                days = retention.get("Days") or 365 * (retention.get("Years") or 0)
                out["lock_mode"] = retention["Mode"]
                out["lock_until"] = (datetime.now(timezone.utc) + timedelta(days=days)).isoformat()
        if hold is not None:
            if hold not in ("ON", "OFF"):
                raise invalid_argument("Unknown legal hold status.", "x-amz-object-lock-legal-hold", hold)
            out["legal_hold"] = hold
        return out

    # --- retention and legal hold --------------------------------------------------------------

    def put_object_retention(self, ctx: CallContext, Bucket: str, Key: str, Retention: dict[str, Any] | None = None,
                             **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        if not bucket.object_lock:
            raise InvalidRequest("Bucket is missing Object Lock Configuration")
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        retention = Retention or {}
        mode, until = retention.get("Mode"), retention.get("RetainUntilDate")
        if (mode is None) != (until is None) or (mode is not None and mode not in LOCK_MODES):
            raise MalformedXML()
        now = datetime.now(timezone.utc)
        if until is not None and _aware(until) <= now:
            raise invalid_argument("The retain until date must be in the future!", "RetainUntilDate", until)
        if rec.lock_mode and rec.lock_until and _aware(rec.lock_until) > now:
            weakening = mode is None or _aware(until) < _aware(rec.lock_until) or mode != rec.lock_mode
            if weakening and (rec.lock_mode == "COMPLIANCE" or not p.get("BypassGovernanceRetention")):
                raise AccessDenied()
        rec.lock_mode = mode
        rec.lock_until = _aware(until).isoformat() if until is not None else None
        self.store.rewrite_version(Bucket, rec)
        return {}

    def get_object_retention(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        if not bucket.object_lock:
            raise InvalidRequest("Bucket is missing Object Lock Configuration")
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        if not rec.lock_mode:
            raise NoSuchObjectLockConfiguration()
        return {"Retention": {"Mode": rec.lock_mode, "RetainUntilDate": _aware(rec.lock_until)}}

    def put_object_legal_hold(self, ctx: CallContext, Bucket: str, Key: str, LegalHold: dict[str, Any] | None = None,
                              **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        if not bucket.object_lock:
            raise InvalidRequest("Bucket is missing Object Lock Configuration")
        status = (LegalHold or {}).get("Status")
        if status not in ("ON", "OFF"):
            raise MalformedXML()
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        rec.legal_hold = status
        self.store.rewrite_version(Bucket, rec)
        return {}

    def get_object_legal_hold(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        if not bucket.object_lock:
            raise InvalidRequest("Bucket is missing Object Lock Configuration")
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        if not rec.legal_hold:
            raise NoSuchObjectLockConfiguration()
        return {"LegalHold": {"Status": rec.legal_hold}}
