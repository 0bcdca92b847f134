"""Managed policies and versions, attachments, inline policies, boundaries, AWS managed policies,
MalformedPolicyDocument, GetAccountAuthorizationDetails and the policy simulator."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


S3_READ = doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"})


def code(exc) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_policy_versions_and_limit(iam, name):
    policy = iam.create_policy(PolicyName=name("pv"), PolicyDocument=S3_READ, Description="desc")["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/{policy['PolicyName']}" and policy["DefaultVersionId"] == "v1"
    assert policy["PolicyId"].startswith("ANPA") and policy["AttachmentCount"] == 0
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Description"] == "desc"
    for i in range(2, 6):
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=S3_READ, SetAsDefault=(i == 3))["PolicyVersion"]
        assert v["VersionId"] == f"v{i}"
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=S3_READ)
    assert code(exc) == ("LimitExceeded", "A managed policy can have up to 5 versions. Before you create a new "
                                          "version, you must delete an existing version.")
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v3"]
    with pytest.raises(ClientError) as exc:
        iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert code(exc) == ("DeleteConflict", "Cannot delete the default version of a policy.")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    assert iam.create_policy_version(PolicyArn=arn, PolicyDocument=S3_READ)["PolicyVersion"]["VersionId"] == "v6"
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v6")
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v6")["PolicyVersion"]
    assert got["IsDefaultVersion"] and got["Document"] == json.loads(S3_READ)
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert code(exc)[0] == "DeleteConflict"
    for v in ("v2", "v3", "v4", "v5"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.get_policy(PolicyArn=arn)
    assert code(exc)[0] == "NoSuchEntity"


@pytest.mark.parametrize("document,message", [
    ("{", "Syntax errors in policy."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}),
     "Policy statement must contain resources."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}),
     "Policy statement must contain actions."),
    (json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                                         "Principal": "*"}]}),
     "Policy document should not specify a principal."),
    (json.dumps({"Version": "2013-01-01", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
     "The policy failed legacy parsing"),
])
def test_malformed_policy_documents(iam, name, document, message):
    with pytest.raises(ClientError) as exc:
        iam.create_policy(PolicyName=name("bad"), PolicyDocument=document)
    assert code(exc) == ("MalformedPolicyDocument", message)
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    user = name("mal")
    iam.create_user(UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=document)
    assert code(exc) == ("MalformedPolicyDocument", message)


def test_attach_detach_and_entities(iam, name):
    user, group, role = name("u"), name("g"), name("r")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}]}))
    arn = iam.create_policy(PolicyName=name("att"), PolicyDocument=S3_READ)["Policy"]["Arn"]
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [
        {"PolicyName": arn.rsplit("/", 1)[1], "PolicyArn": arn}]
    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    assert arn in [p["Arn"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]
    with pytest.raises(ClientError) as exc:
        iam.delete_policy(PolicyArn=arn)
    assert code(exc) == ("DeleteConflict", "Cannot delete a policy attached to entities.")
    with pytest.raises(ClientError) as exc:
        iam.attach_user_policy(UserName=user, PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/nope")
    assert code(exc) == ("NoSuchEntity", f"Policy arn:aws:iam::{ACCOUNT}:policy/nope does not exist or is not attachable.")
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    assert code(exc)[0] == "NoSuchEntity"
    iam.delete_policy(PolicyArn=arn)


def test_aws_managed_policies_by_arn(iam, name):
    arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    assert policy["PolicyName"] == "AmazonS3ReadOnlyAccess"
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert "s3:Get*" in version["Document"]["Statement"][0]["Action"]
    assert arn in [p["Arn"] for p in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]]
    lambda_exec = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    role = name("svc")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    iam.attach_role_policy(RoleName=role, PolicyArn=lambda_exec)
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"][0]["PolicyName"] == "AWSLambdaBasicExecutionRole"
    with pytest.raises(ClientError) as exc:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=S3_READ)
    assert code(exc)[0] == "InvalidInput"


def test_inline_policies(iam, name):
    user, role, group = name("in-u"), name("in-r"), name("in-g")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}]}))
    for put, get, lst, delete, kw in (
        (iam.put_user_policy, iam.get_user_policy, iam.list_user_policies, iam.delete_user_policy, {"UserName": user}),
        (iam.put_group_policy, iam.get_group_policy, iam.list_group_policies, iam.delete_group_policy, {"GroupName": group}),
        (iam.put_role_policy, iam.get_role_policy, iam.list_role_policies, iam.delete_role_policy, {"RoleName": role}),
    ):
        put(PolicyName="b", PolicyDocument=S3_READ, **kw)
        put(PolicyName="a", PolicyDocument=S3_READ, **kw)
        assert get(PolicyName="a", **kw)["PolicyDocument"] == json.loads(S3_READ)
        assert lst(**kw)["PolicyNames"] == ["a", "b"]
        delete(PolicyName="a", **kw)
        with pytest.raises(ClientError) as exc:
            get(PolicyName="a", **kw)
        assert code(exc)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName=role)
    assert code(exc) == ("DeleteConflict", "Cannot delete entity, must delete policies first.")


def test_permissions_boundaries(iam, name):
    user, role = name("bu"), name("br")
    boundary = iam.create_policy(PolicyName=name("boundary"), PolicyDocument=S3_READ)["Policy"]["Arn"]
    iam.create_user(UserName=user, PermissionsBoundary=boundary)
    assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}]}))
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
    assert iam.get_policy(PolicyArn=boundary)["Policy"]["PermissionsBoundaryUsageCount"] == 2
    iam.delete_role_permissions_boundary(RoleName=role)
    iam.delete_user_permissions_boundary(UserName=user)
    assert "PermissionsBoundary" not in iam.get_user(UserName=user)["User"]


def test_account_authorization_details(iam, name):
    user = name("details")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="inline", PolicyDocument=S3_READ)
    details = iam.get_account_authorization_details(Filter=["User"])
    mine = [u for u in details["UserDetailList"] if u["UserName"] == user][0]
    assert mine["UserPolicyList"] == [{"PolicyName": "inline", "PolicyDocument": json.loads(S3_READ)}]
    assert details["GroupDetailList"] == [] and details["RoleDetailList"] == []


def test_simulate_principal_and_custom_policy(iam, name):
    user = name("sim")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}))
    user_arn = iam.get_user(UserName=user)["User"]["Arn"]
    results = iam.simulate_principal_policy(PolicySourceArn=user_arn, ActionNames=["s3:GetObject", "s3:DeleteObject",
                                                                                  "sqs:SendMessage"],
                                            ResourceArns=["arn:aws:s3:::b/k"])["EvaluationResults"]
    decisions = {r["EvalActionName"]: r["EvalDecision"] for r in results}
    assert decisions == {"s3:GetObject": "allowed", "s3:DeleteObject": "explicitDeny", "sqs:SendMessage": "implicitDeny"}
    deny = [r for r in results if r["EvalActionName"] == "s3:DeleteObject"][0]
    assert deny["MatchedStatements"][0]["SourcePolicyId"] == "p"
    custom = iam.simulate_custom_policy(
        PolicyInputList=[doc({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
                              "Condition": {"StringLike": {"s3:prefix": "home/*"}}})],
        ActionNames=["s3:ListBucket"], ResourceArns=["arn:aws:s3:::b"],
        ContextEntries=[{"ContextKeyName": "s3:prefix", "ContextKeyValues": ["home/x"], "ContextKeyType": "string"}],
    )["EvaluationResults"]
    assert custom[0]["EvalDecision"] == "allowed"
    with pytest.raises(ClientError) as exc:
        iam.simulate_custom_policy(PolicyInputList=["{"], ActionNames=["s3:GetObject"])
    assert code(exc)[0] == "MalformedPolicyDocument"
    keys = iam.get_context_keys_for_custom_policy(PolicyInputList=[doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})])
    assert keys["ContextKeyNames"] == ["aws:SourceIp"]
