"""MalformedPolicyDocument validation: IAM's messages for the grammar errors it reports."""

from __future__ import annotations

import pytest

from awsemu.services.iam.policy import MalformedPolicy, parse_policy
from awsemu.services.iam.policy.parse import RESOURCE, TRUST

OK = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def d(*stmts, version="2012-10-17"):
    return {"Version": version, "Statement": list(stmts)}


@pytest.mark.parametrize("doc,kind,message", [
    ("{not json", "identity", "Syntax errors in policy."),
    (d(OK, version="2012-10-18"), "identity", "The policy failed legacy parsing"),
    (d({**OK, "Principal": "*"}), "identity", "Policy document should not specify a principal."),
    (d({"Effect": "Allow", "Resource": "*"}), "identity", "Policy statement must contain actions."),
    (d({"Effect": "Allow", "Action": "s3:*"}), "identity", "Policy statement must contain resources."),
    (d({"Effect": "Allow", "Action": "sts:AssumeRole"}), TRUST, "Missing required field Principal"),
    (d({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}, "Resource": "*"}),
     TRUST, "Has prohibited field Resource"),
    (d({**OK, "Sid": "a"}, {**OK, "Sid": "a"}), "identity", "Statement IDs (SID) in a single policy must be unique."),
    (d({**OK, "Action": "GetObject"}), "identity", "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
    (d({**OK, "Resource": "bucket"}), "identity", 'Resource bucket must be in ARN format or "*".'),
    (d({**OK, "Effect": "Maybe"}), "identity", "Syntax errors in policy."),
    (d({**OK, "Condition": {"StringEqualz": {"aws:username": "x"}}}), "identity", "Invalid Condition type : StringEqualz"),
    ({"Version": "2012-10-17"}, "identity", "Syntax errors in policy."),
    (d(OK), RESOURCE, "Missing required field Principal"),
])
def test_malformed(doc, kind, message):
    import json
    with pytest.raises(MalformedPolicy) as exc:
        parse_policy(doc if isinstance(doc, str) else json.dumps(doc), kind)
    assert str(exc.value) == message


def test_valid_forms():
    p = parse_policy('{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"arn:aws:s3:::b",'
                     '"Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*"]},"Bool":{"aws:SecureTransport":false}}}}')
    s = p.statements[0]
    assert s.effect == "Deny" and s.not_actions == ("iam:*",) and s.not_resources == ("arn:aws:s3:::b",)
    assert ("Bool", (("aws:SecureTransport", ("false",)),)) in s.conditions
    trust = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "123456789012"},
                                                                  "Action": "sts:AssumeRole"}]}, TRUST)
    assert trust.statements[0].principals == {"AWS": ("123456789012",)}
