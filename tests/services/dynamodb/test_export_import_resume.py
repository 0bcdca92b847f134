"""Exports and imports cut short by a server stop are run again when it starts: the provider
in-process over a real data dir, with the S3 provider beside it on the same storage (as the app
attaches them), stopped before its workers could do anything, then reopened."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from awsemu.services.base import ServiceError
from awsemu.services.dynamodb.provider import DynamoDBProvider
from awsemu.services.s3.provider import S3Provider
from awsemu.testing.provider import InProcessProvider


class DdbWithS3(InProcessProvider[DynamoDBProvider]):
    def __init__(self, data_dir: Path) -> None:
        self.s3: S3Provider | None = None
        self.file_items: int | None = None  # items per export data file, set before the provider starts
        super().__init__(DynamoDBProvider, data_dir, service="dynamodb", with_blobs=True)

    def started(self, provider: DynamoDBProvider) -> None:
        if self.file_items is not None:
            provider.export_file_items = self.file_items

    def open(self) -> None:
        super().open()
        assert self.provider is not None
        self.s3 = S3Provider(self.provider.storage, self.config())
        self.s3.start()
        self.provider.attach({"dynamodb": self.provider, "s3": self.s3})

    def close(self) -> None:
        if self.s3 is not None:
            self.s3.stop()
            self.s3 = None
        super().close()

    def error(self, operation: str, **params: Any) -> ServiceError:
        with pytest.raises(ServiceError) as exc:
            self(operation, **params)
        return exc.value

    def s3_call(self, operation: str, **params: Any) -> Any:
        from awsemu.services.base import snake_case

        assert self.s3 is not None
        out = getattr(self.s3, snake_case(operation))(self.ctx(operation), **params)
        if hasattr(out, "__await__"):
            import asyncio

            out = asyncio.run(out)
        return out


@pytest.fixture
def ddb(tmp_path: Path) -> Iterator[DdbWithS3]:
    d = DdbWithS3(tmp_path)
    try:
        yield d
    finally:
        d.close()


def _until_done(call: Any, member: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        out: dict[str, Any] = call()
        if out[member] != "IN_PROGRESS" or time.monotonic() > deadline:
            return out
        time.sleep(0.01)


def test_unfinished_export_and_import_run_again_after_a_restart(ddb: DdbWithS3) -> None:
    ddb("CreateTable", TableName="source", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    for i in range(30):
        ddb("PutItem", TableName="source", Item={"pk": {"S": f"k{i}"}, "v": {"N": str(i)}})
    ddb("UpdateContinuousBackups", TableName="source",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    ddb.s3_call("CreateBucket", Bucket="bucket-one")
    ddb.s3_call("PutObject", Bucket="bucket-one", Key="in/a.json.gz",
                Body=gzip.compress(b"".join(json.dumps({"Item": {"pk": {"S": f"i{i}"}}}).encode() + b"\n"
                                            for i in range(12))))
    assert ddb.provider is not None
    ddb.provider.transfers.stopping.set()  # as if the server were stopping: the workers do nothing
    arn = "arn:aws:dynamodb:us-east-1:000000000000:table/source"
    export = ddb("ExportTableToPointInTime", TableArn=arn, S3Bucket="bucket-one",
                 ClientToken="export-token")["ExportDescription"]
    request = {"S3BucketSource": {"S3Bucket": "bucket-one", "S3KeyPrefix": "in/"}, "InputFormat": "DYNAMODB_JSON",
               "InputCompressionType": "GZIP", "ClientToken": "import-token",
               "TableCreationParameters": {"TableName": "copy",
                                           "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                                           "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                                           "BillingMode": "PAY_PER_REQUEST"}}
    job = ddb("ImportTable", **request)["ImportTableDescription"]
    time.sleep(0.1)

    # While they run, the ClientToken answers the same job. An import replayed with another source
    # is the same import (DynamoDB compares only the table name); another table name conflicts.
    again = ddb("ExportTableToPointInTime", TableArn=arn, S3Bucket="bucket-one", ClientToken="export-token")
    assert again["ExportDescription"]["ExportArn"] == export["ExportArn"]
    replay = ddb("ImportTable", **{**request, "S3BucketSource": {"S3Bucket": "other-bucket"}, "InputFormat": "CSV"})
    assert replay["ImportTableDescription"]["ImportArn"] == job["ImportArn"]
    assert replay["ImportTableDescription"]["S3BucketSource"] == request["S3BucketSource"]
    conflict = ddb.error("ImportTable", **{**request, "TableCreationParameters": {
        **request["TableCreationParameters"], "TableName": "elsewhere"}})
    assert conflict.code == "ImportConflictException"
    assert conflict.message == "Duplicate request detected with conflicting parameters"
    assert ddb.error("ExportTableToPointInTime", TableArn=arn, S3Bucket="bucket-one", ClientToken="export-token",
                     ExportFormat="ION").code == "ExportConflictException"
    tokenless = {k: v for k, v in request.items() if k != "ClientToken"}
    assert ddb.error("ImportTable", **tokenless).message == (
        "1 validation error detected: Value null at 'clientToken' failed to satisfy constraint: Member must not be null")
    assert ddb("DescribeExport", ExportArn=export["ExportArn"])["ExportDescription"]["ExportStatus"] == "IN_PROGRESS"
    assert ddb("DescribeImport", ImportArn=job["ImportArn"])["ImportTableDescription"]["ImportStatus"] == "IN_PROGRESS"
    assert ddb("DescribeTable", TableName="copy")["Table"]["TableStatus"] == "CREATING"
    assert ddb.s3_call("ListObjectsV2", Bucket="bucket-one", Prefix="AWSDynamoDB/")["KeyCount"] == 0

    ddb.file_items = 7  # the resumed export writes 30 items as 5 data files
    ddb.restart()
    done = _until_done(lambda: ddb("DescribeExport", ExportArn=export["ExportArn"])["ExportDescription"],
                       "ExportStatus")
    assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == 30
    assert done["ExportTime"] == export["ExportTime"]
    final = _until_done(lambda: ddb("DescribeImport", ImportArn=job["ImportArn"])["ImportTableDescription"],
                        "ImportStatus")
    assert final["ImportStatus"] == "COMPLETED" and final["ImportedItemCount"] == 12
    table = ddb("DescribeTable", TableName="copy")["Table"]
    assert table["TableStatus"] == "ACTIVE" and table["ItemCount"] == 12
    keys = [c["Key"] for c in ddb.s3_call("ListObjectsV2", Bucket="bucket-one", Prefix="AWSDynamoDB/")["Contents"]]
    assert sum(k.endswith(".json.gz") for k in keys) == 5 and any(k.endswith("manifest-summary.json") for k in keys)
    manifest = [k for k in keys if k.endswith("manifest-files.json")][0]
    body = ddb.s3_call("GetObject", Bucket="bucket-one", Key=manifest)["Body"]
    entries = [json.loads(line) for line in body.decode().splitlines()]
    assert [e["itemCount"] for e in entries] == [7, 7, 7, 7, 2]
    exported = set()
    for entry in entries:
        data = ddb.s3_call("GetObject", Bucket="bucket-one", Key=entry["dataFileS3Key"])["Body"]
        exported |= {json.loads(line)["Item"]["pk"]["S"] for line in gzip.decompress(data).decode().splitlines()}
    assert exported == {f"k{i}" for i in range(30)}
