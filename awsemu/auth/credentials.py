"""The key store: access key id -> the secret and the principal it signs for.

Three sources, asked in order:

1. Root key pairs configured per account (``AWSEMU_ROOT_KEYS="AKID:SECRET:ACCOUNT,..."``; by default
   ``test``/``test`` is the root of 000000000000). As DESIGN.md says, a 12-digit access key id names
   its own account; in sigv4 mode such a key is accepted as that account's root when signed with
   the secret ``test`` (handy for cross-account tests without creating anything).
2. Keys issued by the IAM provider (``AKIA...`` user keys) and by STS (``ASIA...`` session keys),
   reached through a :data:`KeyLookup` callable the app wires in. Auth never imports services: the
   IAM provider hands over a plain function returning :class:`KeyRecord` (a pure dataclass module
   defined beside the IAM provider, below auth in the layer order).

A :class:`KeyRecord` carries everything later steps need: the secret to verify the signature, the
account and principal ARN for GetCallerIdentity and policy evaluation, the session token and expiry
of temporary credentials, and a reference to the principal's policies (``principal_ref``) that the
policy lookup understands.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Callable, Mapping

from awsemu.services.iam.key_record import KeyRecord

DEFAULT_ACCOUNT = "000000000000"
ROOT_KEYS_ENV = "AWSEMU_ROOT_KEYS"
_TWELVE_DIGITS = re.compile(r"\d{12}")


KeyLookup = Callable[[str], "KeyRecord | None"]


def root_record(access_key_id: str, secret: str, account_id: str) -> KeyRecord:
    return KeyRecord(
        access_key_id=access_key_id,
        secret_access_key=secret,
        account_id=account_id,
        principal_arn=f"arn:aws:iam::{account_id}:root",
        user_id=account_id,
        kind="root",
        principal_ref=("root",),
    )


def parse_root_keys(text: str) -> dict[str, KeyRecord]:
    """``"AKID:SECRET:ACCOUNT,AKID2:SECRET2:ACCOUNT2"`` -> records (malformed entries raise)."""
    records: dict[str, KeyRecord] = {}
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        parts = entry.split(":")
        if len(parts) != 3 or not _TWELVE_DIGITS.fullmatch(parts[2]):
            raise ValueError(f"{ROOT_KEYS_ENV} entries are AKID:SECRET:ACCOUNT(12 digits); got {entry!r}")
        records[parts[0]] = root_record(parts[0], parts[1], parts[2])
    return records


class CredentialStore:
    """Looks access keys up: configured roots first, then the IAM/STS lookup, then 12-digit ids."""

    def __init__(self, roots: Mapping[str, KeyRecord] | None = None, lookup: KeyLookup | None = None) -> None:
        self.roots: dict[str, KeyRecord] = dict(roots) if roots is not None else {"test": root_record("test", "test", DEFAULT_ACCOUNT)}
        self.lookup = lookup

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, lookup: KeyLookup | None = None) -> "CredentialStore":
        env = os.environ if environ is None else environ
        text = env.get(ROOT_KEYS_ENV, "")
        roots = parse_root_keys(text) if text else None
        return cls(roots, lookup)

    def find(self, access_key_id: str) -> KeyRecord | None:
        record = self.roots.get(access_key_id)
        if record is not None:
            return record
        if self.lookup is not None:
            record = self.lookup(access_key_id)
            if record is not None:
                return record
        if _TWELVE_DIGITS.fullmatch(access_key_id):
            return _account_root(access_key_id)
        return None


@functools.lru_cache(maxsize=1024)
def _account_root(account_id: str) -> KeyRecord:
    """The root key of a 12-digit account id: one record per account, so what the auth step keeps
    per key record (resolved identity, reused verdicts) lasts across its requests."""
    return root_record(account_id, "test", account_id)
