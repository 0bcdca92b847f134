"""Garbage collection: unreferenced blobs and orphan shard files.

A blob is live while at least one reference key ``("blob", id, "r", owner)`` exists (see
``manifest.py``). References are added and dropped by callers inside their own LSM batches
(``BlobStore.ref_ops`` / ``unref_ops``), so a provider's record and its hold on the body always
commit together. Nothing is freed at unref time; collection is a separate pass:

1. one ordered scan of the ``("blob",)`` key range lists every blob with its owners;
2. a blob with a manifest and no owner is deleted — immediately in the start-up sweep (nothing
   can be in flight then), and while running only once it is older than ``grace_s`` *and* has
   been seen unreferenced for ``grace_s`` (covers a ``write`` whose caller has not committed its
   batch yet, and a copy that read the blob id just before the source was deleted). Deleting a
   composite drops its references on its parts, so the loop goes again until nothing changes;
3. the manifest is deleted first, then the shard files, so a crash in between leaves orphans;
4. shard files whose blob has no manifest (a crash before the manifest commit, or step 3
   interrupted) are orphans and removed, except for blobs being written right now.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .manifest import COMPOSITE, SHARDED, Manifest, all_blobs_range, manifest_key, parse_key, ref_key
from .shards import iter_shard_files, shard_path

if TYPE_CHECKING:
    from awsemu.storage.lsm import DB

    from .store import BlobStore


@dataclass
class SweepReport:
    """What one sweep or GC pass removed."""

    blobs_deleted: int = 0
    orphan_files_removed: int = 0
    bytes_freed: int = 0


def iter_blobs(db: DB) -> Iterator[tuple[str, bool, list[str]]]:
    """(blob_id, has_manifest, owners) for every blob id present in the LSM, in key order."""
    start, end = all_blobs_range()
    current: str | None = None
    has_manifest = False
    owners: list[str] = []
    for key, _ in db.scan(start, end):
        blob_id, kind, owner = parse_key(key)
        if blob_id != current:
            if current is not None:
                yield current, has_manifest, owners
            current, has_manifest, owners = blob_id, False, []
        if kind == "m":
            has_manifest = True
        elif owner is not None:
            owners.append(owner)
    if current is not None:
        yield current, has_manifest, owners


def delete_blob(store: BlobStore, man: Manifest) -> int:
    """Drop the manifest (and a composite's part references), then its shard files."""
    batch: list[tuple[bytes, bytes | None]] = [(manifest_key(man.blob_id), None)]
    if man.kind == COMPOSITE:
        batch += [
            (ref_key(pid, f"compose:{man.blob_id}"), None) for pid in dict.fromkeys(p for p, _ in man.parts)
        ]
    store.db.write_batch(batch)
    freed = 0
    if man.kind == SHARDED:
        for j in range(man.k + man.m):
            path = shard_path(store.drives, man.blob_id, j, man.rot)
            try:
                freed += path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                pass
    else:
        freed = len(man.body)
    store._count(gc_blobs_deleted=1)
    return freed


def collect(store: BlobStore, grace_s: float) -> SweepReport:
    """Delete unreferenced blobs (see the module docstring), then orphan shard files."""
    report = SweepReport()
    now = time.time()
    while True:  # deleting a composite may leave its parts unreferenced: go again
        deleted = 0
        live_unref: set[str] = set()
        for blob_id, has_manifest, owners in list(iter_blobs(store.db)):
            if not has_manifest or owners or blob_id in store._writing:
                continue
            man = store.manifest(blob_id)
            first_seen = store._unref_seen.setdefault(blob_id, now)
            if grace_s > 0 and (now - man.created < grace_s or now - first_seen < grace_s):
                live_unref.add(blob_id)
                continue
            # re-check right before deleting: a reference may have been committed meanwhile
            if store.references(blob_id):
                continue
            report.bytes_freed += delete_blob(store, man)
            report.blobs_deleted += 1
            deleted += 1
        store._unref_seen = {b: t for b, t in store._unref_seen.items() if b in live_unref}
        if not deleted:
            break
    report.orphan_files_removed = remove_orphan_files(store, grace_s)
    return report


def remove_orphan_files(store: BlobStore, grace_s: float) -> int:
    """Unlink shard files of blobs without a manifest (older than grace_s); returns the count."""
    known: dict[str, bool] = {}
    removed = 0
    now = time.time()
    for path, blob_id in iter_shard_files(store.drives):
        if blob_id in store._writing:
            continue
        if blob_id not in known:
            known[blob_id] = store.db.get(manifest_key(blob_id)) is not None
        if known[blob_id]:
            continue
        try:
            if grace_s > 0 and now - path.stat().st_mtime < grace_s:
                continue
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    store._count(orphan_files_removed=removed)
    return removed
