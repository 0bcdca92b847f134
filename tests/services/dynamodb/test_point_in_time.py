"""Point-in-time recovery: the continuous-backups settings and window through boto3 (the server's
LatestRestorableDateTime trails now by AWS's 5 minutes), and exact restores to past instants on the
provider (lag set to 0 so a test need not wait): the change log replayed on the base image gives
the table exactly as it was, across updates, deletes, transactions, folding and restarts."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from awsemu.services.dynamodb import point_in_time

ACCOUNT = "000000000000"


def error(call: Any, **kw: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call(**kw)
    return exc.value.response["Error"]  # type: ignore[no-any-return]


def create(client: Any, name: str = "orders") -> None:
    client.create_table(TableName=name, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")


def pks(client: Any, table: str) -> list[str]:
    return sorted(i["pk"]["S"] for i in client.scan(TableName=table)["Items"])


# --- through boto3 --------------------------------------------------------------------------------


def test_continuous_backups_settings_and_window(client: Any) -> None:
    create(client)
    assert client.describe_continuous_backups(TableName="orders")["ContinuousBackupsDescription"] == {
        "ContinuousBackupsStatus": "ENABLED", "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    before = datetime.now(timezone.utc)
    out = client.update_continuous_backups(TableName="orders", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})["ContinuousBackupsDescription"]
    pitr = out["PointInTimeRecoveryDescription"]
    assert out["ContinuousBackupsStatus"] == "ENABLED"
    assert set(pitr) == {"PointInTimeRecoveryStatus", "RecoveryPeriodInDays", "EarliestRestorableDateTime",
                         "LatestRestorableDateTime"}
    assert (pitr["PointInTimeRecoveryStatus"], pitr["RecoveryPeriodInDays"]) == ("ENABLED", 35)
    # Right after enabling, both ends of the window are the enabling time (latest trails now by 5 minutes).
    assert pitr["EarliestRestorableDateTime"] == pitr["LatestRestorableDateTime"]
    assert before - timedelta(milliseconds=2) <= pitr["EarliestRestorableDateTime"] <= datetime.now(timezone.utc)
    again = client.describe_continuous_backups(TableName=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders")
    assert again["ContinuousBackupsDescription"] == out
    out = client.update_continuous_backups(TableName="orders", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7})["ContinuousBackupsDescription"]
    assert out["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 7
    assert out["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"] == pitr["EarliestRestorableDateTime"]
    out = client.update_continuous_backups(TableName="orders", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": False})["ContinuousBackupsDescription"]
    assert out == {"ContinuousBackupsStatus": "ENABLED",
                   "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    for call in (client.describe_continuous_backups,):
        assert error(call, TableName="nope") == {"Code": "TableNotFoundException", "Message": "Table not found: nope"}
    assert error(client.update_continuous_backups, TableName="nope", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True}) == {"Code": "TableNotFoundException", "Message": "Table not found: nope"}
    assert error(client.update_continuous_backups, TableName="orders", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36})["Code"] == "ValidationException"


def test_restore_to_latest_restorable_time_and_errors(client: Any) -> None:
    create(client)
    create(client, "taken")
    for pk in ("before-1", "before-2"):
        client.put_item(TableName="orders", Item={"pk": {"S": pk}})
    assert error(client.restore_table_to_point_in_time, SourceTableName="orders", TargetTableName="copy",
                 UseLatestRestorableTime=True) == {
        "Code": "PointInTimeRecoveryUnavailableException",
        "Message": "Point in time recovery is not enabled for table 'orders'"}
    window = client.update_continuous_backups(TableName="orders", PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    client.put_item(TableName="orders", Item={"pk": {"S": "after"}})
    client.delete_item(TableName="orders", Key={"pk": {"S": "before-1"}})
    out = client.restore_table_to_point_in_time(SourceTableName="orders", TargetTableName="copy",
                                                UseLatestRestorableTime=True)["TableDescription"]
    assert out["TableStatus"] == "CREATING" and out["TableName"] == "copy"
    assert out["RestoreSummary"] == {"SourceTableArn": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders",
                                     "RestoreDateTime": window["LatestRestorableDateTime"], "RestoreInProgress": True}
    # The latest restorable time is still the enabling time: the table as it was then.
    assert pks(client, "copy") == ["before-1", "before-2"]
    restored = client.describe_table(TableName="copy")["Table"]
    assert restored["TableStatus"] == "ACTIVE" and restored["RestoreSummary"]["RestoreInProgress"] is False
    assert client.describe_continuous_backups(TableName="copy")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"] == {"PointInTimeRecoveryStatus": "DISABLED"}
    out = client.restore_table_to_point_in_time(
        SourceTableArn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders", TargetTableName="copy2",
        RestoreDateTime=window["EarliestRestorableDateTime"])["TableDescription"]
    assert pks(client, "copy2") == ["before-1", "before-2"]
    invalid = {"Code": "InvalidRestoreTimeException", "Message": (
        "An invalid restore time was specified. RestoreDateTime must be between EarliestRestorableDateTime and "
        "LatestRestorableDateTime.")}
    for when in (window["EarliestRestorableDateTime"] - timedelta(seconds=1), datetime.now(timezone.utc)):
        assert error(client.restore_table_to_point_in_time, SourceTableName="orders", TargetTableName="copy3",
                     RestoreDateTime=when) == invalid
    assert error(client.restore_table_to_point_in_time, SourceTableName="orders", TargetTableName="taken",
                 UseLatestRestorableTime=True) == {"Code": "TableAlreadyExistsException",
                                                   "Message": "Table already exists: taken"}
    assert error(client.restore_table_to_point_in_time, SourceTableName="nope", TargetTableName="copy3",
                 UseLatestRestorableTime=True) == {"Code": "TableNotFoundException", "Message": "Table not found: nope"}
    assert error(client.restore_table_to_point_in_time, TargetTableName="copy3",
                 UseLatestRestorableTime=True)["Code"] == "ValidationException"
    with pytest.raises(ClientError):
        client.describe_table(TableName="copy3")


# --- exact restores on the provider ---------------------------------------------------------------


def _state(ddb: Any, table: str) -> dict[str, Any]:
    return {i["pk"]["S"]: i for i in ddb("Scan", TableName=table)["Items"]}


def _restore_at(ddb: Any, target: str, when: float) -> dict[str, Any]:
    ddb("RestoreTableToPointInTime", SourceTableName="hist", TargetTableName=target,
        RestoreDateTime=datetime.fromtimestamp(when, timezone.utc))
    return _state(ddb, target)


def _tick() -> float:
    """A moment strictly between the write before and the write after."""
    time.sleep(0.002)
    moment = time.time()
    time.sleep(0.002)
    return moment


def test_restore_to_any_past_instant_is_exact(ddb: Any) -> None:
    ddb.provider.pitr_lag_seconds = 0.0
    ddb.create("hist", ExtraAttributes=[{"AttributeName": "g", "AttributeType": "S"}],
               GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                        "Projection": {"ProjectionType": "ALL"}}])
    rng = random.Random(7)
    for i in range(20):
        ddb("PutItem", TableName="hist", Item={"pk": {"S": f"k{i}"}, "v": {"N": "0"}, "g": {"S": "x"}})
    ddb("UpdateContinuousBackups", TableName="hist", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    moments: list[tuple[float, dict[str, Any]]] = [(_tick(), _state(ddb, "hist"))]
    for step in range(6):
        for _ in range(8):
            key = {"pk": {"S": f"k{rng.randrange(30)}"}}
            action = rng.choice(["put", "update", "delete"])
            if action == "put":
                ddb("PutItem", TableName="hist", Item={**key, "v": {"N": str(step)}, "g": {"S": rng.choice("xy")}})
            elif action == "update":
                ddb("UpdateItem", TableName="hist", Key=key, UpdateExpression="ADD v :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
            else:
                ddb("DeleteItem", TableName="hist", Key=key)
        ddb("TransactWriteItems", TransactItems=[
            {"Put": {"TableName": "hist", "Item": {"pk": {"S": f"t{step}"}, "v": {"N": "1"}}}},
            {"Delete": {"TableName": "hist", "Key": {"pk": {"S": f"t{step - 1}"}}}},
        ])
        moments.append((_tick(), _state(ddb, "hist")))
    for n, (when, expected) in enumerate(moments):
        assert _restore_at(ddb, f"at{n}", when) == expected, f"state at moment {n}"
    # Indexes of the restored table are built from the restored items.
    last = moments[-1][1]
    by_g = ddb("Query", TableName=f"at{len(moments) - 1}", IndexName="by-g", KeyConditionExpression="g = :g",
               ExpressionAttributeValues={":g": {"S": "y"}})["Items"]
    assert sorted(i["pk"]["S"] for i in by_g) == sorted(k for k, v in last.items() if v.get("g") == {"S": "y"})


def test_history_survives_restart_and_folds_past_the_recovery_period(ddb: Any) -> None:
    ddb.provider.pitr_lag_seconds = 0.0
    ddb.create("hist")
    ddb("PutItem", TableName="hist", Item={"pk": {"S": "old"}})
    ddb("UpdateContinuousBackups", TableName="hist",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 1})
    ddb("PutItem", TableName="hist", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    first = _tick()
    ddb("PutItem", TableName="hist", Item={"pk": {"S": "a"}, "n": {"N": "2"}})
    ddb("DeleteItem", TableName="hist", Key={"pk": {"S": "old"}})
    second = _tick()
    ddb.restart()
    ddb.provider.pitr_lag_seconds = 0.0
    assert _restore_at(ddb, "rest1", first) == {"old": {"pk": {"S": "old"}}, "a": {"pk": {"S": "a"}, "n": {"N": "1"}}}
    assert _restore_at(ddb, "rest2", second) == {"a": {"pk": {"S": "a"}, "n": {"N": "2"}}}
    uid = ddb("DescribeTable", TableName="hist")["Table"]["TableId"]
    assert len(list(ddb.db.scan(*point_in_time.log_range(uid)))) == 3
    # A day later every logged change is older than the recovery period: folded into the base image.
    ddb.provider.sweep_once(now=time.time() + 86400 + 60)
    assert list(ddb.db.scan(*point_in_time.log_range(uid))) == []
    window = ddb("DescribeContinuousBackups", TableName="hist")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]
    assert window["EarliestRestorableDateTime"].timestamp() > second
    ddb("RestoreTableToPointInTime", SourceTableName="hist", TargetTableName="rest3", UseLatestRestorableTime=True)
    assert _state(ddb, "rest3") == {"a": {"pk": {"S": "a"}, "n": {"N": "2"}}}
    err = ddb.error("RestoreTableToPointInTime", SourceTableName="hist", TargetTableName="rest4",
                    RestoreDateTime=datetime.fromtimestamp(second, timezone.utc))
    assert err.code == "InvalidRestoreTimeException"
    # Disabling drops the history; re-enabling starts a new window.
    ddb("UpdateContinuousBackups", TableName="hist", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    from awsemu.services.dynamodb import snapshots

    base = snapshots.image_prefix(point_in_time.base_image(uid))
    assert list(ddb.db.scan(base, snapshots.keys.prefix_end(base))) == []


def test_deleting_a_pitr_table_keeps_a_system_backup(ddb: Any) -> None:
    ddb.create("hist")
    ddb("PutItem", TableName="hist", Item={"pk": {"S": "kept"}})
    ddb("UpdateContinuousBackups", TableName="hist", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    ddb.create("plain")
    ddb("DeleteTable", TableName="plain")
    ddb("DeleteTable", TableName="hist")
    assert ddb("ListBackups")["BackupSummaries"] == []
    (system,) = ddb("ListBackups", BackupType="SYSTEM")["BackupSummaries"]
    assert system["BackupName"] == "hist$DeletedTableBackup" and system["BackupType"] == "SYSTEM"
    assert system["BackupArn"].endswith("-00000000")
    assert system["BackupExpiryDateTime"] - system["BackupCreationDateTime"] == timedelta(days=35)
    ddb("RestoreTableFromBackup", TargetTableName="hist", BackupArn=system["BackupArn"])
    assert list(_state(ddb, "hist")) == ["kept"]
    # Expired 35 days later.
    ddb.provider.sweep_once(now=time.time() + 35 * 86400 + 60)
    assert ddb("ListBackups", BackupType="ALL")["BackupSummaries"] == []


def test_a_pitr_flag_without_history_gets_one_at_start(ddb: Any) -> None:
    """Tables whose PITR flag was stored before there was a change log start their window at the
    next start, with a base image of their items then."""
    import copy

    ddb.provider.pitr_lag_seconds = 0.0
    ddb.create("hist")
    ddb("PutItem", TableName="hist", Item={"pk": {"S": "a"}})
    store = ddb.provider.store
    legacy = copy.deepcopy(store.table("000000000000", "us-east-1", "hist"))
    legacy.point_in_time_recovery = True
    store.save_table(legacy)
    ddb.restart()
    ddb.provider.pitr_lag_seconds = 0.0
    before = time.time()
    window = ddb("DescribeContinuousBackups", TableName="hist")["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]
    assert window["PointInTimeRecoveryStatus"] == "ENABLED"
    assert before - 60 < window["EarliestRestorableDateTime"].timestamp() <= before
    ddb("PutItem", TableName="hist", Item={"pk": {"S": "b"}})
    ddb("RestoreTableToPointInTime", SourceTableName="hist", TargetTableName="copy",
        RestoreDateTime=window["EarliestRestorableDateTime"])
    assert list(_state(ddb, "copy")) == ["a"]
