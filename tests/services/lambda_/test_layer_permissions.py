"""Layer version permissions: AddLayerVersionPermission, RemoveLayerVersionPermission and
GetLayerVersionPolicy through boto3, and the policy evaluated for another account in the iam mode."""

from __future__ import annotations

import json
import uuid
from typing import Any, Iterator

import pytest

from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess
from lambda_helpers import ACCOUNT, REGION, error_of, make_zip, python_zip

B = "111111111111"  # a 12-digit key id is the root of that account (secret "test")


@pytest.fixture
def layer(lam: Any) -> Iterator[dict[str, Any]]:
    name = f"layer-{uuid.uuid4().hex[:10]}"
    published = lam.publish_layer_version(LayerName=name, Content={"ZipFile": make_zip({"python/lib.py": "X = 1\n"})})
    yield published
    lam.delete_layer_version(LayerName=name, VersionNumber=published["Version"])


def _name(layer: dict[str, Any]) -> str:
    return str(layer["LayerArn"].rsplit(":", 1)[1])


def test_add_get_remove_layer_permissions(lam: Any, layer: dict[str, Any]) -> None:
    name, version, arn = _name(layer), layer["Version"], layer["LayerVersionArn"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
        lam.get_layer_version_policy(LayerName=name, VersionNumber=version)
    assert error_of(missing) == ("ResourceNotFoundException", "No policy is associated with the given resource.", 404)

    added = lam.add_layer_version_permission(LayerName=name, VersionNumber=version, StatementId="xaccount",
                                             Action="lambda:GetLayerVersion", Principal=B)
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert json.loads(added["Statement"]) == {
        "Sid": "xaccount", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
        "Action": "lambda:GetLayerVersion", "Resource": arn}
    first_revision = added["RevisionId"]
    assert len(first_revision) == 36

    # by the layer's ARN, to every account of an organization
    org = lam.add_layer_version_permission(LayerName=layer["LayerArn"], VersionNumber=version, StatementId="org",
                                           Action="lambda:GetLayerVersion", Principal="*",
                                           OrganizationId="o-abcdefghij", RevisionId=first_revision)
    assert json.loads(org["Statement"]) == {
        "Sid": "org", "Effect": "Allow", "Principal": "*", "Action": "lambda:GetLayerVersion", "Resource": arn,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}}
    assert org["RevisionId"] != first_revision

    got = lam.get_layer_version_policy(LayerName=name, VersionNumber=version)
    assert got["RevisionId"] == org["RevisionId"]
    assert json.loads(got["Policy"]) == {"Version": "2012-10-17", "Id": "default",
                                         "Statement": [json.loads(added["Statement"]), json.loads(org["Statement"])]}

    with pytest.raises(lam.exceptions.ResourceConflictException) as duplicate:
        lam.add_layer_version_permission(LayerName=name, VersionNumber=version, StatementId="org",
                                         Action="lambda:GetLayerVersion", Principal="*")
    assert error_of(duplicate) == (
        "ResourceConflictException", "The statement id (org) provided already exists. Please provide a new statement "
        "id, or remove the existing statement.", 409)
    stale = ("PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. "
             "Call the GetLayerPolicy API to retrieve the latest Revision Id", 412)
    with pytest.raises(lam.exceptions.PreconditionFailedException) as precondition:
        lam.add_layer_version_permission(LayerName=name, VersionNumber=version, StatementId="late",
                                         Action="lambda:GetLayerVersion", Principal="*", RevisionId=first_revision)
    assert error_of(precondition) == stale
    with pytest.raises(lam.exceptions.PreconditionFailedException) as precondition:
        lam.remove_layer_version_permission(LayerName=name, VersionNumber=version, StatementId="org",
                                            RevisionId=first_revision)
    assert error_of(precondition) == stale

    removed = lam.remove_layer_version_permission(LayerName=name, VersionNumber=version, StatementId="xaccount",
                                                  RevisionId=got["RevisionId"])
    assert removed["ResponseMetadata"]["HTTPStatusCode"] == 204
    left = lam.get_layer_version_policy(LayerName=name, VersionNumber=version)
    assert [s["Sid"] for s in json.loads(left["Policy"])["Statement"]] == ["org"]
    assert left["RevisionId"] != got["RevisionId"]
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as gone:
        lam.remove_layer_version_permission(LayerName=name, VersionNumber=version, StatementId="xaccount")
    assert error_of(gone) == ("ResourceNotFoundException", "Statement xaccount is not found in resource policy.", 404)
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=version, StatementId="org")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version_policy(LayerName=name, VersionNumber=version)


def test_layer_permission_validation_and_missing_versions(lam: Any, layer: dict[str, Any]) -> None:
    name, version = _name(layer), layer["Version"]
    cases = [
        ({"Action": "lambda:InvokeFunction"}, "Value 'lambda:InvokeFunction' at 'action' failed to satisfy constraint: "
         "Member must satisfy regular expression pattern: lambda:GetLayerVersion"),
        ({"Principal": "s3.amazonaws.com"}, "Value 's3.amazonaws.com' at 'principal' failed to satisfy constraint: "
         r"Member must satisfy regular expression pattern: \d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root"),
        ({"StatementId": "bad id"}, "Value 'bad id' at 'statementId' failed to satisfy constraint: "
         "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"),
        ({"OrganizationId": "org-1"}, "Value 'org-1' at 'organizationId' failed to satisfy constraint: "
         "Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}"),
    ]
    for override, message in cases:
        params = {"LayerName": name, "VersionNumber": version, "StatementId": "s", "Action": "lambda:GetLayerVersion",
                  "Principal": "*", **override}
        with pytest.raises(lam.exceptions.ClientError) as invalid:
            lam.add_layer_version_permission(**params)
        assert error_of(invalid) == ("ValidationException", f"1 validation error detected: {message}", 400)

    missing_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:{version + 5}"
    for call in (
        lambda: lam.add_layer_version_permission(LayerName=name, VersionNumber=version + 5, StatementId="s",
                                                 Action="lambda:GetLayerVersion", Principal="*"),
        lambda: lam.get_layer_version_policy(LayerName=name, VersionNumber=version + 5),
        lambda: lam.remove_layer_version_permission(LayerName=name, VersionNumber=version + 5, StatementId="s"),
    ):
        with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
            call()
        assert error_of(missing) == ("ResourceNotFoundException", f"Layer version {missing_arn} does not exist.", 404)


def test_deleting_a_layer_version_deletes_its_policy(lam: Any) -> None:
    name = f"layer-{uuid.uuid4().hex[:10]}"
    content = {"ZipFile": make_zip({"python/lib.py": "X = 1\n"})}
    first = lam.publish_layer_version(LayerName=name, Content=content)
    lam.add_layer_version_permission(LayerName=name, VersionNumber=first["Version"], StatementId="all",
                                     Action="lambda:GetLayerVersion", Principal="*")
    lam.delete_layer_version(LayerName=name, VersionNumber=first["Version"])
    second = lam.publish_layer_version(LayerName=name, Content=content)
    with pytest.raises(lam.exceptions.ResourceNotFoundException) as missing:
        lam.get_layer_version_policy(LayerName=name, VersionNumber=first["Version"])
    assert error_of(missing)[1] == f"Layer version {first['LayerVersionArn']} does not exist."
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_layer_version_policy(LayerName=name, VersionNumber=second["Version"])
    lam.delete_layer_version(LayerName=name, VersionNumber=second["Version"])


def test_layer_policy_lets_another_account_use_the_layer_in_iam_mode(iam_server: ServerProcess) -> None:
    endpoint = iam_server.endpoint
    owner = make_client(endpoint, "lambda")
    layer = owner.publish_layer_version(LayerName="shared", Content={"ZipFile": make_zip({"python/lib.py": "X = 1\n"})})
    arn = layer["LayerVersionArn"]
    other = make_client(endpoint, "lambda", aws_access_key_id=B)

    def denied(call: Any) -> tuple[str, str, int]:
        with pytest.raises(other.exceptions.ClientError) as refused:
            call()
        return error_of(refused)

    code, message, status = denied(lambda: other.get_layer_version_by_arn(Arn=arn))
    assert (code, status) == ("AccessDeniedException", 403)
    assert f"is not authorized to perform: lambda:GetLayerVersion on resource: {arn}" in message
    assert denied(lambda: other.get_layer_version(LayerName=layer["LayerArn"], VersionNumber=1))[0] == \
        "AccessDeniedException"
    create = {"FunctionName": "uses-shared", "Runtime": "python3.11", "Role": f"arn:aws:iam::{B}:role/r",
              "Handler": "lambda_function.handler", "Code": {"ZipFile": python_zip("def handler(e, c):\n    return 1\n")},
              "Layers": [arn]}
    assert denied(lambda: other.create_function(**create))[0] == "AccessDeniedException"

    owner.add_layer_version_permission(LayerName="shared", VersionNumber=1, StatementId="b",
                                       Action="lambda:GetLayerVersion", Principal=B)
    assert other.get_layer_version_by_arn(Arn=arn)["LayerVersionArn"] == arn
    assert other.get_layer_version(LayerName=layer["LayerArn"], VersionNumber=1)["LayerVersionArn"] == arn
    assert other.create_function(**create)["Layers"] == [{"Arn": arn, "CodeSize": layer["Content"]["CodeSize"]}]
    # the grant is for reading the layer only: its policy stays the owner's to change
    assert denied(lambda: other.add_layer_version_permission(
        LayerName=layer["LayerArn"], VersionNumber=1, StatementId="c", Action="lambda:GetLayerVersion",
        Principal="*"))[0] == "AccessDeniedException"

    owner.remove_layer_version_permission(LayerName="shared", VersionNumber=1, StatementId="b")
    assert denied(lambda: other.get_layer_version_by_arn(Arn=arn))[0] == "AccessDeniedException"
