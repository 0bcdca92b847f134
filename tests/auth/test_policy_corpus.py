"""The evaluator test corpus, written from the IAM User Guide's evaluation-logic pages.

Each case names the page (and example) it encodes. Pages:
  [LOGIC]      "Policy evaluation logic" / "Determining whether a request is allowed or denied within an account"
  [XACCT]      "Cross-account policy evaluation logic"
  [BOUNDARY]   "Permissions boundaries for IAM entities" (evaluating effective permissions with boundaries)
  [SESSION]    "Session policies" (in "Policies and permissions in IAM")
  [OPS]        "IAM JSON policy elements: Condition operators"
  [MULTI]      "Single-valued vs. multivalued context keys" (set operators)
  [VARS]       "IAM policy elements: Variables and tags"
  [NOTACTION]  "IAM JSON policy elements: NotAction"
  [NOTRES]     "IAM JSON policy elements: NotResource"
  [NOTPRIN]    "IAM JSON policy elements: NotPrincipal"
  [PRINCIPAL]  "IAM JSON policy elements: Principal"
  [EXAMPLES]   "Example IAM identity-based policies"
"""

from __future__ import annotations

import json

import pytest

from awsemu.services.iam.policy import AuthzRequest, PrincipalInfo, evaluate, parse_policy
from awsemu.services.iam.policy.parse import RESOURCE

A, B = "111122223333", "444455556666"
CARLOS = PrincipalInfo(f"arn:aws:iam::{A}:user/carlos", A, "user")
ROLE_ARN = f"arn:aws:iam::{A}:role/S3Reader"
SESSION = PrincipalInfo(f"arn:aws:sts::{A}:assumed-role/S3Reader/sess", A, "assumed-role", role_arn=ROLE_ARN)
ROOT_A = PrincipalInfo(f"arn:aws:iam::{A}:root", A, "root")
BOB_B = PrincipalInfo(f"arn:aws:iam::{B}:user/bob", B, "user")
ROOT_B = PrincipalInfo(f"arn:aws:iam::{B}:root", B, "root")
ANON = PrincipalInfo("*", "", "anonymous")


def doc(*statements, version="2012-10-17"):
    return {"Version": version, "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


BUCKET = "arn:aws:s3:::amzn-s3-demo-bucket"
OBJ = BUCKET + "/users/carlos/notes.txt"

# (id, page, identity policies, resource policy, boundary, session policies, principal, action, resource,
#  resource account, context, expected decision)
CASES = [
    ("implicit-deny-no-policy", "[LOGIC] by default all requests are implicitly denied",
     [], None, None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "implicitDeny"),
    ("identity-allow", "[LOGIC] an explicit allow in an identity-based policy overrides the default",
     [doc(allow("s3:GetObject", BUCKET + "/*"))], None, None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "allowed"),
    ("explicit-deny-overrides-allow", "[LOGIC] an explicit deny in any policy overrides any allows",
     [doc(allow("s3:*", "*")), doc(deny("s3:GetObject", BUCKET + "/*"))], None, None, None, CARLOS,
     "s3:GetObject", OBJ, "", {}, "explicitDeny"),
    ("explicit-deny-in-resource-policy", "[LOGIC] a deny in a resource-based policy overrides an identity allow",
     [doc(allow("s3:*"))], doc({"Effect": "Deny", "Principal": {"AWS": CARLOS.arn}, "Action": "s3:*", "Resource": BUCKET + "/*"}),
     None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "explicitDeny"),
    ("resource-policy-alone-same-account", "[LOGIC] identity-based and resource-based policies: union within an account",
     [], doc({"Effect": "Allow", "Principal": {"AWS": CARLOS.arn}, "Action": "s3:GetObject", "Resource": BUCKET + "/*"}),
     None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "allowed"),
    ("resource-policy-other-user", "[LOGIC] a resource policy naming another principal grants nothing to carlos",
     [], doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:user/maria"}, "Action": "s3:GetObject", "Resource": BUCKET + "/*"}),
     None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "implicitDeny"),
    ("action-not-matched", "[LOGIC] an allow for other actions leaves the request implicitly denied",
     [doc(allow("s3:GetObject", BUCKET + "/*"))], None, None, None, CARLOS, "s3:PutObject", OBJ, "", {}, "implicitDeny"),
    ("action-wildcard-case-insensitive", "[EXAMPLES] action names are case-insensitive with wildcards",
     [doc(allow("S3:get*", BUCKET + "/*"))], None, None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "allowed"),
    ("resource-case-sensitive", "[EXAMPLES] resource ARNs are case-sensitive",
     [doc(allow("s3:GetObject", "arn:aws:s3:::AMZN-S3-DEMO-BUCKET/*"))], None, None, None, CARLOS,
     "s3:GetObject", OBJ, "", {}, "implicitDeny"),
    ("root-same-account", "[LOGIC] the root user has full access to its account's resources",
     [], None, None, None, ROOT_A, "s3:DeleteBucket", BUCKET, "", {}, "allowed"),
    ("root-denied-by-resource-policy", "[LOGIC] an explicit deny in a resource policy applies to the root user too",
     [], doc({"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": BUCKET}),
     None, None, ROOT_A, "s3:DeleteBucket", BUCKET, "", {}, "explicitDeny"),
    # --- cross-account ---
    ("xacct-identity-only", "[XACCT] an identity policy alone does not grant access to another account's resource",
     [doc(allow("s3:GetObject", BUCKET + "/*"))], None, None, None, BOB_B, "s3:GetObject", OBJ, A, {}, "implicitDeny"),
    ("xacct-resource-only", "[XACCT] a resource policy trusting the account is not enough without identity permissions",
     [], doc({"Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": BUCKET + "/*"}),
     None, None, BOB_B, "s3:GetObject", OBJ, A, {}, "implicitDeny"),
    ("xacct-both", "[XACCT] access is allowed when both the identity and the resource policies allow",
     [doc(allow("s3:GetObject", BUCKET + "/*"))],
     doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{B}:root"}, "Action": "s3:GetObject", "Resource": BUCKET + "/*"}),
     None, None, BOB_B, "s3:GetObject", OBJ, A, {}, "allowed"),
    ("xacct-root-with-resource-policy", "[XACCT] the trusted account's root is allowed once the resource policy trusts the account",
     [], doc({"Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:GetObject", "Resource": BUCKET + "/*"}),
     None, None, ROOT_B, "s3:GetObject", OBJ, A, {}, "allowed"),
    ("xacct-deny-in-identity", "[XACCT] an explicit deny in the requester's identity policy wins",
     [doc(allow("s3:*"), deny("s3:GetObject"))],
     doc({"Effect": "Allow", "Principal": {"AWS": B}, "Action": "s3:*", "Resource": BUCKET + "/*"}),
     None, None, BOB_B, "s3:GetObject", OBJ, A, {}, "explicitDeny"),
    # --- boundaries ---
    ("boundary-limits-identity", "[BOUNDARY] effective permissions are the intersection of identity policy and boundary",
     [doc(allow("iam:CreateUser"))], None, doc(allow(["s3:*", "cloudwatch:*", "ec2:*"])), None,
     CARLOS, "iam:CreateUser", f"arn:aws:iam::{A}:user/x", "", {}, "implicitDeny"),
    ("boundary-and-identity-allow", "[BOUNDARY] allowed when both the identity policy and the boundary allow",
     [doc(allow("s3:*"))], None, doc(allow(["s3:*", "cloudwatch:*", "ec2:*"])), None,
     CARLOS, "s3:GetObject", OBJ, "", {}, "allowed"),
    ("boundary-alone-grants-nothing", "[BOUNDARY] a boundary by itself does not grant permissions",
     [], None, doc(allow("s3:*")), None, CARLOS, "s3:GetObject", OBJ, "", {}, "implicitDeny"),
    ("boundary-does-not-limit-direct-resource-grant", "[BOUNDARY] within an account, a resource-based policy granting the user ARN is not limited by the boundary's implicit deny",
     [], doc({"Effect": "Allow", "Principal": {"AWS": CARLOS.arn}, "Action": "s3:GetObject", "Resource": BUCKET + "/*"}),
     doc(allow("ec2:*")), None, CARLOS, "s3:GetObject", OBJ, "", {}, "allowed"),
    ("boundary-explicit-deny", "[BOUNDARY] an explicit deny in a boundary denies even a resource-policy grant",
     [], doc({"Effect": "Allow", "Principal": {"AWS": CARLOS.arn}, "Action": "s3:GetObject", "Resource": BUCKET + "/*"}),
     doc(allow("*"), deny("s3:*")), None, CARLOS, "s3:GetObject", OBJ, "", {}, "explicitDeny"),
    # --- session policies ---
    ("session-narrows-role", "[SESSION] the session's permissions are the intersection of the role's policies and the session policies",
     [doc(allow("s3:*"))], None, None, [doc(allow("s3:GetObject", BUCKET + "/*"))], SESSION,
     "s3:PutObject", OBJ, "", {}, "implicitDeny"),
    ("session-allows-subset", "[SESSION] an action in both the role policy and the session policy is allowed",
     [doc(allow("s3:*"))], None, None, [doc(allow("s3:GetObject", BUCKET + "/*"))], SESSION,
     "s3:GetObject", OBJ, "", {}, "allowed"),
    ("session-cannot-widen", "[SESSION] session policies cannot grant more than the role's identity policies",
     [doc(allow("s3:GetObject", BUCKET + "/*"))], None, None, [doc(allow("*"))], SESSION,
     "s3:PutObject", OBJ, "", {}, "implicitDeny"),
    ("session-arn-resource-grant", "[SESSION] a resource policy naming the session ARN is not limited by the session policy",
     [], doc({"Effect": "Allow", "Principal": {"AWS": SESSION.arn}, "Action": "s3:PutObject", "Resource": BUCKET + "/*"}),
     None, [doc(allow("s3:GetObject"))], SESSION, "s3:PutObject", OBJ, "", {}, "allowed"),
    ("role-arn-resource-grant-limited-by-session", "[SESSION] a resource policy naming the role ARN is limited by the session policy",
     [], doc({"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": "s3:PutObject", "Resource": BUCKET + "/*"}),
     None, [doc(allow("s3:GetObject"))], SESSION, "s3:PutObject", OBJ, "", {}, "implicitDeny"),
    ("role-arn-resource-grant", "[PRINCIPAL] a role ARN as principal covers the role's sessions",
     [], doc({"Effect": "Allow", "Principal": {"AWS": ROLE_ARN}, "Action": "s3:PutObject", "Resource": BUCKET + "/*"}),
     None, None, SESSION, "s3:PutObject", OBJ, "", {}, "allowed"),
    # --- NotAction / NotResource / NotPrincipal ---
    ("notaction-allow-all-but-iam", "[NOTACTION] allow everything except IAM: an IAM action is implicitly denied",
     [doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})], None, None, None, CARLOS,
     "iam:CreateUser", "*", "", {}, "implicitDeny"),
    ("notaction-allow-other-service", "[NOTACTION] ...and other services are allowed",
     [doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})], None, None, None, CARLOS,
     "s3:ListAllMyBuckets", "*", "", {}, "allowed"),
    ("notaction-deny-unless-mfa", "[NOTACTION] deny all but IAM user self-management without MFA",
     [doc(allow("*"), {"Effect": "Deny", "NotAction": ["iam:ChangePassword", "iam:GetUser"], "Resource": "*",
                       "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "explicitDeny"),
    ("notaction-deny-mfa-present", "[NOTACTION] ...the same policy allows once MFA is present",
     [doc(allow("*"), {"Effect": "Deny", "NotAction": ["iam:ChangePassword", "iam:GetUser"], "Resource": "*",
                       "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:MultiFactorAuthPresent": "true"}, "allowed"),
    ("notresource-deny-outside-bucket", "[NOTRES] deny everything except one bucket",
     [doc(allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": [BUCKET, BUCKET + "/*"]})],
     None, None, None, CARLOS, "s3:GetObject", "arn:aws:s3:::other/x", "", {}, "explicitDeny"),
    ("notresource-inside-bucket", "[NOTRES] ...while the named bucket stays allowed",
     [doc(allow("s3:*"), {"Effect": "Deny", "Action": "s3:*", "NotResource": [BUCKET, BUCKET + "/*"]})],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "allowed"),
    ("notprincipal-deny-others", "[NOTPRIN] deny all principals except the named user",
     [doc(allow("s3:*"))], doc({"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{A}:user/maria"},
                                "Action": "s3:*", "Resource": BUCKET + "/*"}),
     None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "explicitDeny"),
    ("notprincipal-excluded", "[NOTPRIN] the excluded principal is not denied",
     [doc(allow("s3:*"))], doc({"Effect": "Deny", "NotPrincipal": {"AWS": CARLOS.arn}, "Action": "s3:*", "Resource": BUCKET + "/*"}),
     None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "allowed"),
    ("anonymous-public-read", "[PRINCIPAL] \"Principal\": \"*\" grants anonymous access",
     [], doc({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": BUCKET + "/*"}),
     None, None, ANON, "s3:GetObject", OBJ, A, {}, "allowed"),
    ("anonymous-no-policy", "[PRINCIPAL] anonymous requests without a resource policy grant are denied",
     [], None, None, None, ANON, "s3:GetObject", OBJ, A, {}, "implicitDeny"),
    # --- condition operators ---
    ("sourceip-in-range", "[OPS] IpAddress aws:SourceIp 203.0.113.0/24 example",
     [doc(allow("s3:*", "*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))], None, None, None,
     CARLOS, "s3:GetObject", OBJ, "", {"aws:SourceIp": "203.0.113.7"}, "allowed"),
    ("sourceip-out-of-range", "[OPS] IpAddress: an address outside the range does not match",
     [doc(allow("s3:*", "*", Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))], None, None, None,
     CARLOS, "s3:GetObject", OBJ, "", {"aws:SourceIp": "198.51.100.1"}, "implicitDeny"),
    ("notipaddress-deny", "[OPS] Deny with NotIpAddress outside the corporate range",
     [doc(allow("*"), deny("*", "*", Condition={"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:SourceIp": "192.0.2.10"}, "allowed"),
    ("notipaddress-deny-outside", "[OPS] ...and denies from outside both ranges (negated values act as AND)",
     [doc(allow("*"), deny("*", "*", Condition={"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24", "203.0.113.0/24"]}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:SourceIp": "10.0.0.1"}, "explicitDeny"),
    ("date-window", "[OPS] DateGreaterThan/DateLessThan on aws:CurrentTime",
     [doc(allow("s3:*", "*", Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-04-01T00:00:00Z"},
                                         "DateLessThan": {"aws:CurrentTime": "2030-06-30T23:59:59Z"}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:CurrentTime": "2026-11-27T12:00:00Z"}, "allowed"),
    ("date-window-expired", "[OPS] ...outside the window the statement does not apply",
     [doc(allow("s3:*", "*", Condition={"DateLessThan": {"aws:CurrentTime": "2020-06-30T23:59:59Z"}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:CurrentTime": "2026-11-27T12:00:00Z"}, "implicitDeny"),
    ("epoch-time", "[OPS] Date operators accept epoch seconds (aws:EpochTime)",
     [doc(allow("s3:*", "*", Condition={"DateGreaterThanEquals": {"aws:EpochTime": "1700000000"}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:EpochTime": "1800000000"}, "allowed"),
    ("secure-transport-deny", "[OPS] Bool aws:SecureTransport false -> deny plain HTTP",
     [doc(allow("s3:*"), deny("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:SecureTransport": "false"}, "explicitDeny"),
    ("secure-transport-https", "[OPS] ...over HTTPS the deny does not apply",
     [doc(allow("s3:*"), deny("s3:*", "*", Condition={"Bool": {"aws:SecureTransport": "false"}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:SecureTransport": "true"}, "allowed"),
    ("numeric-max-keys", "[OPS] NumericLessThanEquals s3:max-keys 10",
     [doc(allow("s3:ListBucket", BUCKET, Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))],
     None, None, None, CARLOS, "s3:ListBucket", BUCKET, "", {"s3:max-keys": "11"}, "implicitDeny"),
    ("numeric-max-keys-ok", "[OPS] NumericLessThanEquals s3:max-keys 10 (within limit)",
     [doc(allow("s3:ListBucket", BUCKET, Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))],
     None, None, None, CARLOS, "s3:ListBucket", BUCKET, "", {"s3:max-keys": "10"}, "allowed"),
    ("stringequals-missing-key", "[OPS] a key absent from the request context makes the condition false",
     [doc(allow("iam:*AccessKey*", f"arn:aws:iam::{A}:user/*",
                Condition={"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}))],
     None, None, None, CARLOS, "iam:CreateAccessKey", f"arn:aws:iam::{A}:user/carlos", "", {}, "implicitDeny"),
    ("stringequals-principal-tag", "[OPS] StringEquals aws:PrincipalTag/job-category example",
     [doc(allow("iam:*AccessKey*", f"arn:aws:iam::{A}:user/*",
                Condition={"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}))],
     None, None, None, CARLOS, "iam:CreateAccessKey", f"arn:aws:iam::{A}:user/carlos", "",
     {"aws:PrincipalTag/job-category": "iamuser-admin"}, "allowed"),
    ("negated-missing-key-true", "[OPS] a negated operator (StringNotLike) is true when the key is absent",
     [doc(allow("s3:*"), deny("s3:*", "*", Condition={"StringNotLike": {"aws:PrincipalTag/team": "data*"}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "explicitDeny"),
    ("ifexists-absent", "[OPS] StringEqualsIfExists ec2:InstanceType: true when the key is absent",
     [doc(allow("ec2:*", "*", Condition={"StringEqualsIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}))],
     None, None, None, CARLOS, "ec2:DescribeInstances", "*", "", {}, "allowed"),
    ("ifexists-present-mismatch", "[OPS] ...but checked when the key is present",
     [doc(allow("ec2:*", "*", Condition={"StringEqualsIfExists": {"ec2:InstanceType": ["t1.micro"]}}))],
     None, None, None, CARLOS, "ec2:RunInstances", "*", "", {"ec2:InstanceType": "m5.large"}, "implicitDeny"),
    ("null-token-issue-time", "[OPS] Null aws:TokenIssueTime true: deny long-term credentials",
     [doc(allow("*"), deny("s3:*", "*", Condition={"Null": {"aws:TokenIssueTime": "true"}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {}, "explicitDeny"),
    ("null-token-present", "[OPS] Null true is false once the key is present (temporary credentials)",
     [doc(allow("*"), deny("s3:*", "*", Condition={"Null": {"aws:TokenIssueTime": "true"}}))],
     None, None, None, SESSION, "s3:GetObject", OBJ, "", {"aws:TokenIssueTime": "2026-11-27T11:00:00Z"}, "allowed"),
    ("arnlike-source-arn", "[OPS] ArnLike aws:SourceArn on a queue policy (SNS topic example)",
     [], doc({"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
              "Resource": f"arn:aws:sqs:us-east-1:{A}:q",
              "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{A}:topic-*"}}}),
     None, None, PrincipalInfo("sns.amazonaws.com", "", "service", service="sns.amazonaws.com"),
     "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{A}:q", A, {"aws:SourceArn": f"arn:aws:sns:us-east-1:{A}:topic-1"}, "allowed"),
    ("arnlike-source-arn-mismatch", "[OPS] ArnLike compares component by component",
     [], doc({"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
              "Resource": f"arn:aws:sqs:us-east-1:{A}:q",
              "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:sns:*:{A}:topic-*"}}}),
     None, None, PrincipalInfo("sns.amazonaws.com", "", "service", service="sns.amazonaws.com"),
     "sqs:SendMessage", f"arn:aws:sqs:us-east-1:{A}:q", A, {"aws:SourceArn": f"arn:aws:sns:us-east-1:{B}:topic-1"}, "implicitDeny"),
    ("stringequals-ignorecase", "[OPS] StringEqualsIgnoreCase",
     [doc(allow("s3:*", "*", Condition={"StringEqualsIgnoreCase": {"aws:PrincipalTag/dept": "FINANCE"}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:PrincipalTag/dept": "finance"}, "allowed"),
    ("binary-equals", "[OPS] BinaryEquals compares base64 values",
     [doc(allow("s3:*", "*", Condition={"BinaryEquals": {"aws:Custom": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:Custom": "QmluYXJ5VmFsdWVJbkJhc2U2NA=="}, "allowed"),
    ("multiple-values-or", "[OPS] several values for one key are ORed",
     [doc(allow("s3:*", "*", Condition={"StringEquals": {"aws:PrincipalTag/role": ["audit", "security"]}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:PrincipalTag/role": "security"}, "allowed"),
    ("multiple-keys-and", "[OPS] several keys in one block and several blocks are ANDed",
     [doc(allow("s3:*", "*", Condition={"StringEquals": {"aws:PrincipalTag/role": "audit", "aws:PrincipalTag/dept": "x"},
                                         "Bool": {"aws:SecureTransport": "true"}}))],
     None, None, None, CARLOS, "s3:GetObject", OBJ, "", {"aws:PrincipalTag/role": "audit", "aws:PrincipalTag/dept": "x",
                                                           "aws:SecureTransport": "false"}, "implicitDeny"),
    # --- multivalued keys ---
    ("forallvalues-subset", "[MULTI] ForAllValues:StringEquals aws:TagKeys: every requested key is allowed",
     [doc(allow("ec2:CreateTags", "*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))],
     None, None, None, CARLOS, "ec2:CreateTags", "*", "", {"aws:TagKeys": ["environment"]}, "allowed"),
    ("forallvalues-extra-key", "[MULTI] ...a key outside the list fails ForAllValues",
     [doc(allow("ec2:CreateTags", "*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}))],
     None, None, None, CARLOS, "ec2:CreateTags", "*", "", {"aws:TagKeys": ["environment", "owner"]}, "implicitDeny"),
    ("forallvalues-absent-true", "[MULTI] ForAllValues returns true when the key is absent",
     [doc(allow("ec2:CreateTags", "*", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["environment"]}}))],
     None, None, None, CARLOS, "ec2:CreateTags", "*", "", {}, "allowed"),
    ("foranyvalue-match", "[MULTI] ForAnyValue:StringEquals: at least one value matches",
     [doc(allow("ec2:CreateTags", "*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]}}))],
     None, None, None, CARLOS, "ec2:CreateTags", "*", "", {"aws:TagKeys": ["owner", "environment"]}, "allowed"),
    ("foranyvalue-absent-false", "[MULTI] ForAnyValue returns false when the key is absent",
     [doc(allow("ec2:CreateTags", "*", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment"]}}))],
     None, None, None, CARLOS, "ec2:CreateTags", "*", "", {}, "implicitDeny"),
    ("forallvalues-stringlike", "[MULTI] ForAllValues:StringLike with wildcards",
     [doc(allow("s3:*", "*", Condition={"ForAllValues:StringLike": {"aws:TagKeys": ["key*"]}}))],
     None, None, None, CARLOS, "s3:PutObjectTagging", OBJ, "", {"aws:TagKeys": ["key1", "keyB"]}, "allowed"),
    ("foranyvalue-negated", "[MULTI] ForAnyValue:StringNotEquals: true when some value is not listed",
     [doc(allow("s3:*"), deny("s3:*", "*", Condition={"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a", "b"]}}))],
     None, None, None, CARLOS, "s3:PutObjectTagging", OBJ, "", {"aws:TagKeys": ["a", "c"]}, "explicitDeny"),
    # --- policy variables ---
    ("variable-username-resource", "[VARS] arn:aws:s3:::bucket/users/${aws:username}/* lets carlos into his folder",
     [doc(allow("s3:GetObject", BUCKET + "/users/${aws:username}/*"))], None, None, None, CARLOS,
     "s3:GetObject", OBJ, "", {"aws:username": "carlos"}, "allowed"),
    ("variable-username-other-folder", "[VARS] ...and not into maria's",
     [doc(allow("s3:GetObject", BUCKET + "/users/${aws:username}/*"))], None, None, None, CARLOS,
     "s3:GetObject", BUCKET + "/users/maria/x", "", {"aws:username": "carlos"}, "implicitDeny"),
    ("variable-prefix-condition", "[VARS] StringLike s3:prefix users/${aws:username}/*",
     [doc(allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["", "users/", "users/${aws:username}/*"]}}))],
     None, None, None, CARLOS, "s3:ListBucket", BUCKET, "", {"aws:username": "carlos", "s3:prefix": "users/carlos/docs"}, "allowed"),
    ("variable-prefix-condition-other", "[VARS] ...listing another user's prefix is not allowed",
     [doc(allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["", "users/", "users/${aws:username}/*"]}}))],
     None, None, None, CARLOS, "s3:ListBucket", BUCKET, "", {"aws:username": "carlos", "s3:prefix": "users/maria/"}, "implicitDeny"),
    ("variable-missing", "[VARS] a variable whose key is absent makes the resource not match",
     [doc(allow("s3:GetObject", BUCKET + "/users/${aws:username}/*"))], None, None, None, SESSION,
     "s3:GetObject", OBJ, "", {}, "implicitDeny"),
    ("variable-default", "[VARS] ${key, 'default'} falls back to the default value",
     [doc(allow("s3:GetObject", BUCKET + "/users/${aws:PrincipalTag/home, 'carlos'}/*"))], None, None, None, SESSION,
     "s3:GetObject", OBJ, "", {}, "allowed"),
    ("variable-literal-in-2008", "[VARS] version 2008-10-17 treats ${...} literally",
     [doc(allow("s3:GetObject", BUCKET + "/users/${aws:username}/*"), version="2008-10-17")], None, None, None, CARLOS,
     "s3:GetObject", OBJ, "", {"aws:username": "carlos"}, "implicitDeny"),
    ("variable-self-access-keys", "[EXAMPLES] users manage their own access keys: arn:aws:iam::*:user/${aws:username}",
     [doc(allow(["iam:*AccessKey*"], "arn:aws:iam::*:user/${aws:username}"))], None, None, None, CARLOS,
     "iam:CreateAccessKey", f"arn:aws:iam::{A}:user/carlos", "", {"aws:username": "carlos"}, "allowed"),
    ("variable-self-access-keys-other", "[EXAMPLES] ...not someone else's",
     [doc(allow(["iam:*AccessKey*"], "arn:aws:iam::*:user/${aws:username}"))], None, None, None, CARLOS,
     "iam:CreateAccessKey", f"arn:aws:iam::{A}:user/maria", "", {"aws:username": "carlos"}, "implicitDeny"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_corpus(case):
    (_id, page, identity, resource, boundary, session, principal, action, resource_arn, resource_account,
     context, expected) = case
    assert page.startswith("[")
    decision = evaluate(
        AuthzRequest(action, resource_arn, principal, resource_account, context),
        identity_policies=[parse_policy(json.dumps(d)) for d in identity],
        resource_policy=parse_policy(json.dumps(resource), RESOURCE) if resource else None,
        permissions_boundary=parse_policy(json.dumps(boundary)) if boundary else None,
        session_policies=[parse_policy(json.dumps(d)) for d in session] if session is not None else None,
    )
    assert decision.decision == expected, decision


def test_corpus_size():
    # Stated in the report: the number of documented cases encoded here.
    assert len(CASES) >= 70
