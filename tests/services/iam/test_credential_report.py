"""The credential report (through boto3, and expiry in-process with a moved clock), tags of instance
profiles and OIDC/SAML providers, and the smaller account operations that used to answer 501."""

from __future__ import annotations

import csv
import datetime
import io
import json
import time

import pytest
from botocore.exceptions import ClientError

from awsemu.services.base import CallContext
from awsemu.services.iam import common
from awsemu.services.iam import totp
from awsemu.services.iam.credential_report import COLUMNS
from awsemu.services.iam.provider import IamProvider
from awsemu.testing.provider import InProcessProvider

ACCOUNT = "000000000000"
HEADER = ("user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
          "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
          "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
          "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,"
          "access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated")


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    e = exc.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def iso(value: datetime.datetime) -> str:
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def test_credential_report(client, name):
    # A fresh account (a 12-digit access key is that account's root in the default auth mode).
    account = f"{900000000000 + int(time.time() * 1000) % 99999999999:012d}"
    iam = client("iam", aws_access_key_id=account, aws_secret_access_key="secret")
    with pytest.raises(ClientError) as exc:
        iam.get_credential_report()
    assert error(exc) == ("ReportNotPresent",
                          "Credential report not present. Use GenerateCredentialReport to generate a report.", 410)

    plain, busy = name("plain"), name("busy")
    created_plain = iam.create_user(UserName=plain)["User"]["CreateDate"]
    created_busy = iam.create_user(UserName=busy)["User"]["CreateDate"]
    iam.update_account_password_policy(MaxPasswordAge=90)
    profile = iam.create_login_profile(UserName=busy, Password="Secret-Passw0rd!")["LoginProfile"]
    key1 = iam.create_access_key(UserName=busy)["AccessKey"]
    key2 = iam.create_access_key(UserName=busy)["AccessKey"]
    iam.update_access_key(UserName=busy, AccessKeyId=key2["AccessKeyId"], Status="Inactive")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name("report-dev"))["VirtualMFADevice"]
    seed, step = device["Base32StringSeed"].decode(), totp.step_at()
    iam.enable_mfa_device(UserName=busy, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp.code_at(seed, step - 1), AuthenticationCode2=totp.code_at(seed, step))

    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    started = iam.generate_credential_report()
    assert (started["State"], started["Description"]) == ("STARTED", "No report exists. Starting a new report generation task")
    completed = iam.generate_credential_report()
    assert completed["State"] == "COMPLETE" and "Description" not in completed
    report = iam.get_credential_report()
    assert report["ReportFormat"] == "text/csv"
    assert before <= report["GeneratedTime"] <= before + datetime.timedelta(seconds=5)
    text = report["Content"].decode()
    assert text.splitlines()[0] == HEADER and tuple(HEADER.split(",")) == COLUMNS
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["user"] for r in rows] == ["<root_account>", busy, plain]  # root first, then users by name
    na2 = ["N/A"] * 3
    assert rows[0] == dict(zip(COLUMNS, [
        "<root_account>", f"arn:aws:iam::{account}:root", iso(created_plain), "not_supported", "no_information",
        "not_supported", "not_supported", "false", "false", "N/A", *na2, "false", "N/A", *na2,
        "false", "N/A", "false", "N/A"]))
    assert rows[2] == dict(zip(COLUMNS, [
        plain, f"arn:aws:iam::{account}:user/{plain}", iso(created_plain), "false", "N/A", "N/A", "N/A", "false",
        "false", "N/A", *na2, "false", "N/A", *na2, "false", "N/A", "false", "N/A"]))
    changed = profile["CreateDate"]
    assert rows[1] == dict(zip(COLUMNS, [
        busy, f"arn:aws:iam::{account}:user/{busy}", iso(created_busy), "true", "no_information", iso(changed),
        iso(changed + datetime.timedelta(days=90)), "true",
        "true", iso(key1["CreateDate"]), *na2, "false", iso(key2["CreateDate"]), *na2,
        "false", "N/A", "false", "N/A"]))


def test_credential_report_expires(tmp_path, monkeypatch):
    harness = InProcessProvider(IamProvider, tmp_path, service="iam")
    try:
        provider = harness.provider
        assert provider is not None
        ctx = CallContext("iam", "", account_id="123456789012")
        clock = [time.time()]
        monkeypatch.setattr(common, "now", lambda: clock[0])
        assert provider.generate_credential_report(ctx)["State"] == "STARTED"
        clock[0] += 4 * 3600 - 1
        assert provider.get_credential_report(ctx)["GeneratedTime"] == clock[0] - (4 * 3600 - 1)
        assert provider.generate_credential_report(ctx)["State"] == "COMPLETE"
        clock[0] += 1
        with pytest.raises(Exception) as exc:
            provider.get_credential_report(ctx)
        assert (exc.value.code, exc.value.status, exc.value.message) == (  # type: ignore[attr-defined]
            "ReportExpired", 410, "The credential report has expired. Use GenerateCredentialReport to generate a new report.")
        assert provider.generate_credential_report(ctx)["State"] == "STARTED"  # older than 4 h: a new one
        assert provider.get_credential_report(ctx)["GeneratedTime"] == clock[0]
        harness.restart()  # kept in the LSM engine like every IAM entity
        assert harness.provider.get_credential_report(ctx)["GeneratedTime"] == clock[0]  # type: ignore[union-attr]
    finally:
        harness.close()


SAML_METADATA = "<EntityDescriptor xmlns='urn:oasis:names:tc:SAML:2.0:metadata'>" + "x" * 1200 + "</EntityDescriptor>"


def test_resource_tags(iam, name):
    profile = name("prof")
    iam.create_instance_profile(InstanceProfileName=profile)
    oidc = iam.create_open_id_connect_provider(Url=f"https://{name('idp')}.example.com", ClientIDList=["a", "b"],
                                               ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]
    saml = iam.create_saml_provider(SAMLMetadataDocument=SAML_METADATA, Name=name("saml"))["SAMLProviderArn"]
    for tag, untag, list_tags, key in (
        (iam.tag_instance_profile, iam.untag_instance_profile, iam.list_instance_profile_tags,
         {"InstanceProfileName": profile}),
        (iam.tag_open_id_connect_provider, iam.untag_open_id_connect_provider, iam.list_open_id_connect_provider_tags,
         {"OpenIDConnectProviderArn": oidc}),
        (iam.tag_saml_provider, iam.untag_saml_provider, iam.list_saml_provider_tags, {"SAMLProviderArn": saml}),
    ):
        tag(**key, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
        tag(**key, Tags=[{"Key": "B", "Value": "3"}])  # keys are case-insensitive: replaces b
        untag(**key, TagKeys=["a"])
        listed = list_tags(**key)
        assert (listed["Tags"], listed["IsTruncated"]) == ([{"Key": "B", "Value": "3"}], False)
    assert iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]["Tags"] == [{"Key": "B", "Value": "3"}]
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc)["Tags"] == [{"Key": "B", "Value": "3"}]
    with pytest.raises(ClientError) as exc:
        iam.list_instance_profile_tags(InstanceProfileName=name("none"))
    assert error(exc) == ("NoSuchEntity", f"Instance Profile {name('none')} cannot be found.", 404)
    missing = f"arn:aws:iam::{ACCOUNT}:saml-provider/{name('none')}"
    with pytest.raises(ClientError) as exc:
        iam.tag_saml_provider(SAMLProviderArn=missing, Tags=[{"Key": "k", "Value": "v"}])
    assert error(exc) == ("NoSuchEntity", f"SAMLProvider {missing} not found", 404)

    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=oidc, ClientID="a")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=oidc)["ClientIDList"] == ["b"]
    updated = SAML_METADATA.replace("x", "y")
    assert iam.update_saml_provider(SAMLProviderArn=saml, SAMLMetadataDocument=updated)["SAMLProviderArn"] == saml
    assert iam.get_saml_provider(SAMLProviderArn=saml)["SAMLMetadataDocument"] == updated
    with pytest.raises(ClientError) as exc:
        iam.update_saml_provider(SAMLProviderArn=missing, SAMLMetadataDocument=updated)
    assert error(exc) == ("NoSuchEntity", f"SAMLProvider {missing} not found", 404)


def test_context_keys_and_account_settings(iam, name):
    user, group = name("ctx"), name("ctx-group")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {**statement, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}))
    iam.put_group_policy(GroupName=group, PolicyName="g", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {**statement, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}))
    extra = json.dumps({"Version": "2012-10-17", "Statement": [
        {**statement, "Condition": {"StringEquals": {"s3:prefix": "home/"}}}]})
    keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/{user}",
                                                     PolicyInputList=[extra])["ContextKeyNames"]
    assert sorted(k.lower() for k in keys) == ["aws:multifactorauthpresent", "aws:sourceip", "s3:prefix"]
    group_keys = iam.get_context_keys_for_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:group/{group}")
    assert [k.lower() for k in group_keys["ContextKeyNames"]] == ["aws:sourceip"]
    with pytest.raises(ClientError) as exc:
        iam.get_context_keys_for_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/{name('nobody')}")
    assert error(exc) == ("NoSuchEntity", f"The user with name {name('nobody')} cannot be found.", 404)

    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["GlobalEndpointTokenVersion"] == 2
    assert summary["MFADevicesInUse"] <= summary["MFADevices"] and summary["ServerCertificatesQuota"] == 20
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v1Token")
    assert iam.get_account_summary()["SummaryMap"]["GlobalEndpointTokenVersion"] == 1


def test_policies_granting_service_access_and_last_accessed(iam, name):
    user, group, role = name("advisor"), name("advisor-group"), name("advisor-role")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="queues", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage", "s3:Get*"], "Resource": "*"},
        {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*"}]}))
    iam.put_group_policy(GroupName=group, PolicyName="tables", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]}))
    managed = iam.create_policy(PolicyName=name("sts-only"), PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=user, PolicyArn=managed)
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/{user}"
    out = iam.list_policies_granting_service_access(Arn=user_arn, ServiceNamespaces=["sqs", "dynamodb", "sts", "lambda"])
    assert out["IsTruncated"] is False
    assert out["PoliciesGrantingServiceAccess"] == [
        {"ServiceNamespace": "sqs", "Policies": [{"PolicyName": "queues", "PolicyType": "INLINE", "EntityType": "USER",
                                                  "EntityName": user}]},
        {"ServiceNamespace": "dynamodb", "Policies": [{"PolicyName": "tables", "PolicyType": "INLINE",
                                                       "EntityType": "GROUP", "EntityName": group}]},
        {"ServiceNamespace": "sts", "Policies": [{"PolicyName": name("sts-only"), "PolicyType": "MANAGED",
                                                  "PolicyArn": managed}]},
        {"ServiceNamespace": "lambda", "Policies": []},
    ]
    with pytest.raises(ClientError) as exc:
        iam.list_policies_granting_service_access(Arn=f"arn:aws:iam::{ACCOUNT}:role/{role}", ServiceNamespaces=["s3"])
    assert error(exc) == ("NoSuchEntity", f"The role with name {role} cannot be found.", 404)

    # The default auth mode records no key use: every service is listed undated.
    job = iam.generate_service_last_accessed_details(Arn=user_arn)["JobId"]
    report = iam.get_service_last_accessed_details(JobId=job)
    assert (report["JobStatus"], report["JobType"], report["IsTruncated"]) == ("COMPLETED", "SERVICE_LEVEL", False)
    assert report["JobCompletionDate"] == report["JobCreationDate"]
    assert report["ServicesLastAccessed"] == [
        {"ServiceName": "Amazon DynamoDB", "ServiceNamespace": "dynamodb", "TotalAuthenticatedEntities": 0},
        {"ServiceName": "Amazon S3", "ServiceNamespace": "s3", "TotalAuthenticatedEntities": 0},
        {"ServiceName": "Amazon SQS", "ServiceNamespace": "sqs", "TotalAuthenticatedEntities": 0},
        {"ServiceName": "AWS Security Token Service", "ServiceNamespace": "sts", "TotalAuthenticatedEntities": 0},
    ]
    group_job = iam.generate_service_last_accessed_details(Arn=f"arn:aws:iam::{ACCOUNT}:group/{group}")["JobId"]
    assert [s["ServiceNamespace"] for s in iam.get_service_last_accessed_details(JobId=group_job)["ServicesLastAccessed"]] == ["dynamodb"]
    entities = iam.get_service_last_accessed_details_with_entities(JobId=group_job, ServiceNamespace="dynamodb")
    user_record = iam.get_user(UserName=user)["User"]
    assert entities["JobStatus"] == "COMPLETED" and entities["IsTruncated"] is False
    assert entities["EntityDetailsList"] == [{
        "EntityInfo": {"Arn": user_arn, "Name": user, "Type": "USER", "Id": user_record["UserId"], "Path": "/"}}]
    with pytest.raises(ClientError) as exc:
        iam.get_service_last_accessed_details(JobId="00000000-0000-0000-0000-000000000000")
    assert error(exc) == ("NoSuchEntity", "No job found with id 00000000-0000-0000-0000-000000000000", 404)


def test_service_last_accessed_dates_key_use(tmp_path):
    """Where keys are verified (sigv4/iam modes) the auth layer notes each key's last service; the
    report dates that service for the user and for the groups the user is in."""
    harness = InProcessProvider(IamProvider, tmp_path, service="iam")
    try:
        iam = harness.provider
        assert iam is not None
        ctx = CallContext("iam", "", account_id=ACCOUNT)
        iam.create_user(ctx, UserName="erin")
        iam.create_group(ctx, GroupName="readers")
        iam.add_user_to_group(ctx, GroupName="readers", UserName="erin")
        iam.put_group_policy(ctx, GroupName="readers", PolicyName="all", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}))
        key = iam.create_access_key(ctx, UserName="erin")["AccessKey"]["AccessKeyId"]
        iam.note_key_used(key, "s3", "eu-west-1")
        used = iam.get_access_key_last_used(ctx, AccessKeyId=key)["AccessKeyLastUsed"]
        user = iam.get_user(ctx, UserName="erin")["User"]
        job = iam.generate_service_last_accessed_details(ctx, Arn=user["Arn"])["JobId"]
        services = iam.get_service_last_accessed_details(ctx, JobId=job)["ServicesLastAccessed"]
        assert [s["ServiceNamespace"] for s in services] == ["dynamodb", "lambda", "s3", "sqs", "sts"]
        assert services[2] == {"ServiceName": "Amazon S3", "ServiceNamespace": "s3", "TotalAuthenticatedEntities": 1,
                               "LastAuthenticated": used["LastUsedDate"], "LastAuthenticatedEntity": user["Arn"],
                               "LastAuthenticatedRegion": "eu-west-1"}
        group_job = iam.generate_service_last_accessed_details(ctx, Arn=f"arn:aws:iam::{ACCOUNT}:group/readers")["JobId"]
        details = iam.get_service_last_accessed_details_with_entities(ctx, JobId=group_job, ServiceNamespace="s3")
        assert details["EntityDetailsList"] == [{"EntityInfo": {"Arn": user["Arn"], "Name": "erin", "Type": "USER",
                                                                "Id": user["UserId"], "Path": "/"},
                                                 "LastAuthenticated": used["LastUsedDate"]}]
    finally:
        harness.close()


def test_update_open_id_connect_provider(iam, name):
    arn = iam.create_open_id_connect_provider(Url=f"https://{name('tip')}.example.com", ClientIDList=["app"],
                                              ThumbprintList=["1" * 40])["OpenIDConnectProviderArn"]
    context = {"SubjectSourceKey": "sub", "KeyDefinitionList": [{"SourceKey": "email", "TargetKey": "mail"}]}
    instance = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
    iam.update_open_id_connect_provider(OpenIDConnectProviderArn=arn, ContextProvider=context,
                                        IdentityCenterInstanceArn=instance)
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ContextProvider"] == context and got["IdentityCenterInstanceArn"] == instance
    iam.update_open_id_connect_provider(OpenIDConnectProviderArn=arn, RemoveContextProvider=True)
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert "ContextProvider" not in got and got["IdentityCenterInstanceArn"] == instance


def test_organizations_operations_answer_as_a_standalone_account(iam):
    for call in (iam.list_organizations_features, iam.enable_organizations_root_credentials_management,
                 iam.disable_organizations_root_credentials_management, iam.enable_organizations_root_sessions,
                 iam.disable_organizations_root_sessions):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == ("OrganizationNotFoundException",
                              "The request was rejected because no organization is associated with your account.", 400)
