"""Function resource policies by ARN (Get/Put/DeleteResourcePolicy): the same document AddPermission
and GetPolicy work on, per function, version or alias."""

from __future__ import annotations

import json
from typing import Any

import pytest

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess
from lambda_helpers import ACCOUNT, REGION, ROLE, error_of, python_zip

B = "111111111111"  # a 12-digit key id is the root of that account (secret "test")

SOURCE = "def handler(event, context):\n    return 1\n"


def _policy(resource: str, *sids: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": sid, "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction",
         "Resource": resource} for sid in sids]}


def test_put_get_delete_resource_policy_shares_add_permission_policy(lam: Any, create: Any, fname: str) -> None:
    arn = create(SOURCE)["FunctionArn"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
        lam.get_resource_policy(ResourceArn=arn)
    assert error_of(missing) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)

    added = lam.add_permission(FunctionName=fname, StatementId="from-add", Action="lambda:InvokeFunction",
                               Principal="sns.amazonaws.com")
    got = lam.get_resource_policy(ResourceArn=arn)
    assert json.loads(got["Policy"]) == {"Version": "2012-10-17", "Id": "default",
                                         "Statement": [json.loads(added["Statement"])]}
    assert got["RevisionId"] == lam.get_policy(FunctionName=fname)["RevisionId"]

    # Put replaces the whole document, the AddPermission statement included
    put = lam.put_resource_policy(ResourceArn=arn, Policy=json.dumps(_policy(arn, "one", "two")),
                                  RevisionId=got["RevisionId"])
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    expected = {"Version": "2012-10-17", "Id": "default", "Statement": _policy(arn, "one", "two")["Statement"]}
    assert json.loads(put["Policy"]) == expected
    assert put["RevisionId"] != got["RevisionId"] and len(put["RevisionId"]) == 36
    assert lam.get_policy(FunctionName=fname) | {"ResponseMetadata": None} == {
        "Policy": put["Policy"], "RevisionId": put["RevisionId"], "ResponseMetadata": None}
    again = lam.get_resource_policy(ResourceArn=arn)
    assert (again["Policy"], again["RevisionId"]) == (put["Policy"], put["RevisionId"])

    # RemovePermission and AddPermission keep working on it
    lam.remove_permission(FunctionName=fname, StatementId="one")
    assert [s["Sid"] for s in json.loads(lam.get_resource_policy(ResourceArn=arn)["Policy"])["Statement"]] == ["two"]

    stale = ("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. "
             "Call the GetResourcePolicy API to retrieve the latest Revision Id", 412)
    with pytest.raises(lam.exceptions.PreconditionFailedException) as precondition:
        lam.put_resource_policy(ResourceArn=arn, Policy=json.dumps(_policy(arn, "x")), RevisionId=put["RevisionId"])
    assert error_of(precondition) == stale
    with pytest.raises(lam.exceptions.PreconditionFailedException) as precondition:
        lam.delete_resource_policy(ResourceArn=arn, RevisionId=put["RevisionId"])
    assert error_of(precondition) == stale

    current = lam.get_resource_policy(ResourceArn=arn)["RevisionId"]
    deleted = lam.delete_resource_policy(ResourceArn=arn, RevisionId=current)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName=fname)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as none_left:
        lam.delete_resource_policy(ResourceArn=arn)
    assert error_of(none_left) == ("ResourceNotFoundException", "No policy is associated with the given resource.", 404)


def test_resource_policy_of_versions_and_aliases(lam: Any, create: Any, fname: str) -> None:
    arn = create(SOURCE, Publish=True)["FunctionArn"].rsplit(":", 1)[0]
    lam.create_alias(FunctionName=fname, Name="live", FunctionVersion="1")
    for qualifier in ("1", "live"):
        qualified = f"{arn}:{qualifier}"
        lam.put_resource_policy(ResourceArn=qualified, Policy=json.dumps(_policy(qualified, f"for-{qualifier}")))
        assert json.loads(lam.get_policy(FunctionName=fname, Qualifier=qualifier)["Policy"])["Statement"][0]["Sid"] \
            == f"for-{qualifier}"
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_resource_policy(ResourceArn=arn)  # the unqualified function has none of its own
    for qualifier in ("7", "missing"):
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
            lam.put_resource_policy(ResourceArn=f"{arn}:{qualifier}", Policy=json.dumps(_policy(arn, "x")))
        assert error_of(missing) == ("ResourceNotFoundException", f"Function not found: {arn}:{qualifier}", 404)


def test_resource_policy_checks(lam: Any, create: Any, fname: str) -> None:
    arn = create(SOURCE)["FunctionArn"]
    bad_documents = [
        ("not json", "The resource policy is not valid JSON."),
        ("[]", "The resource policy must be a JSON object with a Statement."),
        (json.dumps({"Version": "2000-01-01", "Statement": []}), "The policy version 2000-01-01 is not supported."),
        (json.dumps({"Statement": []}), "The resource policy must contain at least one statement."),
        (json.dumps({"Statement": {"Effect": "Maybe", "Principal": "*", "Action": "lambda:*"}}),
         "Each statement of the resource policy needs an Effect of Allow or Deny."),
        (json.dumps({"Statement": {"Effect": "Allow", "Action": "lambda:*"}}),
         "Each statement of the resource policy needs a Principal."),
        (json.dumps(_policy(arn, "same", "same")), "Statement ids (Sid) of the resource policy must be unique."),
    ]
    for document, message in bad_documents:
        with pytest.raises(lam.exceptions.InvalidParameterValueException) as invalid:
            lam.put_resource_policy(ResourceArn=arn, Policy=document)
        assert error_of(invalid) == ("InvalidParameterValueException", message, 400)

    huge = json.dumps(_policy(arn, *[f"s{i:04d}" for i in range(200)]))
    with pytest.raises(lam.exceptions.PolicyLengthExceededException) as too_long:
        lam.put_resource_policy(ResourceArn=arn, Policy=huge)
    assert error_of(too_long) == ("PolicyLengthExceededException",
                                  f"The final policy size ({len(huge)}) is bigger than the limit (20480).", 400)

    # a single statement object without a Sid is kept as written
    lone = {"Effect": "Deny", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": arn}
    put = lam.put_resource_policy(ResourceArn=arn, Policy=json.dumps({"Statement": lone}))
    assert json.loads(put["Policy"])["Statement"] == [lone]
    lam.add_permission(FunctionName=fname, StatementId="after", Action="lambda:InvokeFunction", Principal="*")
    assert len(json.loads(lam.get_resource_policy(ResourceArn=arn)["Policy"])["Statement"]) == 2

    with pytest.raises(lam.exceptions.ClientError) as bad_arn:
        lam.get_resource_policy(ResourceArn=f"arn:aws:s3:::{fname}")
    code, message, status = error_of(bad_arn)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith(f"1 validation error detected: Value 'arn:aws:s3:::{fname}' at 'resourceArn' failed to "
                              "satisfy constraint: Member must satisfy regular expression pattern: ")
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as runtime:
        lam.get_resource_policy(ResourceArn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:runtime/python3.11")
    assert error_of(runtime) == ("ResourceNotFoundException", "The resource you requested does not exist.", 404)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as no_function:
        lam.get_resource_policy(ResourceArn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}-none")
    assert error_of(no_function) == (
        "ResourceNotFoundException", f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fname}-none", 404)


def test_put_resource_policy_grants_another_account_in_iam_mode(iam_server: ServerProcess) -> None:
    owner = make_client(iam_server.endpoint, "lambda")
    arn = owner.create_function(FunctionName="shared-fn", Runtime="python3.11", Role=ROLE,
                                Handler="lambda_function.handler",
                                Code={"ZipFile": python_zip(SOURCE)})["FunctionArn"]
    other = make_client(iam_server.endpoint, "lambda", aws_access_key_id=B)
    with pytest.raises(other.exceptions.ClientError) as refused:
        other.get_function_configuration(FunctionName=arn)
    assert error_of(refused)[0] == "AccessDeniedException"

    grant = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "lambda:GetFunctionConfiguration",
         "Resource": arn}]}
    owner.put_resource_policy(ResourceArn=arn, Policy=json.dumps(grant))
    assert other.get_function_configuration(FunctionName=arn)["FunctionArn"] == arn
    # the policy itself stays the owner's: reading it needs lambda:GetResourcePolicy, which it does not grant
    with pytest.raises(other.exceptions.ClientError) as not_granted:
        other.get_resource_policy(ResourceArn=arn)
    assert error_of(not_granted)[0] == "AccessDeniedException"

    owner.delete_resource_policy(ResourceArn=arn)
    with pytest.raises(other.exceptions.ClientError) as refused_again:
        other.get_function_configuration(FunctionName=arn)
    assert error_of(refused_again)[0] == "AccessDeniedException"
