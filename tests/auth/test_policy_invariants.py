"""Hypothesis invariants of the evaluator: properties AWS's evaluation logic guarantees whatever the policies."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from awsemu.services.iam.policy import AuthzRequest, PrincipalInfo, evaluate, parse_policy
from awsemu.services.iam.policy.evaluate import verdict
from awsemu.services.iam.policy.parse import RESOURCE

A, B = "111122223333", "444455556666"
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "sqs:SendMessage", "dynamodb:PutItem"]
ACTION_PATTERNS = ACTIONS + ["s3:*", "*", "s3:Get*", "sqs:*", "dynamodb:Put?tem"]
RESOURCES = ["arn:aws:s3:::b/k", "arn:aws:s3:::b", "arn:aws:sqs:us-east-1:111122223333:q",
             "arn:aws:dynamodb:us-east-1:111122223333:table/t"]
RESOURCE_PATTERNS = RESOURCES + ["*", "arn:aws:s3:::b/*", "arn:aws:s3:::*", "arn:aws:sqs:*:*:*"]
PRINCIPALS = [
    PrincipalInfo(f"arn:aws:iam::{A}:user/alice", A, "user"),
    PrincipalInfo(f"arn:aws:sts::{A}:assumed-role/R/s", A, "assumed-role", role_arn=f"arn:aws:iam::{A}:role/R"),
    PrincipalInfo(f"arn:aws:iam::{B}:user/bob", B, "user"),
]
CONDITIONS = [None, {"Bool": {"aws:SecureTransport": "true"}}, {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
              {"StringNotEquals": {"aws:PrincipalTag/team": "x"}}, {"Null": {"aws:TokenIssueTime": "true"}}]
CONTEXTS = [{}, {"aws:SecureTransport": "true", "aws:SourceIp": "10.1.2.3"}, {"aws:PrincipalTag/team": "x"}]


@st.composite
def statements(draw, with_principal=False):
    s = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    s["NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action"] = draw(
        st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3))
    s["NotResource" if draw(st.booleans()) and draw(st.booleans()) else "Resource"] = draw(
        st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=3))
    cond = draw(st.sampled_from(CONDITIONS))
    if cond:
        s["Condition"] = cond
    if with_principal:
        s["Principal"] = draw(st.sampled_from(["*", {"AWS": A}, {"AWS": B}, {"AWS": PRINCIPALS[0].arn},
                                              {"AWS": f"arn:aws:iam::{A}:role/R"}]))
    return s


def policy(stmts, kind="identity"):
    return parse_policy({"Version": "2012-10-17", "Statement": stmts}, kind)


scenario = st.fixed_dictionaries({
    "identity": st.lists(st.lists(statements(), min_size=1, max_size=4), max_size=3),
    "resource": st.one_of(st.none(), st.lists(statements(True), min_size=1, max_size=3)),
    "boundary": st.one_of(st.none(), st.lists(statements(), min_size=1, max_size=2)),
    "session": st.one_of(st.none(), st.lists(statements(), min_size=1, max_size=2)),
    "principal": st.sampled_from(PRINCIPALS),
    "action": st.sampled_from(ACTIONS),
    "resource_arn": st.sampled_from(RESOURCES),
    "context": st.sampled_from(CONTEXTS),
})


def run(sc, extra_identity=(), extra_resource=()):
    identity = [policy(p) for p in sc["identity"]] + ([policy(list(extra_identity))] if extra_identity else [])
    res_stmts = (sc["resource"] or []) + list(extra_resource)
    return evaluate(
        AuthzRequest(sc["action"], sc["resource_arn"], sc["principal"], A, sc["context"]),
        identity_policies=identity,
        resource_policy=policy(res_stmts, RESOURCE) if res_stmts else None,
        permissions_boundary=policy(sc["boundary"]) if sc["boundary"] else None,
        session_policies=[policy(sc["session"])] if sc["session"] else None,
    )


@settings(max_examples=300, deadline=None)
@given(scenario)
def test_explicit_deny_always_wins(sc):
    assert run(sc, extra_identity=[{"Effect": "Deny", "Action": "*", "Resource": "*"}]).decision == "explicitDeny"


@settings(max_examples=300, deadline=None)
@given(scenario, statements())
def test_adding_an_allow_never_turns_allow_into_deny(sc, extra):
    before = run(sc)
    extra = {**extra, "Effect": "Allow"}
    after = run(sc, extra_identity=[extra])
    if before.allowed:
        assert after.allowed
    if before.decision == "explicitDeny":
        assert after.decision == "explicitDeny"


@settings(max_examples=300, deadline=None)
@given(scenario, statements())
def test_adding_a_deny_never_grants(sc, extra):
    before = run(sc)
    after = run(sc, extra_identity=[{**extra, "Effect": "Deny"}])
    if not before.allowed:
        assert not after.allowed


@settings(max_examples=200, deadline=None)
@given(scenario)
def test_statement_order_does_not_matter(sc):
    reversed_sc = {**sc, "identity": [list(reversed(p)) for p in reversed(sc["identity"])]}
    assert run(sc).decision == run(reversed_sc).decision


@settings(max_examples=200, deadline=None)
@given(scenario)
def test_boundary_and_session_never_widen(sc):
    unbounded = run({**sc, "boundary": None, "session": None})
    if run(sc).allowed and not sc["resource"]:
        assert unbounded.allowed


@settings(max_examples=200, deadline=None)
@given(scenario)
def test_no_allow_anywhere_means_denied(sc):
    only_denies = {**sc, "identity": [[{**s, "Effect": "Deny"} for s in p] for p in sc["identity"]],
                   "resource": [{**s, "Effect": "Deny"} for s in sc["resource"]] if sc["resource"] else None}
    assert not run(only_denies).allowed


@settings(max_examples=300, deadline=None)
@given(scenario, st.sampled_from(["", A, B]), st.booleans())
def test_verdict_agrees_with_evaluate(sc, resource_account, identity_only):
    """Enforcement's short cut (:func:`verdict`) decides exactly as the full evaluation does."""
    if identity_only:  # the short cut's own case, drawn often
        sc = {**sc, "resource": None, "boundary": None, "session": None}
    identity = [policy(p) for p in sc["identity"]]
    request = AuthzRequest(sc["action"], sc["resource_arn"], sc["principal"], resource_account, sc["context"])
    others = dict(resource_policy=policy(sc["resource"], RESOURCE) if sc["resource"] else None,
                  permissions_boundary=policy(sc["boundary"]) if sc["boundary"] else None,
                  session_policies=[policy(sc["session"])] if sc["session"] else None)
    full = evaluate(request, identity_policies=identity, **others)
    assert verdict(request, identity_policies=identity, **others) == (full.allowed, full.explicit)
