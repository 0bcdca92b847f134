"""Server certificates (the IAM certificate store ELB/CloudFront used before ACM).

One record per certificate, ``iam sc <account> <name>``: the metadata IAM returns, the body and
chain as uploaded, tags, and a digest of the private key (the key itself is never returned, so
it is not kept). Bodies, chains and keys are checked by :mod:`awsemu.services.iam.pem`; the
expiration comes from the certificate's notAfter when ``cryptography`` is importable.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from awsemu.services.base import CallContext, ServiceError
from awsemu.services.iam import pem
from awsemu.services.iam.common import (
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
    check_tags,
    merge_tags,
    now,
    page,
    remove_tags,
    validate_path,
)
from awsemu.services.iam.store import IamStore, new_id

MAX_SERVER_CERTIFICATES = 20
_METADATA = ("Path", "ServerCertificateName", "ServerCertificateId", "Arn", "UploadDate", "Expiration")


class MalformedCertificate(ServiceError):
    code = "MalformedCertificate"
    status = 400


class KeyPairMismatch(ServiceError):
    code = "KeyPairMismatch"
    status = 400


def _metadata(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in _METADATA if record.get(k) is not None}


class ServerCertificatesMixin:
    store: IamStore
    lock: threading.RLock

    def _server_certificate(self, ctx: CallContext, name: str) -> dict[str, Any]:
        record = self.store.get("sc", ctx.account_id, name)
        if record is None:
            raise NoSuchEntity(f"The Server Certificate with name {name} cannot be found.")
        return record

    def upload_server_certificate(self, ctx: CallContext, ServerCertificateName: str, CertificateBody: str,
                                  PrivateKey: str, Path: str | None = None, CertificateChain: str | None = None,
                                  Tags: list[dict[str, str]] | None = None) -> dict[str, Any]:
        path = validate_path(Path)
        tags = check_tags(Tags)
        try:
            expiration = pem.certificate_expiry(CertificateBody)
        except pem.PemError:
            raise MalformedCertificate("Unable to parse certificate. Please ensure the certificate is in PEM format.") from None
        if CertificateChain:
            try:
                pem.check_chain(CertificateChain)
            except pem.PemError:
                raise MalformedCertificate("Unable to parse certificate chain. Please ensure the chain is in PEM "
                                           "format.") from None
        try:
            matches = pem.key_matches_certificate(PrivateKey, CertificateBody)
        except pem.PemError:
            raise MalformedCertificate("Unable to parse private key. Please ensure the private key is in PEM "
                                       "format.") from None
        if not matches:
            raise KeyPairMismatch("Unable to validate certificate and private key: the private key does not match "
                                  "the certificate's public key.")
        with self.lock:
            if self.store.get("sc", ctx.account_id, ServerCertificateName) is not None:
                raise EntityAlreadyExists(f"The Server Certificate with name {ServerCertificateName} already exists.")
            if sum(1 for _ in self.store.scan("sc", ctx.account_id)) >= MAX_SERVER_CERTIFICATES:
                raise LimitExceeded(f"Cannot exceed quota for ServerCertificatesPerAccount: {MAX_SERVER_CERTIFICATES}")
            record: dict[str, Any] = {
                "Path": path, "ServerCertificateName": ServerCertificateName, "ServerCertificateId": new_id("ASCA"),
                "Arn": f"arn:aws:iam::{ctx.account_id}:server-certificate{path}{ServerCertificateName}",
                "UploadDate": now(), "Expiration": expiration, "CertificateBody": CertificateBody,
                "CertificateChain": CertificateChain, "Tags": tags,
                "key_sha256": hashlib.sha256(PrivateKey.strip().encode()).hexdigest(),
            }
            self.store.put("sc", ctx.account_id, ServerCertificateName, record)
        out: dict[str, Any] = {"ServerCertificateMetadata": _metadata(record)}
        if tags:
            out["Tags"] = tags
        return out

    def get_server_certificate(self, ctx: CallContext, ServerCertificateName: str) -> dict[str, Any]:
        record = self._server_certificate(ctx, ServerCertificateName)
        out: dict[str, Any] = {"ServerCertificateMetadata": _metadata(record), "CertificateBody": record["CertificateBody"]}
        if record.get("CertificateChain"):
            out["CertificateChain"] = record["CertificateChain"]
        if record.get("Tags"):
            out["Tags"] = record["Tags"]
        return {"ServerCertificate": out}

    def list_server_certificates(self, ctx: CallContext, PathPrefix: str | None = None, Marker: str | None = None,
                                 MaxItems: int | None = None) -> dict[str, Any]:
        items = [r for r in self.store.scan("sc", ctx.account_id) if r["Path"].startswith(PathPrefix or "/")]
        chosen, meta = page(items, Marker, MaxItems, lambda r: r["ServerCertificateName"].lower())
        return {"ServerCertificateMetadataList": [_metadata(r) for r in chosen], **meta}

    def update_server_certificate(self, ctx: CallContext, ServerCertificateName: str, NewPath: str | None = None,
                                  NewServerCertificateName: str | None = None) -> dict[str, Any]:
        with self.lock:
            record = self._server_certificate(ctx, ServerCertificateName)
            new_name = NewServerCertificateName or record["ServerCertificateName"]
            if new_name.lower() != ServerCertificateName.lower() and self.store.get("sc", ctx.account_id, new_name):
                raise EntityAlreadyExists(f"The Server Certificate with name {new_name} already exists.")
            record["Path"] = validate_path(NewPath) if NewPath else record["Path"]
            record["ServerCertificateName"] = new_name
            record["Arn"] = f"arn:aws:iam::{ctx.account_id}:server-certificate{record['Path']}{new_name}"
            self.store.delete("sc", ctx.account_id, ServerCertificateName)
            self.store.put("sc", ctx.account_id, new_name, record)
        return {}

    def delete_server_certificate(self, ctx: CallContext, ServerCertificateName: str) -> dict[str, Any]:
        with self.lock:
            self._server_certificate(ctx, ServerCertificateName)
            self.store.delete("sc", ctx.account_id, ServerCertificateName)
        return {}

    def tag_server_certificate(self, ctx: CallContext, ServerCertificateName: str,
                               Tags: list[dict[str, str]]) -> dict[str, Any]:
        return self._retag(ctx, "sc", ServerCertificateName, lambda t: merge_tags(t, Tags))  # type: ignore[attr-defined,no-any-return]

    def untag_server_certificate(self, ctx: CallContext, ServerCertificateName: str, TagKeys: list[str]) -> dict[str, Any]:
        return self._retag(ctx, "sc", ServerCertificateName, lambda t: remove_tags(t, TagKeys))  # type: ignore[attr-defined,no-any-return]

    def list_server_certificate_tags(self, ctx: CallContext, ServerCertificateName: str, Marker: str | None = None,
                                     MaxItems: int | None = None) -> dict[str, Any]:
        return self._list_tags(ctx, "sc", ServerCertificateName, Marker, MaxItems)  # type: ignore[attr-defined,no-any-return]
