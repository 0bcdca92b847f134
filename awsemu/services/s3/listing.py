"""ListObjects (v1), ListObjectsV2 and ListObjectVersions as lsm range scans.

The scan starts at ``max(prefix, marker)`` in the bucket's current-version range (``"o"``) or
version range (``"v"``) and stops at the first key without the prefix; with a delimiter, the
first live key of a group emits the common prefix and the scan seeks past the whole group
(:func:`keys.after_prefix`), so a folder of a million keys costs one seek, not a million steps.
Keys whose current version is a delete marker are skipped by ListObjects. ``encoding-type=url``
percent-encodes keys and prefixes in the answer.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable, Iterator
from urllib.parse import quote

from awsemu.services.base import CallContext
from awsemu.services.s3 import keys
from awsemu.services.s3.archive import restore_status, wants_restore_status
from awsemu.services.s3.buckets import owner_of
from awsemu.services.s3.errors import invalid_argument
from awsemu.services.s3.object_attrs import http_date
from awsemu.services.s3.records import BucketRecord, ObjectVersion
from awsemu.services.s3.store import S3Store, parse_version_id

DEFAULT_MAX_KEYS = 1000


def _max_keys(value: int | None) -> int:
    if value is None:
        return DEFAULT_MAX_KEYS
    if value < 0:
        raise invalid_argument("Argument maxKeys must be an integer between 0 and 2147483647", "maxKeys", value)
    return min(value, DEFAULT_MAX_KEYS)


def _encoder(encoding_type: str | None) -> Callable[[str], str]:
    if encoding_type is None:
        return lambda s: s
    if encoding_type != "url":
        raise invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", encoding_type)
    return lambda s: quote(s, safe="/")


def _listing_params(p: dict[str, Any]) -> tuple[str, str, Callable[[str], str], int]:
    """(prefix, delimiter, key encoder, max keys) of a ListObjects/V2/Versions request."""
    return p.get("Prefix") or "", p.get("Delimiter") or "", _encoder(p.get("EncodingType")), _max_keys(p.get("MaxKeys"))


def _add_common(out: dict[str, Any], p: dict[str, Any], enc: Callable[[str], str], **lists: list[Any]) -> None:
    """The members every listing answers alike: its non-empty entry lists, Delimiter, EncodingType."""
    out.update((name, entries) for name, entries in lists.items() if entries)
    if p.get("Delimiter"):
        out["Delimiter"] = enc(p["Delimiter"])
    if p.get("EncodingType"):
        out["EncodingType"] = p["EncodingType"]


def _token(last: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": last}).encode()).decode()


def _untoken(token: str) -> str:
    try:
        return str(json.loads(base64.urlsafe_b64decode(token.encode()))["k"])
    except (ValueError, KeyError, TypeError):
        raise invalid_argument("The continuation token provided is incorrect", "continuation-token", token) from None


def _restore_status(rec: ObjectVersion, entry: dict[str, Any]) -> None:
    """``RestoreStatus`` of an entry whose version has a restore state (OptionalObjectAttributes)."""
    if rec.restore_requested is not None:
        status = restore_status(rec)
        if status is not None:
            entry["RestoreStatus"] = status


def _checksum_fields(rec: ObjectVersion) -> dict[str, Any]:
    if rec.checksum_algorithm or rec.checksums:
        alg = rec.checksum_algorithm or next(iter(rec.checksums))
        return {"ChecksumAlgorithm": [alg], "ChecksumType": rec.checksum_type or "FULL_OBJECT"}
    return {}


class _Page:
    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self.items: list[tuple[str, Any]] = []  # ("c", ObjectVersion) | ("p", common prefix)
        self.truncated = False

    def full(self) -> bool:
        return len(self.items) >= self.max_keys


class ListingMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]

    def _scan_current(self, bucket: str, prefix: str, delimiter: str, after: str, page: _Page) -> None:
        """Fill ``page`` with current versions (keys > ``after``) and common prefixes."""
        db = self.store.db
        _, end = keys.objects_range(bucket)
        if after >= prefix:
            start = keys.after(keys.current(bucket, after))
        else:
            start = keys.seek(keys.SERVICE, "o", bucket, prefix)
        while True:
            seek_to: str | None = None
            for _raw_key, raw in db.scan(start, end):
                # the record holds its key: decoding the lsm key as well cost a fifth of a listing
                rec = ObjectVersion.decode(raw)
                key = rec.key
                if not key.startswith(prefix):
                    return
                if delimiter:
                    idx = key.find(delimiter, len(prefix))
                    if idx >= 0:
                        common = key[: idx + len(delimiter)]
                        if rec.delete_marker or common <= after:
                            if common <= after:
                                seek_to = common
                                break
                            continue
                        if page.full():
                            page.truncated = True
                            return
                        page.items.append(("p", common))
                        seek_to = common
                        break
                if rec.delete_marker:
                    continue
                if page.full():
                    page.truncated = True
                    return
                page.items.append(("c", rec))
            else:
                return
            nxt = keys.after_prefix(seek_to)
            if nxt is None:
                return
            start = keys.seek(keys.SERVICE, "o", bucket, nxt)

    def _content(self, rec: ObjectVersion, enc: Callable[[str], str], owner: bool,
                 restore: bool = False) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "Key": enc(rec.key),
            "LastModified": http_date(rec.last_modified),
            "ETag": rec.quoted_etag,
            "Size": rec.size,
            "StorageClass": rec.storage_class,
        }
        entry.update(_checksum_fields(rec))
        if owner:
            entry["Owner"] = owner_of(rec.owner)
        if restore:
            _restore_status(rec, entry)
        return entry

    def list_objects_v2(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        prefix, delimiter, enc, max_keys = _listing_params(p)
        token = p.get("ContinuationToken")
        after = _untoken(token) if token else (p.get("StartAfter") or "")
        page = _Page(max_keys)
        if max_keys > 0:
            self._scan_current(Bucket, prefix, delimiter, after, page)
        restore = wants_restore_status(p)
        contents = [self._content(rec, enc, bool(p.get("FetchOwner")), restore)
                    for kind, rec in page.items if kind == "c"]
        prefixes = [{"Prefix": enc(v)} for kind, v in page.items if kind == "p"]
        out: dict[str, Any] = {
            "Name": Bucket,
            "Prefix": enc(prefix),
            "MaxKeys": p.get("MaxKeys") if p.get("MaxKeys") is not None else DEFAULT_MAX_KEYS,
            "KeyCount": len(page.items),
            "IsTruncated": page.truncated,
        }
        _add_common(out, p, enc, Contents=contents, CommonPrefixes=prefixes)
        if token:
            out["ContinuationToken"] = token
        if p.get("StartAfter"):
            out["StartAfter"] = enc(p["StartAfter"])
        if page.truncated:
            kind, last = page.items[-1]
            out["NextContinuationToken"] = _token(last.key if kind == "c" else last)
        return out

    def list_objects(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        prefix, delimiter, enc, max_keys = _listing_params(p)
        marker = p.get("Marker") or ""
        page = _Page(max_keys)
        if max_keys > 0:
            self._scan_current(Bucket, prefix, delimiter, marker, page)
        restore = wants_restore_status(p)
        contents = [self._content(rec, enc, True, restore) for kind, rec in page.items if kind == "c"]
        prefixes = [{"Prefix": enc(v)} for kind, v in page.items if kind == "p"]
        out: dict[str, Any] = {
            "Name": Bucket,
            "Prefix": enc(prefix),
            "Marker": enc(marker),
            "MaxKeys": p.get("MaxKeys") if p.get("MaxKeys") is not None else DEFAULT_MAX_KEYS,
            "IsTruncated": page.truncated,
        }
        _add_common(out, p, enc, Contents=contents, CommonPrefixes=prefixes)
        if delimiter and page.truncated:
            kind, last = page.items[-1]
            out["NextMarker"] = enc(last.key if kind == "c" else last)
        return out

    # --- versions ------------------------------------------------------------------------------

    def _version_scan(self, bucket: str, start: bytes, end: bytes) -> Iterator[tuple[str, ObjectVersion]]:
        for _raw_key, raw in self.store.db.scan(start, end):
            rec = ObjectVersion.decode(raw)
            yield rec.key, rec

    def list_object_versions(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        prefix, delimiter, enc, max_keys = _listing_params(p)
        restore = wants_restore_status(p)
        key_marker = p.get("KeyMarker") or ""
        vid_marker = p.get("VersionIdMarker") or ""
        if vid_marker and not key_marker:
            raise invalid_argument("A version-id marker cannot be specified without a key marker.",
                                   "version-id-marker", vid_marker)
        _, end = keys.versions_range(Bucket)
        last_key_seen: str | None = None
        if key_marker and key_marker >= prefix:
            if vid_marker:
                marker_rec = self.store.version(Bucket, key_marker, vid_marker)
                if marker_rec is None:
                    if vid_marker != "null" and parse_version_id(vid_marker) is None:
                        raise invalid_argument("Invalid version id specified", "version-id-marker", vid_marker)
                    start = keys.key_versions_range(Bucket, key_marker)[1]
                else:
                    start = keys.after(keys.version(Bucket, key_marker, marker_rec.seq))
                    last_key_seen = key_marker  # later versions of this key are not the latest
            else:
                start = keys.key_versions_range(Bucket, key_marker)[1]
        else:
            start = keys.seek(keys.SERVICE, "v", Bucket, prefix)
        items: list[tuple[str, Any]] = []
        truncated = False
        after = key_marker
        while True:
            seek_to = None
            for key, rec in self._version_scan(Bucket, start, end):
                if not key.startswith(prefix):
                    break
                if delimiter:
                    idx = key.find(delimiter, len(prefix))
                    if idx >= 0:
                        common = key[: idx + len(delimiter)]
                        if common <= after and after.startswith(common):
                            seek_to = common
                            break
                        if len(items) >= max_keys:
                            truncated = True
                            break
                        items.append(("p", common))
                        seek_to = common
                        break
                if len(items) >= max_keys:
                    truncated = True
                    break
                latest = key != last_key_seen
                last_key_seen = key
                items.append(("v", (rec, latest)))
            if seek_to is None or truncated:
                break
            nxt = keys.after_prefix(seek_to)
            if nxt is None:
                break
            start = keys.seek(keys.SERVICE, "v", Bucket, nxt)
        versions, markers, prefixes = [], [], []
        for position, (kind, value) in enumerate(items):
            if kind == "p":
                prefixes.append({"Prefix": enc(value)})
                continue
            rec, latest = value
            entry: dict[str, Any] = {
                "_position": position,  # the XML writer interleaves versions and markers by it
                "Key": enc(rec.key),
                "VersionId": rec.version_id,
                "IsLatest": latest,
                "LastModified": http_date(rec.last_modified),
                "Owner": owner_of(rec.owner),
            }
            if rec.delete_marker:
                markers.append(entry)
            else:
                entry.update({"ETag": rec.quoted_etag, "Size": rec.size, "StorageClass": rec.storage_class})
                entry.update(_checksum_fields(rec))
                if restore:
                    _restore_status(rec, entry)
                versions.append(entry)
        out: dict[str, Any] = {
            "Name": Bucket,
            "Prefix": enc(prefix),
            "KeyMarker": enc(key_marker),
            "VersionIdMarker": vid_marker,
            "MaxKeys": p.get("MaxKeys") if p.get("MaxKeys") is not None else DEFAULT_MAX_KEYS,
            "IsTruncated": truncated,
        }
        _add_common(out, p, enc, Versions=versions, DeleteMarkers=markers, CommonPrefixes=prefixes)
        if truncated and items:
            kind, value = items[-1]
            if kind == "p":
                out["NextKeyMarker"] = enc(value)
            else:
                out["NextKeyMarker"] = enc(value[0].key)
                out["NextVersionIdMarker"] = value[0].version_id
        return out
