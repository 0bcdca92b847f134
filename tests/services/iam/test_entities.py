"""Users, groups, roles, access keys, login profiles, tags, aliases, paging — through boto3."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

ACCOUNT = "000000000000"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    e = exc.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def test_user_lifecycle(iam, name):
    user = name("alice")
    created = iam.create_user(UserName=user, Path="/eng/", Tags=[{"Key": "team", "Value": "data"}])["User"]
    assert created["UserName"] == user and created["Path"] == "/eng/"
    assert created["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/{user}"
    assert created["UserId"].startswith("AIDA") and len(created["UserId"]) == 21
    assert created["Tags"] == [{"Key": "team", "Value": "data"}]
    got = iam.get_user(UserName=user)["User"]
    assert got["UserId"] == created["UserId"] and got["Tags"] == created["Tags"]
    with pytest.raises(ClientError) as exc:
        iam.create_user(UserName=user.upper())
    assert error(exc) == ("EntityAlreadyExists", f"User with name {user.upper()} already exists.", 409)
    iam.update_user(UserName=user, NewUserName=user + "-x", NewPath="/ops/")
    moved = iam.get_user(UserName=user + "-x")["User"]
    assert moved["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/ops/{user}-x"
    iam.delete_user(UserName=user + "-x")
    with pytest.raises(ClientError) as exc:
        iam.get_user(UserName=user + "-x")
    assert error(exc) == ("NoSuchEntity", f"The user with name {user}-x cannot be found.", 404)


def test_delete_conflicts(iam, name):
    user, group = name("bob"), name("devs")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=user)
    assert error(exc)[0] == "DeleteConflict"
    with pytest.raises(ClientError) as exc:
        iam.delete_group(GroupName=group)
    assert error(exc) == ("DeleteConflict", "Cannot delete entity, must remove users from group first.", 409)
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    assert [u["UserName"] for u in iam.get_group(GroupName=group)["Users"]] == [user]
    iam.remove_user_from_group(GroupName=group, UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=user)
    assert error(exc) == ("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409)
    iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=user)
    iam.delete_group(GroupName=group)


def test_access_keys(iam, name, client):
    user = name("carol")
    iam.create_user(UserName=user)
    k1 = iam.create_access_key(UserName=user)["AccessKey"]
    assert k1["AccessKeyId"].startswith("AKIA") and len(k1["AccessKeyId"]) == 20
    assert len(k1["SecretAccessKey"]) == 40 and k1["Status"] == "Active"
    iam.create_access_key(UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.create_access_key(UserName=user)
    assert error(exc) == ("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2", 409)
    listed = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed)[0] <= k1["AccessKeyId"] and len(listed) == 2
    assert "SecretAccessKey" not in listed[0]
    # The key signs requests: GetCallerIdentity answers the user's identity.
    sts = client("sts", aws_access_key_id=k1["AccessKeyId"], aws_secret_access_key=k1["SecretAccessKey"])
    ident = sts.get_caller_identity()
    user_record = iam.get_user(UserName=user)["User"]
    assert ident["Arn"] == user_record["Arn"] and ident["UserId"] == user_record["UserId"]
    assert ident["Account"] == ACCOUNT
    used = iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])
    assert used["UserName"] == user
    iam.update_access_key(UserName=user, AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    assert {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}[
        k1["AccessKeyId"]] == "Inactive"
    with pytest.raises(ClientError) as exc:
        iam.delete_access_key(UserName=user, AccessKeyId="AKIANOTAKEY000000000")
    assert error(exc) == ("NoSuchEntity", "The Access Key with id AKIANOTAKEY000000000 cannot be found.", 404)


def test_roles(iam, name):
    role = name("lambda-exec")
    created = iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST, Description="d", MaxSessionDuration=7200,
                              Tags=[{"Key": "k", "Value": "v"}])["Role"]
    assert created["RoleId"].startswith("AROA") and created["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/{role}"
    assert created["AssumeRolePolicyDocument"] == json.loads(TRUST)  # botocore decodes the URL-encoded document
    assert created["MaxSessionDuration"] == 7200 and created["Description"] == "d"
    iam.update_role(RoleName=role, MaxSessionDuration=3600)
    assert iam.get_role(RoleName=role)["Role"]["MaxSessionDuration"] == 3600
    with pytest.raises(ClientError) as exc:
        iam.create_role(RoleName=name("bad"), AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}))
    assert error(exc) == ("MalformedPolicyDocument", "Missing required field Principal", 400)
    iam.tag_role(RoleName=role, Tags=[{"Key": "k2", "Value": "v2"}])
    assert {t["Key"] for t in iam.list_role_tags(RoleName=role)["Tags"]} == {"k", "k2"}
    iam.untag_role(RoleName=role, TagKeys=["k"])
    assert iam.list_role_tags(RoleName=role)["Tags"] == [{"Key": "k2", "Value": "v2"}]
    iam.delete_role(RoleName=role)


def test_user_tags(iam, name):
    user = name("tagged")
    iam.create_user(UserName=user)
    iam.tag_user(UserName=user, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    iam.tag_user(UserName=user, Tags=[{"Key": "A", "Value": "3"}])
    assert sorted((t["Key"], t["Value"]) for t in iam.list_user_tags(UserName=user)["Tags"]) == [("A", "3"), ("b", "2")]
    iam.untag_user(UserName=user, TagKeys=["a"])
    assert iam.list_user_tags(UserName=user)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(ClientError) as exc:
        iam.tag_user(UserName=user, Tags=[{"Key": f"k{i}", "Value": ""} for i in range(51)])
    assert error(exc)[0] in ("LimitExceeded", "ValidationError")


def test_paging_markers(iam, name):
    prefix = f"/paging{name('p')}/"
    users = sorted(f"{name('pg')}-{i:02d}" for i in range(7))
    for u in users:
        iam.create_user(UserName=u, Path=prefix)
    seen, marker, pages = [], None, 0
    while True:
        kwargs = {"PathPrefix": prefix, "MaxItems": 3, **({"Marker": marker} if marker else {})}
        out = iam.list_users(**kwargs)
        seen += [u["UserName"] for u in out["Users"]]
        pages += 1
        if not out["IsTruncated"]:
            assert "Marker" not in out
            break
        marker = out["Marker"]
    assert seen == users and pages == 3
    paginated = [u["UserName"] for p in iam.get_paginator("list_users").paginate(PathPrefix=prefix, PaginationConfig={"PageSize": 2})
                 for u in p["Users"]]
    assert paginated == users


def test_login_profile_and_alias(iam, name):
    user = name("web")
    iam.create_user(UserName=user)
    profile = iam.create_login_profile(UserName=user, Password="Passw0rd!!", PasswordResetRequired=True)["LoginProfile"]
    assert profile["UserName"] == user and profile["PasswordResetRequired"] is True
    with pytest.raises(ClientError) as exc:
        iam.create_login_profile(UserName=user, Password="x")
    assert error(exc)[0] == "EntityAlreadyExists"
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=user)
    assert error(exc)[0] == "DeleteConflict"
    iam.delete_login_profile(UserName=user)
    with pytest.raises(ClientError) as exc:
        iam.get_login_profile(UserName=user)
    assert error(exc) == ("NoSuchEntity", f"Login Profile for User {user} cannot be found.", 404)
    alias = name("acct-alias")
    iam.create_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == [alias]
    iam.delete_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == []


def test_instance_profiles_and_service_linked_roles(iam, name):
    role, profile = name("ec2-role"), name("profile")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)
    created = iam.create_instance_profile(InstanceProfileName=profile)["InstanceProfile"]
    assert created["InstanceProfileId"].startswith("AIPA") and created["Roles"] == []
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    got = iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == [role]
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]] == [profile]
    with pytest.raises(ClientError) as exc:
        iam.delete_role(RoleName=role)
    assert error(exc)[0] == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=profile)
    iam.delete_role(RoleName=role)
    slr = iam.create_service_linked_role(AWSServiceName="elasticbeanstalk.amazonaws.com", CustomSuffix=name("s"))["Role"]
    assert slr["Path"] == "/aws-service-role/elasticbeanstalk.amazonaws.com/"
    task = iam.delete_service_linked_role(RoleName=slr["RoleName"])["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"


def test_oidc_and_saml_providers(iam, name):
    host = f"{name('oidc')}.example.com"
    arn = iam.create_open_id_connect_provider(Url=f"https://{host}", ClientIDList=["sts.amazonaws.com"],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == host and got["ClientIDList"] == ["sts.amazonaws.com"]
    assert {"Arn": arn} in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    metadata = "<EntityDescriptor>" + "x" * 1200 + "</EntityDescriptor>"
    saml = iam.create_saml_provider(SAMLMetadataDocument=metadata, Name=name("idp"))["SAMLProviderArn"]
    assert iam.get_saml_provider(SAMLProviderArn=saml)["SAMLMetadataDocument"] == metadata
    iam.delete_saml_provider(SAMLProviderArn=saml)


def test_account_password_policy(iam):
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireSymbols=True, MaxPasswordAge=90)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12 and policy["RequireSymbols"] is True
    assert policy["ExpirePasswords"] is True and policy["MaxPasswordAge"] == 90
    iam.delete_account_password_policy()
    with pytest.raises(ClientError) as exc:
        iam.get_account_password_policy()
    assert error(exc) == ("NoSuchEntity", f"The Password Policy with domain name {ACCOUNT} cannot be found.", 404)
