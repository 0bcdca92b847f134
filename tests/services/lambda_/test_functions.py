"""Control plane through boto3: functions, versions, aliases, tags, concurrency, account settings."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from typing import Any, Callable

import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from lambda_helpers import ACCOUNT, REGION, ROLE, error_of, python_zip

HANDLER = """
def handler(event, context):
    return {"ok": True}
"""
LAST_MODIFIED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


def test_create_function_returns_the_configuration(lam: Any, fname: str) -> None:
    code = python_zip(HANDLER)
    out = lam.create_function(
        FunctionName=fname, Runtime="python3.12", Role=ROLE, Handler="lambda_function.handler",
        Code={"ZipFile": code}, Description="d", Timeout=7, MemorySize=256,
        Environment={"Variables": {"A": "1"}}, Tags={"team": "x"},
    )
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert out["FunctionName"] == fname
    assert out["FunctionArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}"
    assert out["Runtime"] == "python3.12"
    assert out["Role"] == ROLE
    assert out["Handler"] == "lambda_function.handler"
    assert out["CodeSize"] == len(code)
    assert out["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert out["Description"] == "d"
    assert out["Timeout"] == 7
    assert out["MemorySize"] == 256
    assert out["Version"] == "$LATEST"
    assert out["State"] == "Active"
    assert out["LastUpdateStatus"] == "Successful"
    assert out["PackageType"] == "Zip"
    assert out["Environment"] == {"Variables": {"A": "1"}}
    assert LAST_MODIFIED.match(out["LastModified"])
    uuid.UUID(out["RevisionId"])


def test_defaults_and_get_function(lam: Any, create: Callable[..., Any], fname: str) -> None:
    created = create(HANDLER, Tags={"k": "v"})
    assert created["Timeout"] == 3 and created["MemorySize"] == 128
    got = lam.get_function(FunctionName=fname)
    assert got["Configuration"]["CodeSha256"] == created["CodeSha256"]
    assert got["Configuration"]["RevisionId"] == created["RevisionId"]
    assert got["Code"]["RepositoryType"] == "S3"
    assert got["Code"]["Location"].startswith("https://")
    assert got["Tags"] == {"k": "v"}
    config = lam.get_function_configuration(FunctionName=created["FunctionArn"])
    assert config["FunctionName"] == fname and config["Version"] == "$LATEST"


def test_create_twice_is_a_conflict(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create(HANDLER)
    with pytest.raises(ClientError) as exc:
        create(HANDLER)
    assert error_of(exc) == ("ResourceConflictException", f"Function already exist: {fname}", 409)


def test_missing_function_errors(lam: Any, fname: str) -> None:
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}"
    for call in (lambda: lam.get_function(FunctionName=fname),
                 lambda: lam.get_function_configuration(FunctionName=fname),
                 lambda: lam.delete_function(FunctionName=fname),
                 lambda: lam.invoke(FunctionName=fname)):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("ResourceNotFoundException", f"Function not found: {arn}", 404)


@pytest.mark.parametrize("role", ["not-an-arn", "arn:aws:iam::123:role/x", "arn:aws:iam::000000000000:user/x"])
def test_role_is_validated(lam: Any, fname: str, role: str) -> None:
    with pytest.raises(ClientError) as exc:
        lam.create_function(FunctionName=fname, Runtime="python3.11", Role=role, Handler="a.b",
                            Code={"ZipFile": python_zip(HANDLER)})
    code, message, status = error_of(exc)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith(f"1 validation error detected: Value '{role}' at 'role' failed to satisfy constraint")


def test_parameter_checks(lam: Any, aws_client: Callable[..., Any], fname: str) -> None:
    base = {"FunctionName": fname, "Role": ROLE, "Handler": "lambda_function.handler",
            "Code": {"ZipFile": python_zip(HANDLER)}}
    with pytest.raises(ClientError) as exc:
        lam.create_function(**base, Runtime="python3.11", Timeout=901)
    assert error_of(exc)[0] == "ValidationException"
    assert "Member must have value less than or equal to 900" in error_of(exc)[1]
    unvalidated = aws_client("lambda", config=BotoConfig(parameter_validation=False, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as exc:
        unvalidated.create_function(**base, Runtime="python3.11", MemorySize=64)
    assert "Member must have value greater than or equal to 128" in error_of(exc)[1]
    with pytest.raises(ClientError) as exc:
        lam.create_function(**base, Runtime="cobol85")
    assert error_of(exc)[0] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        lam.create_function(**{**base, "Code": {"ZipFile": b"not a zip"}}, Runtime="python3.11")
    assert error_of(exc) == ("InvalidParameterValueException",
                           "Could not unzip uploaded file. Please check your file, then try to upload again.", 400)
    with pytest.raises(ClientError) as exc:
        lam.create_function(**base, Runtime="python3.11", Environment={"Variables": {"AWS_REGION": "x"}})
    assert error_of(exc)[0] == "InvalidParameterValueException"
    assert "Reserved keys used in this request: AWS_REGION" in error_of(exc)[1]
    with pytest.raises(ClientError) as exc:
        lam.create_function(FunctionName=fname, Role=ROLE, Code={"ZipFile": python_zip(HANDLER)})
    assert error_of(exc)[1] == "Runtime and Handler are mandatory parameters for functions created with deployment packages."


def test_list_functions_pages(lam: Any) -> None:
    prefix = f"list-{uuid.uuid4().hex[:8]}-"
    names = [f"{prefix}{i}" for i in range(5)]
    for name in names:
        lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="lambda_function.handler",
                            Code={"ZipFile": python_zip(HANDLER)})
    seen: list[str] = []
    marker = None
    pages = 0
    while True:
        kwargs: dict[str, Any] = {"MaxItems": 2}
        if marker:
            kwargs["Marker"] = marker
        page = lam.list_functions(**kwargs)
        pages += 1
        assert len(page["Functions"]) <= 2
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert [n for n in seen if n.startswith(prefix)] == names
    assert len(seen) == len(set(seen))
    assert pages >= 3
    paginated = [f["FunctionName"] for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]]
    assert [n for n in paginated if n.startswith(prefix)] == names


def test_delete_function(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create(HANDLER)
    out = lam.delete_function(FunctionName=fname)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as exc:
        lam.get_function(FunctionName=fname)
    assert error_of(exc)[0] == "ResourceNotFoundException"
    create(HANDLER)  # the name is free again


def test_update_code_and_configuration(lam: Any, create: Callable[..., Any], fname: str) -> None:
    created = create(HANDLER)
    new_code = python_zip("def handler(e, c):\n    return 2\n")
    updated = lam.update_function_code(FunctionName=fname, ZipFile=new_code)
    assert updated["CodeSha256"] == base64.b64encode(hashlib.sha256(new_code).digest()).decode()
    assert updated["CodeSize"] == len(new_code)
    assert updated["RevisionId"] != created["RevisionId"]
    with pytest.raises(ClientError) as exc:
        lam.update_function_configuration(FunctionName=fname, Timeout=10, RevisionId=created["RevisionId"])
    assert error_of(exc)[0] == "PreconditionFailedException" and error_of(exc)[2] == 412
    conf = lam.update_function_configuration(FunctionName=fname, Timeout=10, MemorySize=512,
                                             Environment={"Variables": {"X": "y"}}, Description="new",
                                             RevisionId=updated["RevisionId"])
    assert (conf["Timeout"], conf["MemorySize"], conf["Description"]) == (10, 512, "new")
    assert conf["Environment"] == {"Variables": {"X": "y"}}
    assert conf["CodeSha256"] == updated["CodeSha256"]
    assert lam.get_function_configuration(FunctionName=fname)["Timeout"] == 10


def test_versions(lam: Any, create: Callable[..., Any], fname: str) -> None:
    created = create(HANDLER, Publish=True)
    assert created["Version"] == "1"
    assert created["FunctionArn"].endswith(f":function:{fname}:1")
    again = lam.publish_version(FunctionName=fname)
    assert again["Version"] == "1"  # nothing changed since version 1
    lam.update_function_configuration(FunctionName=fname, Timeout=9)
    with pytest.raises(ClientError) as exc:
        lam.publish_version(FunctionName=fname, CodeSha256="wrong")
    assert error_of(exc)[0] == "InvalidParameterValueException"
    v2 = lam.publish_version(FunctionName=fname, Description="second")
    assert (v2["Version"], v2["Timeout"], v2["Description"]) == ("2", 9, "second")
    versions = lam.list_versions_by_function(FunctionName=fname)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert [v["FunctionArn"].rsplit(":", 1)[1] for v in versions] == ["$LATEST", "1", "2"]
    page = lam.list_versions_by_function(FunctionName=fname, MaxItems=2)
    assert [v["Version"] for v in page["Versions"]] == ["$LATEST", "1"]
    rest = lam.list_versions_by_function(FunctionName=fname, Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["2"]
    assert lam.get_function_configuration(FunctionName=fname, Qualifier="1")["Timeout"] == 3
    assert lam.get_function(FunctionName=f"{fname}:2")["Configuration"]["Timeout"] == 9
    with pytest.raises(ClientError) as exc:
        lam.get_function(FunctionName=fname, Qualifier="7")
    assert error_of(exc)[1] == f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}:7"
    everything = [f for p in lam.get_paginator("list_functions").paginate(FunctionVersion="ALL")
                  for f in p["Functions"] if f["FunctionName"] == fname]
    assert [f["Version"] for f in everything] == ["$LATEST", "1", "2"]
    one_by_one = [f for p in lam.get_paginator("list_functions").paginate(
        FunctionVersion="ALL", PaginationConfig={"PageSize": 1}) for f in p["Functions"] if f["FunctionName"] == fname]
    assert [f["Version"] for f in one_by_one] == ["$LATEST", "1", "2"]
    lam.delete_function(FunctionName=fname, Qualifier="1")
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=fname)["Versions"]] == ["$LATEST", "2"]


def test_aliases(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create(HANDLER, Publish=True)
    lam.update_function_configuration(FunctionName=fname, Timeout=5)
    lam.publish_version(FunctionName=fname)
    alias = lam.create_alias(FunctionName=fname, Name="live", FunctionVersion="1", Description="prod")
    assert alias["AliasArn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}:live"
    assert (alias["Name"], alias["FunctionVersion"], alias["Description"]) == ("live", "1", "prod")
    with pytest.raises(ClientError) as exc:
        lam.create_alias(FunctionName=fname, Name="live", FunctionVersion="1")
    assert error_of(exc)[0] == "ResourceConflictException"
    with pytest.raises(ClientError) as exc:
        lam.create_alias(FunctionName=fname, Name="bad", FunctionVersion="9")
    assert error_of(exc)[0] == "ResourceNotFoundException"
    assert lam.get_function_configuration(FunctionName=fname, Qualifier="live")["Version"] == "1"
    updated = lam.update_alias(FunctionName=fname, Name="live", FunctionVersion="2",
                               RoutingConfig={"AdditionalVersionWeights": {"1": 0.25}})
    assert updated["FunctionVersion"] == "2"
    assert updated["RoutingConfig"] == {"AdditionalVersionWeights": {"1": 0.25}}
    lam.create_alias(FunctionName=fname, Name="beta", FunctionVersion="$LATEST")
    names = [a["Name"] for a in lam.list_aliases(FunctionName=fname)["Aliases"]]
    assert names == ["beta", "live"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=fname, FunctionVersion="2")["Aliases"]] == ["live"]
    with pytest.raises(ClientError) as exc:
        lam.delete_function(FunctionName=fname, Qualifier="2")
    assert error_of(exc)[0] == "ResourceConflictException"
    lam.delete_alias(FunctionName=fname, Name="beta")
    with pytest.raises(ClientError) as exc:
        lam.get_alias(FunctionName=fname, Name="beta")
    assert error_of(exc) == ("ResourceNotFoundException",
                           f"Alias not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}:beta", 404)


def test_tags(lam: Any, create: Callable[..., Any]) -> None:
    arn = create(HANDLER, Tags={"a": "1"})["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"b": "2"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"a": "1", "b": "2"}
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}
    with pytest.raises(ClientError) as exc:
        lam.list_tags(Resource=arn + "-missing")
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_concurrency_settings_and_account(lam: Any, create: Callable[..., Any], fname: str) -> None:
    create(HANDLER)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=fname)
    before = lam.get_account_settings()
    assert before["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert before["AccountUsage"]["FunctionCount"] >= 1
    assert lam.put_function_concurrency(FunctionName=fname, ReservedConcurrentExecutions=5)[
        "ReservedConcurrentExecutions"] == 5
    assert lam.get_function_concurrency(FunctionName=fname)["ReservedConcurrentExecutions"] == 5
    assert lam.get_function(FunctionName=fname)["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    after = lam.get_account_settings()
    assert after["AccountLimit"]["UnreservedConcurrentExecutions"] == (
        before["AccountLimit"]["UnreservedConcurrentExecutions"] - 5)
    with pytest.raises(ClientError) as exc:
        lam.put_function_concurrency(FunctionName=fname, ReservedConcurrentExecutions=950)
    assert error_of(exc)[0] == "InvalidParameterValueException"
    lam.delete_function_concurrency(FunctionName=fname)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=fname)


def test_resource_policy(lam: Any, create: Callable[..., Any], fname: str) -> None:
    arn = create(HANDLER)["FunctionArn"]
    with pytest.raises(ClientError) as exc:
        lam.get_policy(FunctionName=fname)
    assert error_of(exc) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    out = lam.add_permission(FunctionName=fname, StatementId="s3-invoke", Action="lambda:InvokeFunction",
                             Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::my-bucket",
                             SourceAccount=ACCOUNT)
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 201
    statement = json.loads(out["Statement"])
    assert statement == {
        "Sid": "s3-invoke", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": arn,
        "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT},
                      "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket"}},
    }
    lam.add_permission(FunctionName=fname, StatementId="acct", Action="lambda:GetFunction", Principal="111122223333")
    with pytest.raises(ClientError) as exc:
        lam.add_permission(FunctionName=fname, StatementId="acct", Action="lambda:GetFunction", Principal="*")
    assert error_of(exc)[0] == "ResourceConflictException"
    got = lam.get_policy(FunctionName=fname)
    document = json.loads(got["Policy"])
    assert document["Version"] == "2012-10-17"
    assert [s["Sid"] for s in document["Statement"]] == ["s3-invoke", "acct"]
    assert document["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    lam.remove_permission(FunctionName=fname, StatementId="s3-invoke", RevisionId=got["RevisionId"])
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName=fname)["Policy"])["Statement"]] == ["acct"]
    with pytest.raises(ClientError) as exc:
        lam.remove_permission(FunctionName=fname, StatementId="s3-invoke")
    assert error_of(exc) == ("ResourceNotFoundException", "Statement s3-invoke is not found in resource policy.", 404)


def test_event_invoke_config(lam: Any, create: Callable[..., Any], fname: str) -> None:
    arn = create(HANDLER)["FunctionArn"]
    with pytest.raises(ClientError) as exc:
        lam.get_function_event_invoke_config(FunctionName=fname)
    assert error_of(exc) == ("ResourceNotFoundException", f"The function {arn} doesn't have an EventInvokeConfig", 404)
    put = lam.put_function_event_invoke_config(FunctionName=fname, MaximumRetryAttempts=0,
                                               MaximumEventAgeInSeconds=120)
    assert (put["FunctionArn"], put["MaximumRetryAttempts"], put["MaximumEventAgeInSeconds"]) == (arn, 0, 120)
    updated = lam.update_function_event_invoke_config(FunctionName=fname, MaximumRetryAttempts=1)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (1, 120)
    got = lam.get_function_event_invoke_config(FunctionName=fname)
    assert got["MaximumRetryAttempts"] == 1 and got["LastModified"].year >= 2024
    listed = lam.list_function_event_invoke_configs(FunctionName=fname)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [arn]
    lam.delete_function_event_invoke_config(FunctionName=fname)
    with pytest.raises(ClientError) as exc:
        lam.get_function_event_invoke_config(FunctionName=fname)
    assert error_of(exc)[0] == "ResourceNotFoundException"


def test_code_from_s3(lam: Any, aws_client: Callable[..., Any], fname: str) -> None:
    s3 = aws_client("s3")
    bucket = f"code-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    code = python_zip("def handler(e, c):\n    return 's3 code'\n")
    s3.put_object(Bucket=bucket, Key="pkg/fn.zip", Body=code)
    created = lam.create_function(FunctionName=fname, Runtime="python3.11", Role=ROLE,
                                  Handler="lambda_function.handler", Code={"S3Bucket": bucket, "S3Key": "pkg/fn.zip"})
    assert created["CodeSha256"] == base64.b64encode(hashlib.sha256(code).digest()).decode()
    assert json.loads(lam.invoke(FunctionName=fname)["Payload"].read()) == "s3 code"
    with pytest.raises(ClientError) as exc:
        lam.update_function_code(FunctionName=fname, S3Bucket=bucket, S3Key="missing.zip")
    assert error_of(exc) == ("InvalidParameterValueException",
                             "Error occurred while GetObject. S3 Error Code: NoSuchKey. "
                             "S3 Error Message: The specified key does not exist.", 400)


def test_function_url_configs(lam: Any, create: Callable[..., Any], fname: str) -> None:
    arn = create(HANDLER, Publish=True)["FunctionArn"].rsplit(":", 1)[0]
    lam.create_alias(FunctionName=fname, Name="live", FunctionVersion="1")
    created = lam.create_function_url_config(FunctionName=fname, AuthType="NONE",
                                             Cors={"AllowOrigins": ["*"], "AllowMethods": ["GET"]})
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert re.fullmatch(r"https://[a-z0-9]{32}\.lambda-url\.us-east-1\.on\.aws/", created["FunctionUrl"])
    assert (created["FunctionArn"], created["AuthType"], created["InvokeMode"]) == (arn, "NONE", "BUFFERED")
    assert created["Cors"] == {"AllowOrigins": ["*"], "AllowMethods": ["GET"]}
    with pytest.raises(ClientError) as exc:
        lam.create_function_url_config(FunctionName=fname, AuthType="NONE")
    assert error_of(exc)[0] == "ResourceConflictException"
    aliased = lam.create_function_url_config(FunctionName=fname, Qualifier="live", AuthType="AWS_IAM")
    assert aliased["FunctionArn"] == f"{arn}:live" and aliased["FunctionUrl"] != created["FunctionUrl"]
    updated = lam.update_function_url_config(FunctionName=fname, AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM" and updated["FunctionUrl"] == created["FunctionUrl"]
    got = lam.get_function_url_config(FunctionName=fname)
    assert got["AuthType"] == "AWS_IAM" and got["CreationTime"] == created["CreationTime"]
    listed = lam.list_function_url_configs(FunctionName=fname)["FunctionUrlConfigs"]
    assert sorted(c["FunctionArn"] for c in listed) == [arn, f"{arn}:live"]
    lam.delete_function_url_config(FunctionName=fname)
    with pytest.raises(ClientError) as exc:
        lam.get_function_url_config(FunctionName=fname)
    assert error_of(exc) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
