"""awsemu.storage.lsm — a durable, ordered bytes -> bytes engine (a log-structured merge tree).

Every piece of metadata of every service lives here. This page is the engine in one page, in
the spirit of LevelDB's impl.md; each module's docstring has the details of its part.

API::

    db = DB.open(path, DBOptions(...))      # creates the directory; recovers after a crash
    db.put(k, v); db.get(k); db.delete(k)
    db.write_batch([(k, v), (k2, None)])    # atomic, also across a crash; None deletes
    for k, v in db.scan(start, end, reverse=False, limit=None): ...   # [start, end), a snapshot
    with db.snapshot() as snap: snap.get(k); snap.scan(...)
    db.flush(); db.compact(); db.stats(); db.close()

Files (``<path>/``)::

    LOCK                 flock'ed while open: one process per store
    MANIFEST             the live SSTables and the oldest log still needed (manifest.py)
    wal/NNNNNN.log       write-ahead logs, one per memtable (wal.py)
    sst/NNNNNN.sst       sorted, immutable tables (sstable.py, block.py, bloom.py)

Modules: db.py (API, group commit, flush/compaction threads), recovery.py (open), wal.py,
memtable.py, sstable.py, block.py, bloom.py, block_cache.py, manifest.py, compaction.py (policy),
merge.py (k-way merge), snapshot.py (views, scans), batch.py, keycodec.py, options.py, errors.py,
heap.py (returning freed memory).

Write path. A write becomes one WAL record (CRC32C, length, batch payload), so a batch is
replayed whole or not at all. Writers queue up; the head of the queue (the leader) appends the
records of everyone queued with one ``write`` system call, adds one ``fdatasync`` under
``durability="fsync"``, then applies the operations to the memtable under the DB lock and wakes
the others (group commit, db.py). When ``write`` returns, the data is in the kernel: the
write survives ``kill -9`` ("flush", the default); "fsync" also survives power loss.

Memtable. A dict ``key -> (seq, value)`` plus a lazily sorted key list (memtable.py); 4 MiB
counted as real memory: keys + values + CPython's per-entry overhead (and versions kept for
snapshots). When full, the leader freezes it, starts a new log and a new
memtable; a background thread writes the frozen one to an SSTable; the MANIFEST switch then makes
that log obsolete and it is deleted. At most two frozen memtables wait; writers stall beyond.

SSTables. ~4 KiB data blocks (at least 16 entries, up to 16 KiB, when entries are large) with a
CRC32C each, an index block (last key of each block), a blocked bloom filter (10 bits/key), a
checksummed footer with a magic number. Data blocks are read with ``pread``, verified and kept raw
(bytes + an offsets array) in the cache; a point read finds its key in a block with a C-level
search, without decoding the block. Index and filter live in the
same cache (block_cache.py), evicted only after every data block, and are read back from the file
when evicted.

MANIFEST. Rewritten whole on each change: write MANIFEST.tmp, fsync, rename, fsync the
directory. Files not named by the committed MANIFEST (outputs of an interrupted flush or
compaction) are deleted at open; logs older than the MANIFEST's log number too.

Compaction. Size-tiered (compaction.py explains why that suits a Python engine): four adjacent
runs of the same size tier merge into one; the run count stays bounded. Merging keeps the
newest version of each key and drops tombstones when the oldest run takes part. It runs on its
own thread, writes its output beside the live files, and takes the DB lock only to install it.

Memory. The steady state is bounded by ``DBOptions.memory_bound``: (1 + 2 frozen) memtables
of ``memtable_bytes`` plus ``block_cache_bytes`` for data blocks, indexes and bloom filters
together, all counted at their real CPython memory (76 MiB by default). Working memory of work in
progress comes on top: the active memtable may pass its mark by the last write group; a flush
or compaction holds the index and filter of the table it writes (about 3 % of that table) and 8
blocks per input; a scan holds up to 8 blocks per table; a table replaced by compaction stays in
memory, outside the budget, while snapshots or scans taken before still read it. Memory freed
by a flush or compaction is handed back to the kernel right after it (heap.py), so that the
C allocator's slack does not pile up on top of the bound. When the indexes and filters of a very
large store alone exceed the cache, they are evicted oldest first and reread per read: correct,
bounded, slow: give such a store a bigger cache (``stats()["cache_meta_bytes"]`` shows them).

Reads. ``get`` looks in the memtable, the frozen memtables, then each SSTable newest first,
skipping a table when its bloom filter says no (one hash for all tables). ``scan`` and
``snapshot`` capture a View: the sequence number S, the memtables and the table list.
Memtables answer "newest version with seq <= S" (they keep overwritten versions only while a
snapshot may need them); tables are immutable, and a replaced table stays readable through the
open descriptor a View holds. So an iterator is stable while writes, flushes and compactions go
on. A scan merges one sorted source per layer, a chunk of entries at a time with C-level sorts
(merge.py); the newest version of a key wins and tombstones are dropped.

Recovery (recovery.py). Open reads and verifies the MANIFEST, opens and verifies every listed
table (footer, index and filter checksums, size and count), deletes files no committed MANIFEST
names, then replays the logs in order into a memtable. A torn or corrupt
record ends its log (a crash tail: dropped, and the file is cut there before new appends). A
table or MANIFEST that fails a checksum, or a missing table, raises ``CorruptionError`` naming
the file: the engine never answers from data it could not verify.

Threads and asyncio. Every method is safe from any thread. All of them block (file I/O, fsync,
waiting for the group leader), so the asyncio server must call them off the event loop, e.g.
``await anyio.to_thread.run_sync(db.get, key)`` or ``await asyncio.to_thread(db.put, k, v)``;
the engine holds its lock only for short in-memory steps (the leader appends to the log with
the lock released), so a bounded thread pool suffices. Keys are built with keycodec.py (an
order-preserving tuple encoding), so range queries are plain scans.
"""

from awsemu.storage.lsm.batch import WriteBatch
from awsemu.storage.lsm.db import DB
from awsemu.storage.lsm.errors import CorruptionError, DBClosedError
from awsemu.storage.lsm.options import DBOptions
from awsemu.storage.lsm.snapshot import Snapshot

__all__ = ["DB", "DBOptions", "WriteBatch", "CorruptionError", "DBClosedError", "Snapshot"]
