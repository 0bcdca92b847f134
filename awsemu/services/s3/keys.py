"""The lsm key layout of S3, built with the order-preserving tuple codec.

::

    ("s3", "b", bucket)                         -> BucketRecord (bucket names are global)
    ("s3", "a", owner account, bucket)          -> b""  ListBuckets index, by name per account
    ("s3", "o", bucket, key)                    -> ObjectVersion: the current (newest) version
    ("s3", "v", bucket, key, NEWEST - seq)      -> ObjectVersion: every version, newest first
    ("s3", "n", bucket, key)                    -> seq of the key's ``null`` version
    ("s3", "u", bucket, key, upload id)         -> UploadRecord (multipart upload in progress)
    ("s3", "p", upload id, part number)         -> PartRecord
    ("s3", "q", seq)                            -> pending event notification (outbox)
    ("s3", "r", seq)                            -> pending replica (replication.py), holding its body
    ("s3", "x", due ns, seq)                    -> a restore event due at that time (archive.py)

Listing is a range scan: the codec orders strings by their UTF-8 bytes, which is S3's key order,
so ListObjects scans ``("s3", "o", bucket, prefix)`` forward and stops at the first key without
the prefix; a delimiter group is skipped by seeking to the smallest string greater than every key
that starts with the group (:func:`after_prefix`). ListObjectVersions is the same scan over
``"v"``, where the versions of one key come newest first, so the first one met is the latest.
Upload ids start with a time-ordered hex number, so uploads of one key list in initiation order.
"""

from __future__ import annotations

from awsemu.storage.lsm.keycodec import decode, encode, prefix_end

SERVICE = "s3"
NEWEST = (1 << 63) - 1
Range = tuple[bytes, bytes]


def _range(*parts: object) -> Range:
    base = encode(*parts)  # type: ignore[arg-type]
    end = prefix_end(base)
    assert end is not None  # our prefixes start with "s3", never all 0xFF
    return base, end


def bucket(name: str) -> bytes:
    return encode(SERVICE, "b", name)


def all_buckets_range() -> Range:
    return _range(SERVICE, "b")


def owned(account: str, name: str) -> bytes:
    return encode(SERVICE, "a", account, name)


def owned_range(account: str) -> Range:
    return _range(SERVICE, "a", account)


def current(bucket_name: str, key: str) -> bytes:
    return encode(SERVICE, "o", bucket_name, key)


def objects_range(bucket_name: str) -> Range:
    return _range(SERVICE, "o", bucket_name)


def version(bucket_name: str, key: str, seq: int) -> bytes:
    return encode(SERVICE, "v", bucket_name, key, NEWEST - seq)


def versions_range(bucket_name: str) -> Range:
    return _range(SERVICE, "v", bucket_name)


def key_versions_range(bucket_name: str, key: str) -> Range:
    return _range(SERVICE, "v", bucket_name, key)


def null_pointer(bucket_name: str, key: str) -> bytes:
    return encode(SERVICE, "n", bucket_name, key)


def upload(bucket_name: str, key: str, upload_id: str) -> bytes:
    return encode(SERVICE, "u", bucket_name, key, upload_id)


def uploads_range(bucket_name: str) -> Range:
    return _range(SERVICE, "u", bucket_name)


def part(upload_id: str, number: int) -> bytes:
    return encode(SERVICE, "p", upload_id, number)


def parts_range(upload_id: str) -> Range:
    return _range(SERVICE, "p", upload_id)


def outbox(seq: int) -> bytes:
    return encode(SERVICE, "q", seq)


def outbox_range() -> Range:
    return _range(SERVICE, "q")


def kind_range(kind: str) -> Range:
    """Every key of one kind ("b", "o", "v" ...) across buckets (reset)."""
    return _range(SERVICE, kind)


def seek(*parts: object) -> bytes:
    """The key of a tuple, used as a scan start (e.g. ``("s3", "o", bucket, start_after)``)."""
    return encode(*parts)


def after(key: bytes) -> bytes:
    """The smallest key strictly greater than ``key``."""
    return key + b"\x00"


def after_prefix(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix``.

    Incrementing the last code point works because UTF-8 byte order is code point order; the
    surrogate block is skipped (it has no UTF-8 form). None when no such string exists.
    """
    chars = list(prefix)
    while chars:
        cp = ord(chars[-1]) + 1
        if cp == 0xD800:
            cp = 0xE000
        if cp <= 0x10FFFF:
            chars[-1] = chr(cp)
            return "".join(chars)
        chars.pop()
    return None


def parse(key: bytes) -> tuple[object, ...]:
    return tuple(decode(key))
