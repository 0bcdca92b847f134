"""Building a global secondary index added by UpdateTable, in the background, as DynamoDB does.

The life of such an index (developer guide, "Managing global secondary indexes", and what the
service reports while it works):

    UpdateTable answers      IndexStatus CREATING, Backfilling false, TableStatus UPDATING
                             ("resource allocation": the index cannot be deleted yet)
    the builder picks it up  IndexStatus CREATING, Backfilling true, TableStatus ACTIVE;
                             existing items are copied into the index a chunk at a time
    built                    IndexStatus ACTIVE (after at least ``store.creating_seconds``)

While the index is not ACTIVE, Query and Scan on it answer "Cannot read from backfilling global
secondary index" (reads.py). Writes keep going: from the moment the index is in the table record
every commit maintains its entries, and the builder skips items whose entry a write already made,
so each entry and each statistic is counted once (``TableStore.backfill_chunk``). A chunk runs
under the table's lock, between writes, never half-way through one.

The build state lives in the table record itself, so a build interrupted by a restart resumes from
the start when the provider starts again (already indexed items are skipped). One thread builds
for every table; UpdateTable wakes it.
"""

from __future__ import annotations

import copy
import logging
import time

from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb.records import TableRecord
from awsemu.services.dynamodb.store import TableStore
from awsemu.services.dynamodb.worker import WakeableWorker
from awsemu.storage.lsm import DBClosedError

log = logging.getLogger(__name__)
CHUNK_ITEMS = 500


class IndexBuilder(WakeableWorker):
    """The one background thread that builds every index added by UpdateTable (woken by it)."""

    thread_name = "ddb-index-builder"

    def __init__(self, store: TableStore) -> None:
        super().__init__()
        self.store = store
        # (table uid, index, when it was added) whose items are all copied, waiting out the
        # minimum CREATING time.
        self._copied: set[tuple[str, str, float]] = set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            self._wake.clear()
            try:
                while not self._stopping.is_set() and self.run_once():
                    pass
            except DBClosedError:
                return
            except Exception:  # keep the thread alive; the next wake retries
                log.exception("dynamodb index build failed")

    def run_once(self) -> bool:
        """Advance every pending build; True while some index still waits to become ACTIVE."""
        pending = False
        for record in self.store.all_tables():
            for index in record.gsis:
                if index.status == "CREATING" and not self._stopping.is_set():
                    pending = self._build(record.account, record.region, record.name, index.name) or pending
        if pending:
            self._stopping.wait(0.05)  # only the minimum CREATING time is left to wait out
        return pending

    def _build(self, account: str, region: str, table_name: str, index_name: str) -> bool:
        """Copy the items into one index; True if it is built but must stay CREATING a while longer."""
        store = self.store
        cursor: bytes | None = None
        while not self._stopping.is_set():
            table = store.table(account, region, table_name)
            if table is None:
                return False
            with store.lock(table.uid):
                table = store.table(account, region, table_name)
                index = table.index(index_name) if table is not None else None
                if table is None or index is None or index.status != "CREATING":
                    return False  # table dropped, index deleted meanwhile, or already built
                if not index.backfilling:
                    self._save_index(table, index_name, backfilling=True)
                    continue
                done = (table.uid, index_name, index.created)
                if done not in self._copied:
                    if cursor is None:
                        cursor = keys.items_range(table.uid)[0]
                    cursor = store.backfill_chunk(table, index, cursor, CHUNK_ITEMS)
                    if cursor is not None:
                        continue
                    self._copied.add(done)
                if time.time() < index.created + store.creating_seconds:
                    return True
                self._copied.discard(done)
                self._save_index(table, index_name, status="ACTIVE", backfilling=False)
                return False
        return False

    def _save_index(self, table: TableRecord, index_name: str, **changes: object) -> None:
        record = copy.deepcopy(table)
        index = record.index(index_name)
        assert index is not None
        for name, value in changes.items():
            setattr(index, name, value)
        self.store.save_table(record)
