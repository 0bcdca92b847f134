"""BlobStore: streaming writes and range reads of erasure-coded, checksummed bodies.

Write path (``write``): the body arrives chunk by chunk and is cut into stripes of
``stripe_bytes`` (``stripes.py``: whole stripes of immutable chunks are not even copied); each
stripe goes to worker *lanes* (``lanes.py``): one per digest (MD5, and each requested checksum),
one for the parity shards (encode, CRC32C, writes; ``codec.encode_parity``) and one for the data shards (CRC32C,
writes), each handling its stripes in order, all lanes in parallel. Every lane is at most
``max_inflight_stripes`` stripes behind, so memory stays at a few stripes whatever the body size,
and the event loop never hashes, encodes or does file I/O. MD5 is sequential, so a write can
never go faster than MD5 on one core; the other work runs next to it on the other cores.
Bodies of at most ``inline_max`` bytes skip the shards and are stored inside the manifest.

Commit protocol: all shard files are written (and, with ``fsync=True``, fsynced together with
their directory entries) *before* the manifest is put into the LSM engine. A crash before the put
leaves only orphan shard files, which ``start_up_sweep`` deletes; after it the blob is complete.
So a body is visible whole or not at all. With ``write(..., commit=fn)`` the manifest is not put
by the store but handed to ``fn`` on the worker, to go into the caller's own batch (its record,
the reference): same order, one LSM write and one thread hop for the caller's whole update, and
a body refused by ``fn`` (a bad digest) is removed at once instead of waiting for the GC.

References and garbage collection: ``write`` returns a durable but *unreferenced* blob. The
caller makes it live by adding ``ref_ops(blob_id, owner)`` to the same ``DB.write_batch`` that
stores its own record (e.g. the S3 object version), and drops it with ``unref_ops`` in the batch
that deletes the record. A reference is one key ``("blob", id, "r", owner)`` — no counter, so
there is no read-modify-write and two batches can never lose an update. Sharing a body
(CopyObject) is just a second owner. Unreferenced blobs are freed by ``start_up_sweep`` (all of
them) and ``collect_garbage`` / ``start_background_gc`` (after a grace period); see ``gc.py``.

Multipart: ``compose(part_ids)`` makes a *composite* blob whose manifest lists its parts
(flattened, so composites never nest); it holds one reference on each part with owner
``"compose:<id>"`` and reads as their concatenation. No body byte is copied.

Reads (``read``, ``iter_read``) are ``reader.py``'s: a range is planned onto leaf blobs and
runs of stripes, read ahead on the workers (and by the event loop from the page cache), every
block verified, and a stripe with a bad block rebuilt from any k good ones.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import secrets
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from . import codec, gc, isal
from .checksums import Digest, new_digest, normalize
from .errors import BlobNotFound
from .gc import SweepReport
from .lanes import Lanes
from .manifest import (
    COMPOSITE,
    INLINE,
    SHARDED,
    Manifest,
    manifest_key,
    merkle_root,
    parse_key,
    ref_key,
    refs_range,
)
from .reader import BlobReader, Chunk
from .scrub import Periodic, ScrubReport, scrub_store
from .shards import ShardWriter
from .stripes import StripeCutter

if TYPE_CHECKING:
    from awsemu.storage.lsm import DB

MiB = 1 << 20
KiB = 1 << 10

@dataclass(frozen=True)
class BlobRef:
    """The result of a write or compose: enough for a provider to build its record.

    ``md5`` is the hex MD5 of the body (None for composites: multipart ETags are the provider's
    business); ``checksums`` maps each requested algorithm to its base64 value as S3 sends it.
    """

    blob_id: str
    size: int
    md5: str | None
    checksums: dict[str, str] = field(default_factory=dict)
    merkle_root: str = ""
    kind: str = SHARDED
    parts: tuple[str, ...] = ()

    @classmethod
    def from_manifest(cls, man: Manifest) -> BlobRef:
        return cls(
            man.blob_id,
            man.size,
            man.md5,
            dict(man.checksums),
            man.merkle,
            man.kind,
            tuple(p for p, _ in man.parts),
        )


#: One LSM batch operation (a value of None deletes), as ``DB.write_batch`` takes them.
Op = tuple[bytes, bytes | None]
T = TypeVar("T")
#: ``write(..., commit=fn)``: ``fn(ref, manifest_ops)`` commits the manifest in the caller's batch.
Commit = Callable[[BlobRef, list[Op]], T]


class _CommitState:
    """Whether a write's manifest is in the LSM (set on the worker that committed it)."""

    committed = False


class BlobStore:
    """Erasure-coded blob store over ``data_shards + parity_shards`` drive directories.

    The drive list's length and order must not change between runs (shard j of a blob lives on
    drive ``(j + rot) % len(drives)``). ``fsync=True`` makes shard data durable against power loss
    before the manifest commits; without it a killed *process* still loses nothing acknowledged
    (the page cache survives it), which is what the emulator needs by default.

    Tuning: ``max_inflight_stripes`` bounds how far each write lane may fall behind;
    ``read_ahead`` is how many read jobs run at once (one per core is enough; the event loop is
    one of them while it helps), each reading ``read_batch`` stripes; a read holds at most
    ``(read_ahead + 2) * read_batch`` stripes, counting the run the consumer holds. Larger runs
    mean fewer hand-offs between threads: ``read_batch=2`` read a warm 256 MiB body up to 15
    points of a plain-file read faster than 1, at twice the memory.
    """

    def __init__(
        self,
        db: DB,
        drives: Sequence[Path | str],
        *,
        data_shards: int = 4,
        parity_shards: int = 2,
        stripe_bytes: int = 1 * MiB,
        inline_max: int = 128 * KiB,
        fsync: bool = False,
        workers: int = 8,
        max_inflight_stripes: int = 2,
        gc_grace_s: float = 300.0,
        read_ahead: int = 2,
        read_batch: int = 1,
    ) -> None:
        if data_shards < 1 or parity_shards < 0 or data_shards + parity_shards > 256:
            raise ValueError("need 1 <= data_shards and data_shards + parity_shards <= 256")
        if len(drives) < data_shards + parity_shards:
            n = data_shards + parity_shards
            raise ValueError(
                f"{data_shards}+{parity_shards} shards need at least {n} drives, got {len(drives)}"
            )
        if stripe_bytes < data_shards or inline_max > stripe_bytes:
            raise ValueError("need data_shards <= stripe_bytes and inline_max <= stripe_bytes")
        self.db = db
        self.drives = [Path(d) for d in drives]
        self.k = data_shards
        self.m = parity_shards
        self.stripe_bytes = stripe_bytes
        self.inline_max = inline_max
        self.fsync = fsync
        self.max_inflight_stripes = max_inflight_stripes
        self.gc_grace_s = gc_grace_s
        self.read_ahead = max(1, read_ahead)
        self.read_batch = max(1, read_batch)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="blobs")
        self._reader = BlobReader(
            self.drives,
            self._pool,
            self.manifest,
            self._count,
            read_ahead=self.read_ahead,
            read_batch=self.read_batch,
        )
        self._writing: set[str] = set()  # blob ids whose shards are being written right now
        self._unref_seen: dict[str, float] = {}  # blob id -> when GC first saw it unreferenced
        self._maintenance = threading.Lock()  # scrub and GC never run at the same time
        self._stats_lock = threading.Lock()
        self._stats: dict[str, int] = dict.fromkeys(
            (
                "blobs_written",
                "bytes_written",
                "stripes_read",
                "bytes_read",
                "bad_shards_read",
                "bad_blocks_read",
                "degraded_stripes_read",
                "unrecoverable_reads",
                "gc_blobs_deleted",
                "orphan_files_removed",
                "scrubs",
                "scrub_bad_shards",
                "scrub_repaired",
            ),
            0,
        )
        self.last_scrub: ScrubReport | None = None  # the last finished scrub
        self._threads: list[Periodic] = []
        for d in self.drives:
            d.mkdir(parents=True, exist_ok=True)

    @classmethod
    def open(cls, db: DB, data_dir: Path | str, **options: Any) -> BlobStore:
        """A store on ``<data_dir>/drives/d0 .. d{k+m-1}``."""
        n = options.get("data_shards", 4) + options.get("parity_shards", 2)
        return cls(db, [Path(data_dir) / "drives" / f"d{i}" for i in range(n)], **options)

    # -- counters -------------------------------------------------------------------------------

    def _count(self, **deltas: int) -> None:
        with self._stats_lock:
            for name, delta in deltas.items():
                self._stats[name] = self._stats.get(name, 0) + delta

    def stats(self) -> dict[str, int]:
        """Counters since the store was opened (bad shards seen on read, GC, scrub …)."""
        with self._stats_lock:
            return dict(self._stats)

    # -- writing --------------------------------------------------------------------------------

    @overload
    async def write(self, chunks: AsyncIterable[bytes], *, checksums: Iterable[str] = ()) -> BlobRef: ...

    @overload
    async def write(
        self, chunks: AsyncIterable[bytes], *, checksums: Iterable[str] = (), commit: Commit[T]
    ) -> T: ...

    async def write(
        self, chunks: AsyncIterable[bytes], *, checksums: Iterable[str] = (), commit: Commit[T] | None = None
    ) -> BlobRef | T:
        """Store a streamed body; returns a durable, *unreferenced* blob (see ``ref_ops``).

        With ``commit``, the store does not write the manifest itself: once the shards are
        durable, ``commit(ref, manifest_ops)`` is called on a store worker and must put
        ``manifest_ops`` into the caller's own ``DB.write_batch`` (typically with ``ref_ops`` and
        the caller's record), or raise before writing anything, which abandons the blob.
        ``write`` then returns what ``commit`` returned. A caller's record and the body it names
        so become visible in one LSM write, after one worker-thread hop.
        """
        names = ["MD5", *normalize(checksums)]  # unknown algorithms fail here, before any byte
        digests: list[Digest] = []  # made with the lanes; an inline body's by the commit job
        blob_id = secrets.token_hex(16)
        rot = int(blob_id[:8], 16) % len(self.drives)  # the id is random already
        writer: ShardWriter | None = None  # made with the lanes: inline bodies need none

        def start_lanes() -> Lanes:
            nonlocal writer
            # the writer only needs the slot size (full_block), which does not depend on the body;
            # it creates its files on the first stripe
            slots = codec.Geometry(self.stripe_bytes, self.k, self.m, self.stripe_bytes)
            shards = writer = ShardWriter(self.drives, blob_id, slots, rot, fsync=self.fsync)
            digests.extend(new_digest(n) for n in names)

            def data_lane(item: tuple[int, memoryview]) -> None:
                index, data = item
                shards.write_blocks(index, 0, codec.split(data, self.k))

            def parity_lane(item: tuple[int, memoryview]) -> None:
                index, data = item
                shards.write_blocks(index, self.k, codec.encode_parity(codec.split(data, self.k), self.k, self.m))

            def digest_lane(d: Digest) -> Callable[[tuple[int, memoryview]], None]:
                return lambda item: d.update(item[1])

            # MD5 (~1.3 ms per MiB, sequential), parity (~0.2 ms by ISA-L, ~1 ms by zfec) and
            # data blocks (~0.4 ms: CRC32C and page-cache writes) are three lanes of a core or
            # less each, so two cores share them next to the event loop
            fns = [digest_lane(digests[0]), parity_lane, data_lane] + [digest_lane(d) for d in digests[1:]]
            return Lanes(self._pool, fns, self.max_inflight_stripes)

        cutter = StripeCutter(self.stripe_bytes, 2 * self.max_inflight_stripes + 2)
        lanes: Lanes | None = None
        done = _CommitState()
        job: concurrent.futures.Future[Any] | None = None
        self._writing.add(blob_id)
        try:
            stripe = 0  # stripes handed to the lanes
            async for chunk in chunks:
                for data in cutter.feed(chunk):
                    if lanes is None:
                        lanes = start_lanes()
                    await lanes.put((stripe, data))
                    stripe += 1
                    del data  # the lanes' references alone decide when its buffer is reused
            tail, total = cutter.tail(), cutter.total
            if lanes is None and total <= self.inline_max:
                man = Manifest(blob_id, INLINE, total, None, {}, time.time(), body=tail)
            else:
                if lanes is None:  # above inline_max, but shorter than a stripe
                    lanes = start_lanes()
                if tail:
                    await lanes.put((stripe, memoryview(tail)))
                await lanes.finish()
                man = Manifest(
                    blob_id, SHARDED, total, None, {}, time.time(),
                    k=self.k, m=self.m, stripe_bytes=self.stripe_bytes, rot=rot,
                )  # fmt: skip
            job = self._pool.submit(self._commit, man, writer, digests, names, commit, done)
            return await asyncio.wrap_future(job)
        finally:
            if done.committed:
                self._writing.discard(blob_id)
            else:
                self._abandon(blob_id, lanes, writer, job, done)

    def _commit(
        self,
        man: Manifest,
        writer: ShardWriter | None,
        digests: list[Digest],
        names: list[str],
        commit: Commit[T] | None,
        done: _CommitState,
    ) -> BlobRef | T:
        """Seal the blob and commit its manifest (worker thread): shards durable first."""
        if writer is not None:
            writer.finish()  # shards durable (with fsync) before the manifest exists
            man.merkle = merkle_root(writer.crcs)
        else:  # an inline body: no lane has digested it
            digests = [new_digest(n) for n in names]
            for d in digests:
                d.update(man.body)
        man.md5 = digests[0].value()
        man.checksums = {d.name: d.value() for d in digests[1:]}
        ref = BlobRef.from_manifest(man)
        key, value = manifest_key(man.blob_id), man.encode()
        result: BlobRef | T = ref
        try:
            if commit is None:
                self.db.put(key, value)
            else:
                result = commit(ref, [(key, value)])
        except BaseException:
            # a commit that wrote its batch and failed afterwards did commit the blob
            done.committed = commit is not None and self.db.get(key) is not None
            raise
        done.committed = True
        self._count(blobs_written=1, bytes_written=man.size)
        return result

    def _abandon(
        self,
        blob_id: str,
        lanes: Lanes | None,
        writer: ShardWriter | None,
        job: concurrent.futures.Future[Any] | None,
        done: _CommitState,
    ) -> None:
        """Remove the shards of a write that failed or was cancelled, once nothing runs for it."""
        if lanes is not None:
            lanes.cancel()

        def abort() -> None:
            # wait for running stripe jobs before closing their file descriptors
            if lanes is not None:
                lanes.wait_idle()
            if writer is not None and not done.committed:  # a cancelled commit may have made it
                writer.abort()
            self._writing.discard(blob_id)

        def submit_abort(_job: object = None) -> None:
            try:
                self._pool.submit(abort)
            except RuntimeError:  # pool already shut down by close(): nothing runs any more
                abort()

        if job is not None:
            job.cancel()  # a commit that has not started never will
            job.add_done_callback(submit_abort)  # after the commit job, whatever it did
        else:
            submit_abort()

    async def compose(self, blob_ids: Sequence[str]) -> BlobRef:
        """A new unreferenced blob that reads as the concatenation of ``blob_ids`` (no copy).

        Composite parts are flattened. The composite holds a reference on each part, so parts
        stay alive as long as the composite does, whatever their other owners do.
        """
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.compose_sync, list(blob_ids))

    def compose_sync(self, blob_ids: Sequence[str]) -> BlobRef:
        """Blocking twin of ``compose``; raises BlobNotFound if a part does not exist."""
        parts: list[tuple[str, int]] = []
        for pid in blob_ids:
            part = self.manifest(pid)
            if part.kind == COMPOSITE:
                parts.extend(part.parts)
            else:
                parts.append((pid, part.size))
        blob_id = secrets.token_hex(16)
        man = Manifest(blob_id, COMPOSITE, sum(s for _, s in parts), None, {}, time.time(), parts=parts)
        batch: list[tuple[bytes, bytes | None]] = [(manifest_key(blob_id), man.encode())]
        batch += [(ref_key(pid, f"compose:{blob_id}"), b"") for pid in dict.fromkeys(p for p, _ in parts)]
        self.db.write_batch(batch)
        return BlobRef.from_manifest(man)

    # -- references -----------------------------------------------------------------------------

    @staticmethod
    def ref_ops(blob_id: str, owner: str) -> list[tuple[bytes, bytes | None]]:
        """Batch operations that make ``owner`` hold ``blob_id`` (add them to your write_batch)."""
        return [(ref_key(blob_id, owner), b"")]

    @staticmethod
    def unref_ops(blob_id: str, owner: str) -> list[tuple[bytes, bytes | None]]:
        """Batch operations that drop ``owner``'s hold on ``blob_id``; GC frees it when none remain."""
        return [(ref_key(blob_id, owner), None)]

    def references(self, blob_id: str) -> list[str]:
        """Owners currently holding ``blob_id``."""
        start, end = refs_range(blob_id)
        return [str(parse_key(k)[2]) for k, _ in self.db.scan(start, end)]

    # -- reading --------------------------------------------------------------------------------

    def manifest(self, blob_id: str) -> Manifest:
        """The blob's manifest; raises BlobNotFound."""
        value = self.db.get(manifest_key(blob_id))
        if value is None:
            raise BlobNotFound(blob_id)
        return Manifest.decode(value)

    def stat(self, blob_id: str) -> BlobRef:
        """The blob's size, digests and kind; raises BlobNotFound."""
        return BlobRef.from_manifest(self.manifest(blob_id))

    def read(self, blob_id: str, start: int = 0, end: int | None = None) -> AsyncIterator[Chunk]:
        """Stream bytes ``[start, end)`` of the blob (end clamped to its size), stripe by stripe.

        Chunks are ``bytes`` or ``memoryview``, at most a stripe each (see ``Chunk``: safe to
        keep); raises BlobNotFound, or BlobUnrecoverable when fewer than k good blocks remain for
        a stripe. How: see ``reader.py``.
        """
        return self._reader.read(blob_id, start, end)

    def iter_read(self, blob_id: str, start: int = 0, end: int | None = None) -> Iterator[Chunk]:
        """Synchronous twin of ``read`` (for the CLI, tools and tests)."""
        return self._reader.iter_read(blob_id, start, end)

    # -- garbage collection ---------------------------------------------------------------------

    def iter_blobs(self) -> Iterator[tuple[str, bool, list[str]]]:
        """(blob_id, has_manifest, owners) for every blob id present in the LSM, in key order."""
        return gc.iter_blobs(self.db)

    def start_up_sweep(self) -> SweepReport:
        """Remove unreferenced blobs and orphan shard files. Call at start-up, before any write."""
        with self._maintenance:
            return gc.collect(self, 0.0)

    def collect_garbage(self, grace_s: float | None = None) -> SweepReport:
        """Collect blobs unreferenced for longer than ``grace_s`` (default ``gc_grace_s``)."""
        with self._maintenance:
            return gc.collect(self, self.gc_grace_s if grace_s is None else grace_s)

    # -- scrub & background work ---------------------------------------------------------------

    def scrub(self, *, repair: bool = True) -> ScrubReport:
        """Verify every blob (Merkle roots, every block) and rebuild lost or rotten shards."""
        with self._maintenance:
            report = scrub_store(self, repair=repair)
        self.last_scrub = report
        return report

    def start_background_scrub(self, interval_s: float) -> None:
        """Scrub every ``interval_s`` seconds on a daemon thread until ``close()``."""
        self._threads.append(Periodic("blobs-scrub", interval_s, self.scrub))

    def start_background_gc(self, interval_s: float) -> None:
        """Collect garbage every ``interval_s`` seconds on a daemon thread until ``close()``."""
        self._threads.append(Periodic("blobs-gc", interval_s, self.collect_garbage))

    @property
    def parity_encoder(self) -> str:
        """``"isa-l"`` when parity and CRC32 are computed by ISA-L (``isal.py``), else ``"zfec"``."""
        return "isa-l" if isal.available() else "zfec"

    def health(self) -> dict[str, Any]:
        """JSON-ready summary for ``GET /_awsemu/health``: geometry, drives, last scrub, counters."""
        return {
            "data_shards": self.k,
            "parity_shards": self.m,
            "parity_encoder": self.parity_encoder,
            "drives": [{"path": str(d), "present": d.is_dir()} for d in self.drives],
            "last_scrub": self.last_scrub.to_dict() if self.last_scrub is not None else None,
            "stats": self.stats(),
        }

    def close(self) -> None:
        """Stop background threads and wait for running stripe jobs. The DB stays open (not ours)."""
        for t in self._threads:
            t.stop()
        self._threads.clear()
        self._pool.shutdown(wait=True)
