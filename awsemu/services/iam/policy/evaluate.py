"""AWS's policy evaluation logic (IAM User Guide, "Policy evaluation logic", "Determining whether a
request is allowed or denied within an account", "Cross-account policy evaluation logic",
"Permissions boundaries for IAM entities", "Session policies").

:func:`evaluate` decides one (action, resource) for one principal given the policies that apply:

1. An explicit ``Deny`` in any of them — identity, resource, boundary or session — denies.
2. Same account:
   - the account's root user is allowed (root is not bound by identity policies);
   - an ``Allow`` in the resource policy naming the principal *itself* (the user's ARN, the
     role-session ARN, the federated-user ARN) allows, whatever the identity policies, boundary
     and session policies say;
   - otherwise an ``Allow`` must come from an identity policy, or from the resource policy naming
     the role's ARN or the account (treated as if it were an identity policy), and then the
     permissions boundary (when set) and the session policies (when passed) must allow too, and so
     must every scope-down policy of the session (STS GetScopedCredentials: each call adds one
     layer, and the session's permissions are the intersection of all of them).
3. Cross-account: both sides must allow — the principal's own policies (identity ∩ boundary ∩
   session, root counting as allowed) and the resource policy in the resource's account, naming
   the principal, its role, or its account.
4. Otherwise the request is implicitly denied.

The result carries the IAM Simulate* decision (``allowed``/``explicitDeny``/``implicitDeny``) and
the statements that matched.
"""

from __future__ import annotations

import functools
import re
from typing import Iterable, Iterator, Mapping, Sequence

from awsemu.services.iam.policy.conditions import conditions_match
from awsemu.services.iam.policy.matchers import actions_regex, resources_matcher
from awsemu.services.iam.policy.model import (
    VERSION_2012,
    AuthzRequest,
    Decision,
    MatchedStatement,
    Policy,
    PrincipalInfo,
    Statement,
)
from awsemu.services.iam.policy.variables import arn_match, glob_match

_ACCOUNT_ROOT = re.compile(r"arn:aws[a-z\-]*:iam::(\d{12}):root")
_NO_CONTEXT: Mapping[str, Sequence[str]] = {}

# How a resource-policy statement names the principal (stronger first).
DIRECT, VIA_ROLE, VIA_ACCOUNT, VIA_ANYONE = "direct", "role", "account", "anyone"


def normalize_context(context: Mapping[str, object], principal: PrincipalInfo) -> dict[str, list[str]]:
    """Lower-case keys, list values; principal keys filled in when the caller left them out."""
    out: dict[str, list[str]] = {}
    for key, value in context.items():
        if value is None:
            continue
        if isinstance(value, str):
            out[key.lower()] = [value]
        elif isinstance(value, bool):
            out[key.lower()] = ["true" if value else "false"]
        elif isinstance(value, (int, float)):
            out[key.lower()] = [str(value)]
        else:
            out[key.lower()] = [str(v) for v in value]  # type: ignore[attr-defined]
    if principal.kind not in ("anonymous", "service"):
        out.setdefault("aws:principalarn", [principal.role_arn or principal.arn])
        out.setdefault("aws:principalaccount", [principal.account])
    return out


class LazyContext(Mapping[str, Sequence[str]]):
    """The normalized context, built on first use: most statements decide on action and resource
    alone, and then the request's context keys are never read (nor, when the caller passes a lazy
    mapping, even computed)."""

    __slots__ = ("_raw", "_principal", "_built")

    def __init__(self, raw: Mapping[str, object], principal: PrincipalInfo) -> None:
        self._raw = raw
        self._principal = principal
        self._built: dict[str, list[str]] | None = None

    def _ctx(self) -> dict[str, list[str]]:
        if self._built is None:
            self._built = normalize_context(self._raw, self._principal)
        return self._built

    def __getitem__(self, key: str) -> list[str]:
        return self._ctx()[key]

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        return self._ctx().get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ctx())

    def __len__(self) -> int:
        return len(self._ctx())


def action_matches(patterns: Iterable[str], action: str) -> bool:
    if isinstance(patterns, tuple):
        return actions_regex(patterns).fullmatch(action) is not None
    return any(p == "*" or glob_match(p, action, _NO_CONTEXT, False, ignore_case=True) for p in patterns)


def resource_matches(patterns: Iterable[str], resource: str, ctx: Mapping[str, Sequence[str]], subst: bool) -> bool:
    if isinstance(patterns, tuple) and resource != "*" and resource.count(":") >= 5:
        matcher = resources_matcher(patterns, subst)
        if matcher is not None:
            return matcher(resource)
    for p in patterns:
        if p == "*":
            return True
        if resource != "*" and arn_match(p, resource, ctx, subst):
            return True
    return False


def principal_match(principals: Mapping[str, Sequence[str]], who: PrincipalInfo) -> str | None:
    """How a Principal element names the caller (DIRECT, VIA_ROLE, VIA_ACCOUNT, VIA_ANYONE) or None."""
    best: str | None = None
    rank = {DIRECT: 0, VIA_ROLE: 1, VIA_ACCOUNT: 2, VIA_ANYONE: 3}
    for kind, ids in principals.items():
        for ident in ids:
            how = None
            if kind == "*" or (kind == "AWS" and ident == "*"):
                how = VIA_ANYONE
            elif kind == "AWS" and who.kind not in ("anonymous", "service"):
                root = _ACCOUNT_ROOT.fullmatch(ident)
                if ident == who.account or (root and root.group(1) == who.account):
                    how = DIRECT if who.kind == "root" else VIA_ACCOUNT
                elif ident == who.arn:
                    how = DIRECT
                elif who.role_arn and ident == who.role_arn:
                    how = VIA_ROLE
            elif kind in ("Service", "Federated") and who.kind in ("service", "web-identity", "saml"):
                if ident == who.service:
                    how = DIRECT
            if how is not None and (best is None or rank[how] < rank[best]):
                best = how
    return best


def statement_applies(stmt: Statement, req: AuthzRequest, ctx: Mapping[str, Sequence[str]], version: str,
                      with_principal: bool) -> str | None:
    """None when the statement does not apply; otherwise how the principal matched ("" without
    principal checks)."""
    if not _admits_action(stmt, req.action):
        return None
    return _applies_beyond_action(stmt, req, ctx, version, with_principal)


def _admits_action(stmt: Statement, action: str) -> bool:
    if stmt.actions is not None and not action_matches(stmt.actions, action):
        return False
    if stmt.not_actions is not None and action_matches(stmt.not_actions, action):
        return False
    return True


# id(policy) -> (policy, {action: statements admitting it}). The policy is held by its entry, so its
# id cannot be reused while the entry lives. Bounded: cleared when it grows past the limits.
_BY_ACTION: dict[int, tuple[Policy, dict[str, tuple[Statement, ...]]]] = {}
_BY_ACTION_POLICIES = 4096
_BY_ACTION_ACTIONS = 1024


def statements_for_action(policy: Policy, action: str) -> tuple[Statement, ...]:
    """The statements of ``policy`` whose ``Action``/``NotAction`` admits ``action``, worked out once
    per (policy, action): whether an action matches never depends on the request context, so a
    principal's policies are sifted once per action and each request only checks the survivors'
    resources, principals and conditions."""
    entry = _BY_ACTION.get(id(policy))
    if entry is None or entry[0] is not policy:
        if len(_BY_ACTION) >= _BY_ACTION_POLICIES:
            _BY_ACTION.clear()
        entry = _BY_ACTION[id(policy)] = (policy, {})
    by_action = entry[1]
    found = by_action.get(action)
    if found is None:
        if len(by_action) >= _BY_ACTION_ACTIONS:
            by_action.clear()
        found = by_action[action] = tuple(stmt for stmt in policy.statements if _admits_action(stmt, action))
    return found


def _applies_beyond_action(stmt: Statement, req: AuthzRequest, ctx: Mapping[str, Sequence[str]], version: str,
                           with_principal: bool) -> str | None:
    """:func:`statement_applies` for a statement already known to admit the action."""
    subst = version == VERSION_2012
    if stmt.resources is not None and not resource_matches(stmt.resources, req.resource, ctx, subst):
        return None
    if stmt.not_resources is not None and resource_matches(stmt.not_resources, req.resource, ctx, subst):
        return None
    how = ""
    if with_principal:
        if stmt.principals is not None:
            found = principal_match(stmt.principals, req.principal)
            if found is None:
                return None
            how = found
        elif stmt.not_principals is not None:
            if principal_match(stmt.not_principals, req.principal) is not None:
                return None
            how = VIA_ANYONE
        else:
            return None
    if stmt.conditions and not conditions_match(stmt.conditions, ctx, subst):
        return None
    return how


@functools.lru_cache(maxsize=8192)
def _matched(source_id: str, source_type: str, effect: str, index: int, sid: str | None) -> MatchedStatement:
    # Interned: the same statements match request after request.
    return MatchedStatement(source_id, source_type, effect, index, sid)


def _scan(policies: Iterable[Policy], req: AuthzRequest, ctx: Mapping[str, Sequence[str]], with_principal: bool,
          denies: list[MatchedStatement]) -> list[tuple[MatchedStatement, str]]:
    """Appends the matching Deny statements to ``denies``; returns the matching Allows with how
    the principal matched."""
    allows: list[tuple[MatchedStatement, str]] = []
    action = req.action
    for policy in policies:
        for stmt in statements_for_action(policy, action):
            how = _applies_beyond_action(stmt, req, ctx, policy.version, with_principal)
            if how is None:
                continue
            hit = _matched(policy.source_id, policy.source_type, stmt.effect, stmt.index, stmt.sid)
            if stmt.effect == "Deny":
                denies.append(hit)
            else:
                allows.append((hit, how))
    return allows


_NONE: list[tuple[MatchedStatement, str]] = []  # read-only: "no statement matched"


def _statements(*groups: list[tuple[MatchedStatement, str]]) -> tuple[MatchedStatement, ...]:
    return tuple(m for group in groups for m, _ in group)


def evaluate(
    request: AuthzRequest,
    identity_policies: Sequence[Policy] = (),
    resource_policy: Policy | None = None,
    permissions_boundary: Policy | None = None,
    session_policies: Sequence[Policy] | None = None,
    scope_policies: Sequence[Policy] = (),
) -> Decision:
    """Decide one request. ``session_policies`` None means no session policy was passed (an empty
    sequence would mean "passed, allowing nothing"); they allow as a set. ``scope_policies`` are
    layers: each one must allow."""
    principal = request.principal
    ctx = LazyContext(request.context, principal)
    denies: list[MatchedStatement] = []
    identity_allows = _scan(identity_policies, request, ctx, False, denies) if identity_policies else _NONE
    resource_allows = _scan((resource_policy,), request, ctx, True, denies) if resource_policy is not None else _NONE
    boundary_allows = (_scan((permissions_boundary,), request, ctx, False, denies)
                       if permissions_boundary is not None else _NONE)
    session_allows = _scan(session_policies, request, ctx, False, denies) if session_policies is not None else _NONE
    scope_allows = [_scan((layer,), request, ctx, False, denies) for layer in scope_policies]
    if denies:
        return Decision("explicitDeny", tuple(denies), "explicit-deny")

    same_account = not request.resource_account or request.resource_account == principal.account
    hows = {how for _, how in resource_allows} if resource_allows else ()
    boundary_ok = permissions_boundary is None or bool(boundary_allows)
    session_ok = (session_policies is None or bool(session_allows)) and all(scope_allows)
    if scope_allows:
        session_allows = [*session_allows, *(hit for layer in scope_allows for hit in layer)]

    if principal.kind == "root" and same_account:
        return Decision("allowed", _statements(resource_allows), "root")
    if principal.kind in ("anonymous", "service"):
        if VIA_ANYONE in hows or DIRECT in hows:
            return Decision("allowed", _statements(resource_allows), "resource-policy")
        return Decision("implicitDeny", (), "no-allow")

    own_allow = principal.kind == "root" or bool(identity_allows)
    if same_account:
        if DIRECT in hows or VIA_ANYONE in hows:
            return Decision("allowed", _statements(resource_allows), "resource-policy")
        if VIA_ROLE in hows or VIA_ACCOUNT in hows:
            own_allow = True
        return _principal_side_denial(own_allow, boundary_ok, session_ok) or Decision(
            "allowed", _statements(identity_allows, resource_allows, boundary_allows, session_allows),
            "identity-policy")

    # Cross-account: the principal's side and the resource's side must both allow.
    denial = _principal_side_denial(own_allow, boundary_ok, session_ok)
    if denial is not None:
        return denial
    if not resource_allows:
        return Decision("implicitDeny", (), "cross-account-resource")
    return Decision("allowed", _statements(identity_allows, resource_allows, boundary_allows, session_allows),
                    "cross-account")


def _principal_side_denial(own_allow: bool, boundary_ok: bool, session_ok: bool) -> Decision | None:
    """The principal's own side (an Allow, then the boundary, then the session policies), checked
    in that order in the same-account and the cross-account case alike."""
    if not own_allow:
        return Decision("implicitDeny", (), "no-allow")
    if not boundary_ok:
        return Decision("implicitDeny", (), "boundary")
    if not session_ok:
        return Decision("implicitDeny", (), "session-policy")
    return None


# Principal kinds whose identity policies alone decide a same-account request without a resource
# policy, boundary or session policy (root is allowed outright; anonymous and service principals
# need a resource policy).
_IDENTITY_DECIDES = frozenset({"user", "assumed-role", "federated-user"})


def verdict(
    request: AuthzRequest,
    identity_policies: Sequence[Policy] = (),
    resource_policy: Policy | None = None,
    permissions_boundary: Policy | None = None,
    session_policies: Sequence[Policy] | None = None,
    scope_policies: Sequence[Policy] = (),
) -> tuple[bool, bool]:
    """``(allowed, explicitly denied)`` — :func:`evaluate`'s decision without its details, for
    enforcement, which needs nothing else.

    In the common case (same account, identity policies only) the logic above reduces to "denied
    if a Deny applies, else allowed if an Allow applies": that is computed directly, stopping at
    the first applicable Deny, with no record of the matched statements. Every other case goes
    through :func:`evaluate`.
    """
    principal = request.principal
    if (resource_policy is not None or permissions_boundary is not None or session_policies is not None
            or scope_policies or principal.kind not in _IDENTITY_DECIDES
            or (request.resource_account and request.resource_account != principal.account)):
        decision = evaluate(request, identity_policies, resource_policy, permissions_boundary, session_policies,
                            scope_policies)
        return decision.allowed, decision.explicit
    ctx = LazyContext(request.context, principal)
    action = request.action
    allowed = False
    for policy in identity_policies:
        for stmt in statements_for_action(policy, action):
            if _applies_beyond_action(stmt, request, ctx, policy.version, False) is None:
                continue
            if stmt.effect == "Deny":
                return False, True
            allowed = True
    return allowed, False


def resource_policy_allows(policy: Policy, request: AuthzRequest) -> bool:
    """True when a resource-based policy by itself allows the principal (an Allow names it, no
    Deny applies). Role trust policies are checked this way: the trust policy must allow the
    principal whatever its identity policies say (IAM User Guide, "Granting a user permissions to
    switch roles")."""
    ctx = LazyContext(request.context, request.principal)
    allowed = False
    for stmt in policy.statements:
        if statement_applies(stmt, request, ctx, policy.version, True) is None:
            continue
        if stmt.effect == "Deny":
            return False
        allowed = True
    return allowed
