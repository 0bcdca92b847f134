"""Function resource policies (AddPermission, GetPolicy, RemovePermission): statements as Lambda writes them.

The operations are the :class:`PolicyOperations` mixin of LambdaProvider; the functions below build
and edit the statements.

A policy belongs to the function or to one qualifier (version or alias); it is kept in the function's
meta record as ``{qualifier or "": {"revision": ..., "statements": [...]}}``. Principals are written
the way Lambda normalizes them: an account id becomes ``{"AWS": "arn:aws:iam::<id>:root"}``, a
service name ``{"Service": ...}``, ``*`` stays ``*``, an ARN ``{"AWS": arn}``. Conditions from
SourceArn (``ArnLike AWS:SourceArn``), SourceAccount (``StringEquals AWS:SourceAccount``),
PrincipalOrgID (``StringEquals aws:PrincipalOrgID``) and FunctionUrlAuthType
(``StringEquals lambda:FunctionUrlAuthType``).
"""

from __future__ import annotations

import json
import re
from typing import Any

import threading

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_.checks import Fn, revision_check
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.services.lambda_.errors import ResourceConflictException, ResourceNotFoundException, validation
from awsemu.services.lambda_.functions import FunctionStore, new_revision

SID_PATTERN = re.compile(r"^([a-zA-Z0-9-_]+)$")
ACTION_PATTERN = re.compile(r"^(lambda:[*]|lambda:[a-zA-Z]+|[*])$")


def principal(value: str) -> Any:
    if value == "*":
        return "*"
    if re.fullmatch(r"\d{12}", value):
        return {"AWS": f"arn:aws:iam::{value}:root"}
    if value.startswith("arn:"):
        return {"AWS": value}
    return {"Service": value}


def statement(sid: str, action: str, principal_value: str, resource: str, *, source_arn: str | None = None,
              source_account: str | None = None, org_id: str | None = None,
              url_auth_type: str | None = None) -> dict[str, Any]:
    if not SID_PATTERN.match(sid or "") or len(sid) > 100:
        raise validation(sid, "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
    if not ACTION_PATTERN.match(action or ""):
        raise validation(action, "action",
                         "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])")
    out: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": principal(principal_value),
                           "Action": action, "Resource": resource}
    condition: dict[str, dict[str, str]] = {}
    if source_account:
        condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = source_account
    if org_id:
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = org_id
    if url_auth_type:
        condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = url_auth_type
    if source_arn:
        condition.setdefault("ArnLike", {})["AWS:SourceArn"] = source_arn
    if condition:
        out["Condition"] = condition
    return out


def add(policy: dict[str, Any], new: dict[str, Any], revision: str) -> None:
    statements: list[dict[str, Any]] = policy.setdefault("statements", [])
    if any(s.get("Sid") == new["Sid"] for s in statements):
        raise ResourceConflictException(
            "The statement id (sid) provided already exists. Please provide a new statement id, "
            "or remove the existing statement."
        )
    statements.append(new)
    policy["revision"] = revision


def remove(policy: dict[str, Any], sid: str, revision: str) -> None:
    statements: list[dict[str, Any]] = policy.get("statements", [])
    kept = [s for s in statements if s.get("Sid") != sid]
    if len(kept) == len(statements):
        raise ResourceNotFoundException(f"Statement {sid} is not found in resource policy.")
    policy["statements"] = kept
    policy["revision"] = revision


def document(policy: dict[str, Any] | None) -> str:
    if not policy or not policy.get("statements"):
        raise ResourceNotFoundException("The resource you requested does not exist.")
    return json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": policy["statements"]},
                      separators=(",", ":"))


class PolicyOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock`` and the name helpers below."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock

    def resource_policy(self, arn: str) -> tuple[str | None, str] | None:
        """(policy document | None, owner account) of a function ARN, for the iam-mode evaluator;
        None when the function does not exist. A qualified ARN uses that version's or alias's policy."""
        parts = arn.split(":")
        if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
            return None
        region, account, name = parts[3], parts[4], parts[6]
        qualifier = parts[7] if len(parts) > 7 else ""
        meta = self.store.meta(account, region, name)
        if meta is None:
            return None
        current = meta.policy.get(qualifier) or None
        try:
            return (document(current) if current else None), account
        except ResourceNotFoundException:
            return None, account

    def _policy_target(self, ctx: CallContext, function_name: str, qualifier: str | None) -> tuple[Fn, str | None]:
        fn, qualifier = self._target(ctx, function_name, qualifier)
        if qualifier is not None:
            self.store.resolve(*fn, qualifier)  # the version or alias must exist
        return fn, qualifier

    def add_permission(self, ctx: CallContext, FunctionName: str, StatementId: str, Action: str, Principal: str,
                       SourceArn: str | None = None, SourceAccount: str | None = None,
                       Qualifier: str | None = None, RevisionId: str | None = None,
                       PrincipalOrgID: str | None = None, FunctionUrlAuthType: str | None = None,
                       **unused: Any) -> dict[str, Any]:
        with self._lock:
            fn, qualifier = self._policy_target(ctx, FunctionName, Qualifier)
            meta = self.store.require_meta(*fn)
            current = meta.policy.setdefault(qualifier or "", {})
            revision_check(RevisionId, current.get("revision", self._latest(fn).revision_id))
            new = statement(StatementId, Action, Principal, self._arn(fn, qualifier), source_arn=SourceArn,
                            source_account=SourceAccount, org_id=PrincipalOrgID, url_auth_type=FunctionUrlAuthType)
            add(current, new, new_revision())
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {"Statement": json.dumps(new, separators=(",", ":"))}

    def get_policy(self, ctx: CallContext, FunctionName: str, Qualifier: str | None = None) -> dict[str, Any]:
        fn, qualifier = self._policy_target(ctx, FunctionName, Qualifier)
        current = self.store.require_meta(*fn).policy.get(qualifier or "")
        return {"Policy": document(current), "RevisionId": (current or {}).get("revision", "")}

    def remove_permission(self, ctx: CallContext, FunctionName: str, StatementId: str,
                          Qualifier: str | None = None, RevisionId: str | None = None) -> dict[str, Any]:
        with self._lock:
            fn, qualifier = self._policy_target(ctx, FunctionName, Qualifier)
            meta = self.store.require_meta(*fn)
            current = meta.policy.get(qualifier or "")
            if not current:
                raise ResourceNotFoundException("No policy is associated with the given resource.")
            revision_check(RevisionId, current.get("revision", ""))
            remove(current, StatementId, new_revision())
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {}
