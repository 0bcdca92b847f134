"""Resource-based policies of tables and streams through boto3: revisions, conditional writes, the
exact errors, the policy going with its table; and in iam mode, a table policy taking part in
authorization (a grant to a user with no identity policy, an explicit deny)."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess

A = "000000000000"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{A}:table/shared"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


READ = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "dynamodb:GetItem",
            "Resource": TABLE_ARN})
WRITE = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "dynamodb:PutItem",
             "Resource": TABLE_ARN})


def error(call: Any, **kw: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call(**kw)
    return exc.value.response["Error"]  # type: ignore[no-any-return]


def create(client: Any, **extra: Any) -> dict[str, Any]:
    return client.create_table(TableName="shared", AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],  # type: ignore[no-any-return]
                               KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST",
                               **extra)["TableDescription"]


def test_put_get_delete_with_revisions(client: Any) -> None:
    create(client)
    not_found = {"Code": "PolicyNotFoundException",
                 "Message": f"Resource-based policy not found for the provided ResourceArn: {TABLE_ARN}"}
    assert error(client.get_resource_policy, ResourceArn=TABLE_ARN) == not_found
    assert error(client.delete_resource_policy, ResourceArn=TABLE_ARN) == not_found
    assert error(client.put_resource_policy, ResourceArn=TABLE_ARN, Policy=READ, ExpectedRevisionId="123") == not_found
    first = client.put_resource_policy(ResourceArn=TABLE_ARN, Policy=READ, ExpectedRevisionId="NO_POLICY")["RevisionId"]
    assert first.isdigit() and len(first) == 13
    got = client.get_resource_policy(ResourceArn=TABLE_ARN)
    assert (got["Policy"], got["RevisionId"]) == (READ, first)
    # The same document again is no new revision.
    assert client.put_resource_policy(ResourceArn=TABLE_ARN, Policy=READ)["RevisionId"] == first
    assert error(client.put_resource_policy, ResourceArn=TABLE_ARN, Policy=WRITE, ExpectedRevisionId="NO_POLICY") == {
        "Code": "PolicyNotFoundException",
        "Message": "Resource-based policy not found for the provided ResourceArn: Requested policy update expecting "
                   f"none to be present for table shared, but a policy exists with revision id {first}."}
    stale = {"Code": "PolicyNotFoundException",
             "Message": "Resource-based policy not found for the provided ResourceArn: Requested update for policy "
                        f"with revision id 42, but the policy associated to target table shared has revision id {first}."}
    assert error(client.put_resource_policy, ResourceArn=TABLE_ARN, Policy=WRITE, ExpectedRevisionId="42") == stale
    second = client.put_resource_policy(ResourceArn=TABLE_ARN, Policy=WRITE, ExpectedRevisionId=first)["RevisionId"]
    assert int(second) > int(first)
    got = client.get_resource_policy(ResourceArn=TABLE_ARN)
    got.pop("ResponseMetadata")
    assert got == {"Policy": WRITE, "RevisionId": second}
    assert error(client.delete_resource_policy, ResourceArn=TABLE_ARN, ExpectedRevisionId=first)["Message"] == (
        "Resource-based policy not found for the provided ResourceArn: Requested update for policy with revision id "
        f"{first}, but the policy associated to target table shared has revision id {second}.")
    assert client.delete_resource_policy(ResourceArn=TABLE_ARN, ExpectedRevisionId=second)["RevisionId"] == second
    assert error(client.get_resource_policy, ResourceArn=TABLE_ARN) == not_found


def test_stream_policy_is_its_own_and_policies_go_with_the_table(client: Any) -> None:
    table = create(client, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    stream_arn = table["LatestStreamArn"]
    stream_doc = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                      "Action": "dynamodb:GetRecords", "Resource": stream_arn})
    client.put_resource_policy(ResourceArn=TABLE_ARN, Policy=READ)
    client.put_resource_policy(ResourceArn=stream_arn, Policy=stream_doc)
    assert client.get_resource_policy(ResourceArn=stream_arn)["Policy"] == stream_doc
    assert client.get_resource_policy(ResourceArn=TABLE_ARN)["Policy"] == READ
    client.delete_table(TableName="shared")
    assert error(client.get_resource_policy, ResourceArn=TABLE_ARN) == {
        "Code": "ResourceNotFoundException", "Message": "Requested resource not found: Table: shared not found"}
    create(client)
    assert error(client.get_resource_policy, ResourceArn=TABLE_ARN)["Code"] == "PolicyNotFoundException"
    assert error(client.get_resource_policy, ResourceArn=stream_arn) == {
        "Code": "ResourceNotFoundException", "Message": f"Requested resource not found: Stream: {stream_arn} not found"}


def test_policy_validation(client: Any) -> None:
    create(client)
    resp = error(client.put_resource_policy, ResourceArn=TABLE_ARN, Policy="{not json")
    assert resp == {"Code": "ValidationException", "Message": "Invalid policy document: Syntax errors in policy."}
    no_principal = doc({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE_ARN})
    assert error(client.put_resource_policy, ResourceArn=TABLE_ARN, Policy=no_principal)["Code"] == "ValidationException"
    big = doc({"Sid": "x" * 21000, "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": TABLE_ARN})
    assert error(client.put_resource_policy, ResourceArn=TABLE_ARN, Policy=big) == {
        "Code": "ValidationException", "Message": "Policy document size exceeds the maximum allowed size of 20480 bytes"}
    assert error(client.put_resource_policy, ResourceArn=f"{TABLE_ARN}/index/by-x", Policy=READ) == {
        "Code": "ValidationException", "Message": f"Invalid ResourceArn provided as input {TABLE_ARN}/index/by-x"}
    missing = f"arn:aws:dynamodb:us-east-1:{A}:table/nope"
    assert error(client.put_resource_policy, ResourceArn=missing, Policy=READ) == {
        "Code": "ResourceNotFoundException", "Message": "Requested resource not found: Table: nope not found"}


# --- the table policy in authorization (iam mode) -------------------------------------------------


@pytest.fixture(scope="module")
def iam_server() -> Iterator[ServerProcess]:
    with ServerProcess(env={"AWSEMU_AUTH": "iam", "AWSEMU_SERVICES": "dynamodb,dynamodbstreams,iam,sts"}) as s:
        yield s


def test_table_policy_grants_and_denies_in_iam_mode(iam_server: ServerProcess) -> None:
    iam = make_client(iam_server.endpoint, "iam")
    root = make_client(iam_server.endpoint, "dynamodb")
    create(root)
    root.put_item(TableName="shared", Item={"pk": {"S": "k"}})
    user = iam.create_user(UserName="reader")["User"]
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    as_user = make_client(iam_server.endpoint, "dynamodb", aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])
    get = {"TableName": "shared", "Key": {"pk": {"S": "k"}}}
    assert error(as_user.get_item, **get)["Code"] == "AccessDeniedException"
    # A same-account grant in the table's policy is enough, with no identity policy at all.
    root.put_resource_policy(ResourceArn=TABLE_ARN, Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "dynamodb:GetItem", "Resource": TABLE_ARN}))
    assert as_user.get_item(**get)["Item"] == {"pk": {"S": "k"}}
    assert error(as_user.put_item, TableName="shared", Item={"pk": {"S": "x"}})["Code"] == "AccessDeniedException"
    # An explicit deny in the table's policy beats the user's own allow.
    iam.put_user_policy(UserName="reader", PolicyName="all", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}))
    as_user.put_item(TableName="shared", Item={"pk": {"S": "x"}})
    root.put_resource_policy(ResourceArn=TABLE_ARN, Policy=doc(
        {"Effect": "Deny", "Principal": {"AWS": user["Arn"]}, "Action": "dynamodb:PutItem", "Resource": TABLE_ARN}))
    assert error(as_user.put_item, TableName="shared", Item={"pk": {"S": "y"}})["Code"] == "AccessDeniedException"
    assert as_user.get_item(**get)["Item"] == {"pk": {"S": "k"}}
