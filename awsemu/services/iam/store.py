"""IAM and STS state on the lsm engine: one JSON record per entity, keyed by account and name.

Key layout (``\\x00``-separated text after the ``iam`` prefix; names are stored lower-cased in
keys because IAM names are unique case-insensitively, records keep the spelling given)::

    iam u  <account> <name>        user       (inline policies, attached ARNs, groups, login profile, tags,
                                              enabled MFA serials, signing certificates, SSH keys,
                                              service-specific credentials)
    iam g  <account> <name>        group
    iam r  <account> <name>        role
    iam p  <account> <path+name>   customer managed policy (its versions inside the record)
    iam ip <account> <name>        instance profile
    iam o  <account> <arn>         OIDC provider          iam sp <account> <arn>   SAML provider
    iam mfa <account> <serial>     MFA device (seed, user, drift, tags)
    iam mfastep <account> <serial> the last TOTP step accepted for the device (written by STS too)
    iam sc <account> <name>        server certificate
    iam a  <account> <setting>     account settings: alias, password-policy, credential-report,
                                   sts-preferences, sla-job-<id> (service-last-accessed reports)
    iam k  <access key id>         access key of a user (account, user, secret, status, last used)
    iam s  <access key id>         STS session credentials (ASIA...), with their expiry

Access keys and sessions are keyed by key id alone: signature verification finds them in one get.
IAM is a global service, so nothing here is per region. The store is stateless over the DB, so the
IAM and STS providers can each hold one without sharing memory.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any, Iterator

PREFIX = b"iam\x00"
_ID_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


def _key(*parts: str) -> bytes:
    return PREFIX + "\x00".join(parts).encode("utf-8")


def new_id(prefix: str, length: int = 21) -> str:
    """AWS-shaped unique ids: AIDA.../AROA.../AGPA.../ANPA.../AKIA.../ASIA..."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length - len(prefix)))


def new_secret() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


class IamStore:
    """``generation`` counts this instance's writes: readers cache derived data (parsed policies of a
    principal) and drop it when the generation moves. Only the IAM provider's instance writes
    entities; STS's instance only adds session keys, which are never cached when absent."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.generation = 0

    # -- generic entity records ------------------------------------------------------------
    def get(self, kind: str, account: str, name: str) -> dict[str, Any] | None:
        raw = self.db.get(_key(kind, account, name.lower()))
        return json.loads(raw) if raw is not None else None

    def put(self, kind: str, account: str, name: str, record: dict[str, Any]) -> None:
        self.db.put(_key(kind, account, name.lower()), json.dumps(record, separators=(",", ":")).encode())
        self.generation += 1  # after the write: readers compare it before reading

    def delete(self, kind: str, account: str, name: str) -> None:
        self.db.delete(_key(kind, account, name.lower()))
        self.generation += 1  # after the write: readers compare it before reading

    def scan(self, kind: str, account: str, after: str | None = None) -> Iterator[dict[str, Any]]:
        start = _key(kind, account, "")
        end = _key(kind, account) + b"\x01"
        if after is not None:
            start = _key(kind, account, after.lower()) + b"\x00"
        for _, raw in self.db.scan(start, end):
            yield json.loads(raw)

    # -- keys by id --------------------------------------------------------------------------
    def get_key(self, kind: str, key_id: str) -> dict[str, Any] | None:
        raw = self.db.get(_key(kind, key_id))
        return json.loads(raw) if raw is not None else None

    def put_key(self, kind: str, key_id: str, record: dict[str, Any]) -> None:
        self.db.put(_key(kind, key_id), json.dumps(record, separators=(",", ":")).encode())
        self.generation += 1  # after the write: readers compare it before reading

    def note_key(self, kind: str, key_id: str, record: dict[str, Any]) -> None:
        """Write a key record whose change nothing derived depends on (an access key's last-use
        note): the generation stays, so readers' caches (the auth layer's key records, parsed
        policies and verdicts) survive the once-a-minute bookkeeping of a key in use."""
        self.db.put(_key(kind, key_id), json.dumps(record, separators=(",", ":")).encode())

    def delete_key(self, kind: str, key_id: str) -> None:
        self.db.delete(_key(kind, key_id))
        self.generation += 1  # after the write: readers compare it before reading

    def scan_keys(self, kind: str) -> Iterator[dict[str, Any]]:
        for _, raw in self.db.scan(_key(kind, ""), _key(kind) + b"\x01"):
            yield json.loads(raw)

    def wipe(self) -> None:
        keys = [k for k, _ in self.db.scan(PREFIX, PREFIX[:-1] + b"\x01")]
        if keys:
            self.db.write_batch([(k, None) for k in keys])
        self.generation += 1
