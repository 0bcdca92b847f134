"""Table imports from S3, as a provider mixin: ImportTable, DescribeImport, ListImports.

ImportTable creates a NEW table from TableCreationParameters (validated as CreateTable validates
them; ResourceInUseException if the name is taken) and answers IN_PROGRESS. The table exists from
the start in status CREATING (DescribeTable shows it, item operations do not see it) and becomes
ACTIVE when the import ends. A worker thread (transfer_jobs.JobThreads) reads every object under
S3KeyPrefix through the sibling S3 provider (s3_bridge.py), decompresses it (GZIP, or NONE),
parses it (DYNAMODB_JSON lines, Ion text or CSV, transfer_formats.py) and writes the items through
TableStore.commit, so indexes and statistics follow. An import writes no stream records (the new
table has no stream) and no point-in-time history (PITR is off on a new table).

What DynamoDB does, as measured against it (and as done here):
- the counters stay 0 while the import runs and are set when it ends; EndTime appears then;
  ProcessedSizeBytes counts uncompressed bytes and is absent while 0;
- ProcessedItemCount = ImportedItemCount + ErrorCount; ImportedItemCount counts writes (two lines
  with one key count twice, the later one wins);
- blank lines are neither items nor errors; an object of zero bytes is zero items;
- the first line of an object that cannot be made into an item counts one error and abandons the
  rest of that object; an import with errors ends FAILED (FailureCode ``ItemValidationError``)
  and keeps its table with every item that was valid;
- a prefix matching no object COMPLETES with an empty table; a bucket that does not exist FAILS
  the import (``S3NoSuchBucket``) and its table is deleted;
- ClientToken is required (a ValidationException without one); the same token while the import runs answers that import, unless the table name differs
  (ImportConflictException); once it has ended, the table exists and the request gets
  ResourceInUseException.

Not offered here: InputCompressionType ZSTD (no zstd codec among the project's dependencies): it
is refused with a ValidationException that says so.
CloudWatchLogGroupArn is not reported (no CloudWatch Logs here).
"""

from __future__ import annotations

import copy
import gzip
import json
import re
import time
import zlib
from typing import Any, Iterator

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.dynamodb import tables
from awsemu.services.dynamodb import transfer_jobs as jobs
from awsemu.services.dynamodb.attribute_values import validate_item
from awsemu.services.dynamodb.errors import ValidationException
from awsemu.services.dynamodb.items import check_item
from awsemu.services.dynamodb.records import TableRecord
from awsemu.services.dynamodb.s3_bridge import S3Bridge, S3Failure
from awsemu.services.dynamodb.store import Change, TableStore
from awsemu.services.dynamodb.transfer_formats import BadRecord, IonReader, csv_items, parse_json_line

TAG, TOKEN_TAG = "im", "imt"
BATCH = 500
_CREATION_MEMBERS = ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput",
                     "OnDemandThroughput", "SSESpecification", "GlobalSecondaryIndexes")
VALIDATION_FAILURE = ("Some of the items failed validation checks and were not imported. "
                      "Please check CloudWatch error logs for more details.")


class ImportConflictException(ServiceError):
    code = "ImportConflictException"


class ImportNotFoundException(ServiceError):
    code = "ImportNotFoundException"




def _check_request(p: dict[str, Any]) -> None:
    # Optional in the API reference, required by DynamoDB (SDKs always send one: it is an
    # idempotency token they make up when the caller gives none).
    if p.get("ClientToken") is None:
        raise jobs.invalid("clientToken", None, "Member must not be null")
    jobs.check_client_token(p.get("ClientToken"))
    fmt = p.get("InputFormat")
    if fmt not in ("DYNAMODB_JSON", "ION", "CSV"):
        raise jobs.invalid("inputFormat", fmt, "Member must satisfy enum value set: [DYNAMODB_JSON, ION, CSV]")
    compression = p.get("InputCompressionType")
    if compression is not None and compression not in ("GZIP", "ZSTD", "NONE"):
        raise jobs.invalid("inputCompressionType", compression, "Member must satisfy enum value set: [GZIP, ZSTD, NONE]")
    if compression == "ZSTD":
        raise ValidationException("InputCompressionType ZSTD is not supported by this emulator; use GZIP or NONE")
    options = p.get("InputFormatOptions") or {}
    csv_options = options.get("Csv")
    if csv_options is not None and fmt != "CSV":
        raise ValidationException("InputFormatOptions (Csv) can only be given with InputFormat CSV")
    delimiter = (csv_options or {}).get("Delimiter")
    if delimiter is not None and (len(delimiter) != 1 or delimiter not in ",;:|\t "):
        raise jobs.invalid("inputFormatOptions.csv.delimiter", delimiter,
                       "Member must satisfy regular expression pattern: [,;:|\\t ]")
    source = p.get("S3BucketSource") or {}
    bucket = source.get("S3Bucket")
    if not isinstance(bucket, str) or len(bucket) > 255 or not jobs.BUCKET.match(bucket):
        raise jobs.invalid("s3BucketSource.s3Bucket", bucket, "Member must satisfy regular expression pattern: "
                                                          "^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$")
    if len(source.get("S3KeyPrefix") or "") > 1024:
        raise jobs.invalid("s3BucketSource.s3KeyPrefix", source["S3KeyPrefix"],
                       "Member must have length less than or equal to 1024")
    owner = source.get("S3BucketOwner")
    if owner is not None and not re.fullmatch(r"[0-9]{12}", owner):
        raise jobs.invalid("s3BucketSource.s3BucketOwner", owner, "Member must satisfy regular expression pattern: [0-9]{12}")


class _CreatingTables:
    """The table store as tables.create_table sees it during ImportTable: the table it saves is
    CREATING (the import makes it ACTIVE). Everything else is the real store."""

    def __init__(self, store: TableStore) -> None:
        self._store = store

    def save_table(self, record: TableRecord, extra: list[tuple[bytes, bytes | None]] | None = None) -> None:
        record.status = "CREATING"
        self._store.save_table(record, extra)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def describe(job: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ImportArn": job["arn"], "ImportStatus": job["status"], "TableArn": job["table_arn"],
        "TableId": job["table_id"], "ClientToken": job["token"], "S3BucketSource": job["source"],
        "ErrorCount": job["errors"], "InputFormat": job["format"],
        "InputCompressionType": job["compression"], "TableCreationParameters": job["creation"],
        "StartTime": jobs.dt(job["start"]), "ProcessedItemCount": job["processed"],
        "ImportedItemCount": job["imported"],
    }
    if job.get("options") is not None:
        out["InputFormatOptions"] = job["options"]
    if job["end"] is not None:
        out["EndTime"] = jobs.dt(job["end"])
    if job["processed_bytes"]:
        out["ProcessedSizeBytes"] = job["processed_bytes"]
    if job["failure_code"] is not None:
        out.update(FailureCode=job["failure_code"], FailureMessage=job["failure_message"])
    return out


def _summary(job: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"ImportArn": job["arn"], "ImportStatus": job["status"], "TableArn": job["table_arn"],
                           "S3BucketSource": job["source"], "InputFormat": job["format"],
                           "StartTime": jobs.dt(job["start"])}
    if job["end"] is not None:
        out["EndTime"] = jobs.dt(job["end"])
    return out


class ImportOperations:
    # implemented by DynamoDBProvider
    store: TableStore
    transfers: jobs.JobThreads
    s3: Any

    def import_table(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        _check_request(p)
        creation = {m: p["TableCreationParameters"][m] for m in _CREATION_MEMBERS
                    if p["TableCreationParameters"].get(m) is not None}
        token = p["ClientToken"]
        token_key = jobs.job_key(TOKEN_TAG, ctx.account_id, ctx.region, token)
        known = self.store.db.get(token_key)
        if known is not None:
            raw = self.store.db.get(jobs.job_key(TAG, ctx.account_id, ctx.region, known.decode()))
            job = json.loads(raw) if raw is not None else None
            if job is not None and job["status"] == "IN_PROGRESS":
                if job["creation"].get("TableName") != creation.get("TableName"):
                    raise ImportConflictException("Duplicate request detected with conflicting parameters")
                return {"ImportTableDescription": describe(job)}
        created = tables.create_table(_CreatingTables(self.store), ctx, creation)["TableDescription"]  # type: ignore[arg-type]
        import_id = self.transfers.new_id()
        source = {k: v for k, v in p["S3BucketSource"].items() if v is not None}
        job: dict[str, Any] = {
            "id": import_id, "arn": f"{created['TableArn']}/import/{import_id}", "status": "IN_PROGRESS",
            "account": ctx.account_id, "region": ctx.region, "table_arn": created["TableArn"],
            "table_id": created["TableId"], "table_name": created["TableName"], "token": token,
            "source": source, "format": p["InputFormat"], "options": p.get("InputFormatOptions"),
            "compression": p.get("InputCompressionType") or "NONE", "creation": creation,
            "start": time.time(), "end": None, "processed": 0, "imported": 0, "errors": 0, "processed_bytes": 0,
            "failure_code": None, "failure_message": None,
        }
        self.store.db.write_batch([(jobs.job_key(TAG, ctx.account_id, ctx.region, import_id), jobs.dump(job)),
                                   (token_key, import_id.encode())])
        answer = describe(job)  # before the worker thread starts changing the record
        self._start_import(job)
        return {"ImportTableDescription": answer}

    def describe_import(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        job = jobs.find(self.store.db, TAG, jobs.IMPORT_ARN, p.get("ImportArn"), ctx.account_id, ctx.region,
                        ImportNotFoundException, "Import")
        return {"ImportTableDescription": describe(job)}

    def list_imports(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        size = jobs.page_size(p.get("PageSize"), "pageSize")
        after = jobs.token_job_id(p["NextToken"], "ListImports") if p.get("NextToken") else None
        table_arn = p.get("TableArn")
        if table_arn is not None and not jobs.TABLE_ARN.match(table_arn):
            raise jobs.invalid("tableArn", table_arn, "Member must be a valid table ARN")
        summaries: list[dict[str, Any]] = []
        last = None
        for job in jobs.newest_first(self.store.db, TAG, ctx.account_id, ctx.region, after):
            if table_arn is not None and job["table_arn"] != table_arn:
                continue
            if len(summaries) == size:
                return {"ImportSummaryList": summaries, "NextToken": jobs.page_token(str(last))}
            summaries.append(_summary(job))
            last = job["id"]
        return {"ImportSummaryList": summaries}

    # --- the work --------------------------------------------------------------------------------

    def resume_imports(self) -> None:
        """At start: run again every import a stop or a crash left IN_PROGRESS (rewriting the
        same items again is harmless: each write replaces the item it wrote before)."""
        for _, raw in list(self.store.db.scan(*jobs.jobs_range(TAG))):
            job = json.loads(raw)
            if job["status"] == "IN_PROGRESS":
                self._start_import(job)

    def _start_import(self, job: dict[str, Any]) -> None:
        generation = self.transfers.generation
        self.transfers.start(f"import-{job['id']}", lambda: self._run_import(job, generation))

    def _table(self, job: dict[str, Any]) -> TableRecord | None:
        table = self.store.table(job["account"], job["region"], job["table_name"])
        return table if table is not None and table.uid == job["table_id"] else None

    def _run_import(self, job: dict[str, Any], generation: int) -> None:
        key = jobs.job_key(TAG, job["account"], job["region"], job["id"])
        job.update(processed=0, imported=0, errors=0, processed_bytes=0)
        drop_table = False
        try:
            if not self._read_objects(job, generation):
                return  # stopped: run again at the next start
            if job["errors"]:
                job.update(status="FAILED", failure_code="ItemValidationError", failure_message=VALIDATION_FAILURE)
            else:
                job["status"] = "COMPLETED"
        except S3Failure as exc:
            job.update(status="FAILED", failure_code=exc.code, failure_message=exc.message,
                       processed=0, imported=0, errors=0, processed_bytes=0)
            drop_table = exc.code == "S3NoSuchBucket"
        except Exception as exc:  # recorded on the import, as DynamoDB reports its own failures
            job.update(status="FAILED", failure_code="InternalServerError", failure_message=str(exc))
        if self.transfers.cancelled(generation) or self.store.db.get(key) is None:
            return
        table = self._table(job)
        if table is not None:
            with self.store.lock(table.uid):
                if drop_table:
                    self.store.drop_table(table)
                else:
                    latest = copy.deepcopy(self._table(job) or table)
                    latest.status = "ACTIVE"
                    self.store.save_table(latest)
        job["end"] = time.time()
        self.store.db.write_batch([(key, jobs.dump(job))])

    def _read_objects(self, job: dict[str, Any], generation: int) -> bool:
        with S3Bridge(self.s3, job["account"], job["region"]) as s3:
            return self._read_with(job, generation, s3)

    def _read_with(self, job: dict[str, Any], generation: int, s3: S3Bridge) -> bool:
        source = job["source"]
        s3.check_bucket(source["S3Bucket"], source.get("S3BucketOwner"))
        for object_key in list(s3.keys(source["S3Bucket"], source.get("S3KeyPrefix") or "")):
            if self.transfers.cancelled(generation):
                return False
            table = self._table(job)
            if table is None:
                raise RuntimeError(f"Table {job['table_name']} was deleted during the import")
            body = s3.get(source["S3Bucket"], object_key)
            if job["compression"] == "GZIP":
                try:
                    body = gzip.decompress(body)
                except (OSError, EOFError, zlib.error):
                    job["processed"] += 1
                    job["errors"] += 1
                    continue
            job["processed_bytes"] += len(body)
            self._import_object(job, table, body.decode("utf-8", errors="replace"))
        return True

    def _records(self, job: dict[str, Any], table: TableRecord, text: str) -> Iterator[Any]:
        if job["format"] == "CSV":
            csv_options = (job.get("options") or {}).get("Csv") or {}
            key_types = {d["AttributeName"]: d["AttributeType"] for d in table.attribute_definitions}
            yield from csv_items(text, csv_options.get("Delimiter") or ",", csv_options.get("HeaderList"), key_types)
            return
        if job["format"] == "ION":
            yield from IonReader(text).items()
            return
        for line in text.splitlines():
            if line.strip():
                yield parse_json_line(line)

    def _import_object(self, job: dict[str, Any], table: TableRecord, text: str) -> None:
        """Import one object's items; its first bad record counts one error and ends the object."""
        pending: dict[bytes, tuple[dict[str, Any], dict[str, Any]]] = {}
        records = self._records(job, table, text)
        while True:
            try:
                raw = next(records)
                job["processed"] += 1
            except StopIteration:
                break
            except BadRecord:
                job["processed"] += 1
                job["errors"] += 1
                break
            try:
                item = validate_item(raw)
                check_item(table, item)
            except ServiceError:
                job["errors"] += 1
                break
            key = {n: item[n] for n in table.schema.names}
            pending[self.store.item_key(table, key)] = (key, item)
            job["imported"] += 1
            if len(pending) >= BATCH:
                self._write(table, pending)
        self._write(table, pending)

    def _write(self, table: TableRecord, pending: dict[bytes, tuple[dict[str, Any], dict[str, Any]]]) -> None:
        if not pending:
            return
        with self.store.lock(table.uid):
            changes = [Change(table, key, self.store.get_item(table, key, row), item, row=row)
                       for row, (key, item) in pending.items()]
            self.store.commit(changes)
        pending.clear()
