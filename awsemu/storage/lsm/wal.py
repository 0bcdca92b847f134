"""Write-ahead log: one file per memtable, a sequence of checksummed records.

Record layout (little endian)::

    crc32c: u32   checksum of the 4 length bytes and the payload
    length: u32   payload length
    payload       one write batch: count u32, then per op  kind u8, klen u32, vlen u32, key, value

A record is one whole batch, so a batch is replayed entirely or not at all. Records are appended
with a single ``os.write`` on an ``O_APPEND`` descriptor: once the call returns, the bytes are in
the kernel and survive ``kill -9`` of the process ("flush" durability). "fsync" durability adds an
``fdatasync`` per write. Group commit (in db.py) concatenates the records of all waiting writers
into one ``append`` call, so concurrent writers share one system call and one sync.

At recovery a record whose header is cut short, whose payload is cut short, or whose checksum does
not match ends the log: it is a torn tail from a crash and is dropped together with everything
after it. The reader reports where the valid prefix ends so the caller can tell a torn tail of the
newest log (expected) from damage in an older log (a CorruptionError).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator

from crc32c import crc32c

from awsemu.storage.lsm.errors import CorruptionError

_HEADER = struct.Struct("<II")
_LENGTH = struct.Struct("<I")
_OP = struct.Struct("<BII")
_COUNT = struct.Struct("<I")

KIND_DELETE = 0
KIND_PUT = 1

Op = tuple[bytes, bytes | None]


def encode_record(ops: Iterable[Op]) -> bytes:
    """Encode one batch as a framed, checksummed log record."""
    parts = [b""]
    pack = _OP.pack
    count = 0
    for key, value in ops:
        if value is None:
            parts.append(pack(KIND_DELETE, len(key), 0))
            parts.append(key)
        else:
            parts.append(pack(KIND_PUT, len(key), len(value)))
            parts.append(key)
            parts.append(value)
        count += 1
    parts[0] = _COUNT.pack(count)
    payload = b"".join(parts)
    length = _LENGTH.pack(len(payload))
    return _LENGTH.pack(crc32c(payload, crc32c(length))) + length + payload


def encode_put_record(key: bytes, value: bytes) -> bytes:
    """Fast path of `encode_record` for a single put (the most common write)."""
    payload = b"\x01\x00\x00\x00" + _OP.pack(KIND_PUT, len(key), len(value)) + key + value
    length = _LENGTH.pack(len(payload))
    return _LENGTH.pack(crc32c(payload, crc32c(length))) + length + payload


def decode_payload(payload: bytes) -> list[Op]:
    (count,) = _COUNT.unpack_from(payload, 0)
    pos = 4
    ops: list[Op] = []
    unpack = _OP.unpack_from
    for _ in range(count):
        kind, klen, vlen = unpack(payload, pos)
        pos += 9
        key = payload[pos : pos + klen]
        pos += klen
        if kind == KIND_PUT:
            ops.append((key, payload[pos : pos + vlen]))
            pos += vlen
        else:
            ops.append((key, None))
    if pos != len(payload):
        raise ValueError("payload length mismatch")
    return ops


class LogReadResult:
    """Batches of a log file in order, and where its valid prefix ends."""

    def __init__(self, batches: list[list[Op]], valid_bytes: int, total_bytes: int) -> None:
        self.batches = batches
        self.valid_bytes = valid_bytes
        self.total_bytes = total_bytes

    @property
    def torn(self) -> bool:
        return self.valid_bytes != self.total_bytes


def read_log(path: str) -> LogReadResult:
    """Read every intact record of a log; stop at the first torn or corrupt one."""
    with open(path, "rb") as f:
        data = f.read()
    batches: list[list[Op]] = []
    pos = 0
    end = len(data)
    while pos + 8 <= end:
        crc, length = _HEADER.unpack_from(data, pos)
        stop = pos + 8 + length
        if stop > end:
            break
        payload = data[pos + 8 : stop]
        if crc32c(payload, crc32c(data[pos + 4 : pos + 8])) != crc:
            break
        try:
            batches.append(decode_payload(payload))
        except (struct.error, ValueError):
            # checksum matched but the content is malformed: a bug or deliberate damage
            raise CorruptionError(path, f"malformed record at offset {pos}") from None
        pos = stop
    return LogReadResult(batches, pos, end)


def iter_ops(result: LogReadResult) -> Iterator[Op]:
    for batch in result.batches:
        yield from batch


class LogWriter:
    """Appends records to one log file; each `append` is one write system call."""

    def __init__(self, path: str, sync: bool) -> None:
        self.path = path
        self._sync = sync
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.size = os.fstat(self._fd).st_size
        # set when a failed append could not be undone: appending after a partial record would
        # hide every later record from recovery, so the owner must stop writing
        self.broken = False

    def append(self, data: bytes) -> None:
        start = self.size
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            if self._sync:
                os.fdatasync(self._fd)
        except BaseException:
            try:
                os.ftruncate(self._fd, start)
            except OSError:
                self.broken = True
            if self._sync:
                self.broken = True  # after a failed fsync the file's durable state is unknown
            raise
        self.size = start + len(data)

    def sync(self) -> None:
        os.fdatasync(self._fd)

    def truncate(self, size: int) -> None:
        os.ftruncate(self._fd, size)
        self.size = size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
