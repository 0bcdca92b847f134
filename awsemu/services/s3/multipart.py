"""Multipart uploads: create, upload part (streamed), upload part copy, complete, abort, list.

Each part is its own blob, referenced by its part record (owner ``s3mpu:<upload>/<n>``).
Completion asks the blob store for a *composite* blob over the chosen parts (no byte copied), and
commits in one batch: the object version with its reference on the composite, the removal of the
upload record and of every part record with its reference. Parts not chosen are thereby freed.

Checksums: the upload's algorithm (``x-amz-checksum-algorithm`` at creation) is computed for
every part; COMPOSITE (default for SHA and CRC32/CRC32C) is the checksum of the part checksums
with ``-N``; FULL_OBJECT (default for CRC64NVME, and for uploads created without an algorithm,
which get S3's server-side CRC64NVME) is combined from the parts' CRCs without re-reading bytes.
"""

from __future__ import annotations

import secrets
import time
from typing import Any, Callable, Sequence

from awsemu.services.base import CallContext
from awsemu.services.s3 import checksums as ck
from awsemu.services.s3 import keys
from awsemu.services.s3.buckets import owner_of
from awsemu.services.s3.conditionals import check_write
from awsemu.services.s3.errors import (
    BadDigest,
    EntityTooSmall,
    InvalidPart,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    MalformedXML,
    NoSuchUpload,
    S3Error,
    invalid_argument,
)
from awsemu.services.s3.object_attrs import check_key, http_date
from awsemu.services.s3.objects import as_stream, drain
from awsemu.services.s3.records import BucketRecord, ObjectVersion, PartRecord, UploadRecord
from awsemu.services.s3.store import S3Store, part_owner
from awsemu.storage.blobs import BlobRef

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000


def _no_such_upload(upload_id: str) -> Exception:
    return NoSuchUpload(fields={"UploadId": upload_id})


def _check_part_number(n: int) -> None:
    if not 1 <= n <= MAX_PART_NUMBER:
        raise invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", n)


class MultipartMixin:
    store: S3Store
    _bucket: Callable[[str], BucketRecord]
    _in_thread: Callable[..., Any]
    _new_version_attrs: Callable[..., dict[str, Any]]
    _copy_source: Callable[..., Any]
    _blob_chunks: Callable[..., Any]
    _event_ops: Callable[..., list[Any]]
    _expiration_header: Callable[..., str | None]

    def _upload(self, bucket: str, key: str, upload_id: str) -> UploadRecord:
        rec = self.store.upload(bucket, key, upload_id)
        if rec is None:
            raise _no_such_upload(upload_id)
        return rec

    def create_multipart_upload(self, ctx: CallContext, Bucket: str, Key: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        check_key(Key)
        algorithm = ck.normalize_algorithm(p.get("ChecksumAlgorithm"))
        ctype = p.get("ChecksumType")
        if ctype is not None and ctype not in ("COMPOSITE", "FULL_OBJECT"):
            raise invalid_argument("Value for x-amz-checksum-type header is invalid.", "x-amz-checksum-type", ctype)
        if ctype is not None and algorithm is None:
            raise InvalidRequest("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
        if algorithm is None:
            ctype = None
        elif ctype is None:
            ctype = "FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE"
        elif ctype == "FULL_OBJECT" and not ck.supports_full_object(algorithm):
            raise InvalidRequest(f"The FULL_OBJECT checksum type cannot be used with the {algorithm.lower()} checksum algorithm.")
        elif ctype == "COMPOSITE" and algorithm == "CRC64NVME":
            raise InvalidRequest("The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.")
        attrs = self._new_version_attrs(ctx, bucket, p)
        upload_id = f"{self.store.seq.next():016x}{secrets.token_hex(12)}"
        rec = UploadRecord(upload_id=upload_id, bucket=Bucket, key=Key, initiated=time.time(), owner=ctx.account_id,
                           attrs=attrs, checksum_algorithm=algorithm, checksum_type=ctype)
        self.store.db.put(keys.upload(Bucket, Key, upload_id), rec.encode())
        out: dict[str, Any] = {"Bucket": Bucket, "Key": Key, "UploadId": upload_id, **attrs["sse"]}
        if algorithm:
            out["ChecksumAlgorithm"] = algorithm
            out["ChecksumType"] = ctype
        return out

    async def upload_part(self, ctx: CallContext, Bucket: str, Key: str, PartNumber: int, UploadId: str,
                          Body: Any = None, **p: Any) -> dict[str, Any]:
        try:
            upload, md5_hex, sent, wanted = await self._in_thread(self._check_part, Bucket, Key, PartNumber, UploadId, p)
        except S3Error:
            await drain(Body)
            raise
        algs = list(dict.fromkeys([wanted, *sent]))

        def commit(ref: BlobRef, blob_ops: list[Any]) -> PartRecord:
            """Checks on the stored body, then the part record with the blob's manifest (worker)."""
            length = p.get("ContentLength")
            if length is not None and ref.size < length and not hasattr(Body, "trailers"):
                from awsemu.services.s3.errors import IncompleteBody

                raise IncompleteBody()
            ck.verify({**sent, **ck.trailer_checksums(Body)}, ref.checksums)
            ck.verify_md5(md5_hex, ref.md5, p.get("ContentMD5"))
            part = PartRecord(number=PartNumber, blob_id=ref.blob_id, size=ref.size, etag=ref.md5 or "",
                              last_modified=time.time(), checksums={wanted: ref.checksums[wanted]})
            self._save_part(upload, part, blob_ops)
            return part

        part = await self.store.blobs.write(as_stream(Body), checksums=algs, commit=commit)
        out: dict[str, Any] = {"ETag": f'"{part.etag}"', **upload.attrs.get("sse", {})}
        if upload.checksum_algorithm:
            out.update(ck.checksum_output(part.checksums, None))
        return out

    def _check_part(self, Bucket: str, Key: str, PartNumber: int, UploadId: str, p: dict[str, Any]) -> tuple[Any, ...]:
        """Everything UploadPart can refuse before reading the body."""
        self._bucket(Bucket)
        _check_part_number(PartNumber)
        upload = self._upload(Bucket, Key, UploadId)
        md5_hex = ck.content_md5(p.get("ContentMD5"))
        sent = ck.header_checksums(p)
        if len(sent) > 1:
            raise InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
        declared = ck.normalize_algorithm(p.get("ChecksumAlgorithm"))
        wanted = upload.checksum_algorithm or ck.DEFAULT_ALGORITHM
        for alg in list(sent) + ([declared] if declared else []):
            if upload.checksum_algorithm and alg != upload.checksum_algorithm:
                raise InvalidRequest(
                    f"Checksum Type mismatch occurred, expected checksum Type: {upload.checksum_algorithm.lower()}, "
                    f"actual checksum Type: {alg.lower()}")
        return upload, md5_hex, sent, wanted

    def _save_part(self, upload: UploadRecord, part: PartRecord, blob_ops: Sequence[Any] = ()) -> None:
        """Commit a part record (with the manifest of its body being written, if any)."""
        with self.store.upload_lock(upload.upload_id):
            if self.store.upload(upload.bucket, upload.key, upload.upload_id) is None:
                raise _no_such_upload(upload.upload_id)
            ops: list[Any] = [*blob_ops, (keys.part(upload.upload_id, part.number), part.encode())]
            old = self.store.part(upload.upload_id, part.number)
            if old is not None and old.blob_id and old.blob_id != part.blob_id:
                ops += self.store.blobs.unref_ops(old.blob_id, part_owner(upload.upload_id, part.number))
            if part.blob_id:
                ops += self.store.blobs.ref_ops(part.blob_id, part_owner(upload.upload_id, part.number))
            self.store.db.write_batch(ops)

    async def upload_part_copy(self, ctx: CallContext, Bucket: str, Key: str, CopySource: str, PartNumber: int,
                               UploadId: str, **p: Any) -> dict[str, Any]:
        await self._in_thread(self._bucket, Bucket)
        _check_part_number(PartNumber)
        upload = await self._in_thread(self._upload, Bucket, Key, UploadId)
        _src_bucket, src, src_version = await self._in_thread(self._copy_source, CopySource, p)
        wanted = upload.checksum_algorithm or ck.DEFAULT_ALGORITHM
        byte_range = p.get("CopySourceRange")
        start, end = 0, src.size
        if byte_range is not None:
            start, end = _copy_range(byte_range, src.size)
        whole = start == 0 and end == src.size
        if whole and src.parts is None and src.checksums.get(wanted) and src.blob_id is not None:
            part = PartRecord(number=PartNumber, blob_id=src.blob_id, size=src.size, etag=src.etag,
                              last_modified=time.time(), checksums={wanted: src.checksums[wanted]})
        else:
            ref = await self.store.blobs.write(self._blob_chunks(src, start, end), checksums=[wanted])
            part = PartRecord(number=PartNumber, blob_id=ref.blob_id, size=ref.size, etag=ref.md5 or "",
                              last_modified=time.time(), checksums={wanted: ref.checksums[wanted]})
        await self._in_thread(self._save_part, upload, part)
        result: dict[str, Any] = {"ETag": f'"{part.etag}"', "LastModified": http_date(part.last_modified)}
        if upload.checksum_algorithm:
            result.update(ck.checksum_output(part.checksums, None))
        out: dict[str, Any] = {"CopyPartResult": result, **upload.attrs.get("sse", {})}
        if src_version is not None:
            out["CopySourceVersionId"] = src_version
        return out

    def complete_multipart_upload(self, ctx: CallContext, Bucket: str, Key: str, UploadId: str, **p: Any) -> dict[str, Any]:
        bucket = self._bucket(Bucket)
        requested = (p.get("MultipartUpload") or {}).get("Parts") or []
        if not requested:
            raise MalformedXML()
        with self.store.upload_lock(UploadId):
            upload = self._upload(Bucket, Key, UploadId)
            stored = {part.number: part for part in self.store.parts(UploadId)}
            chosen: list[PartRecord] = []
            last_number = 0
            for item in requested:
                number = int(item.get("PartNumber") or 0)
                if number <= last_number:
                    raise InvalidPartOrder(fields={"UploadId": UploadId})
                last_number = number
                part = stored.get(number)
                etag = (item.get("ETag") or "").strip('"')
                if part is None or etag != part.etag:
                    raise InvalidPart(fields={"UploadId": UploadId, "PartNumber": str(number), "ETag": etag})
                for alg, member in ck.MEMBERS.items():
                    given = item.get(member)
                    if given is not None and part.checksums.get(alg) not in (None, given):
                        raise InvalidPart(fields={"UploadId": UploadId, "PartNumber": str(number), "ETag": etag})
                chosen.append(part)
            for part in chosen[:-1]:
                if part.size < MIN_PART_SIZE:
                    raise EntityTooSmall(fields={"UploadId": UploadId, "ProposedSize": str(part.size),
                                                 "MinSizeAllowed": str(MIN_PART_SIZE), "PartNumber": str(part.number),
                                                 "ETag": part.etag})
            total = sum(part.size for part in chosen)
            expected_size = p.get("MpuObjectSize")
            if expected_size is not None and int(expected_size) != total:
                raise InvalidRequest(f"The provided 'x-amz-mp-object-size' header value {expected_size} does not match "
                                     f"what was computed: {total}")
            alg = upload.checksum_algorithm or ck.DEFAULT_ALGORITHM
            ctype = upload.checksum_type or "FULL_OBJECT"
            values = [part.checksums.get(alg, "") for part in chosen]
            if ctype == "COMPOSITE":
                value = ck.composite(alg, values)
            else:
                value = ck.full_object(alg, [(v, part.size) for v, part in zip(values, chosen)])
            given_total = p.get(ck.MEMBERS[alg])
            if given_total is not None and given_total.split("-")[0] != value.split("-")[0]:
                raise BadDigest(f"The {alg} you specified did not match the calculated checksum.")
            blob_ids = [part.blob_id for part in chosen if part.blob_id]
            composite = self.store.blobs.compose_sync(blob_ids) if blob_ids else None
            attrs = dict(upload.attrs)
            rec = ObjectVersion(
                key=Key, seq=self.store.seq.next(), version_id="", last_modified=time.time(), owner=ctx.account_id,
                blob_id=composite.blob_id if composite else None, size=total,
                etag=ck.multipart_etag(part.etag for part in chosen),
                checksums={alg: value}, checksum_type=ctype, checksum_algorithm=upload.checksum_algorithm or alg,
                parts=[[part.size, part.etag, part.checksums] for part in chosen],
                **attrs,
            )
            rec.version_id = self.store.new_version_id(rec.seq, bucket.versioning == "Enabled")

            def check(cur: ObjectVersion | None) -> None:
                if p.get("IfMatch") is not None or p.get("IfNoneMatch") is not None:
                    check_write(cur, Key, p.get("IfMatch"), p.get("IfNoneMatch"))

            def extra(_cur: ObjectVersion | None) -> list[Any]:
                ops: list[Any] = [(keys.upload(Bucket, Key, UploadId), None)]
                for part in stored.values():
                    ops.append((keys.part(UploadId, part.number), None))
                    if part.blob_id:
                        ops += self.store.blobs.unref_ops(part.blob_id, part_owner(UploadId, part.number))
                return ops + self._event_ops(ctx, bucket, "ObjectCreated:CompleteMultipartUpload", rec)

            self.store.commit_version(Bucket, rec, check=check, extra_ops=extra)
        out: dict[str, Any] = {
            "Location": f"{ctx.endpoint}/{Bucket}/{Key}",
            "Bucket": Bucket,
            "Key": Key,
            "ETag": rec.quoted_etag,
            **rec.sse,
        }
        if upload.checksum_algorithm:
            out.update(ck.checksum_output(rec.checksums, rec.checksum_type))
        if bucket.versioning:
            out["VersionId"] = rec.version_id
        expiration = self._expiration_header(bucket, rec)
        if expiration:
            out["Expiration"] = expiration
        return out

    def abort_multipart_upload(self, ctx: CallContext, Bucket: str, Key: str, UploadId: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        with self.store.upload_lock(UploadId):
            self._upload(Bucket, Key, UploadId)
            self.store.db.write_batch(self.abort_ops(Bucket, Key, UploadId))
        return {}

    def abort_ops(self, bucket: str, key: str, upload_id: str) -> list[Any]:
        ops: list[Any] = [(keys.upload(bucket, key, upload_id), None)]
        for part in self.store.parts(upload_id):
            ops.append((keys.part(upload_id, part.number), None))
            if part.blob_id:
                ops += self.store.blobs.unref_ops(part.blob_id, part_owner(upload_id, part.number))
        return ops

    def list_parts(self, ctx: CallContext, Bucket: str, Key: str, UploadId: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        upload = self._upload(Bucket, Key, UploadId)
        marker = p.get("PartNumberMarker") or 0
        max_parts = p.get("MaxParts")
        max_parts = 1000 if max_parts is None else min(max_parts, 1000)
        parts: list[dict[str, Any]] = []
        truncated = False
        for part in self.store.parts(UploadId, after=marker):
            if len(parts) >= max_parts:
                truncated = True
                break
            entry = {"PartNumber": part.number, "LastModified": http_date(part.last_modified),
                     "ETag": f'"{part.etag}"', "Size": part.size}
            if upload.checksum_algorithm:
                entry.update(ck.checksum_output(part.checksums, None))
            parts.append(entry)
        out: dict[str, Any] = {
            "Bucket": Bucket, "Key": Key, "UploadId": UploadId,
            "PartNumberMarker": marker, "MaxParts": max_parts, "IsTruncated": truncated,
            "Initiator": {"ID": owner_of(upload.owner)["ID"]}, "Owner": owner_of(upload.owner),
            "StorageClass": upload.attrs.get("storage_class", "STANDARD"),
        }
        if parts:
            out["Parts"] = parts
            out["NextPartNumberMarker"] = parts[-1]["PartNumber"]
        if upload.checksum_algorithm:
            out["ChecksumAlgorithm"] = upload.checksum_algorithm
            out["ChecksumType"] = upload.checksum_type
        return out

    def list_multipart_uploads(self, ctx: CallContext, Bucket: str, **p: Any) -> dict[str, Any]:
        self._bucket(Bucket)
        prefix = p.get("Prefix") or ""
        delimiter = p.get("Delimiter") or ""
        key_marker = p.get("KeyMarker") or ""
        id_marker = p.get("UploadIdMarker") or ""
        max_uploads = p.get("MaxUploads")
        max_uploads = 1000 if max_uploads is None else min(max_uploads, 1000)
        from urllib.parse import quote

        enc = (lambda s: quote(s, safe="/")) if p.get("EncodingType") == "url" else (lambda s: s)
        _, end = keys.uploads_range(Bucket)
        if key_marker and key_marker >= prefix:
            start = (keys.after(keys.upload(Bucket, key_marker, id_marker)) if id_marker
                     else keys.seek(keys.SERVICE, "u", Bucket, key_marker, "\U0010ffff"))
        else:
            start = keys.seek(keys.SERVICE, "u", Bucket, prefix)
        uploads: list[UploadRecord] = []
        prefixes: list[str] = []
        truncated = False
        for _, raw in self.store.db.scan(start, end):
            up = UploadRecord.decode(raw)
            if not up.key.startswith(prefix):
                break
            if delimiter:
                idx = up.key.find(delimiter, len(prefix))
                if idx >= 0:
                    common = up.key[: idx + len(delimiter)]
                    if prefixes and prefixes[-1] == common:
                        continue
                    if len(uploads) + len(prefixes) >= max_uploads:
                        truncated = True
                        break
                    prefixes.append(common)
                    continue
            if len(uploads) + len(prefixes) >= max_uploads:
                truncated = True
                break
            uploads.append(up)
        out: dict[str, Any] = {
            "Bucket": Bucket, "KeyMarker": enc(key_marker), "UploadIdMarker": id_marker, "Prefix": enc(prefix),
            "MaxUploads": max_uploads, "IsTruncated": truncated,
        }
        if delimiter:
            out["Delimiter"] = enc(delimiter)
        if p.get("EncodingType"):
            out["EncodingType"] = p["EncodingType"]
        if uploads:
            out["Uploads"] = [
                {"UploadId": up.upload_id, "Key": enc(up.key), "Initiated": http_date(up.initiated),
                 "StorageClass": up.attrs.get("storage_class", "STANDARD"), "Owner": owner_of(up.owner),
                 "Initiator": {"ID": owner_of(up.owner)["ID"]},
                 **({"ChecksumAlgorithm": up.checksum_algorithm, "ChecksumType": up.checksum_type}
                    if up.checksum_algorithm else {})}
                for up in uploads
            ]
        if prefixes:
            out["CommonPrefixes"] = [{"Prefix": enc(c)} for c in prefixes]
        if truncated and uploads:
            out["NextKeyMarker"] = enc(uploads[-1].key)
            out["NextUploadIdMarker"] = uploads[-1].upload_id
        return out


def _copy_range(value: str, size: int) -> tuple[int, int]:
    import re

    m = re.match(r"^bytes=(\d+)-(\d+)$", value.strip())
    if m is None:
        raise invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the "
            "zero-based offsets of the first and last bytes to copy", "x-amz-copy-source-range", value)
    first, last = int(m.group(1)), int(m.group(2))
    if first > last or last >= size:
        raise InvalidRange(fields={"RangeRequested": value, "ActualObjectSize": str(size)})
    return first, last + 1

