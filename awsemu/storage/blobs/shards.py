"""Shard files on the drive directories: naming, block framing, writing, verified reading.

One blob has one shard file per shard index j (0..k+m-1), on drive ``(j + rot) % len(drives)``
(``rot`` is recorded in the manifest; rotating the start spreads data and parity shards evenly
over the drives so healthy reads hit every drive, not only the first k):

    <drive>/<blob_id[:2]>/<blob_id>.<j>

A shard file is the sequence of that shard's blocks, stripe after stripe, each block followed by
a 4-byte big-endian CRC32C trailer. Every slot has the size of a full-stripe block plus trailer,
so block s starts at ``s * (full_block + 4)`` and a range read seeks straight to it.

The CRC is seeded with ``"<blob_id>:<shard>:<stripe>"``, which binds a block to its place: a
block copied from another blob, shard or stripe (a misdirected write, a swapped drive) fails the
check just like flipped bits do. Those CRCs are also the leaves of the blob's Merkle root.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import crc32c as _crc32c

from .codec import Geometry

TRAILER = 4


def block_crc(blob_id: str, shard: int, stripe: int, data: bytes | memoryview) -> int:
    """CRC32C of a block, seeded with its identity (blob, shard, stripe)."""
    seed = _crc32c.crc32c(f"{blob_id}:{shard}:{stripe}".encode("ascii"))
    return int(_crc32c.crc32c(data, seed))


def shard_path(drives: Sequence[Path], blob_id: str, shard: int, rot: int) -> Path:
    return drives[(shard + rot) % len(drives)] / blob_id[:2] / f"{blob_id}.{shard}"


def parse_shard_name(name: str) -> tuple[str, int] | None:
    """(blob_id, shard) for a shard file name, None for anything else."""
    blob_id, dot, shard = name.partition(".")
    if not dot or not shard.isdigit() or len(blob_id) != 32:
        return None
    return blob_id, int(shard)


def iter_shard_files(drives: Sequence[Path]) -> Iterator[tuple[Path, str]]:
    """Every (path, blob_id) of shard files on the drives; a missing drive yields nothing."""
    for drive in drives:
        try:
            subdirs = list(os.scandir(drive))
        except FileNotFoundError:
            continue
        for sub in subdirs:
            if not sub.is_dir(follow_symlinks=False):
                continue
            try:
                entries = list(os.scandir(sub.path))
            except FileNotFoundError:
                continue
            for entry in entries:
                parsed = parse_shard_name(entry.name)
                if parsed is not None:
                    yield Path(entry.path), parsed[0]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(path: Path, fsync: bool) -> None:
    """mkdir -p; with fsync, make the new directory entries durable too."""
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir()
        if fsync:
            _fsync_dir(d.parent)


class ShardWriter:
    """Appends the blocks of a new blob to its k+m shard files (created exclusively)."""

    def __init__(
        self, drives: Sequence[Path], blob_id: str, geometry: Geometry, rot: int, *, fsync: bool
    ) -> None:
        self.blob_id = blob_id
        self.paths = [shard_path(drives, blob_id, j, rot) for j in range(geometry.n)]
        self._fsync = fsync
        self._fds: list[int] = []
        self.crcs: list[int] = []  # stripe-major: crcs[s * n + j]
        self._full_block = geometry.full_block
        try:
            for path in self.paths:
                _make_dirs(path.parent, fsync)
                self._fds.append(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644))
        except BaseException:
            self.abort()
            raise

    def append_stripe(self, stripe: int, blocks: Sequence[bytes | memoryview]) -> None:
        """Write block j of ``stripe`` to shard file j, with its CRC trailer."""
        for j, (fd, block) in enumerate(zip(self._fds, blocks, strict=True)):
            crc = block_crc(self.blob_id, j, stripe, block)
            self.crcs.append(crc)
            offset = stripe * (self._full_block + TRAILER)
            parts: list[bytes | memoryview] = [block, crc.to_bytes(TRAILER, "big")]
            written = os.pwritev(fd, parts, offset)
            if written != len(block) + TRAILER:  # short writes happen only on full disks
                raise OSError(errno.ENOSPC, f"short write to {self.paths[j]}")

    def finish(self) -> None:
        """Close the files; with fsync, make data and directory entries durable first."""
        try:
            if self._fsync:
                for fd in self._fds:
                    os.fsync(fd)
                for parent in {p.parent for p in self.paths}:
                    _fsync_dir(parent)
        finally:
            self._close()

    def abort(self) -> None:
        """Close and remove whatever was written (best effort: the start-up sweep catches the rest)."""
        self._close()
        for path in self.paths:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _close(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            os.close(fd)


class ShardReader:
    """Reads and verifies blocks of one blob, keeping its shard files open for the read."""

    def __init__(self, drives: Sequence[Path], blob_id: str, geometry: Geometry, rot: int) -> None:
        self.blob_id = blob_id
        self.geometry = geometry
        self.paths = [shard_path(drives, blob_id, j, rot) for j in range(geometry.n)]
        self._fds: dict[int, int | None] = {}
        self.reported: set[int] = set()  # shards already reported bad during this read
        # open every shard now: a read in progress then keeps working even if the blob is
        # garbage-collected meanwhile (unlinked files stay readable through open descriptors)
        for j in range(geometry.n):
            self._fd(j)

    def _fd(self, shard: int) -> int | None:
        if shard not in self._fds:
            try:
                self._fds[shard] = os.open(self.paths[shard], os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                self._fds[shard] = None
        return self._fds[shard]

    def read_block(
        self, shard: int, stripe: int, into: memoryview | None = None
    ) -> tuple[memoryview | None, str, int]:
        """(block, "", crc) if the block is present and its CRC matches, else (None, reason, 0).

        With ``into`` (a writable view of the block's length) the block is read straight into it
        (``preadv``), which saves a copy when assembling a stripe.
        """
        fd = self._fd(shard)
        if fd is None:
            return None, "missing", 0
        blen = self.geometry.block_len(stripe)
        offset = stripe * (self.geometry.full_block + TRAILER)
        trailer = bytearray(TRAILER)
        view = memoryview(bytearray(blen)) if into is None else into
        try:
            got = os.preadv(fd, [view, trailer], offset)
        except OSError as exc:
            return None, f"io error {exc.errno}", 0
        if got != blen + TRAILER:
            return None, "short", 0
        stored = int.from_bytes(trailer, "big")
        if block_crc(self.blob_id, shard, stripe, view) != stored:
            return None, "checksum", 0
        return view, "", stored

    def close(self) -> None:
        fds, self._fds = self._fds, {}
        for fd in fds.values():
            if fd is not None:
                os.close(fd)


def rewrite_block(
    path: Path, blob_id: str, shard: int, stripe: int, geometry: Geometry, data: bytes | memoryview
) -> int:
    """Write a rebuilt block (with trailer) in place; creates the file and its directories if lost.

    Returns the block's CRC. A crash mid-write leaves a torn block, which the next read or scrub
    detects by its CRC and rebuilds again, so in-place repair needs no temp file. Call
    ``make_durable`` on the repaired files afterwards when running with fsync.
    """
    _make_dirs(path.parent, False)
    crc = block_crc(blob_id, shard, stripe, data)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.pwritev(fd, [data, crc.to_bytes(TRAILER, "big")], stripe * (geometry.full_block + TRAILER))
    finally:
        os.close(fd)
    return crc


def make_durable(path: Path) -> None:
    """fsync a file and the directories up to its drive (they may have been recreated)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)
    _fsync_dir(path.parent.parent)


def expected_file_size(geometry: Geometry) -> int:
    if geometry.stripes == 0:
        return 0
    last = geometry.stripes - 1
    return last * (geometry.full_block + TRAILER) + geometry.block_len(last) + TRAILER


def trim_file(path: Path, geometry: Geometry) -> bool:
    """Cut trailing garbage beyond the last block; True if the file was longer than expected."""
    size = expected_file_size(geometry)
    try:
        if path.stat().st_size > size:
            os.truncate(path, size)
            return True
    except FileNotFoundError:
        pass
    return False
