"""On-demand backups through boto3 against a real server: every returned field, paging and
filters, the exact errors, restores with overrides, and a backup surviving a restart."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess

ACCOUNT = "000000000000"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/music"
SERVER_ENV = {"AWSEMU_SERVICES": "dynamodb,dynamodbstreams"}


def error(call: Any, **kw: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call(**kw)
    return exc.value.response  # type: ignore[no-any-return]


def create_music(client: Any, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = dict(
        TableName="music",
        AttributeDefinitions=[{"AttributeName": "artist", "AttributeType": "S"},
                              {"AttributeName": "song", "AttributeType": "S"},
                              {"AttributeName": "album", "AttributeType": "S"},
                              {"AttributeName": "year", "AttributeType": "N"}],
        KeySchema=[{"AttributeName": "artist", "KeyType": "HASH"}, {"AttributeName": "song", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-album", "KeySchema": [{"AttributeName": "album", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "KEYS_ONLY"},
                                 "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}}],
        LocalSecondaryIndexes=[{"IndexName": "by-year", "KeySchema": [{"AttributeName": "artist", "KeyType": "HASH"},
                                                                      {"AttributeName": "year", "KeyType": "RANGE"}],
                                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["album"]}}],
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 4},
    )
    params.update(extra)
    return client.create_table(**params)["TableDescription"]  # type: ignore[no-any-return]


def put_songs(client: Any, n: int, artist: str = "a") -> None:
    for i in range(n):
        client.put_item(TableName="music", Item={"artist": {"S": artist}, "song": {"S": f"s{i:02d}"},
                                                 "album": {"S": f"al{i % 2}"}, "year": {"N": str(2000 + i)}})


def keys_of(client: Any, table: str) -> list[str]:
    return sorted(i["song"]["S"] for i in client.scan(TableName=table)["Items"])


def test_create_describe_list_delete_backup_fields(client: Any) -> None:
    table = create_music(client, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
                         SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "k1"})
    client.update_time_to_live(TableName="music", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    put_songs(client, 3)
    size = client.describe_table(TableName="music")["Table"]["TableSizeBytes"]
    before = datetime.now(timezone.utc)
    details = client.create_backup(TableName="music", BackupName="nightly")["BackupDetails"]
    arn = details["BackupArn"]
    assert re.fullmatch(rf"{TABLE_ARN}/backup/\d{{14}}-[0-9a-f]{{8}}", arn)
    created = details["BackupCreationDateTime"]
    assert before - timedelta(seconds=1) <= created <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert int(arn.rsplit("/", 1)[1][:14]) == int(created.timestamp() * 1000 + 0.5)
    assert details == {"BackupArn": arn, "BackupName": "nightly", "BackupSizeBytes": size, "BackupStatus": "CREATING",
                       "BackupType": "USER", "BackupCreationDateTime": created}

    described = client.describe_backup(BackupArn=arn)["BackupDescription"]
    assert described["BackupDetails"] == {**details, "BackupStatus": "AVAILABLE"}
    assert described["SourceTableDetails"] == {
        "TableName": "music", "TableId": table["TableId"], "TableArn": TABLE_ARN, "TableSizeBytes": size,
        "KeySchema": [{"AttributeName": "artist", "KeyType": "HASH"}, {"AttributeName": "song", "KeyType": "RANGE"}],
        "TableCreationDateTime": table["CreationDateTime"],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 4},
        "ItemCount": 3, "BillingMode": "PROVISIONED",
    }
    assert described["SourceTableFeatureDetails"] == {
        "LocalSecondaryIndexes": [{"IndexName": "by-year",
                                   "KeySchema": [{"AttributeName": "artist", "KeyType": "HASH"},
                                                 {"AttributeName": "year", "KeyType": "RANGE"}],
                                   "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["album"]}}],
        "GlobalSecondaryIndexes": [{"IndexName": "by-album", "KeySchema": [{"AttributeName": "album", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                                    "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}}],
        "StreamDescription": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        "TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"},
        "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS",
                           "KMSMasterKeyArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"},
    }
    summary = {"TableName": "music", "TableId": table["TableId"], "TableArn": TABLE_ARN, "BackupArn": arn,
               "BackupName": "nightly", "BackupCreationDateTime": created, "BackupStatus": "AVAILABLE",
               "BackupType": "USER", "BackupSizeBytes": size}
    assert client.list_backups()["BackupSummaries"] == [summary]
    deleted = client.delete_backup(BackupArn=arn)["BackupDescription"]
    assert deleted == {**described, "BackupDetails": {**described["BackupDetails"], "BackupStatus": "DELETED"}}
    assert client.list_backups()["BackupSummaries"] == []
    for call in (client.describe_backup, client.delete_backup):
        assert error(call, BackupArn=arn)["Error"] == {"Code": "BackupNotFoundException", "Message": f"Backup not found: {arn}"}


def test_backup_errors(client: Any) -> None:
    resp = error(client.create_backup, TableName="nope", BackupName="first")
    assert resp["Error"] == {"Code": "TableNotFoundException", "Message": "Table not found: nope"}
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400
    create_music(client)
    resp = error(client.create_backup, TableName="music", BackupName="bad name!")
    assert resp["Error"]["Code"] == "ValidationException"
    assert resp["Error"]["Message"] == ("1 validation error detected: Value 'bad name!' at 'backupName' failed to satisfy "
                                        "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
    missing = f"{TABLE_ARN}/backup/01700000000000-0123abcd"
    resp = error(client.restore_table_from_backup, TargetTableName="other", BackupArn=missing)
    assert resp["Error"] == {"Code": "BackupNotFoundException", "Message": f"Backup not found: {missing}"}
    arn = client.create_backup(TableName=TABLE_ARN, BackupName="by-arn")["BackupDetails"]["BackupArn"]
    resp = error(client.restore_table_from_backup, TargetTableName="music", BackupArn=arn)
    assert resp["Error"] == {"Code": "TableAlreadyExistsException", "Message": "Table already exists: music"}
    # An ARN naming another table than the backup's is not that backup.
    wrong = arn.replace("table/music/", "table/other/")
    assert error(client.describe_backup, BackupArn=wrong)["Error"]["Code"] == "BackupNotFoundException"


def test_list_backups_filters_and_paging(client: Any) -> None:
    create_music(client)
    client.create_table(TableName="other", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    arns = []
    for i, table in enumerate(["music", "other", "music", "music"]):
        arns.append(client.create_backup(TableName=table, BackupName=f"bk{i}")["BackupDetails"]["BackupArn"])
        time.sleep(0.003)  # distinct milliseconds: creation order is listing order
    listed = client.list_backups()["BackupSummaries"]
    assert [b["BackupArn"] for b in listed] == arns
    assert [b["BackupArn"] for b in client.list_backups(TableName="music")["BackupSummaries"]] == [arns[0], arns[2], arns[3]]
    assert [b["BackupArn"] for b in client.list_backups(TableName=TABLE_ARN)["BackupSummaries"]] == [arns[0], arns[2], arns[3]]
    page = client.list_backups(TableName="music", Limit=2)
    assert [b["BackupArn"] for b in page["BackupSummaries"]] == [arns[0], arns[2]]
    assert page["LastEvaluatedBackupArn"] == arns[2]
    rest = client.list_backups(TableName="music", Limit=2, ExclusiveStartBackupArn=arns[2])
    assert [b["BackupArn"] for b in rest["BackupSummaries"]] == [arns[3]] and "LastEvaluatedBackupArn" not in rest
    # Lower bound inclusive, upper bound exclusive.
    third = listed[2]["BackupCreationDateTime"]
    got = client.list_backups(TimeRangeLowerBound=third)["BackupSummaries"]
    assert [b["BackupArn"] for b in got] == arns[2:]
    got = client.list_backups(TimeRangeUpperBound=third)["BackupSummaries"]
    assert [b["BackupArn"] for b in got] == arns[:2]
    assert client.list_backups(BackupType="SYSTEM")["BackupSummaries"] == []
    assert len(client.list_backups(BackupType="ALL")["BackupSummaries"]) == 4
    assert client.list_backups(BackupType="AWS_BACKUP")["BackupSummaries"] == []


def test_backup_is_a_snapshot_independent_of_later_writes_and_deletion(client: Any) -> None:
    create_music(client)
    put_songs(client, 12)
    arn = client.create_backup(TableName="music", BackupName="snap")["BackupDetails"]["BackupArn"]
    client.delete_item(TableName="music", Key={"artist": {"S": "a"}, "song": {"S": "s00"}})
    client.put_item(TableName="music", Item={"artist": {"S": "a"}, "song": {"S": "s01"}, "album": {"S": "changed"}})
    client.put_item(TableName="music", Item={"artist": {"S": "b"}, "song": {"S": "new"}})
    client.delete_table(TableName="music")
    out = client.restore_table_from_backup(TargetTableName="restored", BackupArn=arn)["TableDescription"]
    assert out["TableStatus"] == "CREATING"
    source_created = client.describe_backup(BackupArn=arn)["BackupDescription"]["BackupDetails"]["BackupCreationDateTime"]
    assert out["RestoreSummary"] == {"SourceBackupArn": arn, "SourceTableArn": TABLE_ARN,
                                     "RestoreDateTime": source_created, "RestoreInProgress": True}
    table = client.describe_table(TableName="restored")["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["RestoreSummary"] == {**out["RestoreSummary"], "RestoreInProgress": False}
    assert table["ItemCount"] == 12 and table["TableId"] == out["TableId"]
    assert keys_of(client, "restored") == [f"s{i:02d}" for i in range(12)]
    item = client.get_item(TableName="restored", Key={"artist": {"S": "a"}, "song": {"S": "s01"}})["Item"]
    assert item == {"artist": {"S": "a"}, "song": {"S": "s01"}, "album": {"S": "al1"}, "year": {"N": "2001"}}
    # Indexes restored and filled, with the source's settings.
    assert table["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    gsi = table["GlobalSecondaryIndexes"][0]
    assert (gsi["IndexName"], gsi["IndexStatus"], gsi["ItemCount"]) == ("by-album", "ACTIVE", 12)
    assert gsi["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert table["LocalSecondaryIndexes"][0]["ItemCount"] == 12
    albums = client.query(TableName="restored", IndexName="by-album", KeyConditionExpression="album = :a",
                          ExpressionAttributeValues={":a": {"S": "al0"}})["Items"]
    assert len(albums) == 6 and set(albums[0]) == {"artist", "song", "album"}
    years = client.query(TableName="restored", IndexName="by-year", KeyConditionExpression="artist = :a AND #y > :y",
                         ExpressionAttributeNames={"#y": "year"},
                         ExpressionAttributeValues={":a": {"S": "a"}, ":y": {"N": "2009"}})["Items"]
    assert [i["song"]["S"] for i in years] == ["s10", "s11"]
    # The restored table is a table like any other: writable, and the backup still restores again.
    client.put_item(TableName="restored", Item={"artist": {"S": "z"}, "song": {"S": "z"}})
    client.restore_table_from_backup(TargetTableName="again", BackupArn=arn)
    assert len(keys_of(client, "again")) == 12


def test_restore_overrides(client: Any) -> None:
    create_music(client)
    put_songs(client, 4)
    arn = client.create_backup(TableName="music", BackupName="snap")["BackupDetails"]["BackupArn"]
    out = client.restore_table_from_backup(
        TargetTableName="ondemand", BackupArn=arn, BillingModeOverride="PAY_PER_REQUEST",
        GlobalSecondaryIndexOverride=[], LocalSecondaryIndexOverride=[],
        SSESpecificationOverride={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "key-2"},
    )["TableDescription"]
    assert out["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert out["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    assert "GlobalSecondaryIndexes" not in out and "LocalSecondaryIndexes" not in out
    assert out["AttributeDefinitions"] == [{"AttributeName": "artist", "AttributeType": "S"},
                                           {"AttributeName": "song", "AttributeType": "S"}]
    assert out["SSEDescription"] == {"Status": "ENABLED", "SSEType": "KMS",
                                     "KMSMasterKeyArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/key-2"}
    assert len(keys_of(client, "ondemand")) == 4
    out = client.restore_table_from_backup(
        TargetTableName="bigger", BackupArn=arn, ProvisionedThroughputOverride={"ReadCapacityUnits": 9, "WriteCapacityUnits": 8},
        GlobalSecondaryIndexOverride=[{"IndexName": "by-album", "KeySchema": [{"AttributeName": "album", "KeyType": "HASH"}],
                                       "Projection": {"ProjectionType": "ALL"},
                                       "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 6}}],
    )["TableDescription"]
    assert (out["ProvisionedThroughput"]["ReadCapacityUnits"], out["ProvisionedThroughput"]["WriteCapacityUnits"]) == (9, 8)
    gsi = out["GlobalSecondaryIndexes"][0]
    assert gsi["Projection"] == {"ProjectionType": "ALL"} and gsi["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert out["LocalSecondaryIndexes"][0]["IndexName"] == "by-year"
    rows = client.query(TableName="bigger", IndexName="by-album", KeyConditionExpression="album = :a",
                        ExpressionAttributeValues={":a": {"S": "al1"}})["Items"]
    assert len(rows) == 2 and "year" in rows[0]
    resp = error(client.restore_table_from_backup, TargetTableName="bad", BackupArn=arn, BillingModeOverride="PAY_PER_REQUEST",
                 ProvisionedThroughputOverride={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    assert resp["Error"] == {"Code": "ValidationException", "Message": (
        "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be "
        "specified when BillingMode is PAY_PER_REQUEST")}
    with pytest.raises(ClientError):
        client.describe_table(TableName="bad")


def test_backup_survives_restart_and_restores_after_it(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env=SERVER_ENV)
    server.start()
    try:
        c = make_client(server.endpoint, "dynamodb")
        create_music(c)
        put_songs(c, 30)
        arn = c.create_backup(TableName="music", BackupName="durable")["BackupDetails"]["BackupArn"]
        before = c.describe_backup(BackupArn=arn)["BackupDescription"]
        c.delete_table(TableName="music")
        server.kill()  # no clean shutdown: the backup must already be on disk
        server.start()
        c = make_client(server.endpoint, "dynamodb")
        assert c.describe_backup(BackupArn=arn)["BackupDescription"] == before
        c.restore_table_from_backup(TargetTableName="music", BackupArn=arn)
        assert keys_of(c, "music") == [f"s{i:02d}" for i in range(30)]
        assert c.describe_table(TableName="music")["Table"]["ItemCount"] == 30
    finally:
        server.close()


def test_backups_taken_during_transactions_are_consistent(ddb: Any) -> None:
    """Transfers between accounts keep the total; a backup taken while they run must too (a
    snapshot of one instant, never half a transaction), and so must a point-in-time restore."""
    import threading

    ddb.provider.pitr_lag_seconds = 0.0
    ddb.create("bank")
    for i in range(40):
        ddb("PutItem", TableName="bank", Item={"pk": {"S": f"acct{i}"}, "bal": {"N": "100"}})
    ddb("UpdateContinuousBackups", TableName="bank", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    stop = threading.Event()
    done = []

    def transfers() -> None:
        n = 0
        while not stop.is_set():
            a, b = f"acct{n % 40}", f"acct{(n * 7 + 3) % 40}"
            if a != b:
                ddb("TransactWriteItems", TransactItems=[
                    {"Update": {"TableName": "bank", "Key": {"pk": {"S": a}}, "UpdateExpression": "ADD bal :m",
                                "ExpressionAttributeValues": {":m": {"N": "-1"}}}},
                    {"Update": {"TableName": "bank", "Key": {"pk": {"S": b}}, "UpdateExpression": "ADD bal :p",
                                "ExpressionAttributeValues": {":p": {"N": "1"}}}},
                ])
            n += 1
        done.append(n)

    worker = threading.Thread(target=transfers)
    began = time.time()
    worker.start()
    arns, moments = [], []
    try:
        for i in range(4):
            time.sleep(0.03)
            arns.append(ddb("CreateBackup", TableName="bank", BackupName=f"during{i}")["BackupDetails"]["BackupArn"])
            moments.append(time.time())
    finally:
        stop.set()
        worker.join()
    assert done and done[0] > 10
    # Point-in-time restores at many more instants of the transfers, besides the backups' moments.
    ended = time.time()
    moments += [began + (ended - began) * k / 12 for k in range(1, 12)]
    arns += [None] * 11
    for i, arn in enumerate(arns):
        if arn is None:
            ddb("RestoreTableToPointInTime", SourceTableName="bank", TargetTableName=f"pit{i}",
                RestoreDateTime=datetime.fromtimestamp(moments[i], timezone.utc))
            items = ddb("Scan", TableName=f"pit{i}")["Items"]
            assert sum(int(item["bal"]["N"]) for item in items) == 4000 and len(items) == 40, f"pit{i}"
            continue
        ddb("RestoreTableFromBackup", TargetTableName=f"copy{i}", BackupArn=arn)
        ddb("RestoreTableToPointInTime", SourceTableName="bank", TargetTableName=f"pit{i}",
            RestoreDateTime=datetime.fromtimestamp(moments[i], timezone.utc))
        for table in (f"copy{i}", f"pit{i}"):
            items = ddb("Scan", TableName=table)["Items"]
            assert len(items) == 40
            assert sum(int(item["bal"]["N"]) for item in items) == 4000, table


def test_interrupted_backup_and_restore_are_swept_at_start(ddb: Any) -> None:
    """What a crash leaves half-done (a backup still CREATING, a restore whose table record was
    never written) is removed at the next start; finished backups stay."""
    import json
    import uuid

    from awsemu.services.dynamodb import keys, snapshots
    from awsemu.services.dynamodb.records import TableRecord
    from awsemu.services.dynamodb.store import Change

    ddb.create("src")
    for i in range(5):
        ddb("PutItem", TableName="src", Item={"pk": {"S": f"k{i}"}})
    kept = ddb("CreateBackup", TableName="src", BackupName="finished")["BackupDetails"]["BackupArn"]
    store = ddb.provider.store
    table = store.table("000000000000", "us-east-1", "src")
    # A backup cut off mid-copy: its record says CREATING, some items are copied.
    half = {"id": "01700000000000-deadbeef", "arn": f"{table.arn}/backup/01700000000000-deadbeef", "name": "half",
            "type": "USER", "status": "CREATING", "created": 1700000000.0, "expires": None, "count": 5, "size": 10,
            "table": json.loads(table.to_json())}
    store.db.write_batch([(snapshots.backup_key("000000000000", "us-east-1", half["id"]), json.dumps(half).encode())])
    with store.db.snapshot() as view:
        snapshots.copy_items(store.db, view, table.uid, half["id"])
    # A restore cut off before its table record: the marker and some rows of the new table.
    ghost = TableRecord.from_json(table.to_json())
    ghost.uid, ghost.name = str(uuid.uuid4()), "ghost"
    store.db.write_batch([(snapshots.pending_restore_key(ghost.uid), b"1")])
    store.commit([Change(ghost, {"pk": {"S": "x"}}, None, {"pk": {"S": "x"}})])
    ddb.restart()
    assert [b["BackupArn"] for b in ddb("ListBackups")["BackupSummaries"]] == [kept]
    assert ddb.error("DescribeBackup", BackupArn=half["arn"]).code == "BackupNotFoundException"
    image = snapshots.image_prefix(half["id"])
    assert list(ddb.db.scan(image, keys.prefix_end(image))) == []
    for start, end in keys.table_data_ranges(ghost.uid):
        assert list(ddb.db.scan(start, end)) == []
    assert list(ddb.db.scan(snapshots.pending_restore_key(ghost.uid), keys.prefix_end(
        snapshots.pending_restore_key(ghost.uid)))) == []
    ddb("RestoreTableFromBackup", TargetTableName="again", BackupArn=kept)
    assert ddb("Scan", TableName="again")["Count"] == 5
