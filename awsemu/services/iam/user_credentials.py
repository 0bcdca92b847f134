"""The credentials an IAM user holds beside access keys and a password: X.509 signing certificates,
SSH public keys (CodeCommit) and service-specific credentials (CodeCommit, Keyspaces, Bedrock).

They live in the user's record (``signing_certs``, ``ssh_keys``, ``service_creds``), as the login
profile does: they are few per user (2 certificates, 5 SSH keys, 2 credentials per service), a
rename carries them along, and DeleteUser sees them without a scan. Ids are AWS-shaped and
unique by construction (random base32), so lookups by id walk the one user's list.
"""

from __future__ import annotations

import base64
import secrets
import threading
from typing import Any

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.iam import pem
from awsemu.services.iam.common import LimitExceeded, NoSuchEntity, ValidationError, now, page
from awsemu.services.iam.server_certificates import MalformedCertificate
from awsemu.services.iam.store import IamStore, new_id

MAX_SIGNING_CERTIFICATES = 2
MAX_SSH_KEYS = 5
MAX_SERVICE_CREDENTIALS = 2  # per user and service
# Services that take service-specific credentials, and whether theirs are API keys (Bedrock: an
# alias + secret with an expiry) or a user name + password (CodeCommit HTTPS Git, Keyspaces).
SERVICE_CREDENTIAL_SERVICES = {"codecommit.amazonaws.com": False, "cassandra.amazonaws.com": False,
                               "bedrock.amazonaws.com": True}


class DuplicateCertificate(ServiceError):
    code = "DuplicateCertificate"
    status = 409


class DuplicateSSHPublicKey(ServiceError):
    code = "DuplicateSSHPublicKey"
    status = 400


class InvalidPublicKey(ServiceError):
    code = "InvalidPublicKey"
    status = 400


class UnrecognizedPublicKeyEncoding(ServiceError):
    code = "UnrecognizedPublicKeyEncoding"
    status = 400


class NotSupportedService(ServiceError):
    code = "NotSupportedService"
    status = 404


def _status(value: str) -> str:
    if value not in ("Active", "Inactive"):
        raise ValidationError(f"1 validation error detected: Value '{value}' at 'status' failed to satisfy "
                              "constraint: Member must satisfy enum value set: [Active, Inactive]")
    return value


class UserCredentialsMixin:
    store: IamStore
    lock: threading.RLock

    def _credential_owner(self, ctx: CallContext, user_name: str | None) -> dict[str, Any]:
        name = self._caller_user(ctx, user_name)  # type: ignore[attr-defined]
        if name is None:
            raise ValidationError("Root credentials are configured with AWSEMU_ROOT_KEYS, not created through IAM.")
        return self._entity("user", ctx.account_id, name)  # type: ignore[attr-defined,no-any-return]

    @staticmethod
    def _find(user: dict[str, Any], field: str, id_field: str, wanted: str, label: str) -> dict[str, Any]:
        for item in user.get(field, []):
            if item[id_field] == wanted:
                return item  # type: ignore[no-any-return]
        raise NoSuchEntity(f"The {label} with id {wanted} cannot be found.")

    # -- signing certificates ----------------------------------------------------------------------
    def upload_signing_certificate(self, ctx: CallContext, CertificateBody: str,
                                   UserName: str | None = None) -> dict[str, Any]:
        try:
            pem.certificate_expiry(CertificateBody)
            fingerprint = pem.certificate_fingerprint(CertificateBody)
        except pem.PemError:
            raise MalformedCertificate("Unable to parse certificate. Please ensure the certificate is in PEM format.") from None
        with self.lock:
            user = self._credential_owner(ctx, UserName)
            for other in self.store.scan("u", ctx.account_id):
                if any(c["fingerprint"] == fingerprint for c in other.get("signing_certs", [])):
                    raise DuplicateCertificate("The same certificate is already associated with an IAM user in the "
                                               "account.")
            certs = user.get("signing_certs", [])
            if len(certs) >= MAX_SIGNING_CERTIFICATES:
                raise LimitExceeded(f"Cannot exceed quota for SigningCertificatesPerUser: {MAX_SIGNING_CERTIFICATES}")
            cert = {"CertificateId": new_id("", 32), "CertificateBody": CertificateBody, "Status": "Active",
                    "UploadDate": now(), "fingerprint": fingerprint}
            user["signing_certs"] = [*certs, cert]
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {"Certificate": self._signing_public(user, cert)}

    @staticmethod
    def _signing_public(user: dict[str, Any], cert: dict[str, Any]) -> dict[str, Any]:
        return {"UserName": user["UserName"], **{k: cert[k] for k in ("CertificateId", "CertificateBody", "Status",
                                                                        "UploadDate")}}

    def list_signing_certificates(self, ctx: CallContext, UserName: str | None = None, Marker: str | None = None,
                                  MaxItems: int | None = None) -> dict[str, Any]:
        if self._caller_user(ctx, UserName) is None:  # type: ignore[attr-defined]
            return {"Certificates": [], "IsTruncated": False}
        user = self._credential_owner(ctx, UserName)
        chosen, meta = page(user.get("signing_certs", []), Marker, MaxItems, lambda c: f"{c['UploadDate']:020.6f}")
        return {"Certificates": [self._signing_public(user, c) for c in chosen], **meta}

    def update_signing_certificate(self, ctx: CallContext, CertificateId: str, Status: str,
                                   UserName: str | None = None) -> dict[str, Any]:
        _status(Status)
        with self.lock:
            user = self._credential_owner(ctx, UserName)
            self._find(user, "signing_certs", "CertificateId", CertificateId, "Signing Certificate")["Status"] = Status
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {}

    def delete_signing_certificate(self, ctx: CallContext, CertificateId: str,
                                   UserName: str | None = None) -> dict[str, Any]:
        with self.lock:
            user = self._credential_owner(ctx, UserName)
            self._find(user, "signing_certs", "CertificateId", CertificateId, "Signing Certificate")
            user["signing_certs"] = [c for c in user["signing_certs"] if c["CertificateId"] != CertificateId]
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {}

    # -- SSH public keys ---------------------------------------------------------------------------
    def upload_ssh_public_key(self, ctx: CallContext, UserName: str, SSHPublicKeyBody: str) -> dict[str, Any]:
        try:
            key = pem.parse_ssh_public_key(SSHPublicKeyBody)
        except pem.UnrecognizedEncoding:
            raise UnrecognizedPublicKeyEncoding("The public key encoding format is unsupported or unrecognized.") from None
        except pem.PemError:
            raise InvalidPublicKey("The public key is malformed or otherwise invalid.") from None
        with self.lock:
            user = self._entity("user", ctx.account_id, UserName)  # type: ignore[attr-defined]
            keys = user.get("ssh_keys", [])
            if any(k["Fingerprint"] == key.fingerprint for k in keys):
                raise DuplicateSSHPublicKey("The SSH public key is already associated with the specified IAM user.")
            if len(keys) >= MAX_SSH_KEYS:
                raise LimitExceeded(f"Cannot exceed quota for SSHPublicKeysPerUser: {MAX_SSH_KEYS}")
            record = {"SSHPublicKeyId": new_id("APKA", 20), "Fingerprint": key.fingerprint,
                      "SSHPublicKeyBody": key.openssh, "Status": "Active", "UploadDate": now()}
            user["ssh_keys"] = [*keys, record]
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {"SSHPublicKey": {"UserName": user["UserName"], **record}}

    def get_ssh_public_key(self, ctx: CallContext, UserName: str, SSHPublicKeyId: str, Encoding: str) -> dict[str, Any]:
        user = self._entity("user", ctx.account_id, UserName)  # type: ignore[attr-defined]
        record = dict(self._find(user, "ssh_keys", "SSHPublicKeyId", SSHPublicKeyId, "Public Key"))
        if Encoding == "PEM":
            try:
                record["SSHPublicKeyBody"] = pem.parse_ssh_public_key(record["SSHPublicKeyBody"]).pem()
            except pem.PemError:
                raise UnrecognizedPublicKeyEncoding("PEM encoding needs the cryptography package on the server.") from None
        elif Encoding != "SSH":
            raise ValidationError(f"1 validation error detected: Value '{Encoding}' at 'encoding' failed to satisfy "
                                  "constraint: Member must satisfy enum value set: [SSH, PEM]")
        return {"SSHPublicKey": {"UserName": user["UserName"], **record}}

    def list_ssh_public_keys(self, ctx: CallContext, UserName: str | None = None, Marker: str | None = None,
                             MaxItems: int | None = None) -> dict[str, Any]:
        if self._caller_user(ctx, UserName) is None:  # type: ignore[attr-defined]
            return {"SSHPublicKeys": [], "IsTruncated": False}
        user = self._credential_owner(ctx, UserName)
        chosen, meta = page(user.get("ssh_keys", []), Marker, MaxItems, lambda k: f"{k['UploadDate']:020.6f}")
        return {"SSHPublicKeys": [{"UserName": user["UserName"], "SSHPublicKeyId": k["SSHPublicKeyId"],
                                   "Status": k["Status"], "UploadDate": k["UploadDate"]} for k in chosen], **meta}

    def update_ssh_public_key(self, ctx: CallContext, UserName: str, SSHPublicKeyId: str, Status: str) -> dict[str, Any]:
        _status(Status)
        with self.lock:
            user = self._entity("user", ctx.account_id, UserName)  # type: ignore[attr-defined]
            self._find(user, "ssh_keys", "SSHPublicKeyId", SSHPublicKeyId, "Public Key")["Status"] = Status
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {}

    def delete_ssh_public_key(self, ctx: CallContext, UserName: str, SSHPublicKeyId: str) -> dict[str, Any]:
        with self.lock:
            user = self._entity("user", ctx.account_id, UserName)  # type: ignore[attr-defined]
            self._find(user, "ssh_keys", "SSHPublicKeyId", SSHPublicKeyId, "Public Key")
            user["ssh_keys"] = [k for k in user["ssh_keys"] if k["SSHPublicKeyId"] != SSHPublicKeyId]
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {}

    # -- service-specific credentials ----------------------------------------------------------------
    @staticmethod
    def _new_secret_for(user: dict[str, Any], account: str, record: dict[str, Any]) -> None:
        if SERVICE_CREDENTIAL_SERVICES[record["ServiceName"]]:
            record["ServiceCredentialAlias"] = f"{user['UserName']}-at-{account}"
            record["ServiceCredentialSecret"] = base64.b64encode(secrets.token_bytes(48)).decode()
        else:
            record["ServiceUserName"] = f"{user['UserName']}-at-{account}"
            record["ServicePassword"] = base64.b64encode(secrets.token_bytes(33)).decode()

    @staticmethod
    def _service_public(user: dict[str, Any], record: dict[str, Any], with_secret: bool) -> dict[str, Any]:
        hidden = () if with_secret else ("ServicePassword", "ServiceCredentialSecret")
        return {"UserName": user["UserName"], **{k: v for k, v in record.items() if k not in hidden and v is not None}}

    def create_service_specific_credential(self, ctx: CallContext, UserName: str, ServiceName: str,
                                           CredentialAgeDays: int | None = None) -> dict[str, Any]:
        if ServiceName not in SERVICE_CREDENTIAL_SERVICES:
            raise NotSupportedService(f"No such service {ServiceName} is supported for Service Specific Credentials")
        with self.lock:
            user = self._entity("user", ctx.account_id, UserName)  # type: ignore[attr-defined]
            creds = user.get("service_creds", [])
            if sum(1 for c in creds if c["ServiceName"] == ServiceName) >= MAX_SERVICE_CREDENTIALS:
                raise LimitExceeded(f"Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: "
                                    f"{MAX_SERVICE_CREDENTIALS}")
            created = now()
            record: dict[str, Any] = {"ServiceSpecificCredentialId": new_id("ACCA"), "ServiceName": ServiceName,
                                      "Status": "Active", "CreateDate": created}
            if CredentialAgeDays is not None:
                record["ExpirationDate"] = created + CredentialAgeDays * 86400
            self._new_secret_for(user, ctx.account_id, record)
            user["service_creds"] = [*creds, record]
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {"ServiceSpecificCredential": self._service_public(user, record, True)}

    def list_service_specific_credentials(self, ctx: CallContext, UserName: str | None = None,
                                          ServiceName: str | None = None, AllUsers: bool | None = None,
                                          Marker: str | None = None, MaxItems: int | None = None) -> dict[str, Any]:
        if AllUsers:
            users = list(self.store.scan("u", ctx.account_id))
        elif self._caller_user(ctx, UserName) is None:  # type: ignore[attr-defined]
            return {"ServiceSpecificCredentials": [], "IsTruncated": False}
        else:
            users = [self._credential_owner(ctx, UserName)]
        items = [(u, c) for u in users for c in u.get("service_creds", [])
                 if ServiceName is None or c["ServiceName"] == ServiceName]
        chosen, meta = page(items, Marker, MaxItems,
                            lambda uc: f"{uc[0]['UserName'].lower()}\x00{uc[1]['CreateDate']:020.6f}")
        return {"ServiceSpecificCredentials": [self._service_public(u, c, False) for u, c in chosen], **meta}

    def reset_service_specific_credential(self, ctx: CallContext, ServiceSpecificCredentialId: str,
                                          UserName: str | None = None) -> dict[str, Any]:
        with self.lock:
            user = self._credential_owner(ctx, UserName)
            record = self._find(user, "service_creds", "ServiceSpecificCredentialId", ServiceSpecificCredentialId,
                                "Service Specific Credential")
            self._new_secret_for(user, ctx.account_id, record)
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {"ServiceSpecificCredential": self._service_public(user, record, True)}

    def update_service_specific_credential(self, ctx: CallContext, ServiceSpecificCredentialId: str, Status: str,
                                           UserName: str | None = None) -> dict[str, Any]:
        _status(Status)
        with self.lock:
            user = self._credential_owner(ctx, UserName)
            self._find(user, "service_creds", "ServiceSpecificCredentialId", ServiceSpecificCredentialId,
                       "Service Specific Credential")["Status"] = Status
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {}

    def delete_service_specific_credential(self, ctx: CallContext, ServiceSpecificCredentialId: str,
                                           UserName: str | None = None) -> dict[str, Any]:
        with self.lock:
            user = self._credential_owner(ctx, UserName)
            self._find(user, "service_creds", "ServiceSpecificCredentialId", ServiceSpecificCredentialId,
                       "Service Specific Credential")
            user["service_creds"] = [c for c in user["service_creds"]
                                     if c["ServiceSpecificCredentialId"] != ServiceSpecificCredentialId]
            self._save("user", ctx.account_id, user)  # type: ignore[attr-defined]
        return {}
