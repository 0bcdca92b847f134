"""Blob manifests, their LSM keys, and the Merkle root over shard-block checksums.

LSM key layout (tuple keys from ``awsemu.storage.lsm.keycodec``; every key starts with "blob",
so the store can share one DB with the services):

    ("blob", <blob_id>, "m")            -> manifest (this module's binary encoding)
    ("blob", <blob_id>, "r", <owner>)   -> b""   one reference held by <owner>

Because the manifest key and the reference keys of one blob are adjacent in key order, one scan
of the ("blob",) range visits every blob with its references: that is all garbage collection
and scrub need.

A manifest value is ``b"BM1" + u32 header length + JSON header + inline body``. Inline bodies
(small objects) are kept raw, not base64, since they can be up to ``inline_max`` bytes.

Merkle root: the leaves are the CRC32C of every shard block, stripe-major
(stripe 0 shard 0..n-1, stripe 1 ...). A leaf hashes as SHA-256(0x00 || crc u32 BE); a node as
SHA-256(0x01 || left || right); an odd node is promoted unchanged. The root in the manifest lets
scrub prove that the complete set of blocks is exactly the one written, beyond each block's own
trailer check.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from awsemu.storage.lsm.keycodec import decode as _decode_key
from awsemu.storage.lsm.keycodec import encode as _encode_key
from awsemu.storage.lsm.keycodec import prefix_end

from .codec import Geometry

INLINE = "inline"
SHARDED = "sharded"
COMPOSITE = "composite"

_MAGIC = b"BM1"
_LEN = struct.Struct(">I")

# -- keys -----------------------------------------------------------------------------------------


def manifest_key(blob_id: str) -> bytes:
    return _encode_key("blob", blob_id, "m")


def ref_key(blob_id: str, owner: str) -> bytes:
    return _encode_key("blob", blob_id, "r", owner)


def refs_range(blob_id: str) -> tuple[bytes, bytes | None]:
    prefix = _encode_key("blob", blob_id, "r")
    return prefix, prefix_end(prefix)


def all_blobs_range() -> tuple[bytes, bytes | None]:
    prefix = _encode_key("blob")
    return prefix, prefix_end(prefix)


def parse_key(key: bytes) -> tuple[str, str, str | None]:
    """(blob_id, "m" | "r", owner or None) of a key in the blob range."""
    parts = _decode_key(key)
    owner = parts[3] if len(parts) > 3 else None
    return str(parts[1]), str(parts[2]), (str(owner) if owner is not None else None)


# -- manifests ------------------------------------------------------------------------------------


@dataclass
class Manifest:
    """What the store knows about one blob (never the body, except inline bodies)."""

    blob_id: str
    kind: str
    size: int
    md5: str | None
    checksums: dict[str, str]
    created: float
    k: int = 0
    m: int = 0
    stripe_bytes: int = 0
    rot: int = 0
    merkle: str = ""
    parts: list[tuple[str, int]] = field(default_factory=list)
    body: bytes = b""

    @property
    def geometry(self) -> Geometry:
        return Geometry(self.size, self.k, self.m, self.stripe_bytes)

    def encode(self) -> bytes:
        header: dict[str, object] = {
            "id": self.blob_id,
            "kind": self.kind,
            "size": self.size,
            "md5": self.md5,
            "checksums": self.checksums,
            "created": self.created,
        }
        if self.kind == SHARDED:
            header.update(k=self.k, m=self.m, stripe=self.stripe_bytes, rot=self.rot, merkle=self.merkle)
        if self.kind == COMPOSITE:
            header["parts"] = [[pid, psize] for pid, psize in self.parts]
        raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
        return _MAGIC + _LEN.pack(len(raw)) + raw + self.body

    @classmethod
    def decode(cls, value: bytes) -> Manifest:
        if value[:3] != _MAGIC:
            raise ValueError("not a blob manifest")
        (hlen,) = _LEN.unpack_from(value, 3)
        start = 3 + _LEN.size
        h = json.loads(value[start : start + hlen])
        return cls(
            blob_id=h["id"],
            kind=h["kind"],
            size=h["size"],
            md5=h["md5"],
            checksums=dict(h["checksums"]),
            created=h["created"],
            k=h.get("k", 0),
            m=h.get("m", 0),
            stripe_bytes=h.get("stripe", 0),
            rot=h.get("rot", 0),
            merkle=h.get("merkle", ""),
            parts=[(p[0], p[1]) for p in h.get("parts", [])],
            body=bytes(value[start + hlen :]),
        )


def merkle_root(crcs: Sequence[int]) -> str:
    """Hex SHA-256 Merkle root over shard-block CRCs (see module docstring)."""
    level = [hashlib.sha256(b"\x00" + c.to_bytes(4, "big")).digest() for c in crcs]
    if not level:
        return hashlib.sha256(b"").hexdigest()
    while len(level) > 1:
        nxt = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()
