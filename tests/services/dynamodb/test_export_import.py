"""ExportTableToPointInTime / DescribeExport / ListExports and ImportTable / DescribeImport /
ListImports through boto3 against a real server with S3 enabled: the files an export writes are
downloaded from S3, unzipped and compared with the table; an export imported back reproduces it.

The expected behaviours beyond the API reference (``.md5`` checksum files, FailureCode
``S3NoSuchBucket``, counters only set at the end, the first bad line abandoning its object, an
import with bad lines ending FAILED/ItemValidationError with its table kept) are DynamoDB's as
measured against it (see exports.py and imports.py).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from awsemu.testing.plugin import make_client, reset_server
from awsemu.testing.server import ServerProcess

ENV = {"AWSEMU_SERVICES": "dynamodb,dynamodbstreams,s3"}
KEY_SCHEMA = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
DEFINITIONS = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
               {"AttributeName": "g", "AttributeType": "S"}]
GSI = [{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"}}]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    process = ServerProcess(env=ENV)
    process.start()
    try:
        yield process
    finally:
        process.close()


@pytest.fixture
def ddb(server: ServerProcess) -> Any:
    reset_server(server.endpoint)
    return make_client(server.endpoint, "dynamodb")


@pytest.fixture
def s3(server: ServerProcess, ddb: Any) -> Any:
    client = make_client(server.endpoint, "s3")
    client.create_bucket(Bucket="exports-bucket")
    return client


def _item(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"user-{i % 7}"}, "sk": {"N": str(i)}, "g": {"S": f"g{i % 3}"}, "s": {"S": "zażółć \"q\"\n"},
            "n": {"N": "-12.50"}, "b": {"B": bytes([i % 256, 0, 255])}, "t": {"BOOL": i % 2 == 0}, "z": {"NULL": True},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01", b"\x02"]},
            "l": {"L": [{"S": "x"}, {"N": "1"}]}, "m": {"M": {"k": {"M": {"deep": {"S": "v"}}}}}}


def _table(ddb: Any, name: str = "source", pitr: bool = True, items: int = 25) -> str:
    ddb.create_table(TableName=name, KeySchema=KEY_SCHEMA, AttributeDefinitions=DEFINITIONS,
                     GlobalSecondaryIndexes=GSI, BillingMode="PAY_PER_REQUEST")
    for start in range(0, items, 25):
        ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": _item(i)}}
                                                  for i in range(start, min(items, start + 25))]})
    if pitr:
        ddb.update_continuous_backups(TableName=name,
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    return str(ddb.describe_table(TableName=name)["Table"]["TableArn"])


def _wire(item: dict[str, Any]) -> str:
    """An item as comparable text: binaries base64 (as an export writes them), sets sorted."""
    def norm(value: dict[str, Any]) -> dict[str, Any]:
        (kind, raw), = value.items()
        if kind == "B":
            return {"B": base64.b64encode(raw).decode()} if isinstance(raw, bytes) else value
        if kind == "BS":
            return {"BS": sorted(base64.b64encode(r).decode() if isinstance(r, bytes) else r for r in raw)}
        if kind in ("SS", "NS"):
            return {kind: sorted(raw)}
        if kind == "L":
            return {"L": [norm(v) for v in raw]}
        if kind == "M":
            return {"M": {k: norm(v) for k, v in raw.items()}}
        return value
    return json.dumps({k: norm(v) for k, v in item.items()}, sort_keys=True)


def _scan(ddb: Any, name: str) -> list[str]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": name}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(_wire(i) for i in items)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _wait(describe: Any, status_member: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        out: dict[str, Any] = describe()
        if out[status_member] != "IN_PROGRESS" or time.monotonic() > deadline:
            return out
        time.sleep(0.02)


def wait_export(ddb: Any, arn: str) -> dict[str, Any]:
    return _wait(lambda: ddb.describe_export(ExportArn=arn)["ExportDescription"], "ExportStatus")


def wait_import(ddb: Any, arn: str) -> dict[str, Any]:
    return _wait(lambda: ddb.describe_import(ImportArn=arn)["ImportTableDescription"], "ImportStatus")


def _objects(s3: Any, bucket: str, prefix: str = "") -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def _md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def _code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


# --- exports ---------------------------------------------------------------------------------------


def test_export_writes_aws_layout_and_import_reproduces_the_table(ddb: Any, s3: Any) -> None:
    arn = _table(ddb, items=60)
    table_id = ddb.describe_table(TableName="source")["Table"]["TableId"]
    before = datetime.now(timezone.utc)
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports-bucket", S3Prefix="nightly/x",
                                                S3SseAlgorithm="AES256")["ExportDescription"]
    export_id = started["ExportArn"].rsplit("/", 1)[1]
    assert started["ExportArn"] == f"{arn}/export/{export_id}"
    assert len(export_id) == 23 and export_id[:14].isdigit() and export_id[14] == "-"
    assert started["ExportStatus"] == "IN_PROGRESS"
    assert started["TableArn"] == arn and started["TableId"] == table_id
    assert started["S3Bucket"] == "exports-bucket" and started["S3Prefix"] == "nightly/x"
    assert started["S3SseAlgorithm"] == "AES256" and started["ExportFormat"] == "DYNAMODB_JSON"
    assert started["ClientToken"]  # botocore makes one; DynamoDB answers with it
    assert "ExportType" not in started  # not given, not answered (as DynamoDB)
    assert before - timedelta(seconds=1) <= started["StartTime"] <= datetime.now(timezone.utc)
    assert abs((started["ExportTime"] - started["StartTime"]).total_seconds()) < 1
    for absent in ("EndTime", "ExportManifest", "ItemCount", "FailureCode"):
        assert absent not in started

    done = wait_export(ddb, started["ExportArn"])
    base = f"nightly/x/AWSDynamoDB/{export_id}/"
    assert done["ExportStatus"] == "COMPLETED"
    assert done["ItemCount"] == 60 and done["BilledSizeBytes"] > 0
    assert done["ExportManifest"] == base + "manifest-summary.json"
    assert done["EndTime"] >= done["StartTime"]
    for member in ("ExportArn", "TableArn", "TableId", "ClientToken", "S3Bucket", "S3Prefix", "ExportTime"):
        assert done[member] == started[member]

    files = _objects(s3, "exports-bucket")
    names = {k[len(base):] for k in files}
    assert {"_started", "manifest-files.json", "manifest-files.md5", "manifest-summary.json",
            "manifest-summary.md5"} <= names and all(k.startswith(base) for k in files)
    assert files[base + "_started"] == b""
    assert s3.head_object(Bucket="exports-bucket", Key=base + "manifest-summary.json")["ServerSideEncryption"] == "AES256"
    for manifest in ("manifest-files", "manifest-summary"):
        assert files[base + manifest + ".md5"].decode() == _md5(files[base + manifest + ".json"])
    summary = json.loads(files[base + "manifest-summary.json"])
    assert summary == {
        "version": "2020-06-30", "exportArn": done["ExportArn"], "startTime": summary["startTime"],
        "endTime": summary["endTime"], "tableArn": arn, "tableId": table_id, "exportTime": summary["exportTime"],
        "s3Bucket": "exports-bucket", "s3Prefix": "nightly/x", "s3SseAlgorithm": "AES256", "s3SseKmsKeyId": None,
        "manifestFilesS3Key": base + "manifest-files.json", "billedSizeBytes": done["BilledSizeBytes"],
        "itemCount": 60, "outputFormat": "DYNAMODB_JSON"}
    assert summary["startTime"] <= summary["endTime"] and summary["startTime"].endswith("Z")
    exported: list[str] = []
    entries = [json.loads(line) for line in files[base + "manifest-files.json"].decode().splitlines()]
    assert {base + "data/" + n.split("/")[-1] for n in names if n.startswith("data/")} == \
        {e["dataFileS3Key"] for e in entries}
    for entry in entries:
        body = files[entry["dataFileS3Key"]]
        assert entry["dataFileS3Key"].endswith(".json.gz")
        assert entry["md5Checksum"] == _md5(body) and entry["etag"] == hashlib.md5(body).hexdigest()
        lines = gzip.decompress(body).decode().splitlines()
        assert entry["itemCount"] == len(lines)
        exported += [_wire(json.loads(line)["Item"]) for line in lines]
    assert sorted(exported) == _scan(ddb, "source")

    imported = ddb.import_table(
        S3BucketSource={"S3Bucket": "exports-bucket", "S3KeyPrefix": base + "data/"},
        InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
        TableCreationParameters={"TableName": "copy", "KeySchema": KEY_SCHEMA, "AttributeDefinitions": DEFINITIONS,
                                 "GlobalSecondaryIndexes": GSI, "BillingMode": "PAY_PER_REQUEST"},
    )["ImportTableDescription"]
    final = wait_import(ddb, imported["ImportArn"])
    assert final["ImportStatus"] == "COMPLETED" and "FailureCode" not in final
    assert final["ProcessedItemCount"] == final["ImportedItemCount"] == 60 and final["ErrorCount"] == 0
    raw_size = sum(len(gzip.decompress(files[e["dataFileS3Key"]])) for e in entries)
    assert final["ProcessedSizeBytes"] == raw_size
    assert _scan(ddb, "copy") == _scan(ddb, "source")
    table = ddb.describe_table(TableName="copy")["Table"]
    assert table["TableStatus"] == "ACTIVE" and table["TableId"] == imported["TableId"] and table["ItemCount"] == 60
    by_g = ddb.query(TableName="copy", IndexName="by-g", KeyConditionExpression="g = :g",
                     ExpressionAttributeValues={":g": {"S": "g1"}})["Items"]
    assert len(by_g) == 20
    assert "StreamSpecification" not in table  # an import makes no stream


def test_export_at_a_past_time_is_exact(ddb: Any, s3: Any) -> None:
    arn = _table(ddb, items=10)
    time.sleep(0.01)
    then = datetime.now(timezone.utc)
    time.sleep(0.01)
    expected = _scan(ddb, "source")
    ddb.delete_item(TableName="source", Key={"pk": {"S": "user-0"}, "sk": {"N": "0"}})
    ddb.put_item(TableName="source", Item={"pk": {"S": "late"}, "sk": {"N": "1"}, "g": {"S": "g"}})
    ddb.update_item(TableName="source", Key={"pk": {"S": "user-1"}, "sk": {"N": "1"}},
                    UpdateExpression="SET s = :v", ExpressionAttributeValues={":v": {"S": "changed"}})
    started = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports-bucket", ExportTime=then)
    done = wait_export(ddb, started["ExportDescription"]["ExportArn"])
    assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == 10
    assert abs(done["ExportTime"].timestamp() - then.timestamp()) <= 0.001  # the wire keeps milliseconds
    files = _objects(s3, "exports-bucket", "AWSDynamoDB/")
    lines = [line for key, body in files.items() if key.endswith(".json.gz")
             for line in gzip.decompress(body).decode().splitlines()]
    assert sorted(_wire(json.loads(line)["Item"]) for line in lines) == expected


def test_export_ion_text(ddb: Any, s3: Any) -> None:
    arn = _table(ddb, items=0)
    ddb.put_item(TableName="source", Item={"pk": {"S": "a"}, "sk": {"N": "600"}, "p": {"N": "-1.50"},
                                           "b": {"B": b"\x00\xff"}, "ss": {"SS": ["x"]}, "ok": {"BOOL": False},
                                           "z": {"NULL": True}, "l": {"L": [{"S": "q\""}]}, "m": {"M": {"k": {"N": "1"}}}})
    done = wait_export(ddb, ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket="exports-bucket", ExportFormat="ION", ExportType="FULL_EXPORT",
        S3SseAlgorithm="KMS", S3SseKmsKeyId="alias/exports",
    )["ExportDescription"]["ExportArn"])
    assert done["ExportFormat"] == "ION" and done["ExportType"] == "FULL_EXPORT" and done["ItemCount"] == 1
    assert (done["S3SseAlgorithm"], done["S3SseKmsKeyId"]) == ("KMS", "alias/exports")
    data = [body for key, body in _objects(s3, "exports-bucket").items() if "/data/" in key]
    assert len(data) == 1
    line, = gzip.decompress(data[0]).decode().splitlines()
    assert line == ('$ion_1_0 {Item:{"pk":"a","sk":6d2,"p":-15d-1,"b":{{AP8=}},"ss":$dynamodb_SS::["x"],'
                    '"ok":false,"z":null,"l":["q\\""],"m":{"k":1d0}}}')
    summary = json.loads(_objects(s3, "exports-bucket", done["ExportManifest"])[done["ExportManifest"]])
    assert summary["outputFormat"] == "ION"
    assert (summary["s3SseAlgorithm"], summary["s3SseKmsKeyId"]) == ("KMS", "alias/exports")
    head = s3.head_object(Bucket="exports-bucket", Key=done["ExportManifest"])
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"].endswith("alias/exports")
    # Ion in: the export, and hand-written Ion (comments, symbols, long strings, ints, a bad object)
    s3.put_object(Bucket="exports-bucket", Key="ion/b.ion", Body="""$ion_1_0 // one item
        {Item: {pk: 'b', sk: 0x10, note: \'\'\'long \'\'\' \'\'\'text\'\'\', ns: $dynamodb_NS::[1, 2.5e0]}}
        $ion_1_0 {Item: {pk: "c", sk: 7., when: 2020-01-01T}}""".encode())
    prefix = done["ExportManifest"].rsplit("/", 1)[0] + "/data/"
    s3.copy_object(Bucket="exports-bucket", Key="ion/a.ion.gz", CopySource={"Bucket": "exports-bucket", "Key":
                   [k for k in _objects(s3, "exports-bucket", prefix)][0]})
    s3.put_object(Bucket="exports-bucket", Key="ion/b.ion.gz", Body=gzip.compress(
        s3.get_object(Bucket="exports-bucket", Key="ion/b.ion")["Body"].read()))
    final = wait_import(ddb, _import(ddb, "ion/", "from-ion", InputFormat="ION", InputCompressionType="GZIP",
                                     S3BucketSource={"S3Bucket": "exports-bucket", "S3KeyPrefix": "ion/b.ion.gz"}
                                     )["ImportArn"])
    assert (final["ImportedItemCount"], final["ErrorCount"], final["FailureCode"]) == (1, 1, "ItemValidationError")
    assert ddb.get_item(TableName="from-ion", Key={"pk": {"S": "b"}, "sk": {"N": "16"}})["Item"] == {
        "pk": {"S": "b"}, "sk": {"N": "16"}, "note": {"S": "long text"}, "ns": {"NS": ["1", "2.5"]}}
    final = wait_import(ddb, _import(ddb, "ion/a", "round-trip", InputFormat="ION", InputCompressionType="GZIP")[
        "ImportArn"])
    assert final["ImportStatus"] == "COMPLETED" and final["ImportedItemCount"] == 1
    assert _scan(ddb, "round-trip") == _scan(ddb, "source")


def test_export_refusals_and_failures(ddb: Any, s3: Any) -> None:
    arn = _table(ddb, items=1)
    _table(ddb, "nopitr", pitr=False, items=0)
    nopitr = arn.replace("/source", "/nopitr")
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=nopitr, S3Bucket="exports-bucket")
    assert _code(exc) == "PointInTimeRecoveryUnavailableException"
    assert exc.value.response["Error"]["Message"] == "Point in time recovery is not enabled for table 'nopitr'"
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn.replace("/source", "/missing"), S3Bucket="exports-bucket")
    assert _code(exc) == "TableNotFoundException"
    future = datetime.now(timezone.utc) + timedelta(minutes=10)
    for kwargs, code in [({"ExportFormat": "CSV"}, "ValidationException"),
                         ({"ExportType": "INCREMENTAL_EXPORT"}, "ValidationException"),
                         ({"S3SseAlgorithm": "NONE"}, "ValidationException"),
                         ({"S3Prefix": ""}, "ValidationException"),
                         ({"ClientToken": "has$dollar"}, "ValidationException"),
                         ({"ExportTime": future}, "InvalidExportTimeException"),
                         ({"ExportTime": datetime(2020, 1, 1, tzinfo=timezone.utc)}, "InvalidExportTimeException")]:
        with pytest.raises(ClientError) as exc:
            ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports-bucket", **kwargs)
        assert _code(exc) == code, kwargs

    failed = wait_export(ddb, ddb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket="no-such-bucket")["ExportDescription"]["ExportArn"])
    assert failed["ExportStatus"] == "FAILED" and failed["FailureCode"] == "S3NoSuchBucket"
    assert "bucket does not exist" in failed["FailureMessage"] and "EndTime" in failed
    assert "ItemCount" not in failed

    # The ClientToken: the same request answers the same export; a changed one conflicts.
    first = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports-bucket", ClientToken="tok-1")
    again = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports-bucket", ClientToken="tok-1")
    assert again["ExportDescription"]["ExportArn"] == first["ExportDescription"]["ExportArn"]
    assert again["ExportDescription"]["ClientToken"] == "tok-1"
    with pytest.raises(ClientError) as exc:
        ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports-bucket", ClientToken="tok-1", S3Prefix="p")
    assert _code(exc) == "ExportConflictException"
    assert "Duplicate request detected" in exc.value.response["Error"]["Message"]

    with pytest.raises(ClientError) as exc:
        ddb.describe_export(ExportArn=arn)
    assert _code(exc) == "ValidationException" and "Invalid Export ARN" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        ddb.describe_export(ExportArn=f"{arn}/export/01234567890123-0badf00d")
    assert _code(exc) == "ExportNotFoundException"


def test_list_exports_pages_newest_first_and_filters_by_table(ddb: Any) -> None:
    arn = _table(ddb, "first", items=0)
    other = _table(ddb, "second", items=0)
    mine = [ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="no-bucket-here")["ExportDescription"]["ExportArn"]
            for _ in range(3)]
    theirs = ddb.export_table_to_point_in_time(TableArn=other, S3Bucket="no-bucket-here")["ExportDescription"]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"MaxResults": 2}
    while True:
        page = ddb.list_exports(**kwargs)
        assert len(page["ExportSummaries"]) <= 2
        seen += [s["ExportArn"] for s in page["ExportSummaries"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == [theirs["ExportArn"]] + mine[::-1]
    filtered = ddb.list_exports(TableArn=arn)["ExportSummaries"]
    assert [s["ExportArn"] for s in filtered] == mine[::-1]
    assert set(filtered[0]) == {"ExportArn", "ExportStatus", "ExportType"} and filtered[0]["ExportType"] == "FULL_EXPORT"
    with pytest.raises(ClientError) as exc:
        ddb.list_exports(NextToken="0123456789abcdef" * 16)
    assert _code(exc) == "ValidationException" and "ListExports" in exc.value.response["Error"]["Message"]
    ddb.delete_table(TableName="first")  # a deleted table's exports are not listed under its ARN
    assert ddb.list_exports(TableArn=arn)["ExportSummaries"] == []
    assert ddb.describe_export(ExportArn=mine[0])["ExportDescription"]["ExportArn"] == mine[0]


# --- imports ---------------------------------------------------------------------------------------


def _import(ddb: Any, prefix: str, name: str = "imported", **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "S3BucketSource": {"S3Bucket": "exports-bucket", "S3KeyPrefix": prefix}, "InputFormat": "DYNAMODB_JSON",
        "TableCreationParameters": {"TableName": name, "KeySchema": KEY_SCHEMA, "BillingMode": "PAY_PER_REQUEST",
                                    "AttributeDefinitions": DEFINITIONS[:2]}}
    params.update(extra)
    return dict(ddb.import_table(**params)["ImportTableDescription"])


def test_import_counts_duplicates_blank_lines_and_bad_objects(ddb: Any, s3: Any) -> None:
    good = [json.dumps({"Item": {"pk": {"S": "p"}, "sk": {"N": str(i)}, "v": {"S": f"v{i}"}}}) for i in range(3)]
    duplicate = json.dumps({"Item": {"pk": {"S": "p"}, "sk": {"N": "0"}, "v": {"S": "later"}}})
    s3.put_object(Bucket="exports-bucket", Key="in/00-good.json", Body=("\n".join(good + ["", "   ", duplicate]) + "\n").encode())
    s3.put_object(Bucket="exports-bucket", Key="in/01-empty.json", Body=b"")
    s3.put_object(Bucket="exports-bucket", Key="in/02-bad.json",
                  Body=(good[1] + "\n{\"Item\": \n" + json.dumps({"Item": {"pk": {"S": "never"}, "sk": {"N": "9"}}})).encode())
    s3.put_object(Bucket="exports-bucket", Key="in/03-nokey.json", Body=b'{"Item": {"pk": {"S": "x"}}}\n')
    s3.put_object(Bucket="exports-bucket", Key="in/04-noitem.json", Body=b'{"NotAnItem": {}}\n')
    started = _import(ddb, "in/")
    assert started["ImportStatus"] == "IN_PROGRESS" and started["InputCompressionType"] == "NONE"
    assert started["ProcessedItemCount"] == started["ImportedItemCount"] == started["ErrorCount"] == 0
    for absent in ("EndTime", "ProcessedSizeBytes", "FailureCode", "CloudWatchLogGroupArn"):
        assert absent not in started
    table_arn, _, import_id = started["ImportArn"].rpartition("/import/")
    assert table_arn == started["TableArn"] and len(import_id) == 23
    final = wait_import(ddb, started["ImportArn"])
    assert final["ImportStatus"] == "FAILED" and final["FailureCode"] == "ItemValidationError"
    assert final["FailureMessage"]
    # good: 4 writes; bad: one write, then its bad line ends the object; nokey and noitem: one error each.
    assert (final["ImportedItemCount"], final["ErrorCount"], final["ProcessedItemCount"]) == (5, 3, 8)
    sizes = [len(s3.get_object(Bucket="exports-bucket", Key=k)["Body"].read())
             for k in ("in/00-good.json", "in/02-bad.json", "in/03-nokey.json", "in/04-noitem.json")]
    assert final["ProcessedSizeBytes"] == sum(sizes)
    rows = {(i["sk"]["N"], i.get("v", {}).get("S")) for i in ddb.scan(TableName="imported")["Items"]}
    assert rows == {("0", "later"), ("1", "v1"), ("2", "v2")}
    assert ddb.describe_table(TableName="imported")["Table"]["TableStatus"] == "ACTIVE"
    with pytest.raises(ClientError) as exc:  # the table exists now
        _import(ddb, "in/")
    assert _code(exc) == "ResourceInUseException"


def test_import_csv_with_header_list_delimiter_and_gzip(ddb: Any, s3: Any) -> None:
    s3.put_object(Bucket="exports-bucket", Key="csv/a.csv", Body=b'pk,sk,name,note\nu1,1,Ann,"say ""hi"""\nu1,2,Bob,\n')
    s3.put_object(Bucket="exports-bucket", Key="csv2/a.csv.gz", Body=gzip.compress(b"u2;10;Cy\nu3;11;Di\n"))
    first = wait_import(ddb, _import(ddb, "csv/", "csv-one", InputFormat="CSV")["ImportArn"])
    assert first["ImportStatus"] == "COMPLETED" and first["ImportedItemCount"] == 2
    items = sorted(ddb.scan(TableName="csv-one")["Items"], key=lambda i: i["sk"]["N"])
    assert items == [{"pk": {"S": "u1"}, "sk": {"N": "1"}, "name": {"S": "Ann"}, "note": {"S": 'say "hi"'}},
                     {"pk": {"S": "u1"}, "sk": {"N": "2"}, "name": {"S": "Bob"}}]
    options = {"Csv": {"Delimiter": ";", "HeaderList": ["pk", "sk", "name"]}}
    second = wait_import(ddb, _import(ddb, "csv2/", "csv-two", InputFormat="CSV", InputCompressionType="GZIP",
                                      InputFormatOptions=options)["ImportArn"])
    assert second["ImportStatus"] == "COMPLETED" and second["InputFormatOptions"] == options
    assert second["ProcessedItemCount"] == 2 and second["ProcessedSizeBytes"] == len(b"u2;10;Cy\nu3;11;Di\n")
    assert sorted(i["name"]["S"] for i in ddb.scan(TableName="csv-two")["Items"]) == ["Cy", "Di"]


def test_import_bucket_missing_prefix_empty_and_refusals(ddb: Any, s3: Any) -> None:
    missing = wait_import(ddb, _import(ddb, "x/", "lost", S3BucketSource={"S3Bucket": "no-such-bucket"})["ImportArn"])
    assert missing["ImportStatus"] == "FAILED" and missing["FailureCode"] == "S3NoSuchBucket"
    assert missing["ProcessedItemCount"] == missing["ImportedItemCount"] == missing["ErrorCount"] == 0
    with pytest.raises(ClientError) as exc:
        ddb.describe_table(TableName="lost")
    assert _code(exc) == "ResourceNotFoundException"
    empty = wait_import(ddb, _import(ddb, "nothing-here/", "empty")["ImportArn"])
    assert empty["ImportStatus"] == "COMPLETED" and empty["ImportedItemCount"] == 0
    assert ddb.describe_table(TableName="empty")["Table"]["TableStatus"] == "ACTIVE"
    for extra, code in [({"InputFormat": "XML"}, "ValidationException"),
                        ({"InputCompressionType": "ZSTD"}, "ValidationException"),
                        ({"InputFormatOptions": {"Csv": {"Delimiter": ","}}}, "ValidationException"),
                        ({"S3BucketSource": {"S3Bucket": "-nope!"}}, "ValidationException"),
                        ({"ClientToken": "bad$token"}, "ValidationException")]:
        with pytest.raises(ClientError) as exc:
            _import(ddb, "x/", "refused", **extra)
        assert _code(exc) == code, extra
    with pytest.raises(ClientError) as exc:
        _import(ddb, "x/", "empty")
    assert _code(exc) == "ResourceInUseException"
    assert "Table already exists: empty" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        ddb.describe_import(ImportArn="arn:aws:dynamodb:us-east-1:000000000000:table/x/import/01658528578619-c4d4e311")
    assert _code(exc) == "ValidationException"
    with pytest.raises(ClientError) as exc:
        ddb.describe_import(ImportArn=missing["TableArn"] + "/import/01658528578619-0badf00d")
    assert _code(exc) == "ImportNotFoundException"


def test_list_imports_pages_and_filters(ddb: Any, s3: Any) -> None:
    arns = [wait_import(ddb, _import(ddb, "none/", f"tab-{i}")["ImportArn"])["ImportArn"] for i in range(3)]
    seen: list[str] = []
    kwargs: dict[str, Any] = {"PageSize": 1}
    while True:
        page = ddb.list_imports(**kwargs)
        assert len(page["ImportSummaryList"]) <= 1
        seen += [s["ImportArn"] for s in page["ImportSummaryList"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == arns[::-1]
    only = ddb.list_imports(TableArn=arns[1].rpartition("/import/")[0])["ImportSummaryList"]
    assert [s["ImportArn"] for s in only] == [arns[1]]
    assert set(only[0]) == {"ImportArn", "ImportStatus", "TableArn", "S3BucketSource", "InputFormat",
                            "StartTime", "EndTime"}
    with pytest.raises(ClientError) as exc:
        ddb.list_imports(NextToken="0" * 112)
    assert _code(exc) == "ValidationException"


def test_exports_and_imports_survive_a_restart(tmp_path: Any) -> None:
    process = ServerProcess(tmp_path / "data", env=ENV)
    process.start()
    try:
        ddb = make_client(process.endpoint, "dynamodb")
        s3 = make_client(process.endpoint, "s3")
        s3.create_bucket(Bucket="exports-bucket")
        arn = _table(ddb, items=300)
        expected = _scan(ddb, "source")
        export_arn = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket="exports-bucket")["ExportDescription"]["ExportArn"]
        process.kill()  # wherever the export was, it is finished (or run again) after the restart
        process.start()
        ddb = make_client(process.endpoint, "dynamodb")
        s3 = make_client(process.endpoint, "s3")
        done = wait_export(ddb, export_arn)
        assert done["ExportStatus"] == "COMPLETED" and done["ItemCount"] == 300
        base = done["ExportManifest"].rsplit("/", 1)[0] + "/"
        import_arn = _import(ddb, base + "data/", InputCompressionType="GZIP",
                             TableCreationParameters={"TableName": "copy", "KeySchema": KEY_SCHEMA,
                                                      "AttributeDefinitions": DEFINITIONS[:2],
                                                      "BillingMode": "PAY_PER_REQUEST"})["ImportArn"]
        process.kill()
        process.start()
        ddb = make_client(process.endpoint, "dynamodb")
        final = wait_import(ddb, import_arn)
        assert final["ImportStatus"] == "COMPLETED" and final["ImportedItemCount"] == 300
        assert _scan(ddb, "copy") == expected
        assert ddb.describe_table(TableName="copy")["Table"]["ItemCount"] == 300
    finally:
        process.close()
