"""MFA devices through boto3: virtual devices (seed, TOTP enable/resync), hardware serials, listing
and tags, and STS GetSessionToken/AssumeRole with SerialNumber/TokenCode."""

from __future__ import annotations

import base64
import datetime
import io
import json
import time

import pytest
import segno
from botocore.exceptions import ClientError

from awsemu.services.iam import totp
from awsemu.services.iam.provider import IamProvider
from awsemu.services.base import CallContext
from awsemu.services.sts.provider import StsProvider
from awsemu.testing.plugin import make_client
from awsemu.testing.provider import InProcessProvider
from awsemu.testing.server import ServerProcess

ACCOUNT = "000000000000"


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    e = exc.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def codes(seed: str, first_step: int) -> tuple[str, str]:
    return totp.code_at(seed, first_step), totp.code_at(seed, first_step + 1)


def test_totp_matches_rfc6238_vectors():
    # RFC 6238 appendix B, SHA-1 seed "12345678901234567890"; the 6-digit codes are the last six
    # digits of the published 8-digit values.
    seed = base64.b32encode(b"12345678901234567890").decode()
    for t, expected in ((59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
                        (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130")):
        assert totp.code_at(seed, t // 30) == expected[-6:]
    assert totp.find_pair(seed, *codes(seed, 100), center=103, window=3) == 100
    assert totp.find_pair(seed, *codes(seed, 100), center=104, window=3) is None
    assert totp.find_code(seed, totp.code_at(seed, 50), center=51, after=None) == 50
    assert totp.find_code(seed, totp.code_at(seed, 50), center=51, after=50) is None


def test_virtual_device_lifecycle(iam, name):
    user, device_name = name("mfa-user"), name("phone")
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=device_name, Path="/team/",
                                            Tags=[{"Key": "owner", "Value": "ops"}])["VirtualMFADevice"]
    serial = f"arn:aws:iam::{ACCOUNT}:mfa/team/{device_name}"
    seed = created["Base32StringSeed"].decode("ascii")
    assert set(created) == {"SerialNumber", "Base32StringSeed", "QRCodePNG", "Tags"}
    png = created["QRCodePNG"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # The QR code carries the otpauth URI AWS documents: device name @ account (the caller is root).
    expected = io.BytesIO()
    segno.make(f"otpauth://totp/{device_name}@{ACCOUNT}?secret={seed}", error="m", micro=False).save(
        expected, kind="png", scale=4, border=4)
    assert png == expected.getvalue()
    assert created["SerialNumber"] == serial
    assert len(seed) == 64 and len(base64.b32decode(seed)) == 40
    assert created["Tags"] == [{"Key": "owner", "Value": "ops"}]
    with pytest.raises(ClientError) as exc:
        iam.create_virtual_mfa_device(VirtualMFADeviceName=device_name, Path="/team/")
    assert error(exc) == ("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.", 409)

    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert {"SerialNumber": serial} in unassigned
    iam.create_user(UserName=user)
    step = totp.step_at()
    with pytest.raises(ClientError) as exc:  # two codes, but not consecutive
        iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=totp.code_at(seed, step),
                              AuthenticationCode2=totp.code_at(seed, step + 2))
    assert error(exc) == ("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    c1, c2 = codes(seed, step - 1)
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=c1, AuthenticationCode2=c2)
    with pytest.raises(ClientError) as exc:
        iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1=c1, AuthenticationCode2=c2)
    assert error(exc) == ("EntityAlreadyExists", "MFA Device is already in use.", 409)

    listed = iam.list_mfa_devices(UserName=user)
    assert listed["IsTruncated"] is False and len(listed["MFADevices"]) == 1
    entry = listed["MFADevices"][0]
    assert entry["UserName"] == user and entry["SerialNumber"] == serial
    assert before <= entry["EnableDate"] <= before + datetime.timedelta(seconds=5)
    got = iam.get_mfa_device(SerialNumber=serial, UserName=user)
    assert (got["UserName"], got["SerialNumber"], got["EnableDate"]) == (user, serial, entry["EnableDate"])
    assert "Certifications" not in got
    assigned = [d for d in iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
                if d["SerialNumber"] == serial]
    assert len(assigned) == 1 and assigned[0]["EnableDate"] == entry["EnableDate"]
    assert assigned[0]["User"]["UserName"] == user and assigned[0]["User"]["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{user}"
    assert "Base32StringSeed" not in assigned[0]
    assert serial not in [d["SerialNumber"] for d in iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]]
    assert serial in [d["SerialNumber"] for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"]]

    with pytest.raises(ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error(exc) == ("DeleteConflict", "MFA device is still in use.", 409)
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=user)
    assert error(exc) == ("DeleteConflict", "Cannot delete entity, must delete MFA device first.", 409)

    # A rename carries the device along.
    iam.update_user(UserName=user, NewUserName=user + "-r")
    assert iam.list_mfa_devices(UserName=user + "-r")["MFADevices"][0]["SerialNumber"] == serial
    assert iam.get_mfa_device(SerialNumber=serial, UserName=user + "-r")["UserName"] == user + "-r"

    # Resync: codes from a device clock 20 minutes fast.
    r1, r2 = codes(seed, totp.step_at() + 40)
    iam.resync_mfa_device(UserName=user + "-r", SerialNumber=serial, AuthenticationCode1=r1, AuthenticationCode2=r2)
    with pytest.raises(ClientError) as exc:
        iam.resync_mfa_device(UserName=user + "-r", SerialNumber=serial, AuthenticationCode1="000000",
                              AuthenticationCode2="000000")
    assert error(exc) == ("InvalidAuthenticationCode", "Authentication code for device is not valid.", 403)

    iam.deactivate_mfa_device(UserName=user + "-r", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=user + "-r")["MFADevices"] == []
    with pytest.raises(ClientError) as exc:
        iam.get_mfa_device(SerialNumber=serial, UserName=user + "-r")
    assert error(exc) == ("NoSuchEntity", f"MFA Device with serial number {serial} does not exist.", 404)
    with pytest.raises(ClientError) as exc:
        iam.deactivate_mfa_device(UserName=user + "-r", SerialNumber=serial)
    assert error(exc) == ("NoSuchEntity", f"MFA Device with serial number {serial} does not exist.", 404)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    with pytest.raises(ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error(exc) == ("NoSuchEntity", f"VirtualMFADevice with serial number {serial} doesn't exist.", 404)
    iam.delete_user(UserName=user + "-r")


def test_device_tags_and_errors(iam, name):
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name("tagged"))["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert "Tags" not in device and serial == f"arn:aws:iam::{ACCOUNT}:mfa/{name('tagged')}"
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "b", "Value": "2"}, {"Key": "a", "Value": "1"}])
    listed = iam.list_mfa_device_tags(SerialNumber=serial)
    listed.pop("ResponseMetadata")
    assert listed == {"Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}], "IsTruncated": False}
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["a"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "b", "Value": "2"}]
    missing = f"arn:aws:iam::{ACCOUNT}:mfa/{name('missing')}"
    for call in (lambda: iam.list_mfa_device_tags(SerialNumber=missing),
                 lambda: iam.tag_mfa_device(SerialNumber=missing, Tags=[{"Key": "k", "Value": "v"}])):
        with pytest.raises(ClientError) as exc:
            call()
        assert error(exc) == ("NoSuchEntity", f"VirtualMFADevice with serial number {missing} doesn't exist.", 404)
    with pytest.raises(ClientError) as exc:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="bad/name")
    assert error(exc) == ("ValidationError", "1 validation error detected: Value 'bad/name' at 'virtualMFADeviceName' "
                          "failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", 400)
    iam.create_user(UserName=name("nodev"))
    with pytest.raises(ClientError) as exc:
        iam.enable_mfa_device(UserName=name("nodev"), SerialNumber=missing, AuthenticationCode1="123456",
                              AuthenticationCode2="654321")
    assert error(exc) == ("NoSuchEntity", f"VirtualMFADevice with serial number {missing} doesn't exist.", 404)
    with pytest.raises(ClientError) as exc:
        iam.enable_mfa_device(UserName=name("ghost"), SerialNumber=serial, AuthenticationCode1="123456",
                              AuthenticationCode2="654321")
    assert error(exc) == ("NoSuchEntity", f"The user with name {name('ghost')} cannot be found.", 404)
    with pytest.raises(ClientError) as exc:
        iam.enable_mfa_device(UserName=name("nodev"), SerialNumber=serial, AuthenticationCode1="12345a",
                              AuthenticationCode2="654321")
    assert error(exc)[0] == "ValidationError"
    iam.delete_virtual_mfa_device(SerialNumber=serial)


def test_hardware_device_and_quota(iam, name):
    user = name("hw")
    iam.create_user(UserName=user)
    with pytest.raises(ClientError) as exc:  # the same code twice is never two consecutive codes
        iam.enable_mfa_device(UserName=user, SerialNumber=f"GAHT{name('serialx')}", AuthenticationCode1="111111",
                              AuthenticationCode2="111111")
    assert error(exc)[0] == "InvalidAuthenticationCode"
    serials = [f"GAHT{name('serial')}{i}" for i in range(8)]
    for serial in serials:
        iam.enable_mfa_device(UserName=user, SerialNumber=serial, AuthenticationCode1="123456",
                              AuthenticationCode2="234567")
    with pytest.raises(ClientError) as exc:
        iam.enable_mfa_device(UserName=user, SerialNumber=f"GAHT{name('serial')}9", AuthenticationCode1="123456",
                              AuthenticationCode2="234567")
    assert error(exc) == ("LimitExceeded", "Cannot exceed quota for MFADevicesPerUser: 8", 409)
    page1 = iam.list_mfa_devices(UserName=user, MaxItems=5)
    assert page1["IsTruncated"] is True and len(page1["MFADevices"]) == 5
    page2 = iam.list_mfa_devices(UserName=user, Marker=page1["Marker"])
    assert page2["IsTruncated"] is False
    assert [d["SerialNumber"] for d in page1["MFADevices"] + page2["MFADevices"]] == sorted(serials)
    for serial in serials:
        iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []
    # A hardware device has no record once deactivated; virtual devices are never listed with it.
    assert not [d for d in iam.list_virtual_mfa_devices()["VirtualMFADevices"] if d["SerialNumber"] in serials]


def _user_with_device(iam, client, name):
    user = name("mfa-sts")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name("sts-dev"))["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    step = totp.step_at()
    iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"], AuthenticationCode1=totp.code_at(seed, step - 1),
                          AuthenticationCode2=totp.code_at(seed, step))
    sts = client("sts", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    return user, sts, device["SerialNumber"], seed, step


def test_get_session_token_checks_the_code(iam, client, name):
    user, sts, serial, seed, step = _user_with_device(iam, client, name)
    with pytest.raises(ClientError) as exc:  # the step used to enable is spent
        sts.get_session_token(SerialNumber=serial, TokenCode=totp.code_at(seed, step))
    assert error(exc) == ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ", 403)
    wrong = str((int(totp.code_at(seed, step + 1)) + 1) % 1000000).zfill(6)
    with pytest.raises(ClientError) as exc:
        sts.get_session_token(SerialNumber=serial, TokenCode=wrong)
    assert error(exc)[:2] == ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ")
    other = f"arn:aws:iam::{ACCOUNT}:mfa/{name('not-mine')}"
    with pytest.raises(ClientError) as exc:
        sts.get_session_token(SerialNumber=other, TokenCode=totp.code_at(seed, step + 1))
    assert error(exc) == ("AccessDenied", "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify "
                          "your MFA serial number is valid and associated with this user.", 403)
    credentials = sts.get_session_token(SerialNumber=serial, TokenCode=totp.code_at(seed, step + 1),
                                        DurationSeconds=900)["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA")
    assert 850 < credentials["Expiration"].timestamp() - time.time() <= 901
    with pytest.raises(ClientError) as exc:  # a code is good once
        sts.get_session_token(SerialNumber=serial, TokenCode=totp.code_at(seed, step + 1))
    assert error(exc)[0] == "AccessDenied"
    with pytest.raises(ClientError) as exc:
        sts.get_session_token(SerialNumber=serial)
    assert error(exc)[0] == "ValidationError"
    session = client("sts", aws_access_key_id=credentials["AccessKeyId"],
                     aws_secret_access_key=credentials["SecretAccessKey"], aws_session_token=credentials["SessionToken"])
    assert session.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/{user}"


def test_mfa_session_reaches_the_auth_layer(tmp_path):
    """The session made with MFA carries its MFA time to the auth layer's key record (the auth layer
    turns it into aws:MultiFactorAuthPresent/aws:MultiFactorAuthAge); one made without does not."""
    iam = InProcessProvider(IamProvider, tmp_path, service="iam")
    try:
        provider = iam.provider
        assert provider is not None
        admin = CallContext("iam", "", account_id=ACCOUNT)
        provider.create_user(admin, UserName="carol")
        device = provider.create_virtual_mfa_device(admin, VirtualMFADeviceName="carol-phone")["VirtualMFADevice"]
        seed, step = device["Base32StringSeed"].decode(), totp.step_at()
        provider.enable_mfa_device(admin, UserName="carol", SerialNumber=device["SerialNumber"],
                                   AuthenticationCode1=totp.code_at(seed, step - 1), AuthenticationCode2=totp.code_at(seed, step))
        sts = StsProvider(provider.storage, provider.config)
        carol = CallContext("sts", "", account_id=ACCOUNT, principal_arn=f"arn:aws:iam::{ACCOUNT}:user/carol",
                            user_id="AIDAEXAMPLE", access_key_id="AKIAEXAMPLE")
        before = time.time()
        with_mfa = sts.get_session_token(carol, SerialNumber=device["SerialNumber"],
                                         TokenCode=totp.code_at(seed, step + 1))["Credentials"]
        without = sts.get_session_token(carol)["Credentials"]
        record = provider.credential_lookup(with_mfa["AccessKeyId"])
        assert record is not None and before <= record.extra["mfa_authenticated_at"] <= time.time()
        plain = provider.credential_lookup(without["AccessKeyId"])
        assert plain is not None and plain.extra["mfa_authenticated_at"] is None
    finally:
        iam.close()


def test_assume_role_with_mfa(iam, client, name):
    user, sts, serial, seed, step = _user_with_device(iam, client, name)
    role_arn = iam.create_role(RoleName=name("mfa-role"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole",
                                                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}))["Role"]["Arn"]
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="mfa-session", SerialNumber=serial, TokenCode="000000"
                        if totp.code_at(seed, step + 1) != "000000" else "111111")
    assert error(exc)[:2] == ("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ")
    out = sts.assume_role(RoleArn=role_arn, RoleSessionName="mfa-session", SerialNumber=serial, TokenCode=totp.code_at(seed, step + 1))
    assert out["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{name('mfa-role')}/mfa-session")


def test_trust_policy_sees_mfa_in_iam_mode():
    """A role whose trust policy demands MFA: AssumeRole needs a good TokenCode, or credentials
    from an MFA GetSessionToken (the session keeps its MFA time)."""
    server = ServerProcess(env={"AWSEMU_SERVICES": "iam,sts", "AWSEMU_AUTH": "iam"})
    try:
        server.start()
        admin = make_client(server.endpoint, "iam")
        admin.create_user(UserName="dana")
        admin.put_user_policy(UserName="dana", PolicyName="assume", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}))
        key = admin.create_access_key(UserName="dana")["AccessKey"]
        device = admin.create_virtual_mfa_device(VirtualMFADeviceName="dana-phone")["VirtualMFADevice"]
        seed, step = device["Base32StringSeed"].decode(), totp.step_at()
        admin.enable_mfa_device(UserName="dana", SerialNumber=device["SerialNumber"],
                                AuthenticationCode1=totp.code_at(seed, step - 1), AuthenticationCode2=totp.code_at(seed, step))
        role_arn = admin.create_role(RoleName="NeedsMfa", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/dana"}, "Action": "sts:AssumeRole",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}))["Role"]["Arn"]
        sts = make_client(server.endpoint, "sts", aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])
        with pytest.raises(ClientError) as exc:
            sts.assume_role(RoleArn=role_arn, RoleSessionName="no-mfa")
        assert error(exc) == ("AccessDenied", f"User: arn:aws:iam::{ACCOUNT}:user/dana is not authorized to perform: "
                              f"sts:AssumeRole on resource: {role_arn}", 403)
        sts.assume_role(RoleArn=role_arn, RoleSessionName="with-mfa", SerialNumber=device["SerialNumber"],
                        TokenCode=totp.code_at(seed, step + 1))
        plain = sts.get_session_token()["Credentials"]
        plain_sts = make_client(server.endpoint, "sts", aws_access_key_id=plain["AccessKeyId"],
                                aws_secret_access_key=plain["SecretAccessKey"], aws_session_token=plain["SessionToken"])
        with pytest.raises(ClientError) as exc:
            plain_sts.assume_role(RoleArn=role_arn, RoleSessionName="plain-session")
        assert error(exc)[0] == "AccessDenied"
        # Every code in the window is spent on the first device: a second device makes the session.
        second = admin.create_virtual_mfa_device(VirtualMFADeviceName="dana-tablet")["VirtualMFADevice"]
        seed2, step = second["Base32StringSeed"].decode(), totp.step_at()
        admin.enable_mfa_device(UserName="dana", SerialNumber=second["SerialNumber"],
                                AuthenticationCode1=totp.code_at(seed2, step - 1), AuthenticationCode2=totp.code_at(seed2, step))
        mfa = sts.get_session_token(SerialNumber=second["SerialNumber"], TokenCode=totp.code_at(seed2, step + 1))["Credentials"]
        mfa_sts = make_client(server.endpoint, "sts", aws_access_key_id=mfa["AccessKeyId"],
                              aws_secret_access_key=mfa["SecretAccessKey"], aws_session_token=mfa["SessionToken"])
        out = mfa_sts.assume_role(RoleArn=role_arn, RoleSessionName="mfa-session")
        assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/NeedsMfa/mfa-session"
    finally:
        server.close()
