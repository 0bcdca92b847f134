"""Global tables (version 2019.11.21): replicas added with UpdateTable ReplicaUpdates, every write
replicated both ways, replicas deleted, DescribeTable's fields, errors, last-writer-wins, and a
write acknowledged before a crash reaching the other replica after the restart."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess
from awsemu.testing.polling import eventually

SERVER_ENV = {"AWSEMU_SERVICES": "dynamodb,dynamodbstreams"}
HOME, AWAY = "us-east-1", "eu-west-1"


def create_songs(client: Any, name: str = "songs") -> None:
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "genre", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-genre", "KeySchema": [{"AttributeName": "genre", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
    )


def item(client: Any, pk: str, sk: int = 1, table: str = "songs") -> dict[str, Any] | None:
    return client.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"N": str(sk)}}, ConsistentRead=True).get("Item")


def error(call: Any, **kw: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as exc:
        call(**kw)
    return exc.value.response["Error"]


@pytest.fixture
def away(client: Any, ddb_server: ServerProcess) -> Any:
    return make_client(ddb_server.endpoint, "dynamodb", region_name=AWAY)


def test_replica_is_created_with_items_indexes_and_shows_in_describe(client: Any, away: Any) -> None:
    create_songs(client)
    for i in range(5):
        client.put_item(TableName="songs", Item={"pk": {"S": f"s{i}"}, "sk": {"N": "1"}, "genre": {"S": "jazz"}})
    resp = client.update_table(TableName="songs", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])["TableDescription"]
    assert resp["GlobalTableVersion"] == "2019.11.21"
    assert [(r["RegionName"], r["ReplicaStatus"]) for r in resp["Replicas"]] == [(AWAY, "CREATING")]
    # Version 2019.11.21 turns on a NEW_AND_OLD_IMAGES stream itself.
    assert resp["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}

    home_desc = client.describe_table(TableName="songs")["Table"]
    away_desc = away.describe_table(TableName="songs")["Table"]
    assert home_desc["Replicas"] == [{"RegionName": AWAY, "ReplicaStatus": "ACTIVE",
                                      "ReplicaTableClassSummary": {"TableClass": "STANDARD"}}]
    assert [(r["RegionName"], r["ReplicaStatus"]) for r in away_desc["Replicas"]] == [(HOME, "ACTIVE")]
    assert away_desc["GlobalTableVersion"] == "2019.11.21"
    assert away_desc["TableArn"] == home_desc["TableArn"].replace(HOME, AWAY)
    assert away_desc["KeySchema"] == home_desc["KeySchema"]
    assert away_desc["GlobalSecondaryIndexes"][0]["IndexName"] == "by-genre"
    assert away_desc["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert away_desc["ItemCount"] == 5
    assert away.query(TableName="songs", IndexName="by-genre", KeyConditionExpression="genre = :g",
                      ExpressionAttributeValues={":g": {"S": "jazz"}})["Count"] == 5
    assert "songs" in away.list_tables()["TableNames"]


def test_writes_replicate_both_ways(client: Any, away: Any) -> None:
    create_songs(client)
    client.update_table(TableName="songs", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
    client.put_item(TableName="songs", Item={"pk": {"S": "home"}, "sk": {"N": "1"}, "v": {"N": "1"}})
    away.put_item(TableName="songs", Item={"pk": {"S": "away"}, "sk": {"N": "1"}, "b": {"B": b"\x00\xff"}})
    assert eventually(lambda: item(away, "home")) == {"pk": {"S": "home"}, "sk": {"N": "1"}, "v": {"N": "1"}}
    assert eventually(lambda: item(client, "away")) == {"pk": {"S": "away"}, "sk": {"N": "1"}, "b": {"B": b"\x00\xff"}}

    away.update_item(TableName="songs", Key={"pk": {"S": "home"}, "sk": {"N": "1"}}, UpdateExpression="SET v = v + :one",
                     ExpressionAttributeValues={":one": {"N": "1"}})
    assert eventually(lambda: (item(client, "home") or {}).get("v") == {"N": "2"})
    client.delete_item(TableName="songs", Key={"pk": {"S": "away"}, "sk": {"N": "1"}})
    assert eventually(lambda: item(away, "away") is None)

    client.batch_write_item(RequestItems={"songs": [
        {"PutRequest": {"Item": {"pk": {"S": f"b{i}"}, "sk": {"N": "1"}}}} for i in range(10)]})
    # A delete of an item the replica does not have yet changes nothing there, so nothing replicates.
    assert eventually(lambda: item(away, "b0"))
    away.transact_write_items(TransactItems=[
        {"Put": {"TableName": "songs", "Item": {"pk": {"S": "t1"}, "sk": {"N": "1"}}}},
        {"Delete": {"TableName": "songs", "Key": {"pk": {"S": "b0"}, "sk": {"N": "1"}}}},
    ])

    def same_keys() -> bool:
        home = sorted(i["pk"]["S"] for i in client.scan(TableName="songs", ConsistentRead=True)["Items"])
        there = sorted(i["pk"]["S"] for i in away.scan(TableName="songs", ConsistentRead=True)["Items"])
        return home == there == sorted(["home", "t1"] + [f"b{i}" for i in range(1, 10)])

    assert eventually(same_keys)
    assert eventually(lambda: away.describe_table(TableName="songs")["Table"]["ItemCount"] == 11)


def test_replica_delete_and_delete_table_of_a_member(client: Any, away: Any, ddb_server: ServerProcess) -> None:
    third = make_client(ddb_server.endpoint, "dynamodb", region_name="ap-south-1")
    create_songs(client)
    client.update_table(TableName="songs", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
    client.update_table(TableName="songs", ReplicaUpdates=[{"Create": {"RegionName": "ap-south-1"}}])
    assert [r["RegionName"] for r in away.describe_table(TableName="songs")["Table"]["Replicas"]] == ["ap-south-1", HOME]

    resp = client.update_table(TableName="songs", ReplicaUpdates=[{"Delete": {"RegionName": AWAY}}])["TableDescription"]
    assert {r["RegionName"]: r["ReplicaStatus"] for r in resp["Replicas"]} == {AWAY: "DELETING", "ap-south-1": "ACTIVE"}
    assert error(away.describe_table, TableName="songs")["Code"] == "ResourceNotFoundException"
    assert [r["RegionName"] for r in client.describe_table(TableName="songs")["Table"]["Replicas"]] == ["ap-south-1"]
    client.put_item(TableName="songs", Item={"pk": {"S": "after"}, "sk": {"N": "1"}})
    assert eventually(lambda: item(third, "after"))
    assert "songs" not in away.list_tables()["TableNames"]

    # DeleteTable of a member deletes that replica; the last one left is a single-region table again.
    third.delete_table(TableName="songs")
    home = client.describe_table(TableName="songs")["Table"]
    assert "Replicas" not in home and "GlobalTableVersion" not in home
    client.put_item(TableName="songs", Item={"pk": {"S": "alone"}, "sk": {"N": "1"}})
    assert item(client, "alone") is not None


def test_replica_update_errors(client: Any, away: Any) -> None:
    create_songs(client)
    assert error(away.update_table, TableName="songs", ReplicaUpdates=[{"Create": {"RegionName": HOME}}])["Code"] == \
        "ResourceNotFoundException"
    client.update_table(TableName="songs", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
    assert error(client.update_table, TableName="songs", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}]) == {
        "Code": "ValidationException",
        "Message": "Failed to create a the new replica of table with name: 'songs' because one or more replicas "
                   "already existed as tables."}
    create_songs(client, "other")
    away.create_table(TableName="other", BillingMode="PAY_PER_REQUEST",
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                      KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert error(client.update_table, TableName="other", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])["Code"] == \
        "ValidationException"
    assert error(client.update_table, TableName="songs", ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])["Code"] \
        == "ValidationException"
    both = [{"Create": {"RegionName": "us-west-2"}, "Delete": {"RegionName": "us-west-2"}}]
    assert error(client.update_table, TableName="songs", ReplicaUpdates=both)["Code"] == "ValidationException"
    # Refused requests changed nothing.
    assert [r["RegionName"] for r in client.describe_table(TableName="songs")["Table"]["Replicas"]] == [AWAY]


def test_replica_update_sets_its_table_class(client: Any, away: Any) -> None:
    create_songs(client)
    client.update_table(TableName="songs", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
    client.update_table(TableName="songs", ReplicaUpdates=[
        {"Update": {"RegionName": AWAY, "TableClassOverride": "STANDARD_INFREQUENT_ACCESS"}}])
    assert away.describe_table(TableName="songs")["Table"]["TableClassSummary"] == {"TableClass": "STANDARD_INFREQUENT_ACCESS"}
    replicas = client.describe_table(TableName="songs")["Table"]["Replicas"]
    assert replicas[0]["ReplicaTableClassSummary"] == {"TableClass": "STANDARD_INFREQUENT_ACCESS"}


def test_index_billing_and_ttl_changes_reach_every_replica(client: Any, away: Any, wait_index: Any) -> None:
    create_songs(client)
    client.update_table(TableName="songs", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
    client.put_item(TableName="songs", Item={"pk": {"S": "a"}, "sk": {"N": "1"}, "mood": {"S": "calm"}})
    away.update_table(TableName="songs", AttributeDefinitions=[{"AttributeName": "mood", "AttributeType": "S"}],
                      GlobalSecondaryIndexUpdates=[{"Create": {"IndexName": "by-mood", "KeySchema": [
                          {"AttributeName": "mood", "KeyType": "HASH"}], "Projection": {"ProjectionType": "KEYS_ONLY"}}}])
    for c in (client, away):
        assert wait_index(c, "songs", "by-mood")["IndexStatus"] == "ACTIVE"
    assert eventually(lambda: client.query(TableName="songs", IndexName="by-mood", KeyConditionExpression="mood = :m",
                                           ExpressionAttributeValues={":m": {"S": "calm"}})["Count"] == 1)
    assert eventually(lambda: away.query(TableName="songs", IndexName="by-mood", KeyConditionExpression="mood = :m",
                                         ExpressionAttributeValues={":m": {"S": "calm"}})["Count"] == 1)
    client.update_time_to_live(TableName="songs", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert away.describe_time_to_live(TableName="songs")["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    client.update_table(TableName="songs", BillingMode="PROVISIONED",
                        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                        GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": "by-genre", "ProvisionedThroughput": {
                            "ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}}, {"Update": {"IndexName": "by-mood",
                            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}}])
    assert away.describe_table(TableName="songs")["Table"]["ProvisionedThroughput"]["WriteCapacityUnits"] == 5


# --- in process: ordering and durability, with the worker held still ------------------------------


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def test_concurrent_writes_converge_on_the_last_writer(ddb: Any) -> None:
    ddb.create("glob")
    ddb("UpdateTable", TableName="glob", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
    ddb.provider.replicator.stop()  # nothing replicates until drain() below
    ddb("PutItem", TableName="glob", Item={"pk": {"S": "gone"}}, _region=AWAY)
    assert ddb.provider.replicator.drain() == 1
    ddb("PutItem", TableName="glob", Item={"pk": {"S": "k"}, "who": {"S": "home"}})
    ddb("PutItem", TableName="glob", Item={"pk": {"S": "k"}, "who": {"S": "away"}}, _region=AWAY)  # later: wins
    ddb("PutItem", TableName="glob", Item={"pk": {"S": "gone"}, "v": {"N": "2"}}, _region=AWAY)
    ddb("DeleteItem", TableName="glob", Key=_key("gone"))  # the later delete wins over the earlier put
    assert ddb.provider.replicator.drain() == 4
    for region in (HOME, AWAY):
        assert ddb("GetItem", TableName="glob", Key=_key("k"), _region=region)["Item"]["who"] == {"S": "away"}
        assert "Item" not in ddb("GetItem", TableName="glob", Key=_key("gone"), _region=region)
    assert ddb.provider.replicator.drain() == 0


def test_ttl_setting_and_deletions_reach_the_replica(ddb: Any) -> None:
    ddb.create("glob")
    ddb("UpdateTimeToLive", TableName="glob", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    ddb("UpdateTable", TableName="glob", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
    ddb.provider.replicator.stop()
    ddb("PutItem", TableName="glob", Item={"pk": {"S": "old"}, "exp": {"N": str(int(time.time()) - 60)}})
    ddb("PutItem", TableName="glob", Item={"pk": {"S": "new"}, "exp": {"N": str(int(time.time()) + 3600)}})
    ddb.provider.replicator.drain()
    assert ddb("Scan", TableName="glob", _region=AWAY)["Count"] == 2
    assert ddb("DescribeTimeToLive", TableName="glob", _region=AWAY)["TimeToLiveDescription"]["AttributeName"] == "exp"
    assert ddb.provider.sweep_once() == 2  # each replica expires it; the replicated deletes then change nothing
    assert ddb.provider.replicator.drain() == 2
    assert [i["pk"]["S"] for i in ddb("Scan", TableName="glob", _region=AWAY)["Items"]] == ["new"]


def test_pending_replication_survives_a_restart(ddb: Any) -> None:
    ddb.create("glob")
    ddb("UpdateTable", TableName="glob", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
    ddb.provider.replicator.stop()
    for i in range(20):
        ddb("PutItem", TableName="glob", Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}})
    assert "Item" not in ddb("GetItem", TableName="glob", Key=_key("k0"), _region=AWAY)
    ddb.restart()  # the outbox entries are on disk; the new worker applies them
    got = eventually(lambda: ddb("Scan", TableName="glob", _region=AWAY)["Count"] == 20)
    assert got
    assert ddb("GetItem", TableName="glob", Key=_key("k7"), _region=AWAY)["Item"]["n"] == {"N": "7"}


def test_acknowledged_write_reaches_the_replica_after_kill_9(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env=SERVER_ENV)
    server.start()
    try:
        home = make_client(server.endpoint, "dynamodb", region_name=HOME)
        create_songs(home)
        home.update_table(TableName="songs", ReplicaUpdates=[{"Create": {"RegionName": AWAY}}])
        home.batch_write_item(RequestItems={"songs": [
            {"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "sk": {"N": "1"}}}} for i in range(25)]})
        home.put_item(TableName="songs", Item={"pk": {"S": "last"}, "sk": {"N": "1"}})
        server.kill()  # at once: the replication of those writes may well not have run yet
        server.start()
        away = make_client(server.endpoint, "dynamodb", region_name=AWAY)
        assert eventually(lambda: away.scan(TableName="songs", ConsistentRead=True)["Count"] == 26)
        assert item(away, "last") is not None
        assert [r["RegionName"] for r in away.describe_table(TableName="songs")["Table"]["Replicas"]] == [HOME]
    finally:
        server.close()


# --- version 2017.11.29 (legacy) ------------------------------------------------------------------


def create_legacy(client: Any, name: str = "legacy", stream: str = "NEW_AND_OLD_IMAGES") -> None:
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        StreamSpecification={"StreamEnabled": True, "StreamViewType": stream})


def test_legacy_global_table_lifecycle_and_replication(client: Any, away: Any, ddb_server: ServerProcess) -> None:
    third = make_client(ddb_server.endpoint, "dynamodb", region_name="ap-south-1")
    for c in (client, away, third):
        create_legacy(c)
    desc = client.create_global_table(GlobalTableName="legacy", ReplicationGroup=[{"RegionName": HOME}, {"RegionName": AWAY}])
    g = desc["GlobalTableDescription"]
    assert g["GlobalTableName"] == "legacy" and g["GlobalTableStatus"] == "ACTIVE"
    assert re.fullmatch(r"arn:aws:dynamodb::\d{12}:global-table/legacy", g["GlobalTableArn"])
    assert g["ReplicationGroup"] == [{"RegionName": AWAY, "ReplicaStatus": "ACTIVE"}, {"RegionName": HOME, "ReplicaStatus": "ACTIVE"}]
    assert away.describe_global_table(GlobalTableName="legacy")["GlobalTableDescription"]["ReplicationGroup"] == g["ReplicationGroup"]
    assert "GlobalTableVersion" not in client.describe_table(TableName="legacy")["Table"]

    away.put_item(TableName="legacy", Item={"pk": {"S": "x"}})
    assert eventually(lambda: client.get_item(TableName="legacy", Key={"pk": {"S": "x"}}).get("Item"))

    listed = client.list_global_tables()["GlobalTables"]
    assert listed == [{"GlobalTableName": "legacy", "ReplicationGroup": [{"RegionName": AWAY}, {"RegionName": HOME}]}]
    assert client.list_global_tables(RegionName="ap-south-1")["GlobalTables"] == []

    # A replica joins empty; removing one keeps its table (and its items).
    third.put_item(TableName="legacy", Item={"pk": {"S": "not-empty"}})
    assert error(client.update_global_table, GlobalTableName="legacy",
                 ReplicaUpdates=[{"Create": {"RegionName": "ap-south-1"}}])["Code"] == "ValidationException"
    third.delete_item(TableName="legacy", Key={"pk": {"S": "not-empty"}})
    client.update_global_table(GlobalTableName="legacy", ReplicaUpdates=[{"Create": {"RegionName": "ap-south-1"}}])
    client.put_item(TableName="legacy", Item={"pk": {"S": "y"}})
    assert eventually(lambda: third.get_item(TableName="legacy", Key={"pk": {"S": "y"}}).get("Item"))
    out = client.update_global_table(GlobalTableName="legacy", ReplicaUpdates=[{"Delete": {"RegionName": AWAY}}])
    assert [r["RegionName"] for r in out["GlobalTableDescription"]["ReplicationGroup"]] == ["ap-south-1", HOME]
    assert away.get_item(TableName="legacy", Key={"pk": {"S": "x"}})["Item"] == {"pk": {"S": "x"}}
    client.put_item(TableName="legacy", Item={"pk": {"S": "z"}})
    assert eventually(lambda: third.get_item(TableName="legacy", Key={"pk": {"S": "z"}}).get("Item"))
    assert "Item" not in away.get_item(TableName="legacy", Key={"pk": {"S": "z"}})

    settings = client.describe_global_table_settings(GlobalTableName="legacy")
    assert [(s["RegionName"], s["ReplicaBillingModeSummary"]["BillingMode"]) for s in settings["ReplicaSettings"]] == [
        ("ap-south-1", "PAY_PER_REQUEST"), (HOME, "PAY_PER_REQUEST")]
    updated = client.update_global_table_settings(
        GlobalTableName="legacy", GlobalTableBillingMode="PROVISIONED", GlobalTableProvisionedWriteCapacityUnits=7,
        ReplicaSettingsUpdate=[{"RegionName": HOME, "ReplicaProvisionedReadCapacityUnits": 3}])
    assert [(s["RegionName"], s["ReplicaProvisionedReadCapacityUnits"], s["ReplicaProvisionedWriteCapacityUnits"])
            for s in updated["ReplicaSettings"]] == [("ap-south-1", 0, 7), (HOME, 3, 7)]
    assert client.describe_table(TableName="legacy")["Table"]["ProvisionedThroughput"]["WriteCapacityUnits"] == 7


def test_legacy_errors(client: Any, away: Any) -> None:
    assert error(client.describe_global_table, GlobalTableName="nope")["Code"] == "GlobalTableNotFoundException"
    assert error(client.describe_global_table_settings, GlobalTableName="nope")["Code"] == "GlobalTableNotFoundException"
    assert error(client.update_global_table, GlobalTableName="nope",
                 ReplicaUpdates=[{"Delete": {"RegionName": HOME}}])["Code"] == "GlobalTableNotFoundException"
    create_legacy(client)
    assert error(client.create_global_table, GlobalTableName="legacy",
                 ReplicationGroup=[{"RegionName": HOME}, {"RegionName": AWAY}])["Code"] == "TableNotFoundException"
    create_legacy(away, stream="NEW_IMAGE")
    assert error(client.create_global_table, GlobalTableName="legacy",
                 ReplicationGroup=[{"RegionName": HOME}, {"RegionName": AWAY}])["Code"] == "ValidationException"
    client.create_global_table(GlobalTableName="legacy", ReplicationGroup=[{"RegionName": HOME}])
    assert error(client.create_global_table, GlobalTableName="legacy",
                 ReplicationGroup=[{"RegionName": HOME}])["Code"] == "GlobalTableAlreadyExistsException"
    assert error(client.update_global_table, GlobalTableName="legacy",
                 ReplicaUpdates=[{"Create": {"RegionName": HOME}}])["Code"] == "ReplicaAlreadyExistsException"
    assert error(client.update_global_table, GlobalTableName="legacy",
                 ReplicaUpdates=[{"Delete": {"RegionName": AWAY}}])["Code"] == "ReplicaNotFoundException"
    assert error(client.update_global_table, GlobalTableName="legacy",
                 ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])["Code"] == "TableNotFoundException"
    # A legacy replica takes no 2019.11.21 replica updates.
    assert error(client.update_table, TableName="legacy",
                 ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])["Code"] == "ValidationException"
