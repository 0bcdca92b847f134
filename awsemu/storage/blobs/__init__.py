"""Erasure-coded, checksummed, self-healing blob store (object bodies, parts, code packages).

Public API (everything a provider needs)::

    store = BlobStore.open(db, data_dir)          # or BlobStore(db, drives, data_shards=4, ...)
    store.start_up_sweep()                        # once, before any write
    ref = await store.write(chunks, checksums=["CRC32C"])   # durable, unreferenced BlobRef
    db.write_batch([(my_key, my_record), *store.ref_ops(ref.blob_id, owner="s3:b/k#v")])
    # or the manifest goes into that same batch, on the store's worker (one hop, one LSM write);
    # write returns what commit returns, and a commit that raises abandons the body:
    commit = lambda ref, manifest_ops: db.write_batch([*manifest_ops, (my_key, ...), *store.ref_ops(...)])
    await store.write(chunks, commit=commit)
    async for block in store.read(ref.blob_id, start, end): ...
    whole = await store.compose([part1.blob_id, part2.blob_id])   # multipart, no copy
    db.write_batch([(my_key, None), *store.unref_ops(blob_id, owner)])   # GC frees it later
    store.scrub(); store.last_scrub; store.stats(); store.close()

``write``, ``read`` and ``compose`` are coroutines that keep disk and CPU work on the store's
worker threads. Everything else (``stat``, ``manifest``, ``references``, ``iter_read``,
``compose_sync``, ``scrub``, ``collect_garbage``, ``start_up_sweep``) blocks: from async code call
it through ``asyncio.to_thread``. A server should also run ``start_background_gc(interval_s)``
(frees bodies whose last reference was dropped) and ``start_background_scrub(interval_s)``;
``health()`` is a JSON-ready summary for ``/_awsemu/health``.

See ``store.py`` for the write/commit protocol, ``reader.py`` for range reads (planning,
verification, rebuild on read), ``gc.py`` for references and collection, ``shards.py`` for the
on-disk layout, ``scrub.py`` for verification and repair; the pipelines behind the throughput:
``stripes.py`` and ``lanes.py`` (writes), ``readahead.py`` and ``buffers.py`` (reads).
"""

from .checksums import ALGORITHMS
from .errors import BlobNotFound, BlobStoreError, BlobUnrecoverable, UnsupportedChecksum
from .gc import SweepReport
from .scrub import ScrubReport
from .store import BlobRef, BlobStore

__all__ = [
    "ALGORITHMS",
    "BlobNotFound",
    "BlobRef",
    "BlobStore",
    "BlobStoreError",
    "BlobUnrecoverable",
    "ScrubReport",
    "SweepReport",
    "UnsupportedChecksum",
]
