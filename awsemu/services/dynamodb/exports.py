"""Table exports to S3, as a provider mixin: ExportTableToPointInTime, DescribeExport, ListExports.

An export needs point-in-time recovery on its table and reads the table exactly as it was at
ExportTime (default: the request's time), anywhere from EarliestRestorableDateTime to now,
through the recovery history (point_in_time.items_at over one lsm snapshot). The request is
answered IN_PROGRESS; a worker thread (transfer_jobs.JobThreads) writes AWS's layout into the
bucket through the sibling S3 provider (s3_bridge.py):

    <prefix>/AWSDynamoDB/<ExportId>/_started                 empty, written first
    <prefix>/AWSDynamoDB/<ExportId>/data/<name>.json.gz      gzip, one item per line (.ion.gz for ION)
    <prefix>/AWSDynamoDB/<ExportId>/manifest-files.json      JSON lines: itemCount, md5Checksum, etag, dataFileS3Key
    <prefix>/AWSDynamoDB/<ExportId>/manifest-files.md5       base64 MD5 of the manifest
    <prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json    version 2020-06-30, arns, times, counts, format
    <prefix>/AWSDynamoDB/<ExportId>/manifest-summary.md5

(the developer guide names the checksum files ``.checksum``; DynamoDB writes ``.md5``, as
measured against it, and so do we). Every object is written with S3SseAlgorithm's server-side
encryption (AES256 by default, ``aws:kms`` with S3SseKmsKeyId for KMS). A data file holds up to ``FILE_ITEMS`` items; an empty table
still gets one (empty) file. Data file names derive from the export id, so an export run again
after a restart overwrites its own files.

A bucket that does not exist fails the export, not the request: ExportStatus FAILED, FailureCode
``S3NoSuchBucket`` (DynamoDB's behaviour). The ClientToken makes the request idempotent: the same
token with the same parameters answers the same export, with others ExportConflictException.
Only FULL_EXPORT is offered; INCREMENTAL_EXPORT is refused with a ValidationException.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import re
import time
import uuid
from typing import Any

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.dynamodb import keys
from awsemu.services.dynamodb import transfer_jobs as jobs
from awsemu.services.dynamodb.attribute_values import item_size
from awsemu.services.dynamodb.errors import (
    PointInTimeRecoveryUnavailableException,
    TableNotFoundException,
    ValidationException,
)
from awsemu.services.dynamodb.point_in_time import items_at, window
from awsemu.services.dynamodb.records import TableRecord
from awsemu.services.dynamodb.s3_bridge import S3Bridge, S3Failure
from awsemu.services.dynamodb.store import TableStore
from awsemu.services.dynamodb.transfer_formats import ion_line, json_line

TAG, TOKEN_TAG = "ex", "ext"
FILE_ITEMS = 10000
# The request members an idempotent retry must repeat (the table and everything about the output).
_TOKEN_MEMBERS = ("TableArn", "S3Bucket", "S3BucketOwner", "S3Prefix", "S3SseAlgorithm", "S3SseKmsKeyId",
                  "ExportFormat", "ExportType", "ExportTime")


class ExportConflictException(ServiceError):
    code = "ExportConflictException"


class ExportNotFoundException(ServiceError):
    code = "ExportNotFoundException"


class InvalidExportTimeException(ServiceError):
    code = "InvalidExportTimeException"




def _check_request(p: dict[str, Any]) -> None:
    bucket = p.get("S3Bucket")
    if not isinstance(bucket, str) or not bucket:
        raise jobs.invalid("s3Bucket", bucket, "Member must not be null" if bucket is None
                       else "Member must satisfy regular expression pattern: ^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$")
    if len(bucket) > 255 or not jobs.BUCKET.match(bucket):
        raise jobs.invalid("s3Bucket", bucket, "Member must satisfy regular expression pattern: "
                                           "^[a-z0-9A-Z]+[\\.\\-\\w]*[a-z0-9A-Z]+$")
    if p.get("ExportFormat") is not None and p["ExportFormat"] not in ("DYNAMODB_JSON", "ION"):
        raise jobs.invalid("exportFormat", p["ExportFormat"], "Member must satisfy enum value set: [DYNAMODB_JSON, ION]")
    kind = p.get("ExportType")
    if kind is not None and kind not in ("FULL_EXPORT", "INCREMENTAL_EXPORT"):
        raise jobs.invalid("exportType", kind, "Member must satisfy enum value set: [FULL_EXPORT, INCREMENTAL_EXPORT]")
    if kind == "INCREMENTAL_EXPORT" or p.get("IncrementalExportSpecification") is not None:
        raise ValidationException("ExportType INCREMENTAL_EXPORT (IncrementalExportSpecification) is not supported "
                                  "by this emulator; use FULL_EXPORT")
    sse = p.get("S3SseAlgorithm")
    if sse is not None and sse not in ("AES256", "KMS"):
        raise jobs.invalid("s3SseAlgorithm", sse, "Member must satisfy enum value set: [AES256, KMS]")
    if p.get("S3SseKmsKeyId") is not None:
        if not p["S3SseKmsKeyId"]:
            raise jobs.invalid("s3SseKmsKeyId", "", "Member must have length greater than or equal to 1")
        if sse != "KMS":
            raise ValidationException("S3SseKmsKeyId can only be given with S3SseAlgorithm KMS")
    owner = p.get("S3BucketOwner")
    if owner is not None and not re.fullmatch(r"[0-9]{12}", owner):
        raise jobs.invalid("s3BucketOwner", owner, "Member must satisfy regular expression pattern: [0-9]{12}")
    prefix = p.get("S3Prefix")
    if prefix is not None and (not prefix or len(prefix) > 1024):
        raise jobs.invalid("s3Prefix", prefix, "Member must have length greater than or equal to 1" if not prefix
                       else "Member must have length less than or equal to 1024")
    jobs.check_client_token(p.get("ClientToken"))


def _source_table(store: TableStore, ctx: CallContext, arn: Any) -> TableRecord:
    match = jobs.TABLE_ARN.match(arn) if isinstance(arn, str) else None
    if match is None:
        raise jobs.invalid("tableArn", arn, "Member must be a valid table ARN" if arn is not None else "Member must not be null")
    region, account, name = match.groups()
    record = store.table(account, region, name) if (account, region) == (ctx.account_id, ctx.region) else None
    if record is None:
        raise TableNotFoundException(f"Table not found: {name}")
    return record


def export_base(export: dict[str, Any]) -> str:
    """The key prefix of everything an export writes: ``<prefix>/AWSDynamoDB/<ExportId>/``."""
    prefix = export.get("prefix") or ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return f"{prefix}AWSDynamoDB/{export['id']}/"


def describe(export: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ExportArn": export["arn"],
        "ExportStatus": export["status"],
        "StartTime": jobs.dt(export["start"]),
        "TableArn": export["table_arn"],
        "TableId": export["table_id"],
        "ExportTime": jobs.dt(export["export_time"]),
        "ClientToken": export["token"],
        "S3Bucket": export["bucket"],
        "ExportFormat": export["format"],
    }
    optional = (("S3BucketOwner", "owner"), ("S3Prefix", "prefix"), ("S3SseAlgorithm", "sse"),
                ("S3SseKmsKeyId", "kms"), ("ExportType", "type"))
    for member, field in optional:
        if export.get(field) is not None:
            out[member] = export[field]
    if export["status"] != "IN_PROGRESS":
        out["EndTime"] = jobs.dt(export["end"])
    if export["status"] == "COMPLETED":
        out.update(ExportManifest=export["manifest"], ItemCount=export["items"], BilledSizeBytes=export["billed"])
    if export["status"] == "FAILED":
        out.update(FailureCode=export["failure_code"], FailureMessage=export["failure_message"])
    return out


class ExportOperations:
    # implemented by DynamoDBProvider
    store: TableStore
    pitr_lag_seconds: float
    transfers: jobs.JobThreads
    s3: Any
    # Items per data file (DynamoDB writes at least one file per partition; ours hold this many).
    export_file_items = FILE_ITEMS

    def export_table_to_point_in_time(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        _check_request(p)
        table = _source_table(self.store, ctx, p.get("TableArn"))
        token = p.get("ClientToken") or str(uuid.uuid4())
        token_key = jobs.job_key(TOKEN_TAG, ctx.account_id, ctx.region, token)
        known = self.store.db.get(token_key)
        if known is not None:
            raw = self.store.db.get(jobs.job_key(TAG, ctx.account_id, ctx.region, known.decode()))
            if raw is not None:
                export = json.loads(raw)
                if export["request"] != _request_of(p):
                    raise ExportConflictException("Duplicate request detected with conflicting parameters")
                return {"ExportDescription": describe(export)}
        if not table.point_in_time_recovery:
            raise PointInTimeRecoveryUnavailableException(
                f"Point in time recovery is not enabled for table '{table.name}'")
        now = time.time()
        earliest, _ = window(table, self.pitr_lag_seconds, now)
        when = p.get("ExportTime")
        stamp = int(now * 1_000_000) if when is None else round(when.timestamp() * 1_000_000)
        if not earliest * 1000 <= stamp <= int(now * 1_000_000):
            raise InvalidExportTimeException(
                "Export time is invalid: ExportTime must be within the point in time recovery window, between "
                "EarliestRestorableDateTime and the current time")
        export_id = self.transfers.new_id()
        export: dict[str, Any] = {
            "id": export_id, "arn": f"{table.arn}/export/{export_id}", "status": "IN_PROGRESS",
            "account": ctx.account_id, "region": ctx.region,
            "table_arn": table.arn, "table_id": table.uid, "table_name": table.name, "pitr_since": table.pitr_since,
            "start": now, "end": None, "export_time": stamp / 1_000_000, "token": token,
            "bucket": p["S3Bucket"], "owner": p.get("S3BucketOwner"), "prefix": p.get("S3Prefix"),
            "sse": p.get("S3SseAlgorithm"), "kms": p.get("S3SseKmsKeyId"),
            "format": p.get("ExportFormat") or "DYNAMODB_JSON", "type": p.get("ExportType"),
            "items": 0, "billed": 0, "manifest": None, "failure_code": None, "failure_message": None,
            "request": _request_of(p),
        }
        self.store.db.write_batch([(jobs.job_key(TAG, ctx.account_id, ctx.region, export_id), jobs.dump(export)),
                                   (token_key, export_id.encode())])
        answer = describe(export)  # before the worker thread starts changing the record
        self._start_export(export)
        return {"ExportDescription": answer}

    def describe_export(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        export = jobs.find(self.store.db, TAG, jobs.EXPORT_ARN, p.get("ExportArn"), ctx.account_id, ctx.region,
                           ExportNotFoundException, "Export")
        return {"ExportDescription": describe(export)}

    def list_exports(self, ctx: CallContext, **p: Any) -> dict[str, Any]:
        limit = jobs.page_size(p.get("MaxResults"), "maxResults")
        after = jobs.token_job_id(p["NextToken"], "ListExports") if p.get("NextToken") else None
        table_id = None
        if p.get("TableArn") is not None:
            match = jobs.TABLE_ARN.match(p["TableArn"])
            if match is None:
                raise jobs.invalid("tableArn", p["TableArn"], "Member must be a valid table ARN")
            region, account, name = match.groups()
            table = self.store.table(account, region, name) if (account, region) == (ctx.account_id, ctx.region) else None
            # Exports of a deleted table (or of an earlier table of the same name) are not listed.
            table_id = table.uid if table is not None else ""
        summaries: list[dict[str, Any]] = []
        last = None
        for export in jobs.newest_first(self.store.db, TAG, ctx.account_id, ctx.region, after):
            if table_id is not None and export["table_id"] != table_id:
                continue
            if len(summaries) == limit:
                return {"ExportSummaries": summaries, "NextToken": jobs.page_token(str(last))}
            summaries.append({"ExportArn": export["arn"], "ExportStatus": export["status"],
                              "ExportType": export.get("type") or "FULL_EXPORT"})
            last = export["id"]
        return {"ExportSummaries": summaries}

    # --- the work --------------------------------------------------------------------------------

    def resume_exports(self) -> None:
        """At start: run again every export a stop or a crash left IN_PROGRESS."""
        for _, raw in list(self.store.db.scan(*jobs.jobs_range(TAG))):
            export = json.loads(raw)
            if export["status"] == "IN_PROGRESS":
                self._start_export(export)

    def _start_export(self, export: dict[str, Any]) -> None:
        generation = self.transfers.generation
        self.transfers.start(f"export-{export['id']}", lambda: self._run_export(export, generation))

    def _run_export(self, export: dict[str, Any], generation: int) -> None:
        key = jobs.job_key(TAG, export["account"], export["region"], export["id"])
        try:
            done = self._write_export(export, generation)
        except S3Failure as exc:
            export.update(status="FAILED", failure_code=exc.code, failure_message=exc.message)
            done = True
        except Exception as exc:  # recorded on the export, as DynamoDB reports its own failures
            export.update(status="FAILED", failure_code="InternalServerError", failure_message=str(exc))
            done = True
        if not done or self.transfers.cancelled(generation) or self.store.db.get(key) is None:
            return  # stopped (run again at the next start) or wiped by a reset
        export["end"] = time.time()
        self.store.db.write_batch([(key, jobs.dump(export))])

    def _write_export(self, export: dict[str, Any], generation: int) -> bool:
        """Write the export's files; False if stopped half-way. Updates ``export`` when done."""
        if self.transfers.cancelled(generation):
            return False
        sse = {"ServerSideEncryption": "aws:kms" if export.get("sse") == "KMS" else "AES256"}
        if export.get("kms"):
            sse["SSEKMSKeyId"] = export["kms"]
        with S3Bridge(self.s3, export["account"], export["region"], sse) as s3:
            return self._write_files(export, generation, s3)

    def _write_files(self, export: dict[str, Any], generation: int, s3: S3Bridge) -> bool:
        bucket, base = export["bucket"], export_base(export)
        s3.check_bucket(bucket, export.get("owner"))
        s3.put(bucket, base + "_started", b"")
        line = ion_line if export["format"] == "ION" else json_line
        suffix = ".ion.gz" if export["format"] == "ION" else ".json.gz"
        files: list[dict[str, Any]] = []
        count = billed = 0
        with self.store.db.snapshot() as view:
            raw = view.get(keys.table_key(export["account"], export["region"], export["table_name"]))
            table = TableRecord.from_json(raw) if raw is not None else None
            if table is None or table.uid != export["table_id"]:
                raise S3Failure("TableNotFound", f"Table not found: {export['table_name']}")
            if not table.point_in_time_recovery or table.pitr_since != export["pitr_since"]:
                raise S3Failure("PointInTimeRecoveryUnavailable",
                                f"Point in time recovery is not enabled for table '{table.name}'")
            lines: list[str] = []

            def flush() -> None:
                body = gzip.compress(("".join(f"{text}\n" for text in lines)).encode("utf-8"), mtime=0)
                name = base64.b32encode(hashlib.sha256(f"{export['id']}/{len(files)}".encode()).digest()[:16])
                data_key = f"{base}data/{name.decode().rstrip('=').lower()}{suffix}"
                etag = s3.put(bucket, data_key, body, "application/x-gzip")
                files.append({"itemCount": len(lines), "md5Checksum": _md5(body), "etag": etag,
                              "dataFileS3Key": data_key})
                lines.clear()

            for item in items_at(view, table.uid, round(export["export_time"] * 1_000_000)):
                lines.append(line(item))
                count += 1
                billed += item_size(item)
                if len(lines) >= self.export_file_items:
                    if self.transfers.cancelled(generation):
                        return False
                    flush()
            if lines or not files:
                flush()
        manifest_files = "".join(json.dumps(f, separators=(",", ":")) + "\n" for f in files).encode()
        s3.put(bucket, base + "manifest-files.json", manifest_files, "application/json")
        s3.put(bucket, base + "manifest-files.md5", _md5(manifest_files).encode())
        end = time.time()
        summary = {
            "version": "2020-06-30", "exportArn": export["arn"], "startTime": jobs.iso_z(export["start"]),
            "endTime": jobs.iso_z(end), "tableArn": export["table_arn"], "tableId": export["table_id"],
            "exportTime": jobs.iso_z(export["export_time"]), "s3Bucket": bucket, "s3Prefix": export.get("prefix"),
            "s3SseAlgorithm": export.get("sse") or "AES256", "s3SseKmsKeyId": export.get("kms"),
            "manifestFilesS3Key": base + "manifest-files.json", "billedSizeBytes": billed, "itemCount": count,
            "outputFormat": export["format"],
        }
        summary_body = json.dumps(summary, separators=(",", ":")).encode()
        s3.put(bucket, base + "manifest-summary.json", summary_body, "application/json")
        s3.put(bucket, base + "manifest-summary.md5", _md5(summary_body).encode())
        export.update(status="COMPLETED", items=count, billed=billed, manifest=base + "manifest-summary.json")
        return True


def _md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode("ascii")


def _request_of(p: dict[str, Any]) -> dict[str, Any]:
    out = {m: p.get(m) for m in _TOKEN_MEMBERS}
    if out["ExportTime"] is not None:
        out["ExportTime"] = out["ExportTime"].timestamp()
    return copy.deepcopy(out)
