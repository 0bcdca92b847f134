"""MANIFEST: the one file that says which SSTables make up the store.

The manifest is small (one line per table), so it is rewritten whole on every change instead of
being an edit log: write ``MANIFEST.tmp``, fsync it, rename it over ``MANIFEST``, fsync the
directory. The rename is the commit point: after a crash the store is either the old file set or
the new one, never a mix.

Layout: magic ``LSMMAN01`` (8 bytes), crc32c u32 of the body, body length u32, body (JSON)::

    {"next_file": int,     next number for a log or table file
     "log_number": int,    logs numbered below this are already in tables and can go
     "runs": [ {"number", "size", "count", "smallest", "largest"} ... ]   newest run first;
             smallest/largest are hex}

A checksum or parse failure raises CorruptionError naming the file: the engine never guesses its
file set.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field

from crc32c import crc32c

from awsemu.storage.lsm.errors import CorruptionError

MAGIC = b"LSMMAN01"
_HEAD = struct.Struct("<II")
MANIFEST_NAME = "MANIFEST"


@dataclass(frozen=True)
class RunMeta:
    """One SSTable (a sorted run) as recorded in the manifest."""

    number: int
    size: int
    count: int
    smallest: bytes
    largest: bytes


@dataclass
class ManifestState:
    next_file: int = 1
    log_number: int = 0
    runs: list[RunMeta] = field(default_factory=list)


def encode_manifest(state: ManifestState) -> bytes:
    body = json.dumps(
        {
            "next_file": state.next_file,
            "log_number": state.log_number,
            "runs": [
                {
                    "number": r.number,
                    "size": r.size,
                    "count": r.count,
                    "smallest": r.smallest.hex(),
                    "largest": r.largest.hex(),
                }
                for r in state.runs
            ],
        },
        separators=(",", ":"),
    ).encode()
    return MAGIC + _HEAD.pack(crc32c(body), len(body)) + body


def decode_manifest(data: bytes, path: str) -> ManifestState:
    if len(data) < 16 or data[:8] != MAGIC:
        raise CorruptionError(path, "not a MANIFEST (bad magic)")
    crc, length = _HEAD.unpack_from(data, 8)
    body = data[16:]
    if len(body) != length:
        raise CorruptionError(path, "MANIFEST length mismatch (truncated?)")
    if crc32c(body) != crc:
        raise CorruptionError(path, "MANIFEST checksum mismatch")
    try:
        raw = json.loads(body)
        return ManifestState(
            next_file=int(raw["next_file"]),
            log_number=int(raw["log_number"]),
            runs=[
                RunMeta(
                    int(r["number"]),
                    int(r["size"]),
                    int(r["count"]),
                    bytes.fromhex(r["smallest"]),
                    bytes.fromhex(r["largest"]),
                )
                for r in raw["runs"]
            ],
        )
    except (ValueError, KeyError, TypeError):
        raise CorruptionError(path, "MANIFEST body is malformed") from None


def read_manifest(directory: str) -> ManifestState | None:
    """The committed state, or None for a new store."""
    path = os.path.join(directory, MANIFEST_NAME)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    return decode_manifest(data, path)


def fsync_dir(directory: str) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(directory: str, state: ManifestState) -> None:
    """Atomically replace the MANIFEST with `state` (write new, fsync, rename, fsync dir)."""
    tmp = os.path.join(directory, MANIFEST_NAME + ".tmp")
    with open(tmp, "wb") as f:
        f.write(encode_manifest(state))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(directory, MANIFEST_NAME))
    fsync_dir(directory)
