"""What the auth layer needs from IAM, behind two plain functions (auth never imports services):

- :meth:`Principals.credential_lookup` ``(access_key_id) -> KeyRecord | None`` — a user's AKIA key
  or an STS session's ASIA key, with the principal it signs for;
- :meth:`Principals.policies_for` ``(KeyRecord) -> PrincipalPolicies`` — the identity policies
  (inline + attached, the user's groups' too), the permissions boundary, the session policies and
  the principal's tags, parsed and ready for :func:`awsemu.services.iam.policy.evaluate`.

The app (or the gateway's auth step) wires these callables into :mod:`awsemu.auth.enforcement`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from awsemu.services.iam.key_record import KeyRecord
from awsemu.services.iam.policy import Policy, parse_policy
from awsemu.services.iam.policy.parse import MalformedPolicy
from awsemu.services.iam.aws_managed import by_arn
from awsemu.services.iam.store import IamStore

_AWS_MANAGED = by_arn()
# Stands in for a stored scope-down layer that no longer parses: it matches no real action.
_ALLOWS_NOTHING = parse_policy(json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "awsemu:NoAction", "Resource": "*"}]}), source_id="scope", source_type="session")


@dataclass
class PrincipalPolicies:
    identity: list[Policy] = field(default_factory=list)
    boundary: Policy | None = None
    session: list[Policy] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    username: str = ""
    scopes: list[Policy] = field(default_factory=list)


@functools.lru_cache(maxsize=2048)
def _parse(text: str, source_id: str, source_type: str) -> Policy | None:
    """Parsed policies are immutable, so the same document text is parsed once per process."""
    try:
        return parse_policy(text, source_id=source_id, source_type=source_type)
    except MalformedPolicy:
        return None


class Principals:
    def __init__(self, store: IamStore) -> None:
        self.store = store
        # key id -> (generation, record) and (account, ref) -> (generation, policies): every request
        # of iam mode asks both; an IAM write moves the generation and so empties them in effect.
        self._keys: dict[str, tuple[int, KeyRecord]] = {}
        self._policies: dict[tuple[str, tuple[str, ...]], tuple[int, PrincipalPolicies]] = {}
        # key id -> (generation, record, policies): the above plus the key's session policies and tags.
        self._for_keys: dict[str, tuple[int, KeyRecord, PrincipalPolicies]] = {}

    def credential_lookup(self, access_key_id: str) -> KeyRecord | None:
        cached = self._keys.get(access_key_id)
        if cached is not None and cached[0] == self.store.generation:
            return cached[1]
        generation = self.store.generation
        record = self._lookup(access_key_id)
        if record is not None:
            if len(self._keys) > 10000:
                self._keys.clear()
            self._keys[access_key_id] = (generation, record)
        return record

    def managed_document(self, account: str, arn: str) -> str | None:
        if arn in _AWS_MANAGED:
            return json.dumps(_AWS_MANAGED[arn][3])
        if f":{account}:policy/" not in arn:
            return None
        record = self.store.get("p", account, arn.rsplit("/", 1)[-1])
        if record is None or record["Arn"] != arn:
            return None
        return record["versions"][record["DefaultVersionId"]]["Document"]

    def _lookup(self, access_key_id: str) -> KeyRecord | None:
        if access_key_id.startswith("ASIA"):
            session = self.store.get_key("s", access_key_id)
            if session is None:
                return None
            return KeyRecord(
                access_key_id=access_key_id, secret_access_key=session["secret"], account_id=session["account"],
                principal_arn=session["arn"], user_id=session["user_id"], kind=session["kind"],
                session_token=session["token"], expires_at=session["expires_at"],
                principal_ref=tuple(session["ref"]), session_policies=tuple(session.get("policies", [])),
                scope_policies=tuple(session.get("scopes", [])),
                session_tags=session.get("tags", {}),
                # mfa_authenticated_at: when the session's maker passed MFA (None: no MFA), for the
                # auth layer's aws:MultiFactorAuthPresent / aws:MultiFactorAuthAge.
                extra={"issued_at": session.get("issued_at"), "mfa_authenticated_at": session.get("mfa_at")},
            )
        key = self.store.get_key("k", access_key_id)
        if key is None:
            return None
        user = self.store.get("u", key["account"], key["UserName"])
        if user is None:
            return None
        return KeyRecord(
            access_key_id=access_key_id, secret_access_key=key["SecretAccessKey"], account_id=key["account"],
            principal_arn=user["Arn"], user_id=user["UserId"], kind="user", active=key["Status"] == "Active",
            principal_ref=("user", user["UserName"]),
        )

    def _entity_policies(self, account: str, kind: str, record: dict[str, Any], out: list[Policy]) -> None:
        source_type = {"u": "user", "g": "group", "r": "role"}[kind]
        for policy_name, text in record.get("inline", {}).items():
            policy = _parse(text, policy_name, source_type)
            if policy is not None:
                out.append(policy)
        for arn in record.get("attached", []):
            text = self.managed_document(account, arn)
            policy = _parse(text, arn, "aws-managed" if ":aws:policy/" in arn else "user-managed") if text else None
            if policy is not None:
                out.append(policy)

    def entity_policies(self, account: str, ref: tuple[str, ...]) -> PrincipalPolicies:
        """Policies of a user (with its groups) or a role, by reference ("user", name) / ("role", name)."""
        result = PrincipalPolicies()
        if not ref or ref[0] not in ("user", "role"):
            return result
        code = "u" if ref[0] == "user" else "r"
        record = self.store.get(code, account, ref[1])
        if record is None:
            return result
        self._entity_policies(account, code, record, result.identity)
        if code == "u":
            result.username = record["UserName"]
            for group_name in record.get("groups", []):
                group = self.store.get("g", account, group_name)
                if group is not None:
                    self._entity_policies(account, "g", group, result.identity)
        if record.get("boundary"):
            text = self.managed_document(account, record["boundary"])
            result.boundary = _parse(text, record["boundary"], "boundary") if text else None
        result.tags = {t["Key"]: t["Value"] for t in record.get("Tags", [])}
        return result

    def _cached_entity_policies(self, account: str, ref: tuple[str, ...]) -> PrincipalPolicies:
        cached = self._policies.get((account, ref))
        if cached is not None and cached[0] == self.store.generation:
            return cached[1]
        generation = self.store.generation
        found = self.entity_policies(account, ref)
        if len(self._policies) > 10000:
            self._policies.clear()
        self._policies[(account, ref)] = (generation, found)
        return found

    def policies_for(self, record: KeyRecord) -> PrincipalPolicies:
        """The policies a key's requests are evaluated against; the result is shared, read-only."""
        cached = self._for_keys.get(record.access_key_id)
        if cached is not None and cached[0] == self.store.generation and cached[1] is record:
            return cached[2]
        generation = self.store.generation
        result = self._policies_for(record)
        if len(self._for_keys) > 10000:
            self._for_keys.clear()
        self._for_keys[record.access_key_id] = (generation, record, result)
        return result

    def _policies_for(self, record: KeyRecord) -> PrincipalPolicies:
        base = self._cached_entity_policies(record.account_id, record.principal_ref)
        result = PrincipalPolicies(list(base.identity), base.boundary, None, dict(base.tags), base.username)
        if record.kind in ("assumed-role", "federated-user"):
            result.session = [p for p in (_parse(t, f"session-{i}", "session") for i, t in enumerate(record.session_policies))
                              if p is not None] if record.session_policies else None
            # Session tags override the role's tags of the same key.
            result.tags = {**result.tags, **dict(record.session_tags)}
        if record.kind == "federated-user":
            # GetFederationToken: the user's permissions intersected with the passed policies (none -> nothing).
            result.session = result.session if result.session is not None else []
        # A stored layer that no longer parses allows nothing, never everything.
        result.scopes = [_parse(t, f"scope-{i}", "session") or _ALLOWS_NOTHING
                         for i, t in enumerate(record.scope_policies)]
        return result
