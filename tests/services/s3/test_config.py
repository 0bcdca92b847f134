"""Bucket and object configuration: tagging, ACLs/ownership, PAB, policy, CORS, encryption,
website, lifecycle, object lock — stored, validated, and enforced where AWS enforces it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError
from s3_helpers import error_of, new_bucket


def test_bucket_and_object_tagging(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_tagging(Bucket=bucket)
    assert error_of(exc) == ("NoSuchTagSet", "The TagSet does not exist", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "env", "Value": "test"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "env", "Value": "test"}]
    s3.delete_bucket_tagging(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_tagging(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", Tagging="a=1&b=two%20words")
    assert s3.head_object(Bucket=bucket, Key="o")["TagCount"] == 2
    assert s3.get_object_tagging(Bucket=bucket, Key="o")["TagSet"] == [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "two words"}]
    s3.put_object_tagging(Bucket=bucket, Key="o", Tagging={"TagSet": [{"Key": "c", "Value": "3"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="o")["TagSet"] == [{"Key": "c", "Value": "3"}]
    with pytest.raises(ClientError) as exc:
        s3.put_object_tagging(Bucket=bucket, Key="o", Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]})
    assert error_of(exc) == ("BadRequest", "Object tags cannot be greater than 10", 400)
    with pytest.raises(ClientError) as exc:
        s3.put_object_tagging(Bucket=bucket, Key="o", Tagging={"TagSet": [{"Key": "k", "Value": "v" * 257}]})
    assert error_of(exc) == ("InvalidTag", "The TagValue you have provided is invalid", 400)
    s3.delete_object_tagging(Bucket=bucket, Key="o")
    assert s3.get_object_tagging(Bucket=bucket, Key="o")["TagSet"] == []


def test_acl_and_ownership_controls(s3: Any, bucket: str) -> None:
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Grants"] == [{"Grantee": {"Type": "CanonicalUser", "ID": acl["Owner"]["ID"]}, "Permission": "FULL_CONTROL"}]
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert error_of(exc) == ("AccessControlListNotSupported", "The bucket does not allow ACLs", 400)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=bucket, Key="o", Body=b"x", ACL="public-read")
    assert error_of(exc)[0] == "AccessControlListNotSupported"
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
            "Permission": "READ"} in grants
    s3.put_object_acl(Bucket=bucket, Key="o", ACL="authenticated-read")
    object_grants = s3.get_object_acl(Bucket=bucket, Key="o")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("AuthenticatedUsers") for g in object_grants)
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_ownership_controls(Bucket=bucket)
    assert error_of(exc) == ("OwnershipControlsNotFoundError", "The bucket ownership controls were not found", 404)


def test_public_access_block_enforced(s3: Any, bucket: str) -> None:
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                   "RestrictPublicBuckets": True}
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert error_of(exc) == ("AccessDenied", "Access Denied", 403)
    public_policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket=bucket, Policy=public_policy)
    assert error_of(exc)[0:3:2] == ("AccessDenied", 403)
    s3.delete_public_access_block(Bucket=bucket)
    with pytest.raises(ClientError) as exc:
        s3.get_public_access_block(Bucket=bucket)
    assert error_of(exc) == ("NoSuchPublicAccessBlockConfiguration",
                             "The public access block configuration was not found", 404)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_policy)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True


def test_bucket_policy_validation(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_policy(Bucket=bucket)
    assert error_of(exc) == ("NoSuchBucketPolicy", "The bucket policy does not exist", 404)
    cases = [
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ("{bad", "This policy contains invalid Json"),
        ("{}", "Missing required field Statement"),
        (json.dumps({"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}),
         "Invalid effect: Maybe"),
        (json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                    "Resource": "arn:aws:s3:::other-bucket/*"}]}), "Policy has invalid resource"),
    ]
    for policy, message in cases:
        with pytest.raises(ClientError) as exc:
            s3.put_bucket_policy(Bucket=bucket, Policy=policy)
        assert error_of(exc) == ("MalformedPolicy", message, 400)
    good = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": ["s3:GetObject"],
        "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=good)
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == good
    s3.delete_bucket_policy(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_policy(Bucket=bucket)


def test_cors_configuration(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(exc) == ("NoSuchCORSConfiguration", "The CORS configuration does not exist", 404)
    rules = [{"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://*.example.com"],
              "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]})
    assert error_of(exc) == ("InvalidRequest",
                             "Found unsupported HTTP method in CORS config. Unsupported method is PATCH", 400)
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_cors(Bucket=bucket)


def test_default_encryption_applied(s3: Any, bucket: str) -> None:
    default = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert default["Rules"][0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/mine"},
        "BucketKeyEnabled": True}]})
    put = s3.put_object(Bucket=bucket, Key="enc", Body=b"x")
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == "alias/mine"
    assert put["BucketKeyEnabled"] is True
    s3.delete_bucket_encryption(Bucket=bucket)
    assert s3.put_object(Bucket=bucket, Key="enc2", Body=b"x")["ServerSideEncryption"] == "AES256"


def test_website_configuration(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_website(Bucket=bucket)
    assert error_of(exc) == ("NoSuchWebsiteConfiguration",
                             "The specified bucket does not have a website configuration", 404)
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
    site = s3.get_bucket_website(Bucket=bucket)
    assert site["IndexDocument"] == {"Suffix": "index.html"} and site["ErrorDocument"] == {"Key": "error.html"}
    s3.delete_bucket_website(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_website(Bucket=bucket)


def test_lifecycle_configuration_and_expiration_header(s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert error_of(exc) == ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist", 404)
    rules = [{"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 3}},
             {"ID": "uploads", "Status": "Enabled", "Filter": {},
              "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == rules
    put = s3.put_object(Bucket=bucket, Key="logs/today", Body=b"x")
    assert put["Expiration"].startswith('expiry-date="') and put["Expiration"].endswith('rule-id="logs"')
    assert "00:00:00 GMT" in put["Expiration"]
    assert s3.head_object(Bucket=bucket, Key="logs/today")["Expiration"] == put["Expiration"]
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="other", Body=b"x")
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "bad", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 0}}]})
    assert error_of(exc) == ("InvalidArgument", "'Days' for Expiration action must be a positive integer", 400)
    s3.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(ClientError):
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)


def test_object_lock(s3: Any) -> None:
    plain = new_bucket(s3)
    with pytest.raises(ClientError) as exc:
        s3.get_object_lock_configuration(Bucket=plain)
    assert error_of(exc) == ("ObjectLockConfigurationNotFoundError",
                             "Object Lock configuration does not exist for this bucket", 404)
    locked = new_bucket(s3, ObjectLockEnabledForBucket=True)
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Suspended"})
    assert error_of(exc)[0:3:2] == ("InvalidBucketState", 409)
    until = datetime.now(timezone.utc) + timedelta(days=1)
    gov = s3.put_object(Bucket=locked, Key="gov", Body=b"g", ObjectLockMode="GOVERNANCE",
                        ObjectLockRetainUntilDate=until)["VersionId"]
    comp = s3.put_object(Bucket=locked, Key="comp", Body=b"c", ObjectLockMode="COMPLIANCE",
                         ObjectLockRetainUntilDate=until)["VersionId"]
    retention = s3.get_object_retention(Bucket=locked, Key="gov")["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    assert abs((retention["RetainUntilDate"] - until).total_seconds()) < 1
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=locked, Key="gov", VersionId=gov)
    assert error_of(exc) == ("AccessDenied", "Access Denied because object protected by object lock.", 403)
    s3.delete_object(Bucket=locked, Key="gov", VersionId=gov, BypassGovernanceRetention=True)
    with pytest.raises(ClientError) as exc:
        s3.delete_object(Bucket=locked, Key="comp", VersionId=comp, BypassGovernanceRetention=True)
    assert error_of(exc)[0] == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        s3.put_object_retention(Bucket=locked, Key="comp", VersionId=comp, Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": until})
    assert error_of(exc)[0:3:2] == ("AccessDenied", 403)
    # a delete without version id only adds a marker: allowed
    assert s3.delete_object(Bucket=locked, Key="comp")["DeleteMarker"] is True
    held = s3.put_object(Bucket=locked, Key="held", Body=b"h", ObjectLockLegalHoldStatus="ON")["VersionId"]
    assert s3.get_object_legal_hold(Bucket=locked, Key="held")["LegalHold"] == {"Status": "ON"}
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=locked, Key="held", VersionId=held, BypassGovernanceRetention=True)
    s3.put_object_legal_hold(Bucket=locked, Key="held", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked, Key="held", VersionId=held)
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    s3.put_object(Bucket=locked, Key="default", Body=b"d")
    assert s3.head_object(Bucket=locked, Key="default")["ObjectLockMode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket=plain, Key="x", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    assert error_of(exc) == ("InvalidRequest", "Bucket is missing Object Lock Configuration", 400)
