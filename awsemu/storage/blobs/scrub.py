"""Scrub: walk every blob, verify every shard block and the Merkle root, rebuild what is bad.

For each stripe of a sharded blob the scrubber reads all k+m blocks and checks each CRC trailer.
With at least k good blocks it decodes the stripe, re-encodes the bad blocks and writes them back
in place (creating lost files and drive directories). The CRCs of the good blocks plus those of
the rebuilt ones are the Merkle leaves; the root must equal the one in the manifest, which proves
the whole block set is the one that was written. With fewer than k good blocks in any stripe the
blob is unrecoverable and listed as such; the scrub goes on with the other blobs.

Inline blobs are checked against their MD5; composites only need their parts to exist (the
parts are scrubbed as blobs of their own).

The lead's ``awsemu scrub`` CLI and ``GET /_awsemu/health`` use ``BlobStore.scrub()`` and
``BlobStore.last_scrub`` (``ScrubReport.to_dict()`` is JSON-ready).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import codec
from .errors import BlobNotFound
from .manifest import COMPOSITE, INLINE, Manifest, merkle_root
from .shards import ShardReader, block_crc, make_durable, rewrite_block, shard_path, trim_file

if TYPE_CHECKING:
    from .store import BlobStore

log = logging.getLogger("awsemu.storage.blobs.scrub")

MAX_DETAILS = 100


@dataclass
class ScrubReport:
    started_at: float = 0.0
    finished_at: float = 0.0
    duration_s: float = 0.0
    objects_checked: int = 0
    blocks_checked: int = 0
    bytes_checked: int = 0
    bad_shards: int = 0  # bad blocks found (missing, short, checksum)
    repaired: int = 0  # blocks rewritten
    unrecoverable: list[str] = field(default_factory=list)  # blob ids
    merkle_mismatches: list[str] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)  # first MAX_DETAILS bad blocks

    @property
    def clean(self) -> bool:
        """True when nothing was wrong (no bad blocks, nothing unrecoverable)."""
        return not (self.bad_shards or self.unrecoverable or self.merkle_mismatches)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["finished_at_iso"] = _dt.datetime.fromtimestamp(self.finished_at, _dt.UTC).isoformat()
        d["clean"] = self.clean
        return d


def scrub_store(store: BlobStore, *, repair: bool = True) -> ScrubReport:
    report = ScrubReport(started_at=time.time())
    ids = [blob_id for blob_id, has_manifest, _ in store.iter_blobs() if has_manifest]
    for blob_id in ids:
        try:
            man = store.manifest(blob_id)
        except BlobNotFound:
            continue  # deleted since the listing
        report.objects_checked += 1
        try:
            scrub_blob(store, man, report, repair=repair)
        except OSError as exc:  # a drive that fails writes must not stop the walk
            log.error("scrub of blob %s failed: %s", blob_id, exc)
            report.unrecoverable.append(blob_id)
    report.finished_at = time.time()
    report.duration_s = report.finished_at - report.started_at
    store._count(scrubs=1, scrub_bad_shards=report.bad_shards, scrub_repaired=report.repaired)
    log.info(
        "scrub: %d objects, %d bad blocks, %d repaired, %d unrecoverable in %.2f s",
        report.objects_checked,
        report.bad_shards,
        report.repaired,
        len(report.unrecoverable),
        report.duration_s,
    )
    return report


def scrub_blob(store: BlobStore, man: Manifest, report: ScrubReport, *, repair: bool = True) -> None:
    """Verify one blob, adding findings to ``report``; rebuild bad blocks if ``repair``."""
    if man.kind == INLINE:
        report.bytes_checked += len(man.body)
        if hashlib.md5(man.body).hexdigest() != man.md5:
            report.unrecoverable.append(man.blob_id)
        return
    if man.kind == COMPOSITE:
        for pid, _ in man.parts:
            try:
                store.manifest(pid)
            except BlobNotFound:
                report.unrecoverable.append(man.blob_id)
                return
        return
    g = man.geometry
    reader = ShardReader(store.drives, man.blob_id, g, man.rot)
    paths = [shard_path(store.drives, man.blob_id, j, man.rot) for j in range(g.n)]
    leaves: list[int] = []
    touched: set[Path] = set()
    try:
        for stripe in range(g.stripes):
            good: dict[int, memoryview] = {}
            crcs: dict[int, int] = {}
            bad: dict[int, str] = {}
            for j in range(g.n):
                block, why, crc = reader.read_block(j, stripe)
                report.blocks_checked += 1
                if block is None:
                    bad[j] = why
                else:
                    good[j], crcs[j] = block, crc
                    report.bytes_checked += len(block)
            for j, why in sorted(bad.items()):
                report.bad_shards += 1
                if len(report.details) < MAX_DETAILS:
                    report.details.append(
                        {
                            "blob_id": man.blob_id,
                            "stripe": stripe,
                            "shard": j,
                            "drive": str(paths[j].parent.parent),
                            "reason": why,
                        }
                    )
            if len(good) < g.k:
                log.error("scrub: blob %s stripe %d unrecoverable (%s)", man.blob_id, stripe, bad)
                report.unrecoverable.append(man.blob_id)
                return
            if bad:
                data = codec.decode(good, g.k, g.m)
                rebuilt = codec.encode(data, g.k, g.m, sorted(bad))
                for j, fresh in zip(sorted(bad), rebuilt, strict=True):
                    if repair:
                        crcs[j] = rewrite_block(paths[j], man.blob_id, j, stripe, g, fresh)
                        touched.add(paths[j])
                        report.repaired += 1
                    else:
                        crcs[j] = block_crc(man.blob_id, j, stripe, fresh)
            leaves.extend(crcs[j] for j in range(g.n))
        if repair:
            for path in paths:
                if trim_file(path, g):
                    touched.add(path)
            if store.fsync:
                for path in touched:
                    make_durable(path)
    finally:
        reader.close()
    if merkle_root(leaves) != man.merkle:
        log.error("scrub: blob %s Merkle root mismatch", man.blob_id)
        report.merkle_mismatches.append(man.blob_id)


class Periodic:
    """A daemon thread calling ``fn`` every ``interval_s`` seconds until ``stop()``."""

    def __init__(self, name: str, interval_s: float, fn: Callable[[], object]) -> None:
        self._stop = threading.Event()
        self._interval = interval_s
        self._fn = fn
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._fn()
            except Exception:
                log.exception("background %s failed", self._thread.name)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
