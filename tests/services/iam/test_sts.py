"""STS: AssumeRole (trust policy, session policy, duration limits, external id), GetSessionToken,
GetFederationToken, AssumeRoleWithWebIdentity, temporary credentials that sign and expire."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from botocore.exceptions import ClientError

from awsemu.auth import errors as E
from awsemu.auth.credentials import CredentialStore
from awsemu.auth.sigv4 import AuthFailure, SignatureVerifier
from awsemu.config import Config
from awsemu.services.base import CallContext
from awsemu.services.iam.provider import IamProvider
from awsemu.services.sts.provider import StsProvider
from awsemu.storage import Storage
from awsemu.storage.lsm import DB
from awsemu.testing.plugin import make_client
from awsemu.testing.server import ServerProcess

ACCOUNT = "000000000000"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(principal: Any, **extra: Any) -> str:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra})


def creds_of(c: dict[str, Any]) -> dict[str, str]:
    return {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"]}


def test_assume_role_in_off_mode(client, iam, name):
    role = name("role")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]["Arn"]
    out = client("sts").assume_role(RoleArn=role_arn, RoleSessionName="sess", DurationSeconds=900)
    c = out["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA") and len(c["SecretAccessKey"]) == 40 and c["SessionToken"]
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/sess"
    assert out["AssumedRoleUser"]["AssumedRoleId"].startswith("AROA")
    remaining = c["Expiration"].timestamp() - time.time()
    assert 850 < remaining <= 901
    ident = client("sts", **creds_of(c)).get_caller_identity()
    assert ident["Arn"] == out["AssumedRoleUser"]["Arn"] and ident["UserId"] == out["AssumedRoleUser"]["AssumedRoleId"]
    with pytest.raises(ClientError) as exc:
        client("sts").assume_role(RoleArn=role_arn, RoleSessionName="sess", DurationSeconds=7200)
    assert exc.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as exc:
        client("sts").assume_role(RoleArn=role_arn, RoleSessionName="bad name!")
    assert exc.value.response["Error"]["Code"] == "ValidationError"


def test_session_and_federation_tokens(client, iam, name):
    user = name("fed")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    sts = client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    session = sts.get_session_token(DurationSeconds=900)["Credentials"]
    ident = client("sts", **creds_of(session)).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{user}"
    with pytest.raises(ClientError) as exc:
        client("sts", **creds_of(session)).get_session_token()
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    fed = sts.get_federation_token(Name="bob", Policy=doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    assert fed["FederatedUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
    assert fed["FederatedUser"]["FederatedUserId"] == f"{ACCOUNT}:bob"
    assert client("sts", **creds_of(fed["Credentials"])).get_caller_identity()["Arn"] == fed["FederatedUser"]["Arn"]
    with pytest.raises(ClientError) as exc:
        sts.get_federation_token(Name="bob", DurationSeconds=200000)
    assert exc.value.response["Error"]["Code"] == "ValidationError"


def _jwt(claims: dict[str, Any]) -> str:
    enc = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")  # noqa: E731
    return f"{enc({'alg': 'RS256'})}.{enc(claims)}.sig"


def test_web_identity(client, iam, name):
    role = name("web")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com"},
         "Action": "sts:AssumeRoleWithWebIdentity"}]}))["Role"]["Arn"]
    token = _jwt({"iss": "https://idp.example.com", "sub": "user-1", "aud": "my-app", "exp": time.time() + 600})
    out = client("sts").assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="ws", WebIdentityToken=token)
    assert out["SubjectFromWebIdentityToken"] == "user-1" and out["Audience"] == "my-app"
    assert out["Credentials"]["AccessKeyId"].startswith("ASIA")
    with pytest.raises(ClientError) as exc:
        client("sts").assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="ws", WebIdentityToken="nope")
    assert exc.value.response["Error"]["Code"] == "InvalidIdentityToken"


def test_decode_authorization_message_and_access_key_info(client, iam, name):
    message = base64.b64encode(json.dumps({"allowed": False}).encode()).decode()
    assert json.loads(client("sts").decode_authorization_message(EncodedMessage=message)["DecodedMessage"]) == {"allowed": False}
    with pytest.raises(ClientError) as exc:
        client("sts").decode_authorization_message(EncodedMessage="***")
    assert exc.value.response["Error"]["Code"] == "InvalidAuthorizationMessageException"
    user = name("info")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    assert client("sts").get_access_key_info(AccessKeyId=key)["Account"] == ACCOUNT


# -- iam mode: trust policies, session policies -------------------------------------------------------

@pytest.fixture(scope="module")
def iam_mode() -> Iterator[ServerProcess]:
    with ServerProcess(env={"AWSEMU_SERVICES": "iam,sts", "AWSEMU_AUTH": "iam"}) as server:
        yield server


def test_trust_policy_and_session_policy_in_iam_mode(iam_mode):
    admin = make_client(iam_mode.endpoint, "iam")
    admin.create_user(UserName="alice")
    admin.create_user(UserName="mallory")
    for user in ("alice", "mallory"):
        admin.put_user_policy(UserName=user, PolicyName="assume", PolicyDocument=doc(
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}))
    keys = {u: admin.create_access_key(UserName=u)["AccessKey"] for u in ("alice", "mallory")}
    role_arn = admin.create_role(RoleName="Reader", AssumeRolePolicyDocument=trust(
        {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}, Condition={"StringEquals": {"sts:ExternalId": "xyz"}}))["Role"]["Arn"]
    admin.put_role_policy(RoleName="Reader", PolicyName="iam-read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["iam:List*", "iam:Get*"], "Resource": "*"}))

    def sts_for(user: str) -> Any:
        return make_client(iam_mode.endpoint, "sts", aws_access_key_id=keys[user]["AccessKeyId"],
                           aws_secret_access_key=keys[user]["SecretAccessKey"])

    with pytest.raises(ClientError) as exc:
        sts_for("mallory").assume_role(RoleArn=role_arn, RoleSessionName="mm", ExternalId="xyz")
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        sts_for("alice").assume_role(RoleArn=role_arn, RoleSessionName="aa")  # external id missing
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    session = sts_for("alice").assume_role(
        RoleArn=role_arn, RoleSessionName="aa", ExternalId="xyz",
        Policy=doc({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": "*"}))["Credentials"]
    as_role = make_client(iam_mode.endpoint, "iam", **creds_of(session))
    assert {u["UserName"] for u in as_role.list_users()["Users"]} >= {"alice", "mallory"}
    with pytest.raises(ClientError) as exc:
        as_role.list_roles()  # the role allows it, the session policy does not
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    assert "assumed-role/Reader/aa is not authorized to perform: iam:ListRoles" in exc.value.response["Error"]["Message"]
    # A tampered session token is rejected.
    forged = {**creds_of(session), "aws_session_token": session["SessionToken"][:-4] + "AAAA"}
    with pytest.raises(ClientError) as exc:
        make_client(iam_mode.endpoint, "iam", **forged).list_users()
    assert exc.value.response["Error"]["Code"] == "InvalidClientTokenId"


# -- expiry, checked beneath the server (STS's minimum duration is 15 minutes) ------------------------

def test_temporary_credentials_expire(tmp_path: Path):
    db = DB.open(tmp_path / "meta")
    try:
        storage = Storage(tmp_path, db)
        iam = IamProvider(storage, Config(data_dir=tmp_path))
        sts = StsProvider(storage, Config(data_dir=tmp_path))
        ctx = CallContext("sts", "AssumeRole", principal_arn=f"arn:aws:iam::{ACCOUNT}:root", user_id=ACCOUNT)
        iam.create_role(ctx, "R", trust({"AWS": ACCOUNT}))
        creds = sts.assume_role(ctx, f"arn:aws:iam::{ACCOUNT}:role/R", "ss", DurationSeconds=900)["Credentials"]
        record = iam.credential_lookup(creds["AccessKeyId"])
        assert record is not None and record.kind == "assumed-role"
        assert record.expires_at == pytest.approx(creds["Expiration"])
        verifier = SignatureVerifier(CredentialStore(lookup=iam.credential_lookup))
        with pytest.raises(AuthFailure) as exc:
            # Checked before the signature: an expired token fails whatever was signed.
            verifier._record(creds["AccessKeyId"], creds["SessionToken"], creds["Expiration"] + 1)
        assert exc.value.kind == E.EXPIRED_TOKEN
        assert E.auth_error("s3", exc.value.kind).code == "ExpiredToken"
        assert E.auth_error("dynamodb", exc.value.kind).code == "ExpiredTokenException"
        assert verifier._record(creds["AccessKeyId"], creds["SessionToken"], creds["Expiration"] - 1) == record
    finally:
        db.close()


def test_saml(client, iam, name):
    saml_arn = f"arn:aws:iam::{ACCOUNT}:saml-provider/corp"
    role_arn = iam.create_role(RoleName=name("saml"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": saml_arn},
                                                "Action": "sts:AssumeRoleWithSAML"}]}))["Role"]["Arn"]
    assertion = ('<saml2p:Response><saml2:Assertion><saml2:Issuer>https://idp.corp</saml2:Issuer><saml2:Subject>'
                 '<saml2:NameID>jane@corp</saml2:NameID></saml2:Subject><saml2:Audience>'
                 'https://signin.aws.amazon.com/saml</saml2:Audience></saml2:Assertion></saml2p:Response>')
    out = client("sts").assume_role_with_saml(RoleArn=role_arn, PrincipalArn=saml_arn,
                                              SAMLAssertion=base64.b64encode(assertion.encode()).decode())
    assert out["Subject"] == "jane@corp" and out["Issuer"] == "https://idp.corp"
    assert out["AssumedRoleUser"]["Arn"].endswith("/jane@corp")
    assert client("sts", **creds_of(out["Credentials"])).get_caller_identity()["Arn"] == out["AssumedRoleUser"]["Arn"]


# -- GetScopedCredentials: scope-down layers on a session ---------------------------------------------

def test_scoped_credentials_fields_and_errors(client, iam, name):
    role = name("scoped")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))["Role"]["Arn"]
    assumed = client("sts").assume_role(RoleArn=role_arn, RoleSessionName="base", DurationSeconds=1800,
                                        SourceIdentity="builder")
    base = client("sts", **creds_of(assumed["Credentials"]))
    out = base.get_scoped_credentials(DurationSeconds=900, ScopedSessionDescription="ci job",
                                      MinimumSessionTokenSize=1200)
    c = out["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA") and c["AccessKeyId"] != assumed["Credentials"]["AccessKeyId"]
    assert 850 < c["Expiration"].timestamp() - time.time() <= 901
    assert out["SessionInfo"] == {"ScopedSessionId": assumed["AssumedRoleUser"]["AssumedRoleId"],
                                  "Arn": assumed["AssumedRoleUser"]["Arn"]}
    assert out["ScopedPoliciesCount"] == 0 and out["SourceIdentity"] == "builder"
    assert out["SessionTokenSize"] == len(c["SessionToken"]) >= 1200
    assert out["SessionTokenUtilization"] == out["SessionTokenSize"] * 100 // 4096
    # Same identity as the calling session.
    assert client("sts", **creds_of(c)).get_caller_identity()["Arn"] == assumed["AssumedRoleUser"]["Arn"]
    # Without DurationSeconds the copy expires with the calling session.
    inherited = base.get_scoped_credentials(Policy=doc({"Effect": "Allow", "Action": "*", "Resource": "*"}))
    assert abs(inherited["Credentials"]["Expiration"].timestamp() - assumed["Credentials"]["Expiration"].timestamp()) < 2
    assert inherited["ScopedPoliciesCount"] == 1

    def error(call: Any, **kwargs: Any) -> dict[str, Any]:
        with pytest.raises(ClientError) as exc:
            call(**kwargs)
        return exc.value.response["Error"]

    e = error(base.get_scoped_credentials, DurationSeconds=7200)
    assert e["Code"] == "InsufficientSessionLifetime" and "remaining lifetime" in e["Message"]
    e = error(base.get_scoped_credentials)
    assert e["Code"] == "ValidationError" and e["Message"] == "A request must provide at least one of Policy or DurationSeconds."
    e = error(base.get_scoped_credentials, Policy="{not json")
    assert e["Code"] == "MalformedPolicyDocument"
    # Long-term keys (root here) can't be scoped: GetSessionToken first.
    e = error(client("sts").get_scoped_credentials, DurationSeconds=900)
    assert e["Code"] == "InvalidSubjectCredentials"


def test_scoped_credentials_narrow_in_iam_mode(iam_mode):
    admin = make_client(iam_mode.endpoint, "iam")
    admin.create_role(RoleName="Scoper", AssumeRolePolicyDocument=trust({"AWS": ACCOUNT}))
    admin.put_role_policy(RoleName="Scoper", PolicyName="iam-read", PolicyDocument=doc(
        {"Effect": "Allow", "Action": ["iam:List*", "iam:Get*", "sts:GetScopedCredentials"], "Resource": "*"}))
    session = make_client(iam_mode.endpoint, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Scoper", RoleSessionName="s1")["Credentials"]
    as_role = make_client(iam_mode.endpoint, "iam", **creds_of(session))
    as_role.list_roles()
    sts_role = make_client(iam_mode.endpoint, "sts", **creds_of(session))
    users_only = sts_role.get_scoped_credentials(Policy=doc(
        {"Effect": "Allow", "Action": ["iam:ListUsers", "sts:GetScopedCredentials"], "Resource": "*"}))
    scoped = make_client(iam_mode.endpoint, "iam", **creds_of(users_only["Credentials"]))
    scoped.list_users()
    with pytest.raises(ClientError) as exc:
        scoped.list_roles()  # the role allows it, the scope-down layer does not
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    assert "assumed-role/Scoper/s1 is not authorized to perform: iam:ListRoles" in exc.value.response["Error"]["Message"]
    # A second layer cannot widen the first: ListRoles stays denied, and ListUsers is now denied too.
    sts_scoped = make_client(iam_mode.endpoint, "sts", **creds_of(users_only["Credentials"]))
    roles_only = sts_scoped.get_scoped_credentials(Policy=doc(
        {"Effect": "Allow", "Action": ["iam:ListRoles", "sts:GetScopedCredentials"], "Resource": "*"}))
    assert roles_only["ScopedPoliciesCount"] == 2
    narrower = make_client(iam_mode.endpoint, "iam", **creds_of(roles_only["Credentials"]))
    for call in (narrower.list_roles, narrower.list_users):
        with pytest.raises(ClientError) as exc:
            call()
        assert exc.value.response["Error"]["Code"] == "AccessDenied"
    # The calling session itself is unchanged.
    as_role.list_roles()
    # At most 3 layers.
    creds = users_only["Credentials"]
    allow_scoping = doc({"Effect": "Allow", "Action": ["iam:ListUsers", "sts:GetScopedCredentials"], "Resource": "*"})
    for count in (2, 3):
        out = make_client(iam_mode.endpoint, "sts", **creds_of(creds)).get_scoped_credentials(Policy=allow_scoping)
        assert out["ScopedPoliciesCount"] == count
        creds = out["Credentials"]
    make_client(iam_mode.endpoint, "iam", **creds_of(creds)).list_users()
    with pytest.raises(ClientError) as exc:
        make_client(iam_mode.endpoint, "sts", **creds_of(creds)).get_scoped_credentials(Policy=allow_scoping)
    assert exc.value.response["Error"]["Code"] == "AccessDenied"
    # A duration-only call adds no layer.
    out = make_client(iam_mode.endpoint, "sts", **creds_of(creds)).get_scoped_credentials(DurationSeconds=600)
    assert out["ScopedPoliciesCount"] == 3
