"""The lsm key layout of DynamoDB, built with the order-preserving tuple codec.

    ("ddb", "t", account, region, table_name)                  -> table record (JSON)
    ("ddb", "s", uid, index)                                   -> statistics (item count, bytes); index "" = table
    ("ddb", "i", uid, bucket, pk [, sk])                       -> item
    ("ddb", "x", uid, index, bucket, ipk [, isk], pk [, sk])   -> index entry (projected item)
    ("ddb", "q", uid, shard, sequence)                         -> stream record
    ("ddb", "h", uid, stream label, shard)                     -> shard of a stream (parent, first sequence)
    ("ddb", "e", uid, expires, item row key)                   -> TTL index entry (value: the item row key)
    ("ddb", "k", token_hash)                                   -> transaction token (idempotency)
    ("ddb", "r", account, region, table_name, stream label)    -> a retired stream, readable for 24 h
    ("ddb", "v", uid, item row key)                            -> a global table item's write stamp (replication.py)

``uid`` is fresh for every created table, so a dropped table's rows can be swept lazily and a
re-created table never sees them. ``bucket`` is a 32-bit hash of the partition key: a Scan walks
items in hash order as DynamoDB does, a parallel Scan segment is a contiguous bucket range, and a
Query is one range scan over the prefix ``(…, bucket, pk)`` in sort-key order, because the codec
orders numbers, strings and binaries exactly as DynamoDB does.
"""

from __future__ import annotations

import functools
import zlib
from decimal import Decimal
from typing import Any

from awsemu.storage.lsm import keycodec

BUCKETS = 1 << 32
PREFIX = "ddb"


def encode(parts: tuple[Any, ...]) -> bytes:
    return keycodec.encode(*parts)


def decode(key: bytes) -> tuple[Any, ...]:
    return keycodec.decode(key)


def prefix_end(prefix: bytes) -> bytes:
    """Exclusive end of the keys starting with ``prefix`` (ours start with a tag, so one exists)."""
    end = keycodec.prefix_end(prefix)
    assert end is not None
    return end


def key_part(value: dict[str, Any]) -> Any:
    """A scalar AttributeValue as a codec element: N -> Decimal, S -> str, B -> bytes."""
    kind, raw = next(iter(value.items()))
    if kind == "N":
        return Decimal(raw)
    return raw


# crc32 of each scalar type tag: the seed of a bucket hash (the same value hashes differently as S and B).
_KIND_SEED = {kind: zlib.crc32(kind.encode()) for kind in ("S", "N", "B")}


def bucket_of(value: dict[str, Any]) -> int:
    for kind, raw in value.items():
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        return zlib.crc32(data, _KIND_SEED[kind])
    raise ValueError("empty AttributeValue")


def table_key(account: str, region: str, name: str) -> bytes:
    return encode((PREFIX, "t", account, region, name))


def tables_range(account: str, region: str) -> tuple[bytes, bytes]:
    start = encode((PREFIX, "t", account, region))
    return start, prefix_end(start)


def stats_key(uid: str, index: str = "") -> bytes:
    return encode((PREFIX, "s", uid, index))


@functools.lru_cache(maxsize=4096)
def _head(*parts: Any) -> bytes:
    """The encoded leading parts shared by every row of a table or index (encode is concatenative)."""
    return keycodec.encode(*parts)


_part = keycodec.encode_part


def _hashed_part(value: dict[str, Any]) -> bytes:
    """The encoded (bucket, partition key) pair that leads every row of one partition."""
    for kind, raw in value.items():
        if kind == "N":
            return _part(zlib.crc32(raw.encode("utf-8"), _KIND_SEED["N"])) + _part(Decimal(raw))
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        return _part(zlib.crc32(data, _KIND_SEED[kind])) + _part(raw)
    raise ValueError("empty AttributeValue")


def item_key(uid: str, pk: dict[str, Any], sk: dict[str, Any] | None) -> bytes:
    head = _head(PREFIX, "i", uid) + _hashed_part(pk)
    return head if sk is None else head + _part(key_part(sk))


def items_range(uid: str) -> tuple[bytes, bytes]:
    start = encode((PREFIX, "i", uid))
    return start, prefix_end(start)


def items_bucket_range(uid: str, low: int, high: int) -> tuple[bytes, bytes]:
    """Items whose bucket is in [low, high): one parallel-scan segment."""
    start = encode((PREFIX, "i", uid, low))
    end = encode((PREFIX, "i", uid, high)) if high < BUCKETS else prefix_end(encode((PREFIX, "i", uid)))
    return start, end


def partition_prefix(uid: str, pk: dict[str, Any]) -> bytes:
    return encode((PREFIX, "i", uid, bucket_of(pk), key_part(pk)))


def sort_key_bound(uid: str, pk: dict[str, Any], sk: dict[str, Any]) -> bytes:
    return encode((PREFIX, "i", uid, bucket_of(pk), key_part(pk), key_part(sk)))


def index_key(
    uid: str,
    index: str,
    ipk: dict[str, Any],
    isk: dict[str, Any] | None,
    pk: dict[str, Any],
    sk: dict[str, Any] | None,
) -> bytes:
    key = _head(PREFIX, "x", uid, index) + _part(bucket_of(ipk)) + _part(key_part(ipk))
    if isk is not None:
        key += _part(key_part(isk))
    key += _part(key_part(pk))
    if sk is not None:
        key += _part(key_part(sk))
    return key


def index_range(uid: str, index: str) -> tuple[bytes, bytes]:
    start = encode((PREFIX, "x", uid, index))
    return start, prefix_end(start)


def index_bucket_range(uid: str, index: str, low: int, high: int) -> tuple[bytes, bytes]:
    start = encode((PREFIX, "x", uid, index, low))
    end = encode((PREFIX, "x", uid, index, high)) if high < BUCKETS else prefix_end(encode((PREFIX, "x", uid, index)))
    return start, end


def index_partition_prefix(uid: str, index: str, ipk: dict[str, Any]) -> bytes:
    return encode((PREFIX, "x", uid, index, bucket_of(ipk), key_part(ipk)))


def index_sort_bound(uid: str, index: str, ipk: dict[str, Any], isk: dict[str, Any]) -> bytes:
    return encode((PREFIX, "x", uid, index, bucket_of(ipk), key_part(ipk), key_part(isk)))


def stream_key(uid: str, shard: str, sequence: int) -> bytes:
    return encode((PREFIX, "q", uid, shard, sequence))


def stream_range(uid: str, shard: str) -> tuple[bytes, bytes]:
    start = encode((PREFIX, "q", uid, shard))
    return start, prefix_end(start)


def shard_key(uid: str, label: str, shard: str) -> bytes:
    return encode((PREFIX, "h", uid, label, shard))


def shards_range(uid: str, label: str) -> tuple[bytes, bytes]:
    start = encode((PREFIX, "h", uid, label))
    return start, prefix_end(start)


def token_key(token_hash: str) -> bytes:
    return encode((PREFIX, "k", token_hash))


def everything_range() -> tuple[bytes, bytes]:
    start = encode((PREFIX,))
    return start, prefix_end(start)


def after(key: bytes) -> bytes:
    """The smallest key strictly greater than ``key`` (for exclusive scan starts)."""
    return key + b"\x00"


def dropped_key(uid: str) -> bytes:
    """Marks a dropped table whose rows are still being swept."""
    return encode((PREFIX, "d", uid))


def dropped_range() -> tuple[bytes, bytes]:
    start = encode((PREFIX, "d"))
    return start, prefix_end(start)


def uid_of_dropped(key: bytes) -> str:
    return str(decode(key)[2])


def table_data_ranges(uid: str, keep_streams: bool = False) -> list[tuple[bytes, bytes]]:
    """Every row range a table owns: items, index entries, stream records (unless ``keep_streams``:
    a deleted table's stream stays readable for a day)."""
    out = []
    for kind in ("i", "x", "s", "e", "v") if keep_streams else ("i", "x", "q", "s", "e", "h", "v"):
        start = encode((PREFIX, kind, uid))
        out.append((start, prefix_end(start)))
    return out


def all_tables_range() -> tuple[bytes, bytes]:
    start = encode((PREFIX, "t"))
    return start, prefix_end(start)


def expiry_key(uid: str, expires: Decimal, item_row: bytes) -> bytes:
    """TTL index: items by expiry time; the item's own row key is the tail, so entries are unique."""
    return encode((PREFIX, "e", uid, expires, item_row))


def expiry_range(uid: str, until: Decimal, since: Decimal | None = None) -> tuple[bytes, bytes]:
    """Entries of a table whose expiry is in [``since``, ``until``] (all up to ``until`` by default)."""
    start = encode((PREFIX, "e", uid)) if since is None else encode((PREFIX, "e", uid, since))
    return start, prefix_end(encode((PREFIX, "e", uid, until)))



def retired_stream_key(account: str, region: str, name: str, label: str) -> bytes:
    return encode((PREFIX, "r", account, region, name, label))


def retired_streams_range(account: str | None = None, region: str | None = None) -> tuple[bytes, bytes]:
    start = encode((PREFIX, "r") if account is None else (PREFIX, "r", account, region))
    return start, prefix_end(start)
