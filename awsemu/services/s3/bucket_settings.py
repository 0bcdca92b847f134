"""Single-document bucket settings: server access logging, Requester Pays, Transfer Acceleration.

Each is kept in the bucket record under its name (``logging``, ``request_payment``,
``accelerate``) as the botocore-shaped dict it arrived as, like the other bucket configurations
(config.py), and answered as stored. None of the three has a Delete operation; what a Get
answers before any Put is AWS's default: an empty ``BucketLoggingStatus`` (logging off), Payer
``BucketOwner``, and an empty ``AccelerateConfiguration`` (never configured).

Validation follows the S3 API reference for PutBucketLogging, PutBucketRequestPayment and
PutBucketAccelerateConfiguration:

- logging: the target bucket must exist (InvalidTargetBucketForLogging), belong to the same
  account (same code) and sit in the same region (403 ``CrossLocationLoggingProhibitted``, S3's
  own spelling); a target whose Object Ownership is BucketOwnerEnforced takes no TargetGrants.
  Putting a ``BucketLoggingStatus`` without ``LoggingEnabled`` turns logging off. Log records are
  not written: awsemu stores the setting only.
- request payment: the setting is stored and answered; requests are not refused for lacking
  ``x-amz-request-payer`` (there is no billing to shift, and in awsemu's default auth mode any
  account may already reach any bucket).
- accelerate: buckets whose names contain dots cannot use Transfer Acceleration (InvalidRequest).
"""

from __future__ import annotations

from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.s3.config import _set  # the bucket-record setter every configuration uses
from awsemu.services.s3.errors import AccessControlListNotSupported, InvalidRequest, MalformedXML, S3Error
from awsemu.services.s3.records import BucketRecord
from awsemu.services.s3.store import S3Store

LOG_PERMISSIONS = ("FULL_CONTROL", "READ", "WRITE")
GRANTEE_TYPES = ("CanonicalUser", "AmazonCustomerByEmail", "Group")
PARTITION_DATE_SOURCES = ("EventTime", "DeliveryTime")
PAYERS = ("Requester", "BucketOwner")
ACCELERATE_STATUSES = ("Enabled", "Suspended")
ACCELERATE_DOTS = "S3 Transfer Acceleration is not supported for buckets with periods (.) in their names"


def invalid_target(message: str, target: str) -> S3Error:
    return S3Error(message, code="InvalidTargetBucketForLogging", status=400, fields={"TargetBucket": target})


def validate_logging(enabled: dict[str, Any]) -> dict[str, Any]:
    """The LoggingEnabled element as stored (TargetPrefix defaults to ""), or S3's error."""
    if not enabled.get("TargetBucket"):
        raise MalformedXML()
    for grant in enabled.get("TargetGrants") or []:
        grantee = grant.get("Grantee") or {}
        if grantee.get("Type") not in GRANTEE_TYPES or grant.get("Permission") not in LOG_PERMISSIONS:
            raise MalformedXML()
    key_format = enabled.get("TargetObjectKeyFormat")
    if key_format is not None:
        kinds = [k for k in ("SimplePrefix", "PartitionedPrefix") if k in key_format]
        if len(kinds) != 1:
            raise MalformedXML()
        source = (key_format.get("PartitionedPrefix") or {}).get("PartitionDateSource")
        if source is not None and source not in PARTITION_DATE_SOURCES:
            raise MalformedXML()
    return {**enabled, "TargetPrefix": enabled.get("TargetPrefix") or ""}


class BucketSettingsMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]
    _update: Callable[[str, Callable[[BucketRecord], None]], BucketRecord]

    # --- server access logging -----------------------------------------------------------------

    def put_bucket_logging(self, ctx: CallContext, Bucket: str, BucketLoggingStatus: dict[str, Any],
                           **p: Any) -> dict[str, Any]:
        source = self._bucket(Bucket)
        enabled = BucketLoggingStatus.get("LoggingEnabled")
        if enabled is None:
            self._update(Bucket, _set("logging", None))
            return {}
        enabled = validate_logging(enabled)
        name = enabled["TargetBucket"]
        target = self.store.bucket(name)
        if target is None:
            raise invalid_target("The target bucket for logging does not exist", name)
        if target.owner != source.owner:
            raise invalid_target("The owner for the bucket to be logged and the target bucket must be the same.", name)
        if target.region != source.region:
            raise S3Error("Cross S3 location logging not allowed. ", code="CrossLocationLoggingProhibitted",
                          status=403, fields={"TargetBucketLocation": target.region})
        ownership = ((target.config.get("ownership") or {}).get("Rules") or [{}])[0].get("ObjectOwnership")
        if enabled.get("TargetGrants") and ownership == "BucketOwnerEnforced":
            raise AccessControlListNotSupported("Target grants not allowed for bucket owner enforced buckets")
        self._update(Bucket, _set("logging", enabled))
        return {}

    def get_bucket_logging(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        enabled = self._bucket(Bucket).config.get("logging")
        return {"LoggingEnabled": enabled} if enabled else {}

    # --- Requester Pays ------------------------------------------------------------------------

    def put_bucket_request_payment(self, ctx: CallContext, Bucket: str, RequestPaymentConfiguration: dict[str, Any],
                                   **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        payer = RequestPaymentConfiguration.get("Payer")
        if payer not in PAYERS:
            raise MalformedXML()
        self._update(Bucket, _set("request_payment", None if payer == "BucketOwner" else payer))
        return {}

    def get_bucket_request_payment(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        return {"Payer": self._bucket(Bucket).config.get("request_payment") or "BucketOwner"}

    # --- Transfer Acceleration -----------------------------------------------------------------

    def put_bucket_accelerate_configuration(self, ctx: CallContext, Bucket: str,
                                            AccelerateConfiguration: dict[str, Any], **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        if "." in Bucket:
            raise InvalidRequest(ACCELERATE_DOTS)
        status = AccelerateConfiguration.get("Status")
        if status not in ACCELERATE_STATUSES:
            raise MalformedXML()
        self._update(Bucket, _set("accelerate", status))
        return {}

    def get_bucket_accelerate_configuration(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        status = self._bucket(Bucket).config.get("accelerate")
        return {"Status": status} if status else {}
