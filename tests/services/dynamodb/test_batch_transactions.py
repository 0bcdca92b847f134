"""BatchGetItem/BatchWriteItem and TransactWriteItems/TransactGetItems on the provider."""

from __future__ import annotations

from typing import Any

from awsemu.services.base import ServiceError




def key(i: int) -> dict[str, Any]:
    return {"pk": {"S": f"k{i}"}}


def test_batch_write_then_get(ddb: Any) -> None:
    ddb.create()
    out = ddb("BatchWriteItem", RequestItems={"tbl": [{"PutRequest": {"Item": {**key(i), "v": {"N": str(i)}}}} for i in range(25)]},
              ReturnConsumedCapacity="TOTAL")
    assert out["UnprocessedItems"] == {}
    assert out["ConsumedCapacity"] == [{"TableName": "tbl", "CapacityUnits": 25.0, "WriteCapacityUnits": 25.0}]
    out = ddb("BatchWriteItem", RequestItems={"tbl": [{"DeleteRequest": {"Key": key(0)}}, {"PutRequest": {"Item": {**key(1), "v": {"S": "new"}}}}]})
    assert out == {"UnprocessedItems": {}}
    out = ddb("BatchGetItem", RequestItems={"tbl": {"Keys": [key(0), key(1), key(2)], "ProjectionExpression": "v"}})
    assert sorted(out["Responses"]["tbl"], key=str) == sorted([{"v": {"S": "new"}}, {"v": {"N": "2"}}], key=str)
    assert out["UnprocessedKeys"] == {}


def test_batch_limits_and_duplicates(ddb: Any) -> None:
    ddb.create()
    err = ddb.error("BatchWriteItem", RequestItems={"tbl": [{"PutRequest": {"Item": key(1)}}, {"DeleteRequest": {"Key": key(1)}}]})
    assert err.message == "Provided list of item keys contains duplicates"
    err = ddb.error("BatchGetItem", RequestItems={"tbl": {"Keys": [key(1), key(1)]}})
    assert err.message == "Provided list of item keys contains duplicates"
    err = ddb.error("BatchGetItem", RequestItems={"tbl": {"Keys": [key(i) for i in range(101)]}})
    assert err.message == "Too many items requested for the BatchGetItem call"
    err = ddb.error("BatchWriteItem", RequestItems={"tbl": [{"PutRequest": {"Item": key(i)}} for i in range(26)]})
    assert err.message.endswith(
        "at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length "
        "less than or equal to 25, Member must have length greater than or equal to 1]"
    )
    err = ddb.error("BatchGetItem", RequestItems={"nope": {"Keys": [key(1)]}})
    assert (err.code, err.message) == ("ResourceNotFoundException", "Requested resource not found")


def test_transaction_commits_all(ddb: Any) -> None:
    ddb.create()
    ddb("PutItem", TableName="tbl", Item={**key(1), "n": {"N": "5"}})
    ddb("PutItem", TableName="tbl", Item={**key(3)})
    ddb("PutItem", TableName="tbl", Item={**key(4), "n": {"N": "5"}})
    ddb("TransactWriteItems", TransactItems=[
        {"Put": {"TableName": "tbl", "Item": {**key(2), "n": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": "tbl", "Key": key(1), "UpdateExpression": "SET n = n - :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"ConditionCheck": {"TableName": "tbl", "Key": key(4), "ConditionExpression": "n = :five", "ExpressionAttributeValues": {":five": {"N": "5"}}}},
        {"Delete": {"TableName": "tbl", "Key": key(3)}},
    ])
    out = ddb("TransactGetItems", TransactItems=[{"Get": {"TableName": "tbl", "Key": key(i)}} for i in (1, 2, 3)])
    assert out["Responses"] == [{"Item": {**key(1), "n": {"N": "4"}}}, {"Item": {**key(2), "n": {"N": "1"}}}, {}]


def test_transaction_cancellation_writes_nothing(ddb: Any) -> None:
    ddb.create()
    ddb("PutItem", TableName="tbl", Item={**key(1), "n": {"N": "5"}})
    err = ddb.error("TransactWriteItems", TransactItems=[
        {"Put": {"TableName": "tbl", "Item": {**key(2)}}},
        {"ConditionCheck": {"TableName": "tbl", "Key": key(1), "ConditionExpression": "n = :six",
                            "ExpressionAttributeValues": {":six": {"N": "6"}}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
    ])
    assert err.code == "TransactionCanceledException"
    assert err.message == "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]"
    assert err.fields["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed", "Item": {**key(1), "n": {"N": "5"}}},
    ]
    assert ddb("GetItem", TableName="tbl", Key=key(2)) == {}


def test_transaction_rules_and_idempotency(ddb: Any) -> None:
    ddb.create()
    err = ddb.error("TransactWriteItems", TransactItems=[
        {"Put": {"TableName": "tbl", "Item": key(1)}}, {"Delete": {"TableName": "tbl", "Key": key(1)}}])
    assert err.message == "Transaction request cannot include multiple operations on one item"
    update = {"Update": {"TableName": "tbl", "Key": key(1), "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}
    ddb("TransactWriteItems", TransactItems=[update], ClientRequestToken="tok")
    ddb("TransactWriteItems", TransactItems=[update], ClientRequestToken="tok")
    assert ddb("GetItem", TableName="tbl", Key=key(1))["Item"]["n"] == {"N": "1"}, "a repeated token does not apply twice"
    err = ddb.error("TransactWriteItems", TransactItems=[{"Delete": {"TableName": "tbl", "Key": key(1)}}], ClientRequestToken="tok")
    assert err.code == "IdempotentParameterMismatchException"


def test_batch_get_stops_at_16_mb_with_unprocessed_keys(ddb: Any) -> None:
    ddb.create()
    big = "x" * 390_000
    for start in range(0, 50, 25):
        ddb("BatchWriteItem", RequestItems={"tbl": [{"PutRequest": {"Item": {**key(i), "v": {"S": big}}}}
                                                    for i in range(start, start + 25)]})
    out = ddb("BatchGetItem", RequestItems={"tbl": {"Keys": [key(i) for i in range(50)], "ConsistentRead": True}})
    got = len(out["Responses"]["tbl"])
    assert got == 44  # 16 MB / ~390 KB, the item that crosses the line included
    assert out["UnprocessedKeys"] == {"tbl": {"ConsistentRead": True, "Keys": [key(i) for i in range(44, 50)]}}


def test_concurrent_writers_never_lose_updates(ddb: Any) -> None:
    import threading
    import time

    ddb.create()
    ddb("PutItem", TableName="tbl", Item={**key(0), "n": {"N": "0"}, "a": {"N": "100"}, "b": {"N": "100"}})

    def increments() -> None:
        for _ in range(100):
            ddb("UpdateItem", TableName="tbl", Key=key(0), UpdateExpression="ADD n :one",
                ExpressionAttributeValues={":one": {"N": "1"}})

    conflicts = []

    def transfers() -> None:
        done = 0
        while done < 50:
            try:
                ddb("TransactWriteItems", TransactItems=[
                    {"Update": {"TableName": "tbl", "Key": key(1), "UpdateExpression": "ADD v :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                    {"Update": {"TableName": "tbl", "Key": key(2), "UpdateExpression": "ADD v :m",
                                "ExpressionAttributeValues": {":m": {"N": "-1"}}}},
                ])
                done += 1
            except ServiceError as exc:  # concurrent transactions on one item conflict, as in DynamoDB
                assert exc.code == "TransactionCanceledException"
                assert {r["Code"] for r in exc.fields["CancellationReasons"]} <= {"None", "TransactionConflict"}
                conflicts.append(exc)
                time.sleep(0.001)

    threads = [threading.Thread(target=increments) for _ in range(4)] + [threading.Thread(target=transfers) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ddb("GetItem", TableName="tbl", Key=key(0))["Item"]["n"] == {"N": "400"}
    one = ddb("GetItem", TableName="tbl", Key=key(1))["Item"]["v"]["N"]
    two = ddb("GetItem", TableName="tbl", Key=key(2))["Item"]["v"]["N"]
    assert (one, two) == ("200", "-200")


def test_items_of_an_ongoing_transaction_conflict(ddb: Any) -> None:
    ddb.create()
    store = ddb.provider.store
    table = store.table("000000000000", "us-east-1", "tbl")
    row = store.item_key(table, key(1))
    assert store.begin_transaction([row]) == [False]
    try:
        err = ddb.error("PutItem", TableName="tbl", Item=key(1))
        assert (err.code, err.message) == ("TransactionConflictException", "Transaction is ongoing for the item")
        err = ddb.error("TransactWriteItems", TransactItems=[{"Put": {"TableName": "tbl", "Item": key(2)}},
                                                             {"Delete": {"TableName": "tbl", "Key": key(1)}}])
        assert err.fields["CancellationReasons"] == [
            {"Code": "None"}, {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}]
        ddb("PutItem", TableName="tbl", Item=key(2))
        err = ddb.error("TransactGetItems", TransactItems=[{"Get": {"TableName": "tbl", "Key": key(1)}},
                                                           {"Get": {"TableName": "tbl", "Key": key(2)}}])
        assert err.code == "TransactionCanceledException"
        assert err.fields["CancellationReasons"] == [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}, {"Code": "None"}]
    finally:
        store.end_transaction([row])
    ddb("PutItem", TableName="tbl", Item=key(1))
