"""The S3 provider: one method per S3 operation, assembled from topic mixins.

=================  ==========================================================================
buckets.py         CreateBucket, HeadBucket, DeleteBucket, ListBuckets, GetBucketLocation
objects.py         PutObject, GetObject, HeadObject, GetObjectAttributes
deletes.py         DeleteObject, DeleteObjects
copy.py            CopyObject
listing.py         ListObjects, ListObjectsV2, ListObjectVersions
multipart.py       Create/UploadPart/UploadPartCopy/Complete/Abort, ListParts, ListMultipartUploads
versioning.py      bucket versioning, object lock configuration, retention, legal hold
config.py          tagging, ACLs, ownership controls, public access block, policy, CORS, encryption, website
lifecycle.py       lifecycle configuration, x-amz-expiration, the expiry sweeper
notifications.py   notification configuration, event outbox, delivery to SQS
replication.py     replication configuration, replicas committed to destination buckets, replication status
archive.py         GLACIER/DEEP_ARCHIVE reads refused, RestoreObject, x-amz-restore, restore events
bucket_settings.py logging, request payment, accelerate configuration
keyed_configs.py   analytics, inventory, metrics and intelligent-tiering configurations (by Id)
request_checks.py  bucket owner condition and Requester Pays, checked before every operation
=================  ==========================================================================

State: lsm (layout in keys.py, records in records.py) and the blob store for bodies; the
provider's only in-memory state is a cache of bucket records (store.py). Gateway hooks for what
is HTTP rather than an S3 operation: :meth:`S3Provider.cors_preflight` (OPTIONS),
:meth:`S3Provider.cors_headers` (CORS headers on real responses, cors.py), ``post_object``
(browser form uploads, post_object.py) and :func:`presign.check_presigned_expiry`; for the auth
layer, :meth:`S3Provider.bucket_policy`.
"""

from __future__ import annotations

from typing import Any, Callable

from awsemu.services.base import Provider
from awsemu.services.s3 import cors, keys
from awsemu.services.s3.archive import ArchiveMixin
from awsemu.services.s3.bucket_settings import BucketSettingsMixin
from awsemu.services.s3.buckets import BucketsMixin
from awsemu.services.s3.config import ConfigMixin
from awsemu.services.s3.copy import CopyMixin
from awsemu.services.s3.deletes import DeletesMixin
from awsemu.services.s3.keyed_configs import KeyedConfigsMixin
from awsemu.services.s3.lifecycle import LifecycleMixin
from awsemu.services.s3.listing import ListingMixin
from awsemu.services.s3.multipart import MultipartMixin
from awsemu.services.s3.notifications import NotificationsMixin
from awsemu.services.s3.objects import ObjectsMixin
from awsemu.services.s3.replication import ReplicationMixin
from awsemu.services.s3.request_checks import checked
from awsemu.services.s3.store import S3Store
from awsemu.services.s3.versioning import VersioningMixin


class S3Provider(
    BucketsMixin,
    ObjectsMixin,
    DeletesMixin,
    CopyMixin,
    ListingMixin,
    MultipartMixin,
    VersioningMixin,
    ConfigMixin,
    LifecycleMixin,
    ReplicationMixin,  # before NotificationsMixin: extends its _event_ops and deliver_outbox
    ArchiveMixin,  # before NotificationsMixin: extends its deliver_outbox
    NotificationsMixin,
    BucketSettingsMixin,
    KeyedConfigsMixin,
    Provider,
):
    service_name = "s3"

    def __init__(self, storage: Any, config: Any) -> None:
        Provider.__init__(self, storage, config)
        if storage.blobs is None:
            raise RuntimeError("the S3 provider needs the blob store (awsemu.storage.blobs)")
        self.store = S3Store(storage.db, storage.blobs)

    def handler_for(self, operation_name: str) -> Callable[..., Any] | None:
        """Every operation runs behind the bucket owner condition and Requester Pays checks."""
        handler = super().handler_for(operation_name)
        return checked(self.store, operation_name, handler) if handler is not None else None

    def start(self) -> None:
        self.start_notifications()
        self.start_lifecycle()

    def stop(self) -> None:
        self.stop_lifecycle()
        self.stop_notifications()

    def reset(self) -> None:
        """Drop every bucket, version, upload and pending event, with their blob references."""
        db = self.store.db
        ops: list[tuple[bytes, bytes | None]] = []
        for kind in ("b", "a", "o", "n", "q", "u", "x"):
            ops += [(k, None) for k, _ in db.scan(*keys.kind_range(kind))]
        from awsemu.services.s3.records import ObjectVersion, PartRecord
        from awsemu.services.s3.store import blob_owner, part_owner

        for k, v in db.scan(*keys.kind_range("v")):
            ops.append((k, None))
            rec = ObjectVersion.decode(v)
            if rec.blob_id:
                bucket = str(keys.parse(k)[2])
                ops += self.store.blobs.unref_ops(rec.blob_id, blob_owner(bucket, rec.key, rec.seq))
        for k, v in db.scan(*keys.kind_range("p")):
            ops.append((k, None))
            part = PartRecord.decode(v)
            if part.blob_id:
                ops += self.store.blobs.unref_ops(part.blob_id, part_owner(str(keys.parse(k)[2]), part.number))
        ops += self.replication_reset_ops()
        if ops:
            db.write_batch(ops)
        self.store.forget_cache()

    # --- hooks for the auth layer ---------------------------------------------------------------

    def bucket_policy(self, bucket: str) -> str | None:
        """The bucket's policy document (JSON text) for the iam-mode evaluator, None if none."""
        rec = self.store.bucket(bucket)
        return rec.config.get("policy") if rec is not None else None

    # --- gateway hooks for CORS (HTTP concerns, not S3 operations) -----------------------------

    def cors_preflight(self, bucket: str, origin: str | None, method: str | None,
                       request_headers: str | None, *, on_object: bool = True) -> dict[str, str]:
        """Headers of the 200 answer to ``OPTIONS /bucket[/key]``; raises the S3Error to answer."""
        rec = self.store.bucket(bucket)
        if rec is None:
            from awsemu.services.s3.errors import no_such_bucket

            raise no_such_bucket(bucket)
        return cors.preflight(rec.config.get("cors"), origin, method, request_headers, on_object=on_object)

    def cors_headers(self, bucket: str | None, origin: str | None, method: str) -> dict[str, str]:
        """CORS headers for a real response to a request with an ``Origin`` header ({} if none)."""
        if not bucket or not origin:
            return {}
        rec = self.store.bucket(bucket)
        return cors.response_headers(rec.config.get("cors") if rec else None, origin, method)
