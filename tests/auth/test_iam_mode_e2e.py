"""iam mode end to end: identity policies, session policies, bucket policies across accounts, and
conditions on aws:SourceIp and s3:prefix, over S3, SQS, DynamoDB and Lambda with real boto3 clients.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess

A = "000000000000"
B = "111111111111"  # a 12-digit key id is the root of that account (secret "test")


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(env={"AWSEMU_AUTH": "iam", "AWSEMU_SERVICES": "s3,sqs,dynamodb,lambda,iam,sts"}) as s:
        yield s


def user_with_policy(server: ServerProcess, name: str, policy: str, account_key: str = "test") -> dict[str, str]:
    iam = make_client(server.endpoint, "iam", aws_access_key_id=account_key)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def denied(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response


def test_user_can_do_exactly_what_its_policy_allows(server):
    root_s3 = make_client(server.endpoint, "s3")
    root_s3.create_bucket(Bucket="data-a")
    root_s3.create_bucket(Bucket="data-b")
    sqs = make_client(server.endpoint, "sqs")
    q1 = sqs.create_queue(QueueName="q1")["QueueUrl"]
    q2 = sqs.create_queue(QueueName="q2")["QueueUrl"]
    ddb = make_client(server.endpoint, "dynamodb")
    ddb.create_table(TableName="tab1", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    creds = user_with_policy(server, "worker", doc(
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::data-a/*"},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": f"arn:aws:sqs:us-east-1:{A}:q1"},
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": f"arn:aws:dynamodb:us-east-1:{A}:table/tab1"},
    ))
    s3 = make_client(server.endpoint, "s3", **creds)
    s3.put_object(Bucket="data-a", Key="k", Body=b"x" * 4096)
    assert s3.get_object(Bucket="data-a", Key="k")["Body"].read() == b"x" * 4096
    err = denied(lambda: s3.put_object(Bucket="data-b", Key="k", Body=b"x"))
    assert (err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDenied", "Access Denied", 403)
    assert denied(lambda: s3.delete_object(Bucket="data-a", Key="k"))["Error"]["Code"] == "AccessDenied"
    assert denied(lambda: s3.list_buckets())["Error"]["Code"] == "AccessDenied"

    user_sqs = make_client(server.endpoint, "sqs", **creds)
    user_sqs.send_message(QueueUrl=q1, MessageBody="hi")
    user_sqs.send_message_batch(QueueUrl=q1, Entries=[{"Id": "1", "MessageBody": "b"}])
    err = denied(lambda: user_sqs.send_message(QueueUrl=q2, MessageBody="hi"))
    assert err["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")
    assert denied(lambda: user_sqs.receive_message(QueueUrl=q1))["Error"]["Code"] in ("AccessDenied", "AccessDeniedException")

    user_ddb = make_client(server.endpoint, "dynamodb", **creds)
    user_ddb.put_item(TableName="tab1", Item={"pk": {"S": "a"}})
    err = denied(lambda: user_ddb.get_item(TableName="tab1", Key={"pk": {"S": "a"}}))
    assert err["Error"]["Code"] == "AccessDeniedException"
    assert err["Error"]["Message"] == (
        f"User: arn:aws:iam::{A}:user/worker is not authorized to perform: dynamodb:GetItem on resource: "
        f"arn:aws:dynamodb:us-east-1:{A}:table/tab1 because no identity-based policy allows the dynamodb:GetItem action")


def test_assumed_role_session_policy_narrows(server):
    iam = make_client(server.endpoint, "iam")
    make_client(server.endpoint, "s3").create_bucket(Bucket="role-bucket")
    iam.create_role(RoleName="S3Admin", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole"}))
    iam.attach_role_policy(RoleName="S3Admin", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    full = make_client(server.endpoint, "sts").assume_role(RoleArn=f"arn:aws:iam::{A}:role/S3Admin",
                                                           RoleSessionName="full")["Credentials"]
    narrow = make_client(server.endpoint, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{A}:role/S3Admin", RoleSessionName="narrow",
        Policy=doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))["Credentials"]

    def s3_as(c: dict[str, Any]) -> Any:
        return make_client(server.endpoint, "s3", aws_access_key_id=c["AccessKeyId"],
                           aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])

    s3_as(full).put_object(Bucket="role-bucket", Key="k", Body=b"v")
    assert s3_as(narrow).get_object(Bucket="role-bucket", Key="k")["Body"].read() == b"v"
    assert denied(lambda: s3_as(narrow).put_object(Bucket="role-bucket", Key="k2", Body=b"v"))["Error"]["Code"] == "AccessDenied"


def test_bucket_policy_grants_another_account(server):
    make_client(server.endpoint, "s3").create_bucket(Bucket="shared-a")
    make_client(server.endpoint, "s3").put_object(Bucket="shared-a", Key="doc", Body=b"shared")
    reader = user_with_policy(server, "reader-b", doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
                              account_key=B)
    s3_b = make_client(server.endpoint, "s3", **reader)
    assert denied(lambda: s3_b.get_object(Bucket="shared-a", Key="doc"))["Error"]["Code"] == "AccessDenied"
    make_client(server.endpoint, "s3").put_bucket_policy(Bucket="shared-a", Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::shared-a/*"}))
    assert s3_b.get_object(Bucket="shared-a", Key="doc")["Body"].read() == b"shared"
    # The identity side must allow too: a user of B without the permission stays denied.
    nobody = user_with_policy(server, "nobody-b", doc({"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}),
                              account_key=B)
    assert denied(lambda: make_client(server.endpoint, "s3", **nobody).get_object(Bucket="shared-a", Key="doc"))[
        "Error"]["Code"] == "AccessDenied"


def test_source_ip_and_prefix_conditions(server):
    make_client(server.endpoint, "s3").create_bucket(Bucket="homes")
    creds = user_with_policy(server, "alice", doc(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::homes",
         "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}}},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::homes/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::homes/*",
         "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}},
    ))
    s3 = make_client(server.endpoint, "s3", **creds)
    s3.list_objects_v2(Bucket="homes", Prefix="home/alice/")
    assert denied(lambda: s3.list_objects_v2(Bucket="homes", Prefix="home/bob/"))["Error"]["Code"] == "AccessDenied"
    assert denied(lambda: s3.list_objects_v2(Bucket="homes"))["Error"]["Code"] == "AccessDenied"
    s3.put_object(Bucket="homes", Key="home/alice/a", Body=b"1")  # from 127.0.0.1: allowed
    assert denied(lambda: s3.get_object(Bucket="homes", Key="home/alice/a"))["Error"]["Code"] == "AccessDenied"


def test_explicit_deny_and_caller_identity(server):
    creds = user_with_policy(server, "denied-user", doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:CreateBucket", "Resource": "*"}))
    ident = make_client(server.endpoint, "sts", **creds).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{A}:user/denied-user"
    err = denied(lambda: make_client(server.endpoint, "s3", **creds).create_bucket(Bucket="nope-bucket"))
    assert err["Error"]["Code"] == "AccessDenied"


def _zip_handler() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return {'echo': event}\n")
    return buf.getvalue()


def test_lambda_identity_policy_and_function_policy(server):
    root = make_client(server.endpoint, "lambda")
    for name in ("fn-allowed", "fn-other"):
        root.create_function(FunctionName=name, Runtime="python3.11", Handler="app.handler",
                             Role=f"arn:aws:iam::{A}:role/lambda-role", Code={"ZipFile": _zip_handler()})
    creds = user_with_policy(server, "invoker", doc(
        {"Effect": "Allow", "Action": "lambda:InvokeFunction",
         "Resource": f"arn:aws:lambda:us-east-1:{A}:function:fn-allowed"}))
    user = make_client(server.endpoint, "lambda", **creds)
    out = user.invoke(FunctionName="fn-allowed", Payload=b'{"x": 1}')
    assert json.loads(out["Payload"].read()) == {"echo": {"x": 1}}
    err = denied(lambda: user.invoke(FunctionName="fn-other", Payload=b"{}"))
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDeniedException", 403)
    assert err["Error"]["Message"] == (
        f"User: arn:aws:iam::{A}:user/invoker is not authorized to perform: lambda:InvokeFunction on resource: "
        f"arn:aws:lambda:us-east-1:{A}:function:fn-other because no identity-based policy allows the "
        f"lambda:InvokeFunction action")
    assert denied(lambda: user.list_functions())["Error"]["Code"] == "AccessDeniedException"

    # Another account: its identity policy allows, but the function's owner must grant it too.
    other = make_client(server.endpoint, "lambda", **user_with_policy(
        server, "caller-b", doc({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}),
        account_key=B))
    other_arn = f"arn:aws:lambda:us-east-1:{A}:function:fn-other"
    assert denied(lambda: other.invoke(FunctionName=other_arn, Payload=b"{}"))["Error"]["Code"] == "AccessDeniedException"
    root.add_permission(FunctionName="fn-other", StatementId="b-may-invoke", Action="lambda:InvokeFunction",
                        Principal=B)
    out = other.invoke(FunctionName=other_arn, Payload=b'{"from": "b"}')
    assert json.loads(out["Payload"].read()) == {"echo": {"from": "b"}}


def test_dynamodb_table_policy_grants_another_account_by_arn(server):
    """A table shared by its resource policy: account B's user reaches A's table by its ARN only
    while the policy grants it; A's own callers by name are unaffected throughout."""
    owner = make_client(server.endpoint, "dynamodb")
    owner.create_table(TableName="shared-tab", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                       BillingMode="PAY_PER_REQUEST")
    owner.put_item(TableName="shared-tab", Item={"pk": {"S": "k"}, "v": {"S": "from A"}})
    table = f"arn:aws:dynamodb:us-east-1:{A}:table/shared-tab"
    user_b = user_with_policy(server, "ddb-b", doc(
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchGetItem"],
         "Resource": "*"}), account_key=B)
    ddb_b = make_client(server.endpoint, "dynamodb", **user_b)
    key = {"pk": {"S": "k"}}

    def get_b() -> dict[str, Any]:
        return ddb_b.get_item(TableName=table, Key=key)

    def put_b() -> dict[str, Any]:
        return ddb_b.put_item(TableName=table, Item={"pk": {"S": "b"}, "v": {"S": "from B"}})

    def batch_b() -> dict[str, Any]:
        return ddb_b.batch_get_item(RequestItems={table: {"Keys": [key]}})

    for call in (get_b, put_b, batch_b):
        err = denied(call)
        assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDeniedException", 400)
        assert table in err["Error"]["Message"]

    revision = owner.put_resource_policy(ResourceArn=table, Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:user/ddb-b"},
         "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchGetItem"], "Resource": table}))["RevisionId"]
    assert get_b()["Item"]["v"] == {"S": "from A"}
    batch = batch_b()
    assert batch["Responses"] == {table: [{"pk": {"S": "k"}, "v": {"S": "from A"}}]}
    put_b()
    # B's write landed in A's table (B has no table of that name).
    assert owner.get_item(TableName="shared-tab", Key={"pk": {"S": "b"}})["Item"]["v"] == {"S": "from B"}

    owner.delete_resource_policy(ResourceArn=table, ExpectedRevisionId=revision)
    for call in (get_b, put_b, batch_b):
        assert denied(call)["Error"]["Code"] == "AccessDeniedException"
    assert owner.get_item(TableName="shared-tab", Key=key)["Item"]["v"] == {"S": "from A"}
    assert owner.get_item(TableName=table, Key=key)["Item"]["v"] == {"S": "from A"}
