"""The DynamoDB provider: one method per operation, each a thin call into its topic module.

    tables.py        CreateTable, DescribeTable, ListTables, DeleteTable, tags, TTL, limits
    table_refs.py    a TableName parameter: a name here, or a table ARN (of this account or another)
    table_update.py  UpdateTable (online index creation and deletion, streams, settings)
    items.py         PutItem, GetItem, UpdateItem, DeleteItem
    reads.py         Query, Scan
    batch.py         BatchGetItem, BatchWriteItem
    transactions.py  TransactWriteItems, TransactGetItems
    partiql/         ExecuteStatement, BatchExecuteStatement, ExecuteTransaction
    global_tables.py UpdateTable ReplicaUpdates, DescribeTable's Replicas (global tables 2019.11.21)
    legacy_global_tables.py  Create/Describe/List/UpdateGlobalTable(Settings) (version 2017.11.29)
    replication.py   replication groups; every write of a member copied to the others (outbox + worker)
    streams.py       stream records written in the item's batch (streams_provider.py serves the API)
    store.py         the lsm data layer every write goes through (items + indexes + stats, one batch)
    backfill.py      builds a global secondary index added by UpdateTable, in the background
    backups.py       CreateBackup, DescribeBackup, ListBackups, DeleteBackup, RestoreTableFromBackup (mixin)
    point_in_time.py Update/DescribeContinuousBackups, RestoreTableToPointInTime, the change log (mixin)
    snapshots.py     item images (backups, PITR bases) and restores into a new table
    resource_policies.py  Put/Get/DeleteResourcePolicy, and the auth layer's resource_policy hook (mixin)
    contributor_insights.py  Update/Describe/ListContributorInsights, the setting only (mixin)
    exports.py       ExportTableToPointInTime, DescribeExport, ListExports (mixin; files into S3)
    imports.py       ImportTable, DescribeImport, ListImports (mixin; items from S3 into a new table)
    transfer_jobs.py, transfer_formats.py, s3_bridge.py  what exports and imports share

Sibling providers: the app calls :meth:`DynamoDBProvider.attach` with every provider once all are
started; exports and imports reach S3 through the S3 provider's own methods (no HTTP), and the
ones a stop or a crash left unfinished are run again then.

Accounts and regions are separate namespaces: a table is found by (account, region, name). A
table ARN in a TableName names another account's table (one shared by its resource policy).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from awsemu.services.base import CallContext, Provider
from awsemu.services.dynamodb import batch, global_tables, items, legacy_global_tables, keys, reads, snapshots, streams, table_update, tables, transactions
from awsemu.services.dynamodb.backfill import IndexBuilder
from awsemu.services.dynamodb.backups import BackupOperations, expire_system_backups, sweep_unfinished_backups
from awsemu.services.dynamodb.contributor_insights import ContributorInsightsOperations
from awsemu.services.dynamodb.exports import ExportOperations
from awsemu.services.dynamodb.imports import ImportOperations
from awsemu.services.dynamodb.point_in_time import LAG_SECONDS, ChangeLog, PointInTimeOperations
from awsemu.services.dynamodb.replication import Replicator
from awsemu.services.dynamodb.resource_policies import ResourcePolicyOperations
from awsemu.services.dynamodb.partiql import execute as partiql
from awsemu.services.dynamodb.store import TableStore
from awsemu.services.dynamodb.transfer_jobs import JobThreads

log = logging.getLogger(__name__)


class DynamoDBProvider(BackupOperations, PointInTimeOperations, ResourcePolicyOperations, ContributorInsightsOperations,
                       ExportOperations, ImportOperations, Provider):
    service_name = "dynamodb"

    def __init__(self, storage: Any, config: Any) -> None:
        super().__init__(storage, config)
        self.store = TableStore(storage.db)
        self.stream_writer = streams.StreamWriter(self.store)
        self.stream_writer.shard_seconds = config.dynamodb_shard_seconds
        # How often the TTL sweeper looks for expired items (DynamoDB itself only promises "within days").
        self.sweep_interval = config.dynamodb_ttl_interval
        self.store.creating_seconds = config.dynamodb_create_seconds
        self.index_builder = IndexBuilder(self.store)
        self.change_log = ChangeLog(self.store)
        # LatestRestorableDateTime trails now by this much (AWS: "typically 5 minutes").
        self.pitr_lag_seconds = float(getattr(config, "dynamodb_pitr_lag_seconds", LAG_SECONDS))
        self.store.drop_hooks += [self.on_table_drop, self.drop_policies, self.drop_contributor_insights]
        self.replicator = Replicator(self.store)
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None
        # Exports and imports: their worker threads, and the S3 provider they read and write
        # (set by attach; None when S3 is not enabled on this server).
        self.transfers = JobThreads()
        self.s3: Provider | None = None

    # lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        # Finish what a crash interrupted: half-made or half-deleted backups, half-filled restores.
        sweep_unfinished_backups(self.store)
        snapshots.sweep_unfinished_restores(self.store)
        self.start_missing_histories()
        self.store.start_sweep()
        self.index_builder.start()
        self.store.index_builds_pending = self.index_builder.wake
        self._stopping.clear()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="ddb-ttl-sweeper", daemon=True)
        self._sweeper.start()
        self.transfers.stopping.clear()
        self.replicator.start()

    def attach(self, providers: dict[str, Provider]) -> None:
        """Called by the app once every provider is started: S3 for exports and imports, and
        the exports and imports left IN_PROGRESS by a stop or a crash are run again."""
        self.s3 = providers.get("s3")
        self.resume_exports()
        self.resume_imports()

    def stop(self) -> None:
        self._stopping.set()
        self.transfers.stop()
        self.store.index_builds_pending = None
        self.index_builder.stop()
        self.replicator.stop()
        if self._sweeper is not None:
            self._sweeper.join(timeout=10)
            self._sweeper = None
        self.store.stop_sweeps()

    def _sweep_loop(self) -> None:
        while not self._stopping.wait(self.sweep_interval):
            try:
                self.sweep_once()
            except Exception:  # keep sweeping; a closed DB at shutdown ends the loop via stop()
                log.exception("dynamodb TTL sweep failed")

    def sweep_once(self, now: float | None = None) -> int:
        """Delete expired items of every TTL-enabled table and trim old stream records."""
        now = time.time() if now is None else now
        deleted = 0
        for table in self.store.all_tables():
            if self._stopping.is_set():
                break
            live = self.store.table(table.account, table.region, table.name) or table
            if live.ttl_enabled:
                while True:
                    n = self.store.expire(live, now)
                    deleted += n
                    if n < 1000:
                        break
            if live.stream_label is not None:
                streams.trim(self.store, live, now)
        streams.trim_retired(self.store, now)
        self.fold_point_in_time_logs(now)
        expire_system_backups(self.store, now)
        return deleted

    def reset(self) -> None:
        self.transfers.reset()
        start, end = keys.everything_range()
        while True:
            batch_ = [(k, None) for k, _ in self.store.db.scan(start, end, limit=5000)]
            if not batch_:
                break
            self.store.db.write_batch(batch_)
        self.store.forget()
        self.stream_writer.forget()
        self.change_log.forget()
        self.replicator.forget()

    # tables -------------------------------------------------------------------------------------

    def create_table(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return tables.create_table(self.store, ctx, p)

    def describe_table(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        out = tables.describe_table(self.store, ctx, p)
        record = tables.get_table(self.store, ctx, p.get("TableName"), describe_style=True)
        global_tables.add_replicas(self.store, self.replicator, record, out["Table"])
        return out

    def list_tables(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return tables.list_tables(self.store, ctx, p)

    def update_table(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        if p.get("ReplicaUpdates") is None:
            out = table_update.update_table(self.store, ctx, p)
            synced = {k: v for k, v in p.items() if k in global_tables.SYNCED_UPDATE_MEMBERS}
            if synced:
                global_tables.sync_to_replicas(
                    self.store, self.replicator, ctx, p.get("TableName"),
                    lambda there: table_update.update_table(self.store, there, {"TableName": out["TableDescription"]["TableName"], **synced}))
        else:
            others = {k: v for k, v in p.items() if k not in ("TableName", "ReplicaUpdates")}
            if others:
                table_update.update_table(self.store, ctx, {"TableName": p.get("TableName"), **others})
            return global_tables.update_replicas(self.store, self.replicator, ctx, p)
        record = tables.get_table(self.store, ctx, p.get("TableName"), describe_style=True)
        global_tables.add_replicas(self.store, self.replicator, record, out["TableDescription"])
        return out

    def delete_table(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return tables.delete_table(self.store, ctx, p)

    # global tables, version 2017.11.29 ----------------------------------------------------------

    def create_global_table(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return legacy_global_tables.create_global_table(self.store, self.replicator, ctx, p)

    def describe_global_table(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return legacy_global_tables.describe_global_table(self.store, self.replicator, ctx, p)

    def list_global_tables(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return legacy_global_tables.list_global_tables(self.store, self.replicator, ctx, p)

    def update_global_table(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return legacy_global_tables.update_global_table(self.store, self.replicator, ctx, p)

    def describe_global_table_settings(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return legacy_global_tables.describe_global_table_settings(self.store, self.replicator, ctx, p)

    def update_global_table_settings(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return legacy_global_tables.update_global_table_settings(self.store, self.replicator, ctx, p)

    def tag_resource(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return tables.tag_resource(self.store, ctx, p)

    def untag_resource(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return tables.untag_resource(self.store, ctx, p)

    def list_tags_of_resource(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return tables.list_tags_of_resource(self.store, ctx, p)

    def update_time_to_live(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        out = tables.update_time_to_live(self.store, ctx, p)
        global_tables.sync_to_replicas(
            self.store, self.replicator, ctx, p.get("TableName"),
            lambda there: tables.update_time_to_live(self.store, there, {**p, "TableName": tables.get_table(self.store, ctx, p.get("TableName")).name}))
        return out

    def describe_time_to_live(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return tables.describe_time_to_live(self.store, ctx, p)

    def describe_limits(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return tables.describe_limits()

    def describe_endpoints(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return tables.describe_endpoints(ctx)

    # items --------------------------------------------------------------------------------------

    def put_item(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return items.put_item(self.store, ctx, p)

    def get_item(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return items.get_item(self.store, ctx, p)

    def update_item(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return items.update_item(self.store, ctx, p)

    def delete_item(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return items.delete_item(self.store, ctx, p)

    # reads --------------------------------------------------------------------------------------

    def query(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return reads.query(self.store, ctx, p)

    def scan(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return reads.scan(self.store, ctx, p)

    # batches and transactions -------------------------------------------------------------------

    def batch_get_item(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return batch.batch_get_item(self.store, ctx, p)

    def batch_write_item(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return batch.batch_write_item(self.store, ctx, p)

    def transact_write_items(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return transactions.transact_write_items(self.store, ctx, p)

    def transact_get_items(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return transactions.transact_get_items(self.store, ctx, p)

    # PartiQL ------------------------------------------------------------------------------------

    def execute_statement(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return partiql.execute_statement(self.store, ctx, p)

    def batch_execute_statement(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return partiql.batch_execute_statement(self.store, ctx, p)

    def execute_transaction(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        return partiql.execute_transaction(self.store, ctx, p)
