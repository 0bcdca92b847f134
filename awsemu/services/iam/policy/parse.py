"""Policy JSON -> :class:`~model.Policy`, validated the way IAM validates (``MalformedPolicyDocument``).

The grammar is the IAM User Guide's "Grammar of the IAM JSON policy language": a top level of
``Version``, ``Id``, ``Statement`` (an object or a list); each statement has ``Effect`` (Allow or
Deny), exactly one of ``Action``/``NotAction``, exactly one of ``Resource``/``NotResource`` (not in
trust policies, where the principal is the subject), ``Principal``/``NotPrincipal`` only in
resource-based and trust policies, an optional ``Sid`` and ``Condition``. Values may be a string or a
list of strings.

Messages are IAM's own, as it returns them for CreatePolicy/PutUserPolicy/UpdateAssumeRolePolicy:
"Syntax errors in policy.", "The policy failed legacy parsing", "Policy document should not specify
a principal.", "Policy statement must contain actions.", "Policy statement must contain
resources.", "Missing required field Principal", "Has prohibited field Resource",
"Statement IDs (SID) in a single policy must be unique.", "Actions/Conditions must be prefaced by a
vendor, e.g., iam, sdb, ec2, etc.", "Resource X must be in ARN format or \\"*\\"."
"""

from __future__ import annotations

import json
from typing import Any

from awsemu.services.iam.policy.conditions import known_operator
from awsemu.services.iam.policy.model import VERSION_2008, VERSION_2012, Policy, Statement

IDENTITY = "identity"  # user/group/role inline and managed policies, boundaries, session policies
RESOURCE = "resource"  # bucket, queue, function policies
TRUST = "trust"  # role trust (assume-role) policies

_TOP_FIELDS = {"Version", "Id", "Statement"}
_STATEMENT_FIELDS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
                     "NotPrincipal", "Condition"}


class MalformedPolicy(ValueError):
    """A policy IAM would refuse; ``str(error)`` is IAM's message."""


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MalformedPolicy("Syntax errors in policy.")


def _principal(value: Any) -> dict[str, tuple[str, ...]]:
    if value == "*":
        return {"*": ("*",)}
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy("Syntax errors in policy.")
    out: dict[str, tuple[str, ...]] = {}
    for kind, ids in value.items():
        if kind not in ("AWS", "Service", "Federated", "CanonicalUser"):
            raise MalformedPolicy("Syntax errors in policy.")
        out[kind] = _strings(ids)
        for ident in out[kind]:
            if kind == "AWS" and ident != "*" and not (ident.isdigit() and len(ident) == 12) and not ident.startswith("arn:"):
                raise MalformedPolicy(f"Invalid principal in policy: \"AWS\":\"{ident}\"")
    return out


def _condition(value: Any) -> tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...]:
    if not isinstance(value, dict):
        raise MalformedPolicy("Syntax errors in policy.")
    blocks = []
    for operator, body in value.items():
        if not known_operator(operator):
            raise MalformedPolicy(f"Invalid Condition type : {operator}")
        if not isinstance(body, dict):
            raise MalformedPolicy("Syntax errors in policy.")
        keys = []
        for key, raw in body.items():
            if ":" not in key:
                raise MalformedPolicy("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
            raw_values = raw if isinstance(raw, list) else [raw]
            values = []
            for v in raw_values:
                if isinstance(v, bool):
                    values.append("true" if v else "false")
                elif isinstance(v, (str, int, float)):
                    values.append(str(v))
                else:
                    raise MalformedPolicy("Syntax errors in policy.")
            keys.append((key, tuple(values)))
        blocks.append((operator, tuple(keys)))
    return tuple(blocks)


def _check_action(action: str) -> None:
    if action != "*" and ":" not in action:
        raise MalformedPolicy("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")


def _check_resource(resource: str) -> None:
    if resource == "*" or resource.startswith("${"):
        return
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        raise MalformedPolicy(f"Resource {resource} must be in ARN format or \"*\".")
    if not parts[2]:
        raise MalformedPolicy("Resource vendor must be fully qualified and cannot contain regexes.")


def _statement(raw: Any, index: int, kind: str) -> Statement:
    if not isinstance(raw, dict):
        raise MalformedPolicy("Syntax errors in policy.")
    unknown = set(raw) - _STATEMENT_FIELDS
    if unknown:
        raise MalformedPolicy("Syntax errors in policy.")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy("Syntax errors in policy.")
    if "Action" in raw and "NotAction" in raw:
        raise MalformedPolicy("Syntax errors in policy.")
    if "Resource" in raw and "NotResource" in raw:
        raise MalformedPolicy("Syntax errors in policy.")
    if "Principal" in raw and "NotPrincipal" in raw:
        raise MalformedPolicy("Syntax errors in policy.")
    has_principal = "Principal" in raw or "NotPrincipal" in raw
    if kind == IDENTITY and has_principal:
        raise MalformedPolicy("Policy document should not specify a principal.")
    if kind in (RESOURCE, TRUST) and not has_principal:
        raise MalformedPolicy("Missing required field Principal")
    if "Action" not in raw and "NotAction" not in raw:
        raise MalformedPolicy("Policy statement must contain actions.")
    if kind == TRUST and ("Resource" in raw or "NotResource" in raw):
        raise MalformedPolicy("Has prohibited field Resource")
    if kind != TRUST and "Resource" not in raw and "NotResource" not in raw:
        raise MalformedPolicy("Policy statement must contain resources.")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicy("Syntax errors in policy.")
    actions = _strings(raw["Action"]) if "Action" in raw else None
    not_actions = _strings(raw["NotAction"]) if "NotAction" in raw else None
    for a in actions or not_actions or ():
        _check_action(a)
    resources = _strings(raw["Resource"]) if "Resource" in raw else None
    not_resources = _strings(raw["NotResource"]) if "NotResource" in raw else None
    for r in resources or not_resources or ():
        _check_resource(r)
    if (actions is not None and not actions) or (resources is not None and not resources and kind != TRUST):
        raise MalformedPolicy("Syntax errors in policy.")
    return Statement(
        effect=effect,
        sid=sid,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principals=_principal(raw["Principal"]) if "Principal" in raw else None,
        not_principals=_principal(raw["NotPrincipal"]) if "NotPrincipal" in raw else None,
        conditions=_condition(raw["Condition"]) if "Condition" in raw else (),
        index=index,
    )


def parse_policy(text: str | dict[str, Any], kind: str = IDENTITY, source_id: str = "", source_type: str = "") -> Policy:
    """Parse and validate a policy document; raises :class:`MalformedPolicy` with IAM's message."""
    if isinstance(text, str):
        try:
            doc = json.loads(text)
        except ValueError:
            raise MalformedPolicy("Syntax errors in policy.") from None
    else:
        doc = text
    if not isinstance(doc, dict) or "Statement" not in doc or set(doc) - _TOP_FIELDS:
        raise MalformedPolicy("Syntax errors in policy.")
    version = doc.get("Version", VERSION_2008)
    if version not in (VERSION_2012, VERSION_2008):
        raise MalformedPolicy("The policy failed legacy parsing")
    raw_statements = doc["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise MalformedPolicy("Syntax errors in policy.")
    statements = tuple(_statement(s, i, kind) for i, s in enumerate(raw_statements))
    sids = [s.sid for s in statements if s.sid]
    if len(sids) != len(set(sids)):
        raise MalformedPolicy("Statement IDs (SID) in a single policy must be unique.")
    policy_id = doc.get("Id")
    return Policy(statements, version, policy_id if isinstance(policy_id, str) else None, source_id, source_type)
