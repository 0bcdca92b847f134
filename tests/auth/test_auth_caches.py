"""The auth path caches (parsed Authorization heads, signing keys, key records, a principal's
policies, parsed resource policies, statements sifted per action): each change made through the
API must decide the very next request.

Through the front door: a real iam-mode server and boto3 clients. Each test changes one thing (a
user, group, role or managed policy, a permissions boundary, a bucket or queue policy, an access
key) and checks that the next request's answer follows. The pure pieces (HMAC from cached pads,
the Authorization fast path, statements sifted per action) are checked against their plain
definitions below.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from awsemu.auth.sigv4 import AuthFailure, _parse_authorization_full, parse_authorization, sign
from awsemu.services.iam.policy import AuthzRequest, PrincipalInfo, evaluate, parse_policy
from awsemu.services.iam.policy.evaluate import statements_for_action
from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess

A = "000000000000"
B = "111111111111"  # a 12-digit key id is the root of that account (secret "test")


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


GET_OBJECTS = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::cache-bucket/*"}


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    s = ServerProcess(env={"AWSEMU_AUTH": "iam", "AWSEMU_SERVICES": "s3,sqs,iam,sts"})
    try:
        s.start()
        root_s3 = make_client(s.endpoint, "s3")
        root_s3.create_bucket(Bucket="cache-bucket")
        root_s3.put_object(Bucket="cache-bucket", Key="k", Body=b"v")
        yield s
    finally:
        s.close()


def new_user(server: ServerProcess, name: str) -> tuple[Any, Any]:
    """(root IAM client, S3 client signed with a fresh key of the new user)."""
    iam = make_client(server.endpoint, "iam")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    s3 = make_client(server.endpoint, "s3", aws_access_key_id=key["AccessKeyId"],
                     aws_secret_access_key=key["SecretAccessKey"])
    return iam, s3


def error_code(call: Any) -> str | None:
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def can_get(s3: Any) -> bool:
    code = error_code(lambda: s3.get_object(Bucket="cache-bucket", Key="k")["Body"].read())
    assert code in (None, "AccessDenied"), code
    return code is None


# -- identity side ---------------------------------------------------------------------------------

def test_inline_user_policy_changes_decide_the_next_request(server):
    iam, s3 = new_user(server, "inline-user")
    assert not can_get(s3)
    iam.put_user_policy(UserName="inline-user", PolicyName="p", PolicyDocument=doc(GET_OBJECTS))
    assert can_get(s3)
    iam.put_user_policy(UserName="inline-user", PolicyName="p", PolicyDocument=doc(
        {**GET_OBJECTS, "Resource": "arn:aws:s3:::other-bucket/*"}))
    assert not can_get(s3)
    iam.put_user_policy(UserName="inline-user", PolicyName="p", PolicyDocument=doc(GET_OBJECTS))
    assert can_get(s3)
    iam.put_user_policy(UserName="inline-user", PolicyName="deny", PolicyDocument=doc({**GET_OBJECTS, "Effect": "Deny"}))
    assert not can_get(s3)
    iam.delete_user_policy(UserName="inline-user", PolicyName="deny")
    assert can_get(s3)
    iam.delete_user_policy(UserName="inline-user", PolicyName="p")
    assert not can_get(s3)


def test_decisions_that_read_the_request_are_never_reused(server):
    """Same key, action and resource, request keys differing: a decision that read a condition key
    (s3:prefix here, or a policy variable) is made again for every request, never replayed."""
    iam, s3 = new_user(server, "prefix-user")
    iam.put_user_policy(UserName="prefix-user", PolicyName="p", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::cache-bucket",
         "Condition": {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}}))

    def listing(prefix: str) -> str | None:
        return error_code(lambda: s3.list_objects_v2(Bucket="cache-bucket", Prefix=prefix))

    for _ in range(3):
        assert listing("prefix-user/a") is None
        assert listing("someone-else/a") == "AccessDenied"
    # a decision on action and resource alone is reused only until the policy objects change
    iam.put_user_policy(UserName="prefix-user", PolicyName="p", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::cache-bucket"}))
    for _ in range(3):
        assert listing("someone-else/a") is None
    iam.put_user_policy(UserName="prefix-user", PolicyName="deny", PolicyDocument=doc(
        {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::cache-bucket",
         "Condition": {"StringLike": {"s3:prefix": ["secret/*"]}}}))
    assert listing("someone-else/a") is None
    assert listing("secret/a") == "AccessDenied"
    assert listing("someone-else/a") is None


def test_group_membership_and_group_policy_changes(server):
    iam, s3 = new_user(server, "group-user")
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="p", PolicyDocument=doc(GET_OBJECTS))
    assert not can_get(s3)
    iam.add_user_to_group(GroupName="readers", UserName="group-user")
    assert can_get(s3)
    iam.delete_group_policy(GroupName="readers", PolicyName="p")
    assert not can_get(s3)
    iam.put_group_policy(GroupName="readers", PolicyName="p", PolicyDocument=doc(GET_OBJECTS))
    assert can_get(s3)
    iam.remove_user_from_group(GroupName="readers", UserName="group-user")
    assert not can_get(s3)


def test_managed_policy_attach_new_default_version_and_detach(server):
    iam, s3 = new_user(server, "managed-user")
    arn = iam.create_policy(PolicyName="cache-read", PolicyDocument=doc(GET_OBJECTS))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="managed-user", PolicyArn=arn)
    assert can_get(s3)
    iam.create_policy_version(PolicyArn=arn, SetAsDefault=True, PolicyDocument=doc(
        {**GET_OBJECTS, "Action": "s3:PutObject"}))
    assert not can_get(s3)
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")
    assert can_get(s3)
    iam.detach_user_policy(UserName="managed-user", PolicyArn=arn)
    assert not can_get(s3)


def test_permissions_boundary_put_and_delete(server):
    iam, s3 = new_user(server, "bounded-user")
    iam.put_user_policy(UserName="bounded-user", PolicyName="p", PolicyDocument=doc(GET_OBJECTS))
    boundary = iam.create_policy(PolicyName="only-sqs", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}))["Policy"]["Arn"]
    assert can_get(s3)
    iam.put_user_permissions_boundary(UserName="bounded-user", PermissionsBoundary=boundary)
    assert not can_get(s3)
    iam.delete_user_permissions_boundary(UserName="bounded-user")
    assert can_get(s3)


def test_role_policy_changes_reach_existing_sessions(server):
    iam = make_client(server.endpoint, "iam")
    iam.create_role(RoleName="CacheRole", AssumeRolePolicyDocument=doc(
        {"Effect": "Allow", "Principal": {"AWS": A}, "Action": "sts:AssumeRole"}))
    creds = make_client(server.endpoint, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{A}:role/CacheRole", RoleSessionName="cache-session")["Credentials"]
    s3 = make_client(server.endpoint, "s3", aws_access_key_id=creds["AccessKeyId"],
                     aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    assert not can_get(s3)
    iam.attach_role_policy(RoleName="CacheRole", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert can_get(s3)
    iam.detach_role_policy(RoleName="CacheRole", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    assert not can_get(s3)
    iam.put_role_policy(RoleName="CacheRole", PolicyName="p", PolicyDocument=doc(GET_OBJECTS))
    assert can_get(s3)
    iam.delete_role_policy(RoleName="CacheRole", PolicyName="p")
    assert not can_get(s3)


# -- resource side ---------------------------------------------------------------------------------

def test_bucket_policy_put_and_delete(server):
    iam, s3 = new_user(server, "bucket-policy-user")
    iam.put_user_policy(UserName="bucket-policy-user", PolicyName="p", PolicyDocument=doc(GET_OBJECTS))
    root_s3 = make_client(server.endpoint, "s3")
    assert can_get(s3)
    root_s3.put_bucket_policy(Bucket="cache-bucket", Policy=doc(
        {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{A}:user/bucket-policy-user"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::cache-bucket/*"}))
    assert not can_get(s3)
    root_s3.delete_bucket_policy(Bucket="cache-bucket")
    assert can_get(s3)

    other = make_client(server.endpoint, "s3", aws_access_key_id=B, aws_secret_access_key="test")
    assert not can_get(other)
    root_s3.put_bucket_policy(Bucket="cache-bucket", Policy=doc(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::cache-bucket/*"}))
    assert can_get(other)
    root_s3.delete_bucket_policy(Bucket="cache-bucket")
    assert not can_get(other)


def test_queue_policy_set_and_cleared(server):
    url = make_client(server.endpoint, "sqs").create_queue(QueueName="cache-queue")["QueueUrl"]
    root_sqs = make_client(server.endpoint, "sqs")
    other = make_client(server.endpoint, "sqs", aws_access_key_id=B, aws_secret_access_key="test")

    def can_send() -> bool:
        code = error_code(lambda: other.send_message(QueueUrl=url, MessageBody="m"))
        assert code in (None, "AccessDenied", "AccessDeniedException"), code
        return code is None

    assert not can_send()
    root_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": doc(
        {"Effect": "Allow", "Principal": {"AWS": B}, "Action": "sqs:SendMessage",
         "Resource": f"arn:aws:sqs:us-east-1:{A}:cache-queue"})})
    assert can_send()
    root_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert not can_send()


def test_reused_queue_verdicts_follow_the_queue_policy(server):
    """An IAM user's repeated SendMessage (verdicts reused per request shape) against a queue
    policy that comes, changes and goes: each request follows the policy of its moment."""
    iam, _ = new_user(server, "queue-user")
    key = iam.create_access_key(UserName="queue-user")["AccessKey"]
    sqs = make_client(server.endpoint, "sqs", aws_access_key_id=key["AccessKeyId"],
                      aws_secret_access_key=key["SecretAccessKey"])
    root_sqs = make_client(server.endpoint, "sqs")
    url = root_sqs.create_queue(QueueName="memo-queue")["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{A}:memo-queue"
    iam.put_user_policy(UserName="queue-user", PolicyName="p", PolicyDocument=doc(
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arn}))

    def sends() -> list[bool]:
        codes = [error_code(lambda: sqs.send_message(QueueUrl=url, MessageBody="m")) for _ in range(3)]
        assert set(codes) <= {None, "AccessDenied", "AccessDeniedException"}, codes
        return [code is None for code in codes]

    assert sends() == [True] * 3
    deny = {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{A}:user/queue-user"}, "Action": "sqs:SendMessage",
            "Resource": arn}
    root_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": doc(deny)})
    assert sends() == [False] * 3
    root_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": doc({**deny, "Action": "sqs:ReceiveMessage"})})
    assert sends() == [True] * 3
    root_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": doc(deny)})
    assert sends() == [False] * 3
    root_sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert sends() == [True] * 3


# -- access keys -----------------------------------------------------------------------------------

def test_deactivated_rotated_and_deleted_keys_are_rejected_at_once(server):
    iam, s3 = new_user(server, "key-user")
    iam.put_user_policy(UserName="key-user", PolicyName="p", PolicyDocument=doc(GET_OBJECTS))
    old_key = s3._request_signer._credentials.access_key
    assert can_get(s3)
    iam.update_access_key(UserName="key-user", AccessKeyId=old_key, Status="Inactive")
    assert error_code(lambda: s3.get_object(Bucket="cache-bucket", Key="k")) == "InvalidAccessKeyId"
    iam.update_access_key(UserName="key-user", AccessKeyId=old_key, Status="Active")
    assert can_get(s3)
    # Rotation: a second key works, and once the first is deleted only the second does.
    new = iam.create_access_key(UserName="key-user")["AccessKey"]
    s3_new = make_client(server.endpoint, "s3", aws_access_key_id=new["AccessKeyId"],
                         aws_secret_access_key=new["SecretAccessKey"])
    assert can_get(s3_new)
    iam.delete_access_key(UserName="key-user", AccessKeyId=old_key)
    assert error_code(lambda: s3.get_object(Bucket="cache-bucket", Key="k")) == "InvalidAccessKeyId"
    assert can_get(s3_new)


def test_a_signature_is_checked_on_every_request(server):
    """The cached Authorization head and signing key never stand in for the signature itself."""
    import urllib3
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest("GET", f"{server.endpoint}/cache-bucket/k")
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
    headers = dict(req.headers.items())
    http = urllib3.PoolManager()
    assert http.request("GET", req.url, headers=headers).status == 200
    signature = headers["Authorization"][-64:]
    flipped = ("0" if signature[-1] != "0" else "1")
    headers["Authorization"] = headers["Authorization"][:-1] + flipped
    response = http.request("GET", req.url, headers=headers)
    assert response.status == 403 and b"SignatureDoesNotMatch" in response.data
    headers["Authorization"] = headers["Authorization"][:-1] + signature[-1]
    assert http.request("GET", req.url, headers=headers).status == 200
    # Same credential and signed headers, another date: the head is reused, the signature is not.
    date = headers["X-Amz-Date"]  # yyyymmddThhmmssZ: move the seconds' last digit
    headers["X-Amz-Date"] = date[:-2] + ("1" if date[-2] != "1" else "2") + "Z"
    response = http.request("GET", req.url, headers=headers)
    assert response.status == 403 and b"SignatureDoesNotMatch" in response.data


# -- the pure pieces -------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(key=st.binary(min_size=0, max_size=100), text=st.text(max_size=300))
def test_sign_is_hmac_sha256(key, text):
    assert sign(key, text) == hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("header", [
    "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, "
    "Signature=" + "ab" * 32,
    "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + "0" * 64,
    # Signature first: the fast path does not apply, the full parser reads it.
    "AWS4-HMAC-SHA256 Signature=" + "1" * 64 + ", Credential=AKID/20261127/eu-west-1/sqs/aws4_request, SignedHeaders=host",
    # "Signature=" inside another field (no comma before it): the full parser's reading stands.
    "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=zz Signature="
    + "2" * 64,
    # A non-hex signature: parsed as given, never matches.
    "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=nothex",
])
def test_authorization_fast_path_agrees_with_the_full_parser(header):
    fast, full = parse_authorization(header), _parse_authorization_full(header)
    assert (fast.access_key_id, fast.date, fast.region, fast.service, fast.signed_headers, fast.signature, fast.scope) == (
        full.access_key_id, full.date, full.region, full.service, full.signed_headers, full.signature, full.scope)


@pytest.mark.parametrize("header", [
    "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + "a" * 64,
    "AWS4-HMAC-SHA256 Credential=AKID/20261127/us-east-1/s3, SignedHeaders=host, Signature=" + "a" * 64,
    "AWS4-HMAC-SHA1 Credential=AKID/20261127/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + "a" * 64,
])
def test_malformed_headers_fail_alike_on_both_paths(header):
    with pytest.raises(AuthFailure) as fast:
        parse_authorization(header)
    with pytest.raises(AuthFailure) as full:
        _parse_authorization_full(header)
    assert (fast.value.kind, fast.value.detail) == (full.value.kind, full.value.detail)


def test_statements_sifted_per_action_follow_the_policy_object():
    policy = parse_policy(doc({"Sid": "get", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"},
                              {"Sid": "notput", "Effect": "Allow", "NotAction": "s3:Put*", "Resource": "*"},
                              {"Sid": "any", "Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::x"}))
    assert [s.sid for s in statements_for_action(policy, "s3:GetObject")] == ["get", "notput", "any"]
    assert [s.sid for s in statements_for_action(policy, "S3:PUTOBJECT")] == ["any"]
    assert [s.sid for s in statements_for_action(policy, "sqs:SendMessage")] == ["notput", "any"]
    # Another policy object (a changed document) is sifted afresh, never served from the first.
    changed = parse_policy(doc({"Sid": "put", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}))
    assert [s.sid for s in statements_for_action(changed, "s3:GetObject")] == []
    user = PrincipalInfo(f"arn:aws:iam::{A}:user/u", A, "user")
    request = AuthzRequest("s3:GetObject", "arn:aws:s3:::y/k", user)
    assert evaluate(request, identity_policies=[policy]).allowed
    assert not evaluate(request, identity_policies=[changed]).allowed


_ARN_PIECES = ["arn:aws:s3:::b", "arn:aws:s3:::b/", "arn:aws:s3:::b/k", "arn:aws:sqs:us-east-1:111122223333:q",
               "arn:aws:s3:::", "arn:aws:sqs:*:*:", "arn:aws:s3:::b/a?", "arn:aws:s3:::${aws:username}/"]


@settings(max_examples=300, deadline=None)
@given(patterns=st.lists(st.builds(lambda base, star: base + star, st.sampled_from(_ARN_PIECES),
                                   st.sampled_from(["", "*", "x*", "*/k"])), min_size=1, max_size=3),
       resource=st.sampled_from(["arn:aws:s3:::b", "arn:aws:s3:::b/k", "arn:aws:s3:::b/kx", "arn:aws:s3:::bb/k",
                                 "arn:aws:sqs:us-east-1:111122223333:q", "arn:aws:s3:::b/a1x",
                                 "arn:aws:s3:::${aws:username}/k", "arn:aws:s3:::b/*"]),
       substitute=st.booleans())
def test_resource_matchers_agree_with_the_regex(patterns, resource, substitute):
    from awsemu.services.iam.policy.matchers import resources_matcher, resources_regex

    regex = resources_regex(tuple(patterns), substitute)
    matcher = resources_matcher(tuple(patterns), substitute)
    assert (matcher is None) == (regex is None)
    if regex is not None:
        assert matcher(resource) == (regex.fullmatch(resource) is not None)


def test_request_context_reports_mfa_of_temporary_credentials():
    import time as _time

    from awsemu.auth.enforcement import DeferredContext, request_context
    from awsemu.services.iam.key_record import KeyRecord

    def record(**extra: Any) -> KeyRecord:
        return KeyRecord("ASIAEXAMPLE", "secret", A, f"arn:aws:iam::{A}:user/u", "AIDA", kind="session",
                         session_token="token", extra={"issued_at": _time.time(), **extra})

    with_mfa = request_context(record(mfa_authenticated_at=_time.time() - 30), "10.0.0.1", True, "us-east-1", {}, None)
    assert with_mfa["aws:MultiFactorAuthPresent"] == "true" and 29 <= int(with_mfa["aws:MultiFactorAuthAge"]) <= 60
    without = request_context(record(mfa_authenticated_at=None), "10.0.0.1", True, "us-east-1", {}, None)
    assert without["aws:MultiFactorAuthPresent"] == "false" and "aws:MultiFactorAuthAge" not in without
    long_term = KeyRecord("AKIAEXAMPLE", "secret", A, f"arn:aws:iam::{A}:user/u", "AIDA", kind="user")
    assert "aws:MultiFactorAuthPresent" not in request_context(long_term, "10.0.0.1", True, "us-east-1", {}, None)
    # The deferred view is the same mapping, built when first read.
    deferred = DeferredContext(long_term, "10.0.0.1", False, "eu-west-1", {"s3:prefix": "p/"}, None)
    assert dict(deferred) == request_context(long_term, "10.0.0.1", False, "eu-west-1", {"s3:prefix": "p/"}, None) | {
        "aws:CurrentTime": deferred["aws:CurrentTime"], "aws:EpochTime": deferred["aws:EpochTime"]}
    assert deferred["s3:prefix"] == "p/" and deferred["aws:SecureTransport"] == "false"


def test_last_used_bookkeeping_keeps_the_auth_caches(tmp_path):
    """Noting a key's last use (once a minute per key and service) writes the key record but is no
    change anything in the auth path derives from: the key record, the policy set and with them
    the reused verdicts stay; an IAM change to the same key still replaces them."""
    from awsemu.services.base import CallContext
    from awsemu.services.iam.provider import IamProvider
    from awsemu.testing.provider import InProcessProvider

    harness = InProcessProvider(IamProvider, tmp_path, service="iam")
    try:
        iam = harness.provider
        assert iam is not None
        ctx = CallContext("iam", "", account_id=A)
        iam.create_user(ctx, UserName="u")
        key = iam.create_access_key(ctx, UserName="u")["AccessKey"]["AccessKeyId"]
        record = iam.credential_lookup(key)
        assert record is not None
        policies = iam.policies_for(record)
        generation = iam.store.generation
        iam.note_key_used(key, "s3", "eu-west-1")
        used = iam.get_access_key_last_used(ctx, AccessKeyId=key)["AccessKeyLastUsed"]
        assert (used["ServiceName"], used["Region"]) == ("s3", "eu-west-1")
        assert iam.store.generation == generation
        assert iam.credential_lookup(key) is record and iam.policies_for(record) is policies
        iam.update_access_key(ctx, AccessKeyId=key, Status="Inactive", UserName="u")
        assert iam.store.generation != generation
        changed = iam.credential_lookup(key)
        assert changed is not None and changed is not record and not changed.active
        # The last-use note survived the status change (both are fields of the one key record).
        assert iam.get_access_key_last_used(ctx, AccessKeyId=key)["AccessKeyLastUsed"]["ServiceName"] == "s3"
    finally:
        harness.close()
