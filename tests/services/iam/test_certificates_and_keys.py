"""Server certificates, signing certificates, SSH public keys and service-specific credentials
through boto3. Certificates and keys are made per session with ``cryptography`` (present in the
development environment; the server parses with it too, see awsemu/services/iam/pem.py)."""

from __future__ import annotations

import base64
import datetime
import hashlib
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.iam import pem
from awsemu.services.iam.provider import IamProvider
from awsemu.testing.provider import InProcessProvider

ACCOUNT = "000000000000"
NOT_AFTER = datetime.datetime(2036, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    e = exc.value.response
    return e["Error"]["Code"], e["Error"]["Message"], e["ResponseMetadata"]["HTTPStatusCode"]


def make_cert(common_name: str) -> tuple[str, str]:
    """A self-signed certificate (EC P-256, valid until NOT_AFTER) and its private key, in PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)).not_valid_after(NOT_AFTER)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


@pytest.fixture(scope="module")
def certs() -> Callable[[int], tuple[str, str]]:
    made: dict[int, tuple[str, str]] = {}

    def get(i: int) -> tuple[str, str]:
        if i not in made:
            made[i] = make_cert(f"cert-{i}.example.com")
        return made[i]

    return get


@pytest.fixture(scope="module")
def rsa_keys() -> list[rsa.RSAPrivateKey]:
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(6)]


def openssh(key: rsa.RSAPrivateKey, comment: str = "") -> str:
    text = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return f"{text} {comment}".strip()


def md5_fingerprint(openssh_text: str) -> str:
    digest = hashlib.md5(base64.b64decode(openssh_text.split()[1])).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


# -- server certificates ---------------------------------------------------------------------------
def test_server_certificate_lifecycle(iam, name, certs):
    cert_name = name("web")
    body, key = certs(1)
    chain, _ = certs(2)
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    out = iam.upload_server_certificate(ServerCertificateName=cert_name, Path="/cloudfront/", CertificateBody=body,
                                        PrivateKey=key, CertificateChain=chain, Tags=[{"Key": "env", "Value": "prod"}])
    meta = out["ServerCertificateMetadata"]
    assert set(meta) == {"Path", "ServerCertificateName", "ServerCertificateId", "Arn", "UploadDate", "Expiration"}
    assert meta["Path"] == "/cloudfront/" and meta["ServerCertificateName"] == cert_name
    assert meta["ServerCertificateId"].startswith("ASCA") and len(meta["ServerCertificateId"]) == 21
    assert meta["Arn"] == f"arn:aws:iam::{ACCOUNT}:server-certificate/cloudfront/{cert_name}"
    assert before <= meta["UploadDate"] <= before + datetime.timedelta(seconds=5)
    assert meta["Expiration"] == NOT_AFTER
    assert out["Tags"] == [{"Key": "env", "Value": "prod"}]

    got = iam.get_server_certificate(ServerCertificateName=cert_name)["ServerCertificate"]
    assert set(got) == {"ServerCertificateMetadata", "CertificateBody", "CertificateChain", "Tags"}
    assert got["ServerCertificateMetadata"] == meta
    assert got["CertificateBody"] == body and got["CertificateChain"] == chain
    assert got["Tags"] == [{"Key": "env", "Value": "prod"}]
    listed = iam.list_server_certificates(PathPrefix="/cloudfront/")
    assert meta in listed["ServerCertificateMetadataList"] and listed["IsTruncated"] is False
    assert meta not in iam.list_server_certificates(PathPrefix="/elb/")["ServerCertificateMetadataList"]

    with pytest.raises(ClientError) as exc:
        iam.upload_server_certificate(ServerCertificateName=cert_name, CertificateBody=body, PrivateKey=key)
    assert error(exc) == ("EntityAlreadyExists", f"The Server Certificate with name {cert_name} already exists.", 409)

    iam.tag_server_certificate(ServerCertificateName=cert_name, Tags=[{"Key": "team", "Value": "edge"}])
    iam.untag_server_certificate(ServerCertificateName=cert_name, TagKeys=["env"])
    tags = iam.list_server_certificate_tags(ServerCertificateName=cert_name)
    assert tags["Tags"] == [{"Key": "team", "Value": "edge"}] and tags["IsTruncated"] is False

    iam.update_server_certificate(ServerCertificateName=cert_name, NewServerCertificateName=cert_name + "-2",
                                  NewPath="/elb/")
    moved = iam.get_server_certificate(ServerCertificateName=cert_name + "-2")["ServerCertificate"]
    assert moved["ServerCertificateMetadata"] == {**meta, "ServerCertificateName": cert_name + "-2", "Path": "/elb/",
                                                  "Arn": f"arn:aws:iam::{ACCOUNT}:server-certificate/elb/{cert_name}-2"}
    with pytest.raises(ClientError) as exc:
        iam.get_server_certificate(ServerCertificateName=cert_name)
    assert error(exc) == ("NoSuchEntity", f"The Server Certificate with name {cert_name} cannot be found.", 404)
    iam.delete_server_certificate(ServerCertificateName=cert_name + "-2")
    with pytest.raises(ClientError) as exc:
        iam.delete_server_certificate(ServerCertificateName=cert_name + "-2")
    assert error(exc) == ("NoSuchEntity", f"The Server Certificate with name {cert_name}-2 cannot be found.", 404)


def test_server_certificate_validation(iam, name, certs):
    body, key = certs(1)
    other_body, other_key = certs(2)
    cases = [
        ({"CertificateBody": "not a certificate", "PrivateKey": key}, "MalformedCertificate",
         "Unable to parse certificate. Please ensure the certificate is in PEM format."),
        ({"CertificateBody": body.replace("MII", "MIJ", 1), "PrivateKey": key}, "MalformedCertificate",
         "Unable to parse certificate. Please ensure the certificate is in PEM format."),
        ({"CertificateBody": body, "PrivateKey": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"},
         "MalformedCertificate", "Unable to parse private key. Please ensure the private key is in PEM format."),
        ({"CertificateBody": body, "PrivateKey": key, "CertificateChain": "garbage"}, "MalformedCertificate",
         "Unable to parse certificate chain. Please ensure the chain is in PEM format."),
        ({"CertificateBody": body, "PrivateKey": other_key}, "KeyPairMismatch",
         "Unable to validate certificate and private key: the private key does not match the certificate's public key."),
    ]
    for kwargs, code, message in cases:
        with pytest.raises(ClientError) as exc:
            iam.upload_server_certificate(ServerCertificateName=name("bad"), **kwargs)
        assert error(exc) == (code, message, 400)
    with pytest.raises(ClientError) as exc:
        iam.get_server_certificate(ServerCertificateName=name("bad"))
    assert error(exc)[0] == "NoSuchEntity"
    assert other_body != body


# -- signing certificates --------------------------------------------------------------------------
def test_signing_certificates(iam, name, certs):
    user = name("signer")
    iam.create_user(UserName=user)
    body1, _ = certs(3)
    body2, _ = certs(4)
    body3, _ = certs(5)
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    first = iam.upload_signing_certificate(UserName=user, CertificateBody=body1)["Certificate"]
    assert set(first) == {"UserName", "CertificateId", "CertificateBody", "Status", "UploadDate"}
    assert first["UserName"] == user and first["CertificateBody"] == body1 and first["Status"] == "Active"
    assert len(first["CertificateId"]) == 32 and first["CertificateId"].isalnum()
    assert before <= first["UploadDate"] <= before + datetime.timedelta(seconds=5)
    with pytest.raises(ClientError) as exc:  # the same certificate, even for another user
        other = name("signer2")
        iam.create_user(UserName=other)
        iam.upload_signing_certificate(UserName=other, CertificateBody=body1)
    assert error(exc) == ("DuplicateCertificate",
                          "The same certificate is already associated with an IAM user in the account.", 409)
    second = iam.upload_signing_certificate(UserName=user, CertificateBody=body2)["Certificate"]
    with pytest.raises(ClientError) as exc:
        iam.upload_signing_certificate(UserName=user, CertificateBody=body3)
    assert error(exc) == ("LimitExceeded", "Cannot exceed quota for SigningCertificatesPerUser: 2", 409)
    with pytest.raises(ClientError) as exc:
        iam.upload_signing_certificate(UserName=user, CertificateBody="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
    assert error(exc) == ("MalformedCertificate", "Unable to parse certificate. Please ensure the certificate is in PEM format.", 400)

    listed = iam.list_signing_certificates(UserName=user)
    assert listed["Certificates"] == [first, second] and listed["IsTruncated"] is False
    iam.update_signing_certificate(UserName=user, CertificateId=first["CertificateId"], Status="Inactive")
    assert iam.list_signing_certificates(UserName=user)["Certificates"][0] == {**first, "Status": "Inactive"}
    with pytest.raises(ClientError) as exc:
        iam.update_signing_certificate(UserName=user, CertificateId="NOPE" * 8, Status="Active")
    assert error(exc) == ("NoSuchEntity", f"The Signing Certificate with id {'NOPE' * 8} cannot be found.", 404)
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=user)
    assert error(exc) == ("DeleteConflict", "Cannot delete entity, must delete signing certificates first.", 409)
    for cert in (first, second):
        iam.delete_signing_certificate(UserName=user, CertificateId=cert["CertificateId"])
    assert iam.list_signing_certificates(UserName=user)["Certificates"] == []
    with pytest.raises(ClientError) as exc:
        iam.delete_signing_certificate(UserName=user, CertificateId=first["CertificateId"])
    assert error(exc)[0] == "NoSuchEntity"
    with pytest.raises(ClientError) as exc:
        iam.list_signing_certificates(UserName=name("nobody"))
    assert error(exc) == ("NoSuchEntity", f"The user with name {name('nobody')} cannot be found.", 404)
    iam.delete_user(UserName=user)


# -- SSH public keys -------------------------------------------------------------------------------
def test_ssh_public_keys(iam, name, rsa_keys):
    user = name("git")
    iam.create_user(UserName=user)
    body = openssh(rsa_keys[0], "me@laptop")
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    uploaded = iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=body)["SSHPublicKey"]
    assert set(uploaded) == {"UserName", "SSHPublicKeyId", "Fingerprint", "SSHPublicKeyBody", "Status", "UploadDate"}
    assert uploaded["UserName"] == user and uploaded["Status"] == "Active"
    assert uploaded["SSHPublicKeyId"].startswith("APKA") and len(uploaded["SSHPublicKeyId"]) == 20
    assert uploaded["Fingerprint"] == md5_fingerprint(body)
    assert uploaded["SSHPublicKeyBody"] == openssh(rsa_keys[0])
    assert before <= uploaded["UploadDate"] <= before + datetime.timedelta(seconds=5)

    got = iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=uploaded["SSHPublicKeyId"], Encoding="SSH")["SSHPublicKey"]
    assert got == uploaded
    as_pem = iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=uploaded["SSHPublicKeyId"], Encoding="PEM")["SSHPublicKey"]
    expected_pem = rsa_keys[0].public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert as_pem == {**uploaded, "SSHPublicKeyBody": expected_pem}

    with pytest.raises(ClientError) as exc:
        iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=openssh(rsa_keys[0], "other comment"))
    assert error(exc) == ("DuplicateSSHPublicKey", "The SSH public key is already associated with the specified IAM user.", 400)
    # A PEM upload is the same key: a duplicate too.
    with pytest.raises(ClientError) as exc:
        iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=expected_pem)
    assert error(exc)[0] == "DuplicateSSHPublicKey"
    for bad, code, message in (
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl", "UnrecognizedPublicKeyEncoding",
         "The public key encoding format is unsupported or unrecognized."),
        ("just text", "UnrecognizedPublicKeyEncoding", "The public key encoding format is unsupported or unrecognized."),
        ("ssh-rsa !!!notbase64", "InvalidPublicKey", "The public key is malformed or otherwise invalid."),
        (openssh(rsa.generate_private_key(public_exponent=65537, key_size=1024)), "InvalidPublicKey",
         "The public key is malformed or otherwise invalid."),
    ):
        with pytest.raises(ClientError) as exc:
            iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=bad)
        assert error(exc) == (code, message, 400)

    from_pem = iam.upload_ssh_public_key(
        UserName=user, SSHPublicKeyBody=rsa_keys[1].public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())["SSHPublicKey"]
    assert from_pem["SSHPublicKeyBody"] == openssh(rsa_keys[1])
    assert from_pem["Fingerprint"] == md5_fingerprint(openssh(rsa_keys[1]))
    ids = [uploaded["SSHPublicKeyId"], from_pem["SSHPublicKeyId"]]
    for key in rsa_keys[2:5]:
        ids.append(iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=openssh(key))["SSHPublicKey"]["SSHPublicKeyId"])
    with pytest.raises(ClientError) as exc:
        iam.upload_ssh_public_key(UserName=user, SSHPublicKeyBody=openssh(rsa_keys[5]))
    assert error(exc) == ("LimitExceeded", "Cannot exceed quota for SSHPublicKeysPerUser: 5", 409)

    listed = iam.list_ssh_public_keys(UserName=user, MaxItems=3)
    assert listed["IsTruncated"] is True
    rest = iam.list_ssh_public_keys(UserName=user, Marker=listed["Marker"])
    entries = listed["SSHPublicKeys"] + rest["SSHPublicKeys"]
    assert [e["SSHPublicKeyId"] for e in entries] == ids
    assert all(set(e) == {"UserName", "SSHPublicKeyId", "Status", "UploadDate"} and e["UserName"] == user
               and e["Status"] == "Active" for e in entries)
    iam.update_ssh_public_key(UserName=user, SSHPublicKeyId=ids[0], Status="Inactive")
    assert iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=ids[0], Encoding="SSH")["SSHPublicKey"]["Status"] == "Inactive"
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=user)
    assert error(exc) == ("DeleteConflict", "Cannot delete entity, must delete SSH public keys first.", 409)
    for key_id in ids:
        iam.delete_ssh_public_key(UserName=user, SSHPublicKeyId=key_id)
    with pytest.raises(ClientError) as exc:
        iam.get_ssh_public_key(UserName=user, SSHPublicKeyId=ids[0], Encoding="SSH")
    assert error(exc) == ("NoSuchEntity", f"The Public Key with id {ids[0]} cannot be found.", 404)
    iam.delete_user(UserName=user)


# -- service-specific credentials ------------------------------------------------------------------
def test_service_specific_credentials(iam, name):
    user = name("svc")
    iam.create_user(UserName=user)
    out = iam.create_service_specific_credential(UserName=user, ServiceName="codecommit.amazonaws.com")
    cred: dict[str, Any] = out["ServiceSpecificCredential"]
    assert set(cred) == {"CreateDate", "ServiceName", "ServiceUserName", "ServicePassword",
                         "ServiceSpecificCredentialId", "UserName", "Status"}
    assert cred["ServiceName"] == "codecommit.amazonaws.com" and cred["UserName"] == user and cred["Status"] == "Active"
    assert cred["ServiceUserName"] == f"{user}-at-{ACCOUNT}" and len(cred["ServicePassword"]) == 44
    assert cred["ServiceSpecificCredentialId"].startswith("ACCA") and len(cred["ServiceSpecificCredentialId"]) == 21
    bedrock = iam.create_service_specific_credential(UserName=user, ServiceName="bedrock.amazonaws.com",
                                                     CredentialAgeDays=30)["ServiceSpecificCredential"]
    assert bedrock["ServiceCredentialAlias"] == f"{user}-at-{ACCOUNT}" and len(bedrock["ServiceCredentialSecret"]) == 64
    assert bedrock["ExpirationDate"] - bedrock["CreateDate"] == datetime.timedelta(days=30)
    iam.create_service_specific_credential(UserName=user, ServiceName="codecommit.amazonaws.com")
    with pytest.raises(ClientError) as exc:
        iam.create_service_specific_credential(UserName=user, ServiceName="codecommit.amazonaws.com")
    assert error(exc) == ("LimitExceeded", "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2", 409)
    with pytest.raises(ClientError) as exc:
        iam.create_service_specific_credential(UserName=user, ServiceName="s3.amazonaws.com")
    assert error(exc) == ("NotSupportedService",
                          "No such service s3.amazonaws.com is supported for Service Specific Credentials", 404)

    listed = iam.list_service_specific_credentials(UserName=user, ServiceName="codecommit.amazonaws.com")
    first = listed["ServiceSpecificCredentials"][0]
    assert len(listed["ServiceSpecificCredentials"]) == 2
    assert first == {k: v for k, v in cred.items() if k != "ServicePassword"}
    assert len(iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"]) == 3
    assert any(c["UserName"] == user for c in iam.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"])
    reset = iam.reset_service_specific_credential(UserName=user, ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"])
    assert reset["ServiceSpecificCredential"]["ServicePassword"] != cred["ServicePassword"]
    iam.update_service_specific_credential(UserName=user, ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"],
                                          Status="Inactive")
    statuses = {c["ServiceSpecificCredentialId"]: c["Status"]
                for c in iam.list_service_specific_credentials(UserName=user)["ServiceSpecificCredentials"]}
    assert statuses[cred["ServiceSpecificCredentialId"]] == "Inactive"
    with pytest.raises(ClientError) as exc:
        iam.delete_user(UserName=user)
    assert error(exc) == ("DeleteConflict", "Cannot delete entity, must delete service specific credentials first.", 409)
    for cred_id in statuses:
        iam.delete_service_specific_credential(UserName=user, ServiceSpecificCredentialId=cred_id)
    with pytest.raises(ClientError) as exc:
        iam.delete_service_specific_credential(UserName=user, ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"])
    assert error(exc) == ("NoSuchEntity", f"The Service Specific Credential with id {cred['ServiceSpecificCredentialId']} "
                          "cannot be found.", 404)
    iam.delete_user(UserName=user)


def test_without_cryptography_pem_framing_is_checked(tmp_path, monkeypatch, certs, rsa_keys):
    """The installed wheel does not depend on cryptography: then bodies are checked for PEM framing
    only, server certificates carry no Expiration, and SSH keys are taken in the OpenSSH form only."""
    monkeypatch.setattr(pem, "x509", None)
    monkeypatch.setattr(pem, "serialization", None)
    harness = InProcessProvider(IamProvider, tmp_path, service="iam")
    try:
        iam = harness.provider
        assert iam is not None
        ctx = CallContext("iam", "", account_id=ACCOUNT)
        body, key = certs(1)
        _, other_key = certs(2)
        meta = iam.upload_server_certificate(ctx, ServerCertificateName="plain", CertificateBody=body,
                                             PrivateKey=other_key)["ServerCertificateMetadata"]  # no key check either
        assert "Expiration" not in meta and meta["ServerCertificateName"] == "plain"
        with pytest.raises(ServiceError) as exc:
            iam.upload_server_certificate(ctx, ServerCertificateName="bad", CertificateBody="-----BEGIN CERTIFICATE-----\n"
                                          "@@@\n-----END CERTIFICATE-----", PrivateKey=key)
        assert exc.value.code == "MalformedCertificate"
        iam.create_user(ctx, UserName="frank")
        ssh = iam.upload_ssh_public_key(ctx, UserName="frank", SSHPublicKeyBody=openssh(rsa_keys[0]))["SSHPublicKey"]
        assert ssh["Fingerprint"] == md5_fingerprint(openssh(rsa_keys[0]))
        with pytest.raises(ServiceError) as exc:
            iam.get_ssh_public_key(ctx, UserName="frank", SSHPublicKeyId=ssh["SSHPublicKeyId"], Encoding="PEM")
        assert exc.value.code == "UnrecognizedPublicKeyEncoding"
        pem_body = rsa_keys[1].public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        with pytest.raises(ServiceError) as exc:
            iam.upload_ssh_public_key(ctx, UserName="frank", SSHPublicKeyBody=pem_body)
        assert exc.value.code == "UnrecognizedPublicKeyEncoding"
    finally:
        harness.close()
