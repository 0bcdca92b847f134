"""Policies, statements and the authorization request, as plain frozen dataclasses.

Statement elements are kept normalised: ``Action``/``NotAction``, ``Resource``/``NotResource`` as
tuples of strings; ``Principal``/``NotPrincipal`` as a mapping of principal type (``AWS``,
``Service``, ``Federated``, ``CanonicalUser``, or ``*`` for the bare ``"Principal": "*"``) to a
tuple of values; ``Condition`` as ``((operator, ((key, (values...)), ...)), ...)`` in document
order. ``None`` means the element is absent (``NotAction`` absent differs from empty).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, NamedTuple, Sequence

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"

ContextValue = str | Sequence[str]


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    sid: str | None = None
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    principals: Mapping[str, tuple[str, ...]] | None = None
    not_principals: Mapping[str, tuple[str, ...]] | None = None
    conditions: tuple[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], ...] = ()
    index: int = 0  # position in the policy, for Simulate* MatchedStatements


@dataclass(frozen=True)
class Policy:
    statements: tuple[Statement, ...]
    version: str = VERSION_2008
    id: str | None = None
    # Where the policy came from, reported by Simulate* (e.g. "user_alice_inline", a policy ARN).
    source_id: str = ""
    source_type: str = ""  # IAM "PolicySourceType": user | group | role | aws-managed | user-managed | resource | none


@dataclass(frozen=True)
class PrincipalInfo:
    """The calling principal as policy evaluation needs it."""

    arn: str  # arn:aws:iam::1:user/alice | arn:aws:sts::1:assumed-role/R/s | arn:aws:iam::1:root | service name
    account: str
    kind: str = "user"  # root | user | assumed-role | federated-user | service | anonymous
    # For assumed-role sessions: the role's ARN (resource policies may name the role, not the session).
    role_arn: str = ""
    service: str = ""  # for service principals: "lambda.amazonaws.com"


class AuthzRequest(NamedTuple):
    """One authorization question. A named tuple rather than a frozen dataclass: enforcement builds
    one per request, and a tuple costs a fifth as much to build."""

    action: str  # "s3:GetObject"
    resource: str  # "arn:aws:s3:::bucket/key" or "*"
    principal: PrincipalInfo
    # The account owning the resource ("" = same as the principal's).
    resource_account: str = ""
    # Request context keys (case-insensitive names); multivalued keys hold sequences.
    context: Mapping[str, ContextValue] = MappingProxyType({})


@dataclass(frozen=True)
class MatchedStatement:
    source_id: str
    source_type: str
    effect: str
    index: int
    sid: str | None = None


@dataclass(frozen=True)
class Decision:
    decision: str  # "allowed" | "explicitDeny" | "implicitDeny"  (IAM Simulate* EvalDecision values)
    matched: tuple[MatchedStatement, ...] = ()
    # Which part decided: "explicit-deny", "resource-policy", "identity-policy", "root", "no-allow",
    # "boundary", "session-policy", "cross-account-resource" ... for messages and Simulate* details.
    reason: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"

    @property
    def explicit(self) -> bool:
        return self.decision == "explicitDeny"
