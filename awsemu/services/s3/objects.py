"""PutObject, GetObject, HeadObject, GetObjectAttributes: bodies stream through the blob store.

PutObject is a coroutine: the body (an async iterator, aws-chunked framing already decoded) is
pulled straight into ``BlobStore.write``, which digests it on worker threads as it goes, so
memory stays bounded whatever the size. Once the shards are durable, the store calls our
``commit`` on its worker thread (``write(..., commit=...)``): checksums are checked there, and
the version record, its blob reference and the blob's manifest go into one lsm batch. One
thread hop per PUT, and no moment where the body exists unreferenced. A body that fails a check
is abandoned by the store (its shards removed; an inline one was never written).

GetObject and HeadObject run inline on the event loop (``runs_inline``): they are lsm point reads
(memtable or cached blocks), cheaper than a thread hop; GetObject returns small bodies (stored inline
in the blob manifest) as bytes and larger ones as an async iterator over the blob store's range
read, whose file reads run on the blob store's threads.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator, Callable

from awsemu.services.base import CallContext, ServiceError, runs_inline
from awsemu.services.s3 import checksums as ck
from awsemu.services.s3.archive import ARCHIVED, check_readable
from awsemu.services.s3.conditionals import check_read, check_write, parse_range
from awsemu.services.s3.errors import (
    IncompleteBody,
    InvalidRequest,
    MethodNotAllowed,
    NoSuchKey,
    S3Error,
    invalid_argument,
    no_such_key,
)
from awsemu.services.s3.object_attrs import (
    RESPONSE_OVERRIDES,
    check_key,
    check_sse_c_read,
    decode_meta,
    object_headers,
    parse_tagging,
    record_attributes,
    sse_attributes,
    storage_class,
)
from awsemu.services.s3.records import BucketRecord, ObjectVersion
from awsemu.services.s3.store import Op, S3Store, parse_version_id
from awsemu.storage.blobs import BlobRef


async def as_stream(body: Any) -> AsyncIterator[bytes]:
    """Whatever the codec handed over (async iterator, bytes or nothing) as an async iterator."""
    if body is None:
        return
    if isinstance(body, (bytes, bytearray, memoryview)):
        if body:
            yield bytes(body)
        return
    async for chunk in body:
        yield chunk


async def drain(body: Any) -> None:
    """Read and drop a request body we refuse: the client's connection stays usable afterwards
    (a client that sent ``Expect: 100-continue`` would otherwise leave the body unsent while the
    server keeps the connection open for it)."""
    if body is not None and not isinstance(body, (bytes, bytearray, memoryview)):
        async for _ in body:
            pass


def delete_marker_headers(rec: ObjectVersion) -> dict[str, str]:
    return {"x-amz-delete-marker": "true", "x-amz-version-id": rec.version_id}


class ObjectsMixin:
    store: S3Store

    _bucket: Callable[[str], BucketRecord]
    _lock_fields: Callable[..., dict[str, Any]]
    _acl_for_write: Callable[..., Any]
    _event_ops: Callable[..., list[Any]]
    _expiration_header: Callable[..., str | None]

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    # --- PutObject -----------------------------------------------------------------------------

    async def put_object(self, ctx: CallContext, Bucket: str, Key: str, Body: Any = None, **p: Any) -> dict[str, Any]:
        try:
            # validation only (the bucket record is cached): cheaper on the loop than a thread hop
            bucket, attrs, md5_hex, sent, declared = self._check_put(ctx, Bucket, Key, p)
        except S3Error:
            await drain(Body)
            raise

        def commit(ref: BlobRef, blob_ops: list[Op]) -> ObjectVersion:
            """Checks on the stored body, then the version record (worker thread, one hop)."""
            length = p.get("ContentLength")
            if length is not None and ref.size < length and not hasattr(Body, "trailers"):
                raise IncompleteBody()
            expected = {**sent, **ck.trailer_checksums(Body)}
            ck.verify(expected, ref.checksums)
            ck.verify_md5(md5_hex, ref.md5, p.get("ContentMD5"))
            client_alg = declared or (next(iter(expected)) if expected else None)
            kept_alg = client_alg or ck.DEFAULT_ALGORITHM
            rec = ObjectVersion(
                key=Key, seq=0, version_id="", last_modified=time.time(), owner=ctx.account_id,
                blob_id=ref.blob_id, size=ref.size, etag=ref.md5 or "",
                checksums={kept_alg: ref.checksums[kept_alg]}, checksum_type="FULL_OBJECT",
                checksum_algorithm=client_alg, **attrs,
            )
            return self._commit_new(ctx, bucket, rec, p.get("IfMatch"), p.get("IfNoneMatch"), "ObjectCreated:Put",
                                    blob_ops)

        rec = await self.store.blobs.write(
            as_stream(Body), checksums=ck.algorithms_to_compute(declared, sent, Body), commit=commit)
        out: dict[str, Any] = {"ETag": rec.quoted_etag, **rec.sse}
        out.update(ck.checksum_output(rec.checksums, rec.checksum_type))
        if bucket.versioning:
            out["VersionId"] = rec.version_id
        expiration = self._expiration_header(bucket, rec)
        if expiration:
            out["Expiration"] = expiration
        return out

    def _check_put(self, ctx: CallContext, Bucket: str, Key: str, p: dict[str, Any]) -> tuple[Any, ...]:
        """Everything PutObject can refuse before reading the body."""
        bucket = self._bucket(Bucket)
        check_key(Key)
        if p.get("WriteOffsetBytes") is not None:
            raise S3Error("A header you provided implies functionality that is not implemented",
                          code="NotImplemented", status=501, fields={"Header": "x-amz-write-offset-bytes"})
        md5_hex = ck.content_md5(p.get("ContentMD5"))
        sent = ck.header_checksums(p)
        if len(sent) > 1:
            raise InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        declared = ck.normalize_algorithm(p.get("ChecksumAlgorithm"))
        if declared and sent and declared not in sent:
            raise InvalidRequest(
                f"Value for x-amz-sdk-checksum-algorithm header is invalid. Expected {next(iter(sent))}.")
        attrs = self._new_version_attrs(ctx, bucket, p)
        return bucket, attrs, md5_hex, sent, declared

    def _new_version_attrs(self, ctx: CallContext, bucket: BucketRecord, p: dict[str, Any]) -> dict[str, Any]:
        """Validated attributes of a version about to be written (PutObject, CreateMultipartUpload)."""
        attrs = record_attributes(p)
        attrs["metadata"] = decode_meta(attrs["metadata"])
        attrs["storage_class"] = storage_class(p.get("StorageClass"))
        attrs["tags"] = parse_tagging(p.get("Tagging"))
        attrs["sse"] = sse_attributes(ctx.region, ctx.account_id, bucket, p)
        attrs["acl"] = self._acl_for_write(ctx, bucket, p)
        attrs.update(self._lock_fields(bucket, p))
        return attrs

    def _commit_new(
        self, ctx: CallContext, bucket: BucketRecord, rec: ObjectVersion,
        if_match: str | None, if_none_match: str | None, event: str | None, blob_ops: list[Op] | None = None,
    ) -> ObjectVersion:
        """Assign seq/version id and commit ``rec`` as the key's current version (worker thread).

        ``blob_ops`` (the manifest of a body being written, see ``BlobStore.write(commit=...)``)
        join the same batch.
        """
        rec.seq = self.store.seq.next()
        rec.version_id = self.store.new_version_id(rec.seq, bucket.versioning == "Enabled")

        def check(cur: ObjectVersion | None) -> None:
            if if_match is not None or if_none_match is not None:
                check_write(cur, rec.key, if_match, if_none_match)

        def extra(_cur: ObjectVersion | None) -> list[Any]:
            return [*(blob_ops or ()), *(self._event_ops(ctx, bucket, event, rec) if event else ())]

        self.store.commit_version(bucket.name, rec, check=check, extra_ops=extra)
        return rec

    # --- POST Object (browser form upload; called by the gateway, see post_object.py) -----------

    async def post_object(self, ctx: CallContext, bucket_name: str, content_type: str | None, body: Any,
                          expected_bucket_owner: str | None = None, request_payer: str | None = None,
                          verify_form: Callable[[dict[str, str], str, str], CallContext] | None = None,
                          ) -> tuple[int, dict[str, str], bytes]:
        """Store the ``file`` field of a form upload; returns (status, headers, body) to answer.

        ``expected_bucket_owner`` and ``request_payer`` are the request's ``x-amz-expected-bucket-owner``
        and ``x-amz-request-payer`` headers; form fields of those names count too (request_checks.py).
        ``verify_form(fields, bucket, key)``, given by the gateway when signatures are checked,
        verifies the form's signature and authorizes the upload, returning the uploader's context
        or raising the S3 error; without it the form's credential only names the requester.
        """
        from awsemu.services.s3 import post_object as form
        from awsemu.services.s3.request_checks import check_form_upload

        try:
            bucket = await self._in_thread(self._bucket, bucket_name)
            reader = form.FormReader(body, form.boundary_of(content_type))
            fields: dict[str, str] = {}
            filename = None
            file_type = None
            while True:
                part = await reader.next_part()
                if part is None:
                    raise form.InvalidArgument("POST requires exactly one file upload per request.",
                                               fields={"ArgumentName": "file", "ArgumentValue": "0"})
                disposition, headers = part
                name = disposition.get("name", "")
                if name.lower() == "file":
                    filename = disposition.get("filename", "")
                    file_type = headers.get("content-type")
                    break
                fields[name] = await reader.value()
            lowered = {k.lower(): v for k, v in fields.items()}
            key = lowered.get("key")
            if not key:
                raise form.InvalidArgument("Bucket POST must contain a field named 'key'.  If it is specified, "
                                           "please check the order of the fields.",
                                           fields={"ArgumentName": "key", "ArgumentValue": ""})
            key = key.replace("${filename}", filename or "")
            check_key(key)
            # Authentication first: a form that does not check out learns nothing from its policy.
            ctx = verify_form(lowered, bucket.name, key) if verify_form is not None else form.form_requester(ctx, lowered)
            length_range = form.check_policy(lowered.get("policy"), fields, bucket.name)
            charged = await self._in_thread(
                check_form_upload, self.store, ctx, bucket.name,
                (expected_bucket_owner, lowered.get("x-amz-expected-bucket-owner")),
                (request_payer, lowered.get("x-amz-request-payer")))
            p: dict[str, Any] = {
                "ContentType": lowered.get("content-type") or file_type, "CacheControl": lowered.get("cache-control"),
                "ContentDisposition": lowered.get("content-disposition"),
                "ContentEncoding": lowered.get("content-encoding"), "Expires": None,
                "StorageClass": lowered.get("x-amz-storage-class"), "ACL": lowered.get("acl"),
                "ServerSideEncryption": lowered.get("x-amz-server-side-encryption"),
                "Metadata": {k[len("x-amz-meta-"):]: v for k, v in lowered.items() if k.startswith("x-amz-meta-")},
            }
            attrs = await self._in_thread(self._new_version_attrs, ctx, bucket, p)
        except ServiceError:  # S3's own, or the form's auth refusal
            await drain(body)
            raise

        def commit(ref: BlobRef, blob_ops: list[Op]) -> ObjectVersion:
            if length_range is not None:
                from awsemu.services.s3.errors import EntityTooLarge, EntityTooSmall

                if ref.size < length_range[0]:
                    raise EntityTooSmall(fields={"ProposedSize": str(ref.size), "MinSizeAllowed": str(length_range[0])})
                if ref.size > length_range[1]:
                    raise EntityTooLarge(fields={"ProposedSize": str(ref.size), "MaxSizeAllowed": str(length_range[1])})
            rec = ObjectVersion(
                key=key, seq=0, version_id="", last_modified=time.time(), owner=ctx.account_id,
                blob_id=ref.blob_id, size=ref.size, etag=ref.md5 or "",
                checksums={ck.DEFAULT_ALGORITHM: ref.checksums[ck.DEFAULT_ALGORITHM]}, checksum_type="FULL_OBJECT",
                **attrs,
            )
            return self._commit_new(ctx, bucket, rec, None, None, "ObjectCreated:Post", blob_ops)

        async def file_then_drain() -> AsyncIterator[bytes]:
            async for chunk in reader.stream():
                yield chunk
            await drain(body)  # the form's closing boundary: read before we answer

        rec = await self.store.blobs.write(file_then_drain(), checksums=[ck.DEFAULT_ALGORITHM], commit=commit)
        status, headers, out = form.success_response(fields, ctx.endpoint, bucket.name, key, rec.etag)
        if bucket.versioning:
            headers["x-amz-version-id"] = rec.version_id
        if charged:
            headers["x-amz-request-charged"] = "requester"
        return status, headers, out

    # --- GetObject / HeadObject ----------------------------------------------------------------

    def _resolve(self, bucket: BucketRecord, key: str, version_id: str | None) -> ObjectVersion:
        """The version a read addresses; 404s carry S3's delete-marker headers."""
        if version_id is not None:
            if version_id != "null" and parse_version_id(version_id) is None:
                raise invalid_argument("Invalid version id specified", "versionId", version_id)
            rec = self.store.version(bucket.name, key, version_id)
            if rec is None:
                from awsemu.services.s3.errors import NoSuchVersion

                raise NoSuchVersion(fields={"Key": key, "VersionId": version_id})
            if rec.delete_marker:
                raise MethodNotAllowed(
                    fields={"Method": "GET", "ResourceType": "DeleteMarker"},
                    headers={**delete_marker_headers(rec), "Allow": "DELETE",
                             "Last-Modified": _http_date(rec.last_modified)},
                )
            return rec
        rec = self.store.current(bucket.name, key)
        if rec is None:
            raise no_such_key(key)
        if rec.delete_marker:
            raise NoSuchKey(fields={"Key": key}, headers=delete_marker_headers(rec))
        return rec

    def _read_common(self, Bucket: str, Key: str, p: dict[str, Any]) -> tuple[BucketRecord, ObjectVersion, dict[str, Any]]:
        bucket = self._bucket(Bucket)
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        check_sse_c_read(rec, p)
        out = object_headers(rec, bucket, (p.get("ChecksumMode") or "").upper() == "ENABLED")
        conditions = (p.get("IfMatch"), p.get("IfNoneMatch"), p.get("IfModifiedSince"), p.get("IfUnmodifiedSince"))
        if conditions != (None, None, None, None):
            # the headers of a 304 are built only when a 304 is possible
            not_modified_headers = {"ETag": rec.quoted_etag, "Last-Modified": _http_date(rec.last_modified)}
            check_read(rec, *conditions, not_modified_headers)
        for member, target in RESPONSE_OVERRIDES.items():
            value = p.get(member)
            if value is not None:
                out[target] = value
        expiration = self._expiration_header(bucket, rec)
        if expiration:
            out["Expiration"] = expiration
        return bucket, rec, out

    def _range_of(self, rec: ObjectVersion, p: dict[str, Any], out: dict[str, Any]) -> tuple[int, int]:
        part_number = p.get("PartNumber")
        if part_number is not None:
            if p.get("Range") is not None:
                raise invalid_argument("Cannot specify both Range header and partNumber query parameter",
                                       "partNumber", part_number)
            sizes = [int(s[0]) for s in rec.parts] if rec.parts else [rec.size]
            if not 1 <= part_number <= len(sizes):
                from awsemu.services.s3.errors import InvalidRange

                raise InvalidRange("The requested partnumber is not satisfiable",
                                   fields={"PartNumberRequested": str(part_number), "ActualPartCount": str(len(sizes))})
            start = sum(sizes[: part_number - 1])
            end = start + sizes[part_number - 1]
            if rec.parts:
                # x-amz-mp-parts-count answers partNumber reads only (API reference, GetObject)
                out["PartsCount"] = len(sizes)
                self._part_checksum(rec, part_number, out)
            out["ContentRange"] = f"bytes {start}-{end - 1}/{rec.size}" if rec.size else None
            out["ContentLength"] = end - start
            out["StatusCode"] = 206
            return start, end
        byte_range = parse_range(p.get("Range"), rec.size)
        if byte_range is None:
            return 0, rec.size
        out["ContentRange"] = byte_range.content_range(rec.size)
        out["ContentLength"] = byte_range.end - byte_range.start
        out["StatusCode"] = 206
        # a ranged GET returns the whole object's checksum only when the range is the whole object
        if byte_range.end - byte_range.start != rec.size:
            for member in ck.MEMBERS.values():
                out.pop(member, None)
            out.pop("ChecksumType", None)
        return byte_range.start, byte_range.end

    @staticmethod
    def _part_checksum(rec: ObjectVersion, part_number: int, out: dict[str, Any]) -> None:
        """A part read carries the part's own checksum, never the object's: a COMPOSITE object
        answers the part's stored checksum; a FULL_OBJECT one of a single part answers the object's
        (it is the part's), of several parts none (the part's own is not kept for reads)."""
        if not any(member in out for member in ck.MEMBERS.values()):
            return  # checksum mode not enabled, or nothing stored
        if rec.checksum_type == "FULL_OBJECT" and len(rec.parts or ()) == 1:
            return
        for member in ck.MEMBERS.values():
            out.pop(member, None)
        out.pop("ChecksumType", None)
        if rec.checksum_type == "COMPOSITE" and rec.parts:
            sums = rec.parts[part_number - 1][2] or {}
            out.update(ck.checksum_output(sums, "COMPOSITE"))

    @runs_inline
    def get_object(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket, rec, out = self._read_common(Bucket, Key, p)
        if rec.storage_class in ARCHIVED:
            check_readable(rec)  # GLACIER/DEEP_ARCHIVE: only a restored copy can be read
        start, end = self._range_of(rec, p, out)
        if rec.blob_id is None or end <= start:
            out["Body"] = b""
        elif rec.size <= self.store.blobs.inline_max:
            # the body lives inside the blob manifest in lsm: one get, cheaper than a thread hop
            out["Body"] = b"".join(bytes(c) for c in self.store.blobs.iter_read(rec.blob_id, start, end))
        else:
            out["Body"] = self.store.blobs.read(rec.blob_id, start, end)
        return out

    @runs_inline
    def head_object(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket, rec, out = self._read_common(Bucket, Key, p)
        self._range_of(rec, p, out)
        return out

    # --- GetObjectAttributes -------------------------------------------------------------------

    def get_object_attributes(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        rec = self._resolve(bucket, Key, p.get("VersionId"))
        check_sse_c_read(rec, p)
        wanted = set(p.get("ObjectAttributes") or [])
        out: dict[str, Any] = {"LastModified": _dt(rec.last_modified)}
        if bucket.versioning:
            out["VersionId"] = rec.version_id
        if "ETag" in wanted:
            out["ETag"] = rec.etag
        if "StorageClass" in wanted:
            out["StorageClass"] = rec.storage_class
        if "ObjectSize" in wanted:
            out["ObjectSize"] = rec.size
        if "Checksum" in wanted and rec.checksums:
            out["Checksum"] = ck.checksum_output(rec.checksums, rec.checksum_type)
        if "ObjectParts" in wanted and rec.parts:
            marker = p.get("PartNumberMarker") or 0
            max_parts = p.get("MaxParts") or 1000
            numbered = [(i + 1, part) for i, part in enumerate(rec.parts) if i + 1 > marker]
            page = numbered[:max_parts]
            parts_out = []
            for number, (size, _etag, sums) in page:
                entry = {"PartNumber": number, "Size": size}
                if rec.checksum_type == "COMPOSITE":
                    entry.update({ck.MEMBERS[a]: v for a, v in (sums or {}).items()})
                parts_out.append(entry)
            out["ObjectParts"] = {
                "TotalPartsCount": len(rec.parts),
                "PartNumberMarker": marker,
                "NextPartNumberMarker": page[-1][0] if page else marker,
                "MaxParts": max_parts,
                "IsTruncated": len(numbered) > max_parts,
                "Parts": parts_out,
            }
        return out


def _dt(ts: float) -> Any:
    from awsemu.services.s3.object_attrs import http_date

    return http_date(ts)


def _http_date(ts: float) -> str:
    from email.utils import formatdate

    return formatdate(int(ts), usegmt=True)
