"""Global tables: the replication groups and the machinery that copies every write to the other
replicas (the API, UpdateTable ReplicaUpdates and DescribeTable's fields, is global_tables.py).

A replication group is the set of same-named tables of one account, one per region:

    ("ddb", "g", account, table_name)  -> {"version": "2019.11.21", "members": {region: {"uid", "status"}}}
    ("ddb", "v", uid, item row key)     -> the stamp of the write the item row holds (decimal text)
    ("ddb", "o", stamp, n)              -> outbox entry: one write to copy to the group's other members

Durability comes from the commit hook (:meth:`Replicator.add_entries`): a write to a member table
gets a stamp (process-wide, strictly increasing, microseconds since the epoch), and its outbox
entry and the item's version row are added to the write's own lsm batch. An acknowledged write
therefore has its outbox entry on disk; the background worker applies it to the other members and
only then deletes it, so a crash at any point re-applies it at the next start. Applying is
idempotent and last-writer-wins: a target item whose version row is at least the entry's stamp
keeps what it has (it holds a later write, or this one already), as DynamoDB's global tables
resolve concurrent writes by timestamp. Writes applied by replication go through the same commit
(indexes, statistics, TTL rows, stream records of the replica) but make no outbox entries of their
own.

A replica being added is filled under its source's lock (no write of the source can slip between
the copy and the group), item by item with the source's version stamps; the member is CREATING
until the copy ends, and a copy a crash interrupted is run again at the next start.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from typing import Any

from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.records import TableRecord, dump_item, load_item
from awsemu.services.dynamodb.store import Change, Item, TableStore
from awsemu.services.dynamodb.worker import WakeableWorker
from awsemu.storage.lsm import DBClosedError

log = logging.getLogger(__name__)

VERSION_2019 = "2019.11.21"
VERSION_2017 = "2017.11.29"
_COPY_CHUNK = 200
_DRAIN_CHUNK = 500
_GATHER_SECONDS = 0.01


def group_key(account: str, name: str) -> bytes:
    return keys.encode((keys.PREFIX, "g", account, name))


def groups_range() -> tuple[bytes, bytes]:
    start = keys.encode((keys.PREFIX, "g"))
    return start, keys.prefix_end(start)


def version_key(uid: str, row: bytes) -> bytes:
    return keys.encode((keys.PREFIX, "v", uid, row))


def outbox_range() -> tuple[bytes, bytes]:
    start = keys.encode((keys.PREFIX, "o"))
    return start, keys.prefix_end(start)


class Group:
    """One replication group: the member tables of one account and table name, by region."""

    def __init__(self, account: str, name: str, version: str, members: dict[str, dict[str, Any]],
                 created: float = 0.0) -> None:
        self.account = account
        self.name = name
        self.version = version  # VERSION_2019 (UpdateTable ReplicaUpdates) or VERSION_2017 (CreateGlobalTable)
        self.members = members  # region -> {"uid": table uid, "status": CREATING | ACTIVE}
        self.created = created or time.time()

    @property
    def lasts(self) -> bool:
        """A 2019 group ends when one table is left; a legacy global table lives on (even empty
        of replicas it is gone only when it has none)."""
        return len(self.members) > (1 if self.version == VERSION_2019 else 0)

    def to_json(self) -> bytes:
        data = {"version": self.version, "members": self.members, "created": self.created}
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_row(cls, key: bytes, raw: bytes) -> "Group":
        _, _, account, name = keys.decode(key)
        data = json.loads(raw)
        return cls(str(account), str(name), data["version"], data["members"], data.get("created", 0.0))


class Replicator(WakeableWorker):
    """The commit hook writing outbox entries, the worker draining them, and the group registry."""

    thread_name = "ddb-replication"

    def __init__(self, store: TableStore) -> None:
        super().__init__()
        self.store = store
        self._groups: dict[tuple[str, str], Group] = {}
        self._by_uid: dict[str, Group] = {}
        self._loaded = False
        self._last_stamp = 0
        self._stamp_lock = threading.Lock()
        self._registry_lock = threading.RLock()
        self._applying = threading.local()  # set while this thread commits a replicated write
        store.batch_hooks.append(self.add_entries)
        store.drop_hooks.append(self.on_table_drop)

    # --- the registry ---------------------------------------------------------------------------

    def _load(self) -> None:
        if self._loaded:  # every commit asks: no lock once loaded
            return
        with self._registry_lock:
            if self._loaded:
                return
            for key, raw in self.store.db.scan(*groups_range()):
                group = Group.from_row(key, raw)
                self._remember(group)
            self._loaded = True

    def _remember(self, group: Group) -> None:
        self._groups[(group.account, group.name)] = group
        for member in group.members.values():
            self._by_uid[member["uid"]] = group

    def _forget_group(self, group: Group) -> None:
        self._groups.pop((group.account, group.name), None)
        for uid in [u for u, g in self._by_uid.items() if g is group]:
            self._by_uid.pop(uid, None)

    def group_of(self, table: TableRecord) -> Group | None:
        """The group ``table`` is a member of (None for a single-region table)."""
        self._load()
        group = self._by_uid.get(table.uid)
        return group if group is not None and table.region in group.members else None

    def group_named(self, account: str, name: str) -> Group | None:
        self._load()
        return self._groups.get((account, name))

    def groups(self, account: str) -> list[Group]:
        self._load()
        return sorted((g for g in self._groups.values() if g.account == account), key=lambda g: g.name)

    def save_group(self, group: Group, extra: list[tuple[bytes, bytes | None]] | None = None) -> None:
        """Write (or, once it ends, delete) a group, with ``extra`` rows in the same batch."""
        with self._registry_lock:
            self._load()
            row = group.to_json() if group.lasts else None
            self.store.db.write_batch([(group_key(group.account, group.name), row)] + (extra or []))
            old = self._groups.get((group.account, group.name))
            if old is not None:
                self._forget_group(old)
            if row is not None:
                self._remember(group)

    def forget(self) -> None:
        with self._registry_lock:
            self._groups.clear()
            self._by_uid.clear()
            self._loaded = False

    def on_table_drop(self, record: TableRecord) -> None:
        """DeleteTable of a member (or a replica Delete): the group goes on without it."""
        group = self.group_of(record)
        if group is None or group.members[record.region]["uid"] != record.uid:
            return
        remaining = copy.deepcopy(group)
        del remaining.members[record.region]
        self.save_group(remaining)

    # --- the commit hook ------------------------------------------------------------------------

    def _stamp(self) -> int:
        with self._stamp_lock:
            self._last_stamp = max(time.time_ns() // 1000, self._last_stamp + 1)
            return self._last_stamp

    def add_entries(self, changes: list[Change], ops: list[tuple[bytes, bytes | None]]) -> None:
        if getattr(self._applying, "on", False):
            return
        self._load()
        if not self._by_uid:
            return
        stamp = 0
        for n, change in enumerate(changes):
            table = change.table
            if self.group_of(table) is None:
                continue
            stamp = stamp or self._stamp()
            row = change.row if change.row is not None else self.store.item_key(table, change.key)
            ops.append((version_key(table.uid, row), str(stamp).encode()))
            header = {"account": table.account, "name": table.name, "region": table.region, "uid": table.uid}
            value = b"\n".join([json.dumps(header).encode(), dump_item(change.key),
                                b"null" if change.new is None else dump_item(change.new)])
            ops.append((keys.encode((keys.PREFIX, "o", stamp, n)), value))
        if stamp:
            self._wake.set()

    # --- applying writes to a replica -----------------------------------------------------------

    def _apply(self, target: TableRecord, key: Item, new: Item | None, stamp: int) -> None:
        """Write ``new`` (None: delete) at ``key`` of ``target`` unless it holds a write as late."""
        with self.store.lock(target.uid):
            target = self.store.table(target.account, target.region, target.name) or target
            row = self.store.item_key(target, key)
            held = self.store.db.get(version_key(target.uid, row))
            if held is not None and int(held) >= stamp:
                return
            old = self.store.get_item(target, key, row)
            if old is None and new is None:
                self.store.db.write_batch([(version_key(target.uid, row), str(stamp).encode())])
                return
            self._applying.on = True
            try:
                self.store.commit([Change(target, key, old, new, row=row)], [(version_key(target.uid, row), str(stamp).encode())])
            finally:
                self._applying.on = False

    def drain(self, stopping: threading.Event | None = None) -> int:
        """Apply pending outbox entries to the other members of their groups; returns how many
        (the worker passes its ``stopping`` event to end early at shutdown)."""
        done = 0
        while stopping is None or not stopping.is_set():
            batch = list(self.store.db.scan(*outbox_range(), limit=_DRAIN_CHUNK))
            if not batch:
                return done
            for entry_key, value in batch:
                stamp = int(keys.decode(entry_key)[2])
                header_raw, key_raw, new_raw = value.split(b"\n", 2)
                header = json.loads(header_raw)
                key = load_item(key_raw)
                new = None if new_raw == b"null" else load_item(new_raw)
                group = self.group_named(header["account"], header["name"])
                for region, member in (group.members.items() if group is not None else []):
                    if region == header["region"]:
                        continue
                    target = self.store.table(header["account"], region, header["name"])
                    if target is not None and target.uid == member["uid"]:
                        self._apply(target, key, new, stamp)
            # Applied entries go in one batch per chunk: a crash before it re-applies them, harmlessly.
            self.store.db.write_batch([(entry_key, None) for entry_key, _ in batch])
            done += len(batch)
        return done

    # --- filling a new replica ------------------------------------------------------------------

    def fill(self, source: TableRecord, replica: TableRecord) -> None:
        """Copy the source's items into a new replica (callers hold the source's lock)."""
        start, end = keys.items_range(source.uid)
        while True:
            rows = list(self.store.db.scan(start, end, limit=_COPY_CHUNK))
            if not rows:
                return
            for row, raw in rows:
                item = load_item(raw)
                key = {n: item[n] for n in source.schema.names}
                held = self.store.db.get(version_key(source.uid, row))
                self._apply(replica, key, item, int(held) if held is not None else 1)
            start = keys.after(rows[-1][0])

    def finish_creating(self) -> None:
        """Fill again the replicas whose copy a crash interrupted, then mark them ACTIVE."""
        self._load()
        for group in list(self._groups.values()):
            creating = [r for r, m in group.members.items() if m["status"] == "CREATING"]
            sources = [r for r, m in group.members.items() if m["status"] == "ACTIVE"]
            if not creating or not sources:
                continue
            source = self.store.table(group.account, sources[0], group.name)
            if source is None:
                continue
            with self.store.lock(source.uid):
                for region in creating:
                    replica = self.store.table(group.account, region, group.name)
                    if replica is not None:
                        self.fill(source, replica)
                updated = copy.deepcopy(group)
                for region in creating:
                    updated.members[region]["status"] = "ACTIVE"
                self.save_group(updated)

    # --- the worker -----------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self.finish_creating()  # replicas whose first copy a crash cut short
        super().start()  # and outbox entries a crash left behind

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(1.0)
            # Let a burst of writes gather: one drain then applies many entries per outbox scan.
            self._stopping.wait(_GATHER_SECONDS)
            self._wake.clear()
            try:
                self.drain(self._stopping)
            except DBClosedError:
                return
            except Exception:  # keep replicating; the entry stays and is tried again
                log.exception("dynamodb replication failed")
                self._stopping.wait(1.0)
