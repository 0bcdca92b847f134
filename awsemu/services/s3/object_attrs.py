"""An object's attributes in and out: request members -> ObjectVersion fields -> response members.

Validation of what PutObject, CopyObject and CreateMultipartUpload accept (storage class, tags,
SSE and SSE-C, object lock) lives here so the three operations answer the same errors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, quote

from awsemu.services.s3.checksums import checksum_output
from awsemu.services.s3.errors import (
    InvalidRequest,
    InvalidStorageClass,
    InvalidTag,
    KeyTooLongError,
    S3Error,
    invalid_argument,
)
from awsemu.services.s3.records import BucketRecord, ObjectVersion

STORAGE_CLASSES = frozenset(
    {"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
     "DEEP_ARCHIVE", "GLACIER_IR", "OUTPOSTS", "SNOW", "EXPRESS_ONEZONE"}
)
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
MAX_KEY_BYTES = 1024
CONTENT_MEMBERS = {
    "ContentType": "content_type",
    "ContentEncoding": "content_encoding",
    "ContentDisposition": "content_disposition",
    "ContentLanguage": "content_language",
    "CacheControl": "cache_control",
    "WebsiteRedirectLocation": "website_redirect",
}
RESPONSE_OVERRIDES = {
    "ResponseContentType": "ContentType",
    "ResponseContentEncoding": "ContentEncoding",
    "ResponseContentDisposition": "ContentDisposition",
    "ResponseContentLanguage": "ContentLanguage",
    "ResponseCacheControl": "CacheControl",
    "ResponseExpires": "Expires",
}


def check_key(key: str) -> None:
    if len(key) * 4 > MAX_KEY_BYTES and len(key.encode("utf-8")) > MAX_KEY_BYTES:  # 4 bytes a char at most
        raise KeyTooLongError(fields={"Size": str(len(key.encode("utf-8"))), "MaxSizeAllowed": str(MAX_KEY_BYTES)})


def storage_class(value: str | None) -> str:
    if value is None:
        return "STANDARD"
    if value not in STORAGE_CLASSES:
        raise InvalidStorageClass(fields={"StorageClassRequested": value})
    return value


def parse_tagging(header: str | None) -> dict[str, str]:
    """``x-amz-tagging: k1=v1&k2=v2`` (URL-encoded) -> tags, validated like PutObjectTagging."""
    if not header:
        return {}
    pairs = parse_qsl(header, keep_blank_values=True)
    return validate_tags(pairs)


def validate_tags(pairs: list[tuple[str, str]], limit: int = 10) -> dict[str, str]:
    tags: dict[str, str] = {}
    for k, v in pairs:
        if k in tags:
            raise InvalidTag("Cannot provide multiple Tags with the same key", fields={"TagKey": k})
        if not k or len(k) > 128:
            raise InvalidTag("The TagKey you have provided is invalid", fields={"TagKey": k})
        if len(v) > 256:
            raise InvalidTag("The TagValue you have provided is invalid", fields={"TagKey": k, "TagValue": v})
        if k.startswith("aws:"):
            raise InvalidTag("Your TagKey cannot be prefixed with aws:", fields={"TagKey": k})
        tags[k] = v
    if len(tags) > limit:
        raise S3Error("Object tags cannot be greater than 10", code="BadRequest", status=400) if limit == 10 else InvalidTag(
            "Bucket tag count cannot be greater than 50"
        )
    return tags


def sse_attributes(ctx_region: str, account: str, bucket: BucketRecord, p: dict[str, Any]) -> dict[str, Any]:
    """The SSE attributes a write gets: SSE-C, requested SSE-S3/KMS, else the bucket default."""
    if p.get("SSECustomerAlgorithm") or p.get("SSECustomerKey") or p.get("SSECustomerKeyMD5"):
        return sse_c(p.get("SSECustomerAlgorithm"), p.get("SSECustomerKey"), p.get("SSECustomerKeyMD5"))
    algorithm = p.get("ServerSideEncryption")
    key_id = p.get("SSEKMSKeyId")
    bucket_key = p.get("BucketKeyEnabled")
    if algorithm is None:
        if key_id is not None:
            raise invalid_argument(
                "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
                "x-amz-server-side-encryption", None)
        rule = default_encryption_rule(bucket)
        algorithm = rule.get("SSEAlgorithm", "AES256")
        key_id = rule.get("KMSMasterKeyID")
        if bucket_key is None and algorithm != "AES256":
            bucket_key = (bucket.config.get("encryption") or {}).get("Rules", [{}])[0].get("BucketKeyEnabled")
    if algorithm not in ("AES256", "aws:kms", "aws:kms:dsse", "aws:fsx"):
        raise invalid_argument("The encryption method specified is not supported", "x-amz-server-side-encryption", algorithm)
    out: dict[str, Any] = {"ServerSideEncryption": algorithm}
    if algorithm.startswith("aws:kms"):
        out["SSEKMSKeyId"] = key_id or f"arn:aws:kms:{ctx_region}:{account}:alias/aws/s3"
        if bucket_key:
            out["BucketKeyEnabled"] = True
    return out


def default_encryption_rule(bucket: BucketRecord) -> dict[str, Any]:
    config = bucket.config.get("encryption")
    if not config:
        return {"SSEAlgorithm": "AES256"}
    rules = config.get("Rules") or [{}]
    return dict(rules[0].get("ApplyServerSideEncryptionByDefault") or {"SSEAlgorithm": "AES256"})


def sse_c(algorithm: str | None, key: str | None, key_md5: str | None) -> dict[str, Any]:
    if algorithm is None:
        raise InvalidRequest(
            "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
    if algorithm != "AES256":
        raise invalid_argument("The requested encryption algorithm is not valid.",
                               "x-amz-server-side-encryption-customer-algorithm", algorithm)
    try:
        raw = base64.b64decode(key or "", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise invalid_argument("The secret key was invalid for the specified algorithm.",
                               "x-amz-server-side-encryption-customer-key", "")
    digest = base64.b64encode(hashlib.md5(raw).digest()).decode()
    if key_md5 is not None and key_md5 != digest:
        raise invalid_argument("The calculated MD5 hash of the key did not match the hash that was provided.",
                               "x-amz-server-side-encryption-customer-key", "")
    return {"SSECustomerAlgorithm": algorithm, "SSECustomerKeyMD5": digest}


def check_sse_c_read(rec: ObjectVersion, p: dict[str, Any]) -> None:
    """Reading an SSE-C object needs the same key; reading others must not send one."""
    stored = rec.sse.get("SSECustomerKeyMD5")
    given = p.get("SSECustomerAlgorithm") or p.get("SSECustomerKey")
    if stored is None:
        if given:
            raise InvalidRequest("The encryption parameters are not applicable to this object.")
        return
    if not given:
        raise InvalidRequest(
            "The object was stored using a form of Server Side Encryption. The correct parameters must be "
            "provided to retrieve the object.")
    presented = sse_c(p.get("SSECustomerAlgorithm"), p.get("SSECustomerKey"), p.get("SSECustomerKeyMD5"))
    if presented["SSECustomerKeyMD5"] != stored:
        from awsemu.services.s3.errors import AccessDenied

        raise AccessDenied()


def record_attributes(p: dict[str, Any]) -> dict[str, Any]:
    """Content-*/Cache-Control/Expires/metadata fields of a new version from request members."""
    out: dict[str, Any] = {}
    for member, field_name in CONTENT_MEMBERS.items():
        value = p.get(member)
        if value is not None:
            out[field_name] = value
    encoding = out.get("content_encoding")
    if encoding is not None:
        # aws-chunked is transport framing (already decoded), never part of the stored object
        kept = [e.strip() for e in encoding.split(",") if e.strip() and e.strip().lower() != "aws-chunked"]
        out["content_encoding"] = ",".join(kept) if kept else None
    expires = p.get("Expires")
    if expires is not None:
        out["expires"] = expires.isoformat() if isinstance(expires, datetime) else str(expires)
    out["metadata"] = dict(p.get("Metadata") or {})
    return out


def http_date(ts: float) -> datetime:
    return datetime.fromtimestamp(int(ts), timezone.utc)


def object_headers(rec: ObjectVersion, bucket: BucketRecord, checksum_mode: bool) -> dict[str, Any]:
    """HeadObject/GetObject output members of a version (Body and ranges are the caller's)."""
    out: dict[str, Any] = {
        "ETag": rec.quoted_etag,
        "LastModified": http_date(rec.last_modified),
        "ContentLength": rec.size,
        "ContentType": rec.content_type or DEFAULT_CONTENT_TYPE,
        "AcceptRanges": "bytes",
    }
    if rec.content_encoding:
        out["ContentEncoding"] = rec.content_encoding
    if rec.content_disposition:
        out["ContentDisposition"] = rec.content_disposition
    if rec.content_language:
        out["ContentLanguage"] = rec.content_language
    if rec.cache_control:
        out["CacheControl"] = rec.cache_control
    if rec.expires:
        try:
            out["Expires"] = datetime.fromisoformat(rec.expires)
        except ValueError:
            out["ExpiresString"] = rec.expires
    if rec.website_redirect:
        out["WebsiteRedirectLocation"] = rec.website_redirect
    if rec.metadata:
        out["Metadata"] = {k: encode_meta(v) for k, v in rec.metadata.items()}
    if rec.storage_class != "STANDARD":
        out["StorageClass"] = rec.storage_class
    if rec.restore_requested is not None:
        from awsemu.services.s3.archive import restore_header

        restore = restore_header(rec)
        if restore:
            out["Restore"] = restore
    if rec.replication_status:
        out["ReplicationStatus"] = rec.replication_status
    out.update(rec.sse)
    if bucket.versioning:
        out["VersionId"] = rec.version_id
    if rec.tags:
        out["TagCount"] = len(rec.tags)
    if rec.lock_mode:
        out["ObjectLockMode"] = rec.lock_mode
        out["ObjectLockRetainUntilDate"] = datetime.fromisoformat(rec.lock_until) if rec.lock_until else None
    if rec.legal_hold:
        out["ObjectLockLegalHoldStatus"] = rec.legal_hold
    if checksum_mode:
        out.update(checksum_output(rec.checksums, rec.checksum_type))
    return out


def encode_meta(value: str) -> str:
    """Header-safe metadata: non-ASCII values go out RFC 2047-encoded, as S3 returns them."""
    try:
        value.encode("ascii")
        return value
    except UnicodeEncodeError:
        return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode() + "?="


def decode_meta(metadata: dict[str, str]) -> dict[str, str]:
    """Metadata header values arrive latin-1 decoded; UTF-8 bytes sent raw are recovered."""
    out: dict[str, str] = {}
    for k, v in metadata.items():
        try:
            v = v.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
        out[k] = v
    return out


def url_encode_key(key: str) -> str:
    return quote(key, safe="")
