"""Bucket configurations kept by Id: analytics, inventory, metrics and S3 Intelligent-Tiering.

The four families work the same way (S3 API reference, Put/Get/Delete/ListBucket*Configuration*):
a bucket holds up to 1,000 configurations of each family, keyed by the ``id`` query parameter,
which must equal the ``Id`` inside the document. Put replaces the configuration of that Id; Get
and Delete of an unknown Id answer 404 ``NoSuchConfiguration``; List answers up to 100 per page
in Id order, continued with an opaque ``ContinuationToken``. A family is stored in the bucket
record under its name (``analytics``, ``inventory``, ``metrics``, ``intelligent_tiering``) as a
map Id -> the botocore-shaped document, so it persists in lsm with the bucket and goes with it.

Validation per family (each answers MalformedXML for a document its schema rejects, as S3 does):

- analytics: ``StorageClassAnalysis`` is required; a DataExport needs schema ``V_1``, format CSV;
- inventory: every required element, the enums (Format, Frequency, IncludedObjectVersions,
  OptionalFields); then ``IdMismatch`` when the ids differ and ``InvalidS3DestinationBucket`` when
  the destination is not a bucket ARN (S3 does not check that the destination bucket exists);
- metrics: an Id of at most 64 letters, digits, ``.``, ``-``, ``_``; filters may add AccessPointArn;
- Intelligent-Tiering: Status, and Tierings of ARCHIVE_ACCESS (90-730 days) or
  DEEP_ARCHIVE_ACCESS (180-730 days), each tier at most once; a bad Id is ``InvalidConfigId``.

An empty ``id`` parameter is ``InvalidConfigurationId`` for every family. Nothing acts on these
configurations (no reports, no CloudWatch metrics, no tiering): they are stored and answered.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from awsemu.services.base import CallContext
from awsemu.services.s3.errors import MalformedXML, NoSuchConfiguration, S3Error, invalid_argument
from awsemu.services.s3.filters import validate_filter
from awsemu.services.s3.records import BucketRecord

MAX_CONFIGURATIONS = 1000
PAGE_SIZE = 100
INVENTORY_FORMATS = ("CSV", "ORC", "Parquet")
INVENTORY_FREQUENCIES = ("Daily", "Weekly")
INVENTORY_VERSIONS = ("All", "Current")
INVENTORY_FIELDS = frozenset(
    """Size LastModifiedDate StorageClass ETag IsMultipartUploaded ReplicationStatus EncryptionStatus
    ObjectLockRetainUntilDate ObjectLockMode ObjectLockLegalHoldStatus ObjectLockEventHoldStatus
    ObjectLockEventHoldDuration IntelligentTieringAccessTier BucketKeyStatus ChecksumAlgorithm
    ObjectAccessControlList ObjectOwner LifecycleExpirationDate IntelligentTieringReferenceDate""".split()
)
TIER_DAYS = {"ARCHIVE_ACCESS": 90, "DEEP_ARCHIVE_ACCESS": 180}
MAX_TIER_DAYS = 730
_CONFIG_ID = re.compile(r"[a-zA-Z0-9\-_.]+")
_BUCKET_ARN = re.compile(r"arn:aws[a-zA-Z-]*:s3:::[^/:]+")


def _error(code: str, message: str) -> S3Error:
    return S3Error(message, code=code, status=400)


def _require(condition: bool) -> None:
    if not condition:
        raise MalformedXML()


# --- per-family document checks (after the id parameter is known to be non-empty) --------------

def check_analytics(doc: dict[str, Any], config_id: str) -> None:
    _require(doc.get("Id") == config_id)
    validate_filter(doc.get("Filter"))
    analysis = doc.get("StorageClassAnalysis")
    if analysis is None:
        raise _error("MissingStorageClassAnalysis", "Storage Class Analysis cannot be null.")
    export = analysis.get("DataExport")
    if export is not None:
        destination = (export.get("Destination") or {}).get("S3BucketDestination") or {}
        _require(export.get("OutputSchemaVersion") == "V_1")
        _require(destination.get("Format") == "CSV" and bool(destination.get("Bucket")))


def check_inventory(doc: dict[str, Any], config_id: str) -> None:
    destination = (doc.get("Destination") or {}).get("S3BucketDestination") or {}
    _require(all(k in doc for k in ("Id", "IsEnabled", "IncludedObjectVersions", "Schedule")))
    _require(bool(destination.get("Bucket")) and destination.get("Format") in INVENTORY_FORMATS)
    _require((doc.get("Schedule") or {}).get("Frequency") in INVENTORY_FREQUENCIES)
    _require(doc["IncludedObjectVersions"] in INVENTORY_VERSIONS)
    _require(set(doc.get("OptionalFields") or ()) <= INVENTORY_FIELDS)
    if "Filter" in doc:
        _require("Prefix" in (doc["Filter"] or {}))
    encryption = destination.get("Encryption")
    if encryption is not None:
        _require(len(encryption) == 1 and ("SSES3" in encryption or "KeyId" in (encryption.get("SSEKMS") or {})))
    if doc["Id"] != config_id:
        raise _error("IdMismatch", "Document ID does not match the specified configuration ID.")
    if not _BUCKET_ARN.fullmatch(destination["Bucket"]):
        raise _error("InvalidS3DestinationBucket", "Invalid bucket ARN.")


def check_metrics(doc: dict[str, Any], config_id: str) -> None:
    _require(len(config_id) <= 64 and _CONFIG_ID.fullmatch(config_id) is not None)
    _require(doc.get("Id") == config_id)
    validate_filter(doc.get("Filter"), extra=("AccessPointArn",))


def check_intelligent_tiering(doc: dict[str, Any], config_id: str) -> None:
    if len(config_id) > 64:
        raise _error("InvalidConfigId", "Config Id should be more than 1 character and less than 64 characters in length.")
    if _CONFIG_ID.fullmatch(config_id) is None:
        raise _error("InvalidConfigId", "Config Id does not match the pattern ^[a-zA-Z0-9\\-_.]+$")
    _require(doc.get("Id") == config_id)
    _require(doc.get("Status") in ("Enabled", "Disabled"))
    validate_filter(doc.get("Filter"))
    tierings = doc.get("Tierings") or []
    _require(bool(tierings))
    seen: set[str] = set()
    for tiering in tierings:
        tier, days = tiering.get("AccessTier"), tiering.get("Days")
        _require(tier in TIER_DAYS and isinstance(days, int))
        if tier in seen:
            raise invalid_argument(f"Duplicate access tier {tier} is not allowed", "AccessTier", tier)
        seen.add(tier)
        if not TIER_DAYS[tier] <= days <= MAX_TIER_DAYS:
            raise invalid_argument(
                f"Days for {tier} must be between {TIER_DAYS[tier]} and {MAX_TIER_DAYS}", "Days", days)


@dataclass(frozen=True)
class Family:
    """One kind of Id-keyed configuration: where it is stored and what its members are called."""

    name: str  # key in the bucket record's config
    member: str  # the document's member in Put input and Get output
    list_member: str  # the entries' member in the List output
    check: Callable[[dict[str, Any], str], None]


ANALYTICS = Family("analytics", "AnalyticsConfiguration", "AnalyticsConfigurationList", check_analytics)
INVENTORY = Family("inventory", "InventoryConfiguration", "InventoryConfigurationList", check_inventory)
METRICS = Family("metrics", "MetricsConfiguration", "MetricsConfigurationList", check_metrics)
INTELLIGENT_TIERING = Family("intelligent_tiering", "IntelligentTieringConfiguration",
                             "IntelligentTieringConfigurationList", check_intelligent_tiering)


def encode_token(last_id: str) -> str:
    """An opaque continuation token: the last Id of the page, as JSON in URL-safe base64."""
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode()


def decode_token(token: str) -> str:
    try:
        after = json.loads(base64.b64decode(token.encode(), altchars=b"-_", validate=True))["after"]
        if isinstance(after, str):
            return after
    except (binascii.Error, ValueError, KeyError, TypeError):
        pass
    raise invalid_argument("The continuation token provided is incorrect", "continuation-token", token)


class KeyedConfigsMixin:
    _bucket: Callable[[str], BucketRecord]
    _update: Callable[[str, Callable[[BucketRecord], None]], BucketRecord]

    # --- the four families share these ---------------------------------------------------------

    def _put_keyed(self, family: Family, bucket: str, config_id: str, doc: dict[str, Any]) -> dict[str, Any]:
        self._bucket(bucket)
        if not config_id:
            raise _error("InvalidConfigurationId", "The specified configuration id is invalid.")
        family.check(doc, config_id)

        def change(rec: BucketRecord) -> None:
            configs = dict(rec.config.get(family.name) or {})
            if config_id not in configs and len(configs) >= MAX_CONFIGURATIONS:
                raise _error("TooManyConfigurations", "You are attempting to create a new configuration but "
                             "have already reached the 1,000-configuration limit.")
            configs[config_id] = doc
            rec.config[family.name] = configs

        self._update(bucket, change)
        return {}

    def _get_keyed(self, family: Family, bucket: str, config_id: str) -> dict[str, Any]:
        doc = (self._bucket(bucket).config.get(family.name) or {}).get(config_id)
        if doc is None:
            raise NoSuchConfiguration()
        return {family.member: doc}

    def _delete_keyed(self, family: Family, bucket: str, config_id: str) -> dict[str, Any]:
        if config_id not in (self._bucket(bucket).config.get(family.name) or {}):
            raise NoSuchConfiguration()

        def change(rec: BucketRecord) -> None:
            configs = dict(rec.config.get(family.name) or {})
            configs.pop(config_id, None)
            if configs:
                rec.config[family.name] = configs
            else:
                rec.config.pop(family.name, None)

        self._update(bucket, change)
        return {}

    def _list_keyed(self, family: Family, bucket: str, token: str | None) -> dict[str, Any]:
        configs = self._bucket(bucket).config.get(family.name) or {}
        after = decode_token(token) if token else None
        ids = sorted(i for i in configs if after is None or i > after)
        page = ids[:PAGE_SIZE]
        out: dict[str, Any] = {"IsTruncated": len(ids) > PAGE_SIZE}
        if token:
            out["ContinuationToken"] = token
        if page:
            out[family.list_member] = [configs[i] for i in page]
        if out["IsTruncated"]:
            out["NextContinuationToken"] = encode_token(page[-1])
        return out

    # --- analytics -----------------------------------------------------------------------------

    def put_bucket_analytics_configuration(self, ctx: CallContext, Bucket: str, Id: str,
                                           AnalyticsConfiguration: dict[str, Any], **p: Any) -> dict[str, Any]:
        return self._put_keyed(ANALYTICS, Bucket, Id, AnalyticsConfiguration)

    def get_bucket_analytics_configuration(self, ctx: CallContext, Bucket: str, Id: str, **p: Any) -> dict[str, Any]:
        return self._get_keyed(ANALYTICS, Bucket, Id)

    def delete_bucket_analytics_configuration(self, ctx: CallContext, Bucket: str, Id: str, **p: Any) -> dict[str, Any]:
        return self._delete_keyed(ANALYTICS, Bucket, Id)

    def list_bucket_analytics_configurations(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        return self._list_keyed(ANALYTICS, Bucket, p.get("ContinuationToken"))

    # --- inventory -----------------------------------------------------------------------------

    def put_bucket_inventory_configuration(self, ctx: CallContext, Bucket: str, Id: str,
                                           InventoryConfiguration: dict[str, Any], **p: Any) -> dict[str, Any]:
        return self._put_keyed(INVENTORY, Bucket, Id, InventoryConfiguration)

    def get_bucket_inventory_configuration(self, ctx: CallContext, Bucket: str, Id: str, **p: Any) -> dict[str, Any]:
        return self._get_keyed(INVENTORY, Bucket, Id)

    def delete_bucket_inventory_configuration(self, ctx: CallContext, Bucket: str, Id: str, **p: Any) -> dict[str, Any]:
        return self._delete_keyed(INVENTORY, Bucket, Id)

    def list_bucket_inventory_configurations(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        return self._list_keyed(INVENTORY, Bucket, p.get("ContinuationToken"))

    # --- metrics -------------------------------------------------------------------------------

    def put_bucket_metrics_configuration(self, ctx: CallContext, Bucket: str, Id: str,
                                         MetricsConfiguration: dict[str, Any], **p: Any) -> dict[str, Any]:
        return self._put_keyed(METRICS, Bucket, Id, MetricsConfiguration)

    def get_bucket_metrics_configuration(self, ctx: CallContext, Bucket: str, Id: str, **p: Any) -> dict[str, Any]:
        return self._get_keyed(METRICS, Bucket, Id)

    def delete_bucket_metrics_configuration(self, ctx: CallContext, Bucket: str, Id: str, **p: Any) -> dict[str, Any]:
        return self._delete_keyed(METRICS, Bucket, Id)

    def list_bucket_metrics_configurations(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        return self._list_keyed(METRICS, Bucket, p.get("ContinuationToken"))

    # --- S3 Intelligent-Tiering ----------------------------------------------------------------

    def put_bucket_intelligent_tiering_configuration(self, ctx: CallContext, Bucket: str, Id: str,
                                                     IntelligentTieringConfiguration: dict[str, Any],
                                                     **p: Any) -> dict[str, Any]:
        return self._put_keyed(INTELLIGENT_TIERING, Bucket, Id, IntelligentTieringConfiguration)

    def get_bucket_intelligent_tiering_configuration(self, ctx: CallContext, Bucket: str, Id: str,
                                                     **p: Any) -> dict[str, Any]:
        return self._get_keyed(INTELLIGENT_TIERING, Bucket, Id)

    def delete_bucket_intelligent_tiering_configuration(self, ctx: CallContext, Bucket: str, Id: str,
                                                        **p: Any) -> dict[str, Any]:
        return self._delete_keyed(INTELLIGENT_TIERING, Bucket, Id)

    def list_bucket_intelligent_tiering_configurations(self, ctx: CallContext, Bucket: str,
                                                       **p: Any) -> dict[str, Any]:
        return self._list_keyed(INTELLIGENT_TIERING, Bucket, p.get("ContinuationToken"))
