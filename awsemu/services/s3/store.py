"""S3's state in lsm: reading records, and committing every change as one atomic write_batch.

Every write of object metadata goes through :meth:`S3Store.commit_version` or
:meth:`S3Store.remove_version`, which build a single batch holding the version record, the
current-version key, the ``null`` pointer, the blob references (``ref_ops``/``unref_ops`` of the
blob store) and any event notifications (outbox keys): a crash leaves either all of it or none.

Concurrency: read-modify-write of one key (which version is current, which is ``null``) runs
under a lock striped by (bucket, key); multipart uploads lock on separate stripes by upload id (a
completion holds its upload lock while it takes the key lock: the order is always upload, key); conditional writes (If-Match / If-None-Match) are checked
under that lock against the current version, so two racing writers cannot both win.
Buckets are cached in memory (a cache of lsm, rebuilt on demand; lsm stays the truth).
"""

from __future__ import annotations

import threading
import time
import zlib
from typing import Any, Callable, Iterator

from awsemu.services.s3 import keys
from awsemu.services.s3.records import BucketRecord, ObjectVersion, PartRecord, UploadRecord

Op = tuple[bytes, bytes | None]
_STRIPES = 64


def blob_owner(bucket: str, key: str, seq: int) -> str:
    """The blob-store reference owner of one object version."""
    return f"s3:{bucket}/{key}#{seq}"


def part_owner(upload_id: str, number: int) -> str:
    return f"s3mpu:{upload_id}/{number}"


class Sequencer:
    """Strictly increasing 63-bit numbers from the clock (ns), so they also order across restarts."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns())
            return self._last


class S3Store:
    def __init__(self, db: Any, blobs: Any) -> None:
        self.db = db
        self.blobs = blobs
        self.seq = Sequencer()
        self._locks = [threading.Lock() for _ in range(_STRIPES)]
        # uploads have their own stripes: completion holds an upload lock, then takes a key lock
        self._upload_locks = [threading.Lock() for _ in range(_STRIPES)]
        self._bucket_lock = threading.RLock()
        self._buckets: dict[str, BucketRecord | None] = {}

    # --- locks ---------------------------------------------------------------------------------

    def key_lock(self, bucket: str, key: str) -> threading.Lock:
        return self._locks[zlib.crc32(f"{bucket}\x00{key}".encode()) % _STRIPES]

    def upload_lock(self, upload_id: str) -> threading.Lock:
        return self._upload_locks[zlib.crc32(upload_id.encode()) % _STRIPES]

    @property
    def bucket_lock(self) -> threading.RLock:
        return self._bucket_lock

    # --- buckets -------------------------------------------------------------------------------

    def bucket(self, name: str) -> BucketRecord | None:
        try:
            return self._buckets[name]
        except KeyError:
            pass
        raw = self.db.get(keys.bucket(name))
        rec = BucketRecord.decode(raw) if raw is not None else None
        self._buckets[name] = rec
        return rec

    def save_bucket(self, rec: BucketRecord) -> None:
        with self._bucket_lock:
            self.db.write_batch([(keys.bucket(rec.name), rec.encode()), (keys.owned(rec.owner, rec.name), b"")])
            self._buckets[rec.name] = rec

    def drop_bucket(self, rec: BucketRecord) -> None:
        with self._bucket_lock:
            self.db.write_batch([(keys.bucket(rec.name), None), (keys.owned(rec.owner, rec.name), None)])
            self._buckets[rec.name] = None

    def update_bucket(self, name: str, change: Callable[[BucketRecord], None]) -> BucketRecord | None:
        """Read-modify-write of a bucket record under the bucket lock."""
        with self._bucket_lock:
            rec = self.bucket(name)
            if rec is None:
                return None
            rec = rec.copy(config=dict(rec.config))
            change(rec)
            self.save_bucket(rec)
            return rec

    def owned_buckets(self, account: str) -> Iterator[str]:
        start, end = keys.owned_range(account)
        for k, _ in self.db.scan(start, end):
            yield str(keys.parse(k)[3])

    def all_buckets(self) -> Iterator[BucketRecord]:
        start, end = keys.all_buckets_range()
        for _, v in self.db.scan(start, end):
            yield BucketRecord.decode(v)

    def forget_cache(self) -> None:
        with self._bucket_lock:
            self._buckets.clear()

    def bucket_has_content(self, name: str) -> bool:
        for rng in (keys.versions_range(name), keys.uploads_range(name)):
            for _ in self.db.scan(rng[0], rng[1], limit=1):
                return True
        return False

    # --- objects -------------------------------------------------------------------------------

    def current(self, bucket: str, key: str) -> ObjectVersion | None:
        raw = self.db.get(keys.current(bucket, key))
        return ObjectVersion.decode(raw) if raw is not None else None

    def version(self, bucket: str, key: str, version_id: str) -> ObjectVersion | None:
        if version_id == "null":
            raw_seq = self.db.get(keys.null_pointer(bucket, key))
            if raw_seq is None:
                return None
            seq = int(raw_seq)
        else:
            seq = parse_version_id(version_id)
            if seq is None:
                return None
        raw = self.db.get(keys.version(bucket, key, seq))
        if raw is None:
            return None
        rec = ObjectVersion.decode(raw)
        return rec if rec.version_id == version_id else None

    def key_versions(self, bucket: str, key: str) -> Iterator[ObjectVersion]:
        start, end = keys.key_versions_range(bucket, key)
        for _, v in self.db.scan(start, end):
            yield ObjectVersion.decode(v)

    def new_version_id(self, seq: int, versioned: bool) -> str:
        return make_version_id(seq) if versioned else "null"

    def commit_version(
        self,
        bucket: str,
        rec: ObjectVersion,
        *,
        check: Callable[[ObjectVersion | None], None] | None = None,
        extra_ops: Callable[[ObjectVersion | None], list[Op]] | None = None,
        share_blob: bool = False,
    ) -> ObjectVersion | None:
        """Make ``rec`` the current version of its key (atomically); returns the replaced current.

        ``rec.version_id == "null"`` replaces the key's previous null version (and drops its blob
        reference). ``check(current)`` runs under the key lock first and may raise (conditional
        writes). ``extra_ops(previous_current)`` adds operations to the same batch; it runs before
        ``rec`` is encoded, so it may still set fields of the record (replication status).
        """
        key = rec.key
        with self.key_lock(bucket, key):
            cur = self.current(bucket, key)
            if check is not None:
                check(cur)
            extra = extra_ops(cur) if extra_ops is not None else []
            ops: list[Op] = []
            if rec.version_id == "null":
                ops += self._drop_null_ops(bucket, key, skip_seq=rec.seq)
                ops.append((keys.null_pointer(bucket, key), str(rec.seq).encode()))
            body = rec.encode()
            ops.append((keys.version(bucket, key, rec.seq), body))
            ops.append((keys.current(bucket, key), body))
            if rec.blob_id is not None:
                ops += self.blobs.ref_ops(rec.blob_id, blob_owner(bucket, key, rec.seq))
            ops += extra
            self.db.write_batch(ops)
            return cur

    def _drop_null_ops(self, bucket: str, key: str, skip_seq: int) -> list[Op]:
        raw_seq = self.db.get(keys.null_pointer(bucket, key))
        if raw_seq is None:
            return []
        seq = int(raw_seq)
        if seq == skip_seq:
            return []
        raw = self.db.get(keys.version(bucket, key, seq))
        ops: list[Op] = [(keys.version(bucket, key, seq), None), (keys.null_pointer(bucket, key), None)]
        if raw is not None:
            old = ObjectVersion.decode(raw)
            if old.blob_id is not None:
                ops += self.blobs.unref_ops(old.blob_id, blob_owner(bucket, key, seq))
        return ops

    def rewrite_version(self, bucket: str, rec: ObjectVersion) -> None:
        """Store changed attributes (tags, ACL, retention) of an existing version, in place."""
        with self.key_lock(bucket, rec.key):
            raw = self.db.get(keys.version(bucket, rec.key, rec.seq))
            if raw is None:
                return
            body = rec.encode()
            ops: list[Op] = [(keys.version(bucket, rec.key, rec.seq), body)]
            cur = self.db.get(keys.current(bucket, rec.key))
            if cur is not None and ObjectVersion.decode(cur).seq == rec.seq:
                ops.append((keys.current(bucket, rec.key), body))
            self.db.write_batch(ops)

    def update_version(
        self, bucket: str, key: str, seq: int, change: Callable[[ObjectVersion], list[Op] | None],
    ) -> ObjectVersion | None:
        """Read-modify-write of one stored version under its key lock: ``change(rec)`` edits the
        record in place (or raises) and may return operations for the same batch. Returns the
        stored record, None when the version no longer exists (``change`` is then not called)."""
        with self.key_lock(bucket, key):
            raw = self.db.get(keys.version(bucket, key, seq))
            if raw is None:
                return None
            rec = ObjectVersion.decode(raw)
            extra = change(rec) or []
            body = rec.encode()
            ops: list[Op] = [(keys.version(bucket, key, seq), body)]
            cur = self.db.get(keys.current(bucket, key))
            if cur is not None and ObjectVersion.decode(cur).seq == seq:
                ops.append((keys.current(bucket, key), body))
            self.db.write_batch(ops + extra)
            return rec

    def remove_version(
        self,
        bucket: str,
        key: str,
        seq: int,
        *,
        check: Callable[[ObjectVersion], None] | None = None,
        extra_ops: Callable[[ObjectVersion], list[Op]] | None = None,
    ) -> ObjectVersion | None:
        """Delete one version for good; the next newest becomes current. Returns the removed one."""
        with self.key_lock(bucket, key):
            raw = self.db.get(keys.version(bucket, key, seq))
            if raw is None:
                return None
            rec = ObjectVersion.decode(raw)
            if check is not None:
                check(rec)
            ops: list[Op] = [(keys.version(bucket, key, seq), None)]
            if rec.version_id == "null":
                ops.append((keys.null_pointer(bucket, key), None))
            if rec.blob_id is not None:
                ops += self.blobs.unref_ops(rec.blob_id, blob_owner(bucket, key, seq))
            cur_raw = self.db.get(keys.current(bucket, key))
            if cur_raw is not None and ObjectVersion.decode(cur_raw).seq == seq:
                successor = None
                for other in self.key_versions(bucket, key):
                    if other.seq != seq:
                        successor = other
                        break
                if successor is None:
                    ops.append((keys.current(bucket, key), None))
                else:
                    ops.append((keys.current(bucket, key), successor.encode()))
            if extra_ops is not None:
                ops += extra_ops(rec)
            self.db.write_batch(ops)
            return rec

    # --- multipart -----------------------------------------------------------------------------

    def upload(self, bucket: str, key: str, upload_id: str) -> UploadRecord | None:
        raw = self.db.get(keys.upload(bucket, key, upload_id))
        return UploadRecord.decode(raw) if raw is not None else None

    def parts(self, upload_id: str, after: int = 0) -> Iterator[PartRecord]:
        start, end = keys.parts_range(upload_id)
        if after:
            start = keys.after(keys.part(upload_id, after))
        for _, v in self.db.scan(start, end):
            yield PartRecord.decode(v)

    def part(self, upload_id: str, number: int) -> PartRecord | None:
        raw = self.db.get(keys.part(upload_id, number))
        return PartRecord.decode(raw) if raw is not None else None


def make_version_id(seq: int) -> str:
    """An opaque 20-character version id that carries the version's sequence number."""
    salt = zlib.crc32(seq.to_bytes(8, "big")) & 0xFFFF
    return f"{seq:016x}{salt:04x}"


def parse_version_id(version_id: str) -> int | None:
    if len(version_id) != 20:
        return None
    try:
        seq = int(version_id[:16], 16)
        salt = int(version_id[16:], 16)
    except ValueError:
        return None
    return seq if zlib.crc32(seq.to_bytes(8, "big")) & 0xFFFF == salt else None
