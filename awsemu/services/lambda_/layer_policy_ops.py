"""Layer version permissions (AddLayerVersionPermission, RemoveLayerVersionPermission,
GetLayerVersionPolicy), mixed into LambdaProvider.

A layer version's resource policy grants ``lambda:GetLayerVersion`` (the only action Lambda allows
on it) to one account, to every account (``*``) or to the accounts of an organization (``*`` with
an ``aws:PrincipalOrgID`` condition). It is kept beside the layer version's record::

    ("lambda", "lp", acct, region, layer, n) -> {"revision": ..., "statements": [...]}

and written the way Lambda writes it: statements ``{"Sid", "Effect": "Allow", "Principal", "Action",
"Resource": <layer version ARN>[, "Condition"]}`` with an account id turned into
``{"AWS": "arn:aws:iam::<id>:root"}``, inside ``{"Version": "2012-10-17", "Id": "default", ...}``.

In the iam auth mode the policy is the resource policy of the layer version's ARN: this mixin's
:meth:`resource_policy` answers for layer ARNs (and hands function ARNs to the function policies'),
and auth maps GetLayerVersion, GetLayerVersionByArn and the layers of CreateFunction /
UpdateFunctionConfiguration to ``lambda:GetLayerVersion`` on the layer version, so another
account reads a layer only when its policy allows it.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import layers, policy
from awsemu.services.lambda_.errors import (
    PreconditionFailedException,
    ResourceConflictException,
    ResourceNotFoundException,
    validation,
)
from awsemu.services.lambda_.functions import new_revision
from awsemu.services.lambda_.provider_parts import ProviderParts
from awsemu.storage.lsm.keycodec import encode

LAYER_ACTION = "lambda:GetLayerVersion"
PRINCIPAL_PATTERN = re.compile(r"^(\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root)$")
ORG_PATTERN = re.compile(r"^o-[a-z0-9]{10,32}$")
LAYER_REF = re.compile(
    r"^arn:(aws[a-zA-Z-]*)?:lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d{1}):(?P<account>\d{12}):layer:"
    r"(?P<name>[a-zA-Z0-9-_]{1,140})$"
)
LAYER_VERSION_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:(?P<region>[^:]+):(?P<account>\d{12}):layer:(?P<name>[a-zA-Z0-9-_]+):(?P<version>\d+)$"
)


def policy_key(account: str, region: str, name: str, version: int) -> bytes:
    return encode("lambda", "lp", account, region, name, version)


def layer_revision_check(expected: str | None, actual: str) -> None:
    if expected is not None and expected != actual:
        raise PreconditionFailedException(
            "The Revision Id provided does not match the latest Revision Id. "
            "Call the GetLayerPolicy API to retrieve the latest Revision Id"
        )


class LayerPolicyOperations(ProviderParts):
    """Needs from the provider: ``db``, ``layers`` and ``_lock``."""

    db: Any
    layers: layers.LayerStore
    _lock: threading.RLock

    # -- lookups -----------------------------------------------------------------------------
    def _layer_version(self, ctx: CallContext, layer_name: str, version: int) -> layers.LayerVersion:
        """The layer version a (LayerName, VersionNumber) names; LayerName may be the layer's ARN,
        of this or another account."""
        account, region, name = ctx.account_id, ctx.region, layer_name
        if layer_name.startswith("arn:"):
            match = LAYER_REF.match(layer_name)
            if match is None:
                raise validation(layer_name, "layerName", "Member must satisfy regular expression pattern: "
                                 r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+")
            account, region, name = match["account"], match["region"], match["name"]
        else:
            layers.check_name(layer_name)
        found = self.layers.get(account, region, name, version)
        if found is None:
            raise ResourceNotFoundException(
                f"Layer version arn:aws:lambda:{region}:{account}:layer:{name}:{version} does not exist."
            )
        return found

    def _layer_policy(self, layer: layers.LayerVersion) -> dict[str, Any]:
        raw = self.db.get(policy_key(layer.account, layer.region, layer.name, layer.version))
        return json.loads(raw) if raw is not None else {}

    def resource_policy(self, arn: str) -> tuple[str | None, str] | None:
        """(policy document | None, owner account) of a layer version ARN for the iam-mode
        evaluator (None: no such layer version); any other ARN goes to the function policies."""
        match = LAYER_VERSION_ARN.match(arn)
        if match is None:
            found: tuple[str | None, str] | None = super().resource_policy(arn)  # type: ignore[misc]
            return found
        layer = self.layers.get(match["account"], match["region"], match["name"], int(match["version"]))
        if layer is None:
            return None
        current = self._layer_policy(layer)
        return (policy.document(current) if current.get("statements") else None), layer.account

    # -- operations --------------------------------------------------------------------------
    def add_layer_version_permission(self, ctx: CallContext, LayerName: str, VersionNumber: int, StatementId: str,
                                     Action: str, Principal: str, OrganizationId: str | None = None,
                                     RevisionId: str | None = None) -> dict[str, Any]:
        if not policy.SID_PATTERN.match(StatementId or "") or len(StatementId) > 100:
            raise validation(StatementId, "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)")
        if Action != LAYER_ACTION:
            raise validation(Action, "action", f"Member must satisfy regular expression pattern: {LAYER_ACTION}")
        if not PRINCIPAL_PATTERN.match(Principal or ""):
            raise validation(Principal, "principal", "Member must satisfy regular expression pattern: "
                             r"\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root")
        if OrganizationId is not None and not ORG_PATTERN.match(OrganizationId):
            raise validation(OrganizationId, "organizationId",
                             "Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}")
        with self._lock:
            layer = self._layer_version(ctx, LayerName, VersionNumber)
            current = self._layer_policy(layer)
            statements: list[dict[str, Any]] = current.setdefault("statements", [])
            if any(s["Sid"] == StatementId for s in statements):
                raise ResourceConflictException(
                    f"The statement id ({StatementId}) provided already exists. Please provide a new statement id, "
                    "or remove the existing statement."
                )
            layer_revision_check(RevisionId, current.get("revision", ""))
            statement: dict[str, Any] = {"Sid": StatementId, "Effect": "Allow",
                                         "Principal": policy.principal(Principal), "Action": Action,
                                         "Resource": layer.arn}
            if OrganizationId:
                statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": OrganizationId}}
            statements.append(statement)
            current["revision"] = new_revision()
            self.db.put(policy_key(layer.account, layer.region, layer.name, layer.version),
                        json.dumps(current).encode())
        return {"Statement": json.dumps(statement, separators=(",", ":")), "RevisionId": current["revision"]}

    def get_layer_version_policy(self, ctx: CallContext, LayerName: str, VersionNumber: int) -> dict[str, Any]:
        layer = self._layer_version(ctx, LayerName, VersionNumber)
        current = self._layer_policy(layer)
        if not current.get("statements"):
            raise ResourceNotFoundException("No policy is associated with the given resource.")
        return {"Policy": policy.document(current), "RevisionId": current["revision"]}

    def remove_layer_version_permission(self, ctx: CallContext, LayerName: str, VersionNumber: int,
                                        StatementId: str, RevisionId: str | None = None) -> dict[str, Any]:
        with self._lock:
            layer = self._layer_version(ctx, LayerName, VersionNumber)
            current = self._layer_policy(layer)
            layer_revision_check(RevisionId, current.get("revision", ""))
            statements = current.get("statements", [])
            kept = [s for s in statements if s["Sid"] != StatementId]
            if len(kept) == len(statements):
                raise ResourceNotFoundException(f"Statement {StatementId} is not found in resource policy.")
            key = policy_key(layer.account, layer.region, layer.name, layer.version)
            if kept:
                self.db.put(key, json.dumps({"revision": new_revision(), "statements": kept}).encode())
            else:
                self.db.delete(key)
        return {}
