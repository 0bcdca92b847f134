"""The IAM policy language: parse, validate and evaluate policies — pure functions, no HTTP, no storage.

- :mod:`model`      dataclasses for policies, statements and the request being authorized
- :mod:`parse`      JSON text -> :class:`model.Policy`, with IAM's ``MalformedPolicyDocument`` wording
- :mod:`variables`  ``${aws:username}``-style substitution
- :mod:`conditions` every condition operator family, ``...IfExists``, ``ForAnyValue:``/``ForAllValues:``
- :mod:`evaluate`   AWS's evaluation logic across identity, resource, boundary and session policies
- :mod:`actions`    (service, operation, params) -> IAM action(s), resource ARN(s), context keys

The one entry point other layers need is :func:`evaluate.evaluate`; it takes the policies and a
:class:`model.AuthzRequest` and returns a :class:`model.Decision`. This package imports nothing
else from awsemu, so the IAM provider (Simulate*, MalformedPolicyDocument checks) and the gateway
(enforcement) can both use it without breaking the layer order.
"""

from awsemu.services.iam.policy.evaluate import evaluate
from awsemu.services.iam.policy.model import AuthzRequest, Decision, Policy, PrincipalInfo
from awsemu.services.iam.policy.parse import MalformedPolicy, parse_policy

__all__ = ["evaluate", "AuthzRequest", "Decision", "Policy", "PrincipalInfo", "MalformedPolicy", "parse_policy"]
