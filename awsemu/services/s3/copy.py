"""CopyObject (and the copy source shared with UploadPartCopy).

A copy shares the source's blob: the new version takes its own reference on the same blob id,
no byte is copied (the blob store's GC grace covers a source deleted in between). Bytes are only
re-read when the destination asks for a checksum algorithm the source does not have, or, for
UploadPartCopy, when a byte range is copied.
"""

from __future__ import annotations

import time
from typing import Any, Callable
from urllib.parse import parse_qs, unquote

from awsemu.services.base import CallContext
from awsemu.services.s3 import checksums as ck
from awsemu.services.s3 import archive
from awsemu.services.s3.conditionals import check_copy_source
from awsemu.services.s3.errors import InvalidRequest, invalid_argument, no_such_key
from awsemu.services.s3.object_attrs import (
    CONTENT_MEMBERS,
    check_key,
    check_sse_c_read,
    decode_meta,
    parse_tagging,
    record_attributes,
    sse_attributes,
    storage_class,
)
from awsemu.services.s3.records import BucketRecord, ObjectVersion
from awsemu.services.s3.store import S3Store, parse_version_id

_REPLACE_OR_COPY = ("COPY", "REPLACE")


def parse_copy_source(source: str) -> tuple[str, str, str | None]:
    """``bucket/key[?versionId=...]`` (URL-encoded, optional leading ``/``) -> parts."""
    path, _, query = source.partition("?")
    path = unquote(path).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise invalid_argument("Invalid copy source object key", "x-amz-copy-source", source)
    version_id = None
    if query:
        values = parse_qs(query, keep_blank_values=True).get("versionId")
        if values:
            version_id = values[-1]
    return bucket, key, version_id


class CopyMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]
    _in_thread: Callable[..., Any]
    _commit_new: Callable[..., ObjectVersion]
    _acl_for_write: Callable[..., Any]
    _lock_fields: Callable[..., dict[str, Any]]
    _expiration_header: Callable[..., str | None]

    def _copy_source(self, source: str, params: dict[str, Any]) -> tuple[BucketRecord, ObjectVersion, str | None]:
        bucket_name, key, version_id = parse_copy_source(source)
        src_bucket = self._bucket(bucket_name)
        if version_id is not None:
            if version_id != "null" and parse_version_id(version_id) is None:
                raise invalid_argument("Invalid version id specified", "x-amz-copy-source", source)
            rec = self.store.version(bucket_name, key, version_id)
            if rec is None:
                from awsemu.services.s3.errors import NoSuchVersion

                raise NoSuchVersion(fields={"Key": key, "VersionId": version_id})
            if rec.delete_marker:
                raise InvalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.")
        else:
            rec = self.store.current(bucket_name, key)
            if rec is None or rec.delete_marker:
                raise no_such_key(key)
        check_copy_source(rec, params)
        archive.check_copy_source(rec)  # GLACIER/DEEP_ARCHIVE: only a restored copy can be copied
        # an SSE-C source is read with the key given in the x-amz-copy-source-server-side-encryption-* headers
        check_sse_c_read(rec, {
            "SSECustomerAlgorithm": params.get("CopySourceSSECustomerAlgorithm"),
            "SSECustomerKey": params.get("CopySourceSSECustomerKey"),
            "SSECustomerKeyMD5": params.get("CopySourceSSECustomerKeyMD5"),
        })
        shown_version = rec.version_id if src_bucket.versioning else None
        return src_bucket, rec, shown_version

    async def copy_object(self, ctx: CallContext, Bucket: str, Key: str, CopySource: str, **p: Any) -> dict[str, Any]:
        bucket = await self._in_thread(self._bucket, Bucket)
        check_key(Key)
        src_bucket, src, src_version = await self._in_thread(self._copy_source, CopySource, p)
        metadata_directive = p.get("MetadataDirective") or "COPY"
        tagging_directive = p.get("TaggingDirective") or "COPY"
        if metadata_directive not in _REPLACE_OR_COPY:
            raise invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", metadata_directive)
        if tagging_directive not in _REPLACE_OR_COPY:
            raise invalid_argument("Unknown tagging directive.", "x-amz-tagging-directive", tagging_directive)
        same = src_bucket.name == Bucket and src.key == Key
        changes = (
            metadata_directive == "REPLACE"
            or p.get("StorageClass") is not None
            or p.get("WebsiteRedirectLocation") is not None
            or p.get("ServerSideEncryption") is not None
            or p.get("SSECustomerAlgorithm") is not None
            or p.get("ChecksumAlgorithm") is not None
        )
        if same and not changes:
            raise InvalidRequest(
                "This copy request is illegal because it is trying to copy an object to itself without changing "
                "the object's metadata, storage class, website redirect location or encryption attributes."
            )
        if metadata_directive == "REPLACE":
            attrs = record_attributes(p)
            attrs["metadata"] = decode_meta(attrs["metadata"])
        else:
            attrs = {field: getattr(src, field) for field in CONTENT_MEMBERS.values()}
            attrs["expires"] = src.expires
            attrs["metadata"] = dict(src.metadata)
            if p.get("WebsiteRedirectLocation") is not None:
                attrs["website_redirect"] = p["WebsiteRedirectLocation"]
        attrs["tags"] = parse_tagging(p.get("Tagging")) if tagging_directive == "REPLACE" else dict(src.tags)
        attrs["storage_class"] = storage_class(p.get("StorageClass"))
        attrs["sse"] = sse_attributes(ctx.region, ctx.account_id, bucket, p)
        attrs["acl"] = self._acl_for_write(ctx, bucket, p)
        attrs.update(self._lock_fields(bucket, p))
        wanted = ck.normalize_algorithm(p.get("ChecksumAlgorithm"))
        blob_id, size, etag, parts = src.blob_id, src.size, src.etag, src.parts
        checksums, checksum_type, algorithm = dict(src.checksums), src.checksum_type, src.checksum_algorithm
        if wanted is not None and (wanted not in src.checksums or src.checksum_type == "COMPOSITE"):
            # the destination asks for a checksum the source lacks: read the bytes once
            ref = await self.store.blobs.write(self._blob_chunks(src), checksums=[wanted])
            blob_id, size, etag, parts = ref.blob_id, ref.size, ref.md5 or "", None
            checksums, checksum_type, algorithm = {wanted: ref.checksums[wanted]}, "FULL_OBJECT", wanted
        elif src.checksum_type == "COMPOSITE":
            parts = src.parts
        rec = ObjectVersion(
            key=Key, seq=0, version_id="", last_modified=time.time(), owner=ctx.account_id,
            blob_id=blob_id, size=size, etag=etag, parts=parts,
            checksums=checksums, checksum_type=checksum_type, checksum_algorithm=algorithm, **attrs,
        )
        rec = await self._in_thread(self._commit_new, ctx, bucket, rec, p.get("IfMatch"), p.get("IfNoneMatch"),
                                    "ObjectCreated:Copy")
        result: dict[str, Any] = {"ETag": rec.quoted_etag, "LastModified": _dt(rec.last_modified)}
        result.update({k: v for k, v in ck.checksum_output(rec.checksums, rec.checksum_type).items()})
        out: dict[str, Any] = {"CopyObjectResult": result, **rec.sse}
        if bucket.versioning:
            out["VersionId"] = rec.version_id
        if src_version is not None:
            out["CopySourceVersionId"] = src_version
        expiration = self._expiration_header(bucket, rec)
        if expiration:
            out["Expiration"] = expiration
        return out

    async def _blob_chunks(self, rec: ObjectVersion, start: int = 0, end: int | None = None) -> Any:
        if rec.blob_id is None:
            return
        async for chunk in self.store.blobs.read(rec.blob_id, start, end):
            yield bytes(chunk)


def _dt(ts: float) -> Any:
    from awsemu.services.s3.object_attrs import http_date

    return http_date(ts)

