"""Opening a store: lock it, verify its MANIFEST and tables, clean up, replay its logs.

Steps, in order:
  1. create the directories; take an exclusive ``flock`` on LOCK (one process per store);
  2. read and verify the MANIFEST (CorruptionError naming it if its checksum fails); with no
     MANIFEST, refuse if tables or logs with data exist (it was lost: starting empty would drop
     their data silently), otherwise write an empty one before any log exists;
  3. open every listed table, verifying footer, index and filter, and its size and entry count
     against the MANIFEST (CorruptionError naming the table);
  4. delete what no committed MANIFEST refers to: tables written by an interrupted flush or
     compaction, logs older than the MANIFEST's log number, MANIFEST.tmp;
  5. replay the remaining logs, oldest first, into one memtable. A torn record ends its log (the
     tail of a crash). The newest log becomes the live one: cut at its last intact record, so
     new appends never follow garbage.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass

from awsemu.storage.lsm import wal
from awsemu.storage.lsm.block_cache import BlockCache
from awsemu.storage.lsm.errors import CorruptionError
from awsemu.storage.lsm.manifest import MANIFEST_NAME, ManifestState, fsync_dir, read_manifest, write_manifest
from awsemu.storage.lsm.memtable import Memtable
from awsemu.storage.lsm.sstable import Table


def number_of(name: str, suffix: str) -> int | None:
    """The file number of "000042.sst"-style names, None for other names."""
    if not name.endswith(suffix):
        return None
    stem = name[: -len(suffix)]
    return int(stem) if stem.isdigit() else None


def table_path(directory: str, number: int) -> str:
    return os.path.join(directory, "sst", f"{number:06d}.sst")


def log_path(directory: str, number: int) -> str:
    return os.path.join(directory, "wal", f"{number:06d}.log")


def lock_store(directory: str) -> int:
    """Create the store's directories and lock it; returns the LOCK descriptor."""
    for d in (directory, os.path.join(directory, "sst"), os.path.join(directory, "wal")):
        os.makedirs(d, exist_ok=True)
    fd = os.open(os.path.join(directory, "LOCK"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RuntimeError(f"{directory}: store is already open (LOCK held)") from None
    return fd


@dataclass
class Recovered:
    tables: tuple[Table, ...]
    log_number: int
    next_file: int
    memtable: Memtable
    sequence: int
    log: wal.LogWriter


def _refuse_files_without_manifest(directory: str) -> None:
    manifest = os.path.join(directory, MANIFEST_NAME)
    for sub, suffix in (("sst", ".sst"), ("wal", ".log")):
        folder = os.path.join(directory, sub)
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            if number_of(name, suffix) is not None and os.path.getsize(path):
                raise CorruptionError(manifest, f"MANIFEST is missing but {path} holds data")


def recover(directory: str, cache: BlockCache, sync_log: bool) -> Recovered:
    """Steps 2-5 of the module docstring, on a locked store."""
    state = read_manifest(directory)
    if state is None:
        _refuse_files_without_manifest(directory)
        state = ManifestState()
        write_manifest(directory, state)
    tables = []
    for run in state.runs:
        table = Table(table_path(directory, run.number), run.number, cache)
        if table.size != run.size or table.count != run.count:
            raise CorruptionError(
                table.path, f"size/count differ from the MANIFEST ({run.size} B, {run.count} entries)"
            )
        tables.append(table)

    live = {run.number for run in state.runs}
    highest = state.next_file - 1
    sst_dir = os.path.join(directory, "sst")
    for name in os.listdir(sst_dir):
        number = number_of(name, ".sst")
        if number is None:
            continue
        highest = max(highest, number)
        if number not in live:  # output of a flush or compaction that never committed
            os.unlink(os.path.join(sst_dir, name))
    wal_dir = os.path.join(directory, "wal")
    logs = []
    for name in os.listdir(wal_dir):
        number = number_of(name, ".log")
        if number is None:
            continue
        highest = max(highest, number)
        if number < state.log_number:
            os.unlink(os.path.join(wal_dir, name))
        else:
            logs.append(number)
    logs.sort()
    try:
        os.unlink(os.path.join(directory, MANIFEST_NAME + ".tmp"))
    except FileNotFoundError:
        pass

    next_file = highest + 1
    if logs:
        live_log = logs[-1]
    else:
        live_log = next_file
        next_file += 1
    memtable = Memtable(live_log)
    seq = 0
    last_valid = 0
    for number in logs:
        result = wal.read_log(log_path(directory, number))
        for key, value in wal.iter_ops(result):
            seq += 1
            memtable.put(key, value, seq, -1)
        last_valid = result.valid_bytes
    log = wal.LogWriter(log_path(directory, live_log), sync_log)
    if logs and log.size != last_valid:
        log.truncate(last_valid)  # drop the torn tail before appending after it
        log.sync()
    if not logs:
        fsync_dir(wal_dir)
    return Recovered(tuple(tables), state.log_number, next_file, memtable, seq, log)
