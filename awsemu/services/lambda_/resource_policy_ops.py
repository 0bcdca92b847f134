"""Resource policies by ARN (GetResourcePolicy, PutResourcePolicy, DeleteResourcePolicy), mixed into
LambdaProvider.

The newer API names the resource by its ARN and replaces the whole document. For a function (or a
version or alias: a qualified ARN) it is the very policy AddPermission / GetPolicy / RemovePermission
work on (policy.py): the statements in the function's meta record under the qualifier, with the
same RevisionId, so a PutResourcePolicy overwrites the permissions AddPermission added (as Lambda's
documentation says) and GetPolicy then shows the new statements. The document is answered as
Lambda writes it: ``{"Version": "2012-10-17", "Id": "default", "Statement": [...]}``.

Checks: the document must be a JSON object whose ``Statement`` (an object or a list of them) has an
``Effect`` of Allow/Deny, a ``Principal`` and an ``Action`` in every statement; a document longer than
Lambda's 20 KB policy limit is PolicyLengthExceededException. Lambda's public-policy block
(PublicPolicyException) is not applied: a policy with ``"Principal": "*"`` is stored, as AddPermission
stores one. Runtime resources (``...:runtime/...`` ARNs) are not modelled: ResourceNotFoundException.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from awsemu.services.base import CallContext
from awsemu.services.lambda_ import functions as fx
from awsemu.services.lambda_ import policy
from awsemu.services.lambda_.checks import Fn
from awsemu.services.lambda_.errors import (
    InvalidParameterValueException,
    PolicyLengthExceededException,
    PreconditionFailedException,
    ResourceNotFoundException,
    validation,
)
from awsemu.services.lambda_.functions import FunctionStore, new_revision
from awsemu.services.lambda_.provider_parts import ProviderParts

POLICY_MAX = 20480
RESOURCE_ARN_CONSTRAINT = (
    r"Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|"
    r"(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:(function:[a-zA-Z0-9-_]+(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_])+)?"
    r"|runtime/[a-zA-Z0-9-_./]+)"
)
RESOURCE_ARN = re.compile(
    r"^arn:(aws[a-zA-Z-]*)?:lambda:(?P<region>(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}):"
    r"(?P<account>\d{12}):(?:function:(?P<name>[a-zA-Z0-9-_]+)(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?"
    r"|runtime/[a-zA-Z0-9-_./]+)$"
)
REVISION_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _revision_check(expected: str | None, actual: str) -> None:
    if expected is None:
        return
    if not REVISION_PATTERN.match(expected):
        raise validation(expected, "revisionId", "Member must satisfy regular expression pattern: "
                         "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    if expected != actual:
        raise PreconditionFailedException(
            "The Revision Id provided does not match the latest Revision Id. "
            "Call the GetResourcePolicy API to retrieve the latest Revision Id"
        )


def parse_statements(text: str) -> list[dict[str, Any]]:
    """The statements of a PutResourcePolicy document (checked as described in the module doc)."""
    if len(text) > POLICY_MAX:
        raise PolicyLengthExceededException(f"The final policy size ({len(text)}) is bigger than the limit ({POLICY_MAX}).")
    try:
        document = json.loads(text)
    except ValueError:
        raise InvalidParameterValueException("The resource policy is not valid JSON.") from None
    if not isinstance(document, dict) or "Statement" not in document:
        raise InvalidParameterValueException("The resource policy must be a JSON object with a Statement.")
    if document.get("Version", "2012-10-17") not in ("2012-10-17", "2008-10-17"):
        raise InvalidParameterValueException(f"The policy version {document['Version']} is not supported.")
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise InvalidParameterValueException("The resource policy must contain at least one statement.")
    for statement in statements:
        if not isinstance(statement, dict):
            raise InvalidParameterValueException("Each statement of the resource policy must be a JSON object.")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise InvalidParameterValueException("Each statement of the resource policy needs an Effect of Allow or Deny.")
        for required in ("Principal", "Action"):
            if required not in statement:
                raise InvalidParameterValueException(f"Each statement of the resource policy needs a {required}.")
    sids = [s["Sid"] for s in statements if "Sid" in s]
    if len(sids) != len(set(sids)):
        raise InvalidParameterValueException("Statement ids (Sid) of the resource policy must be unique.")
    return statements


class ResourcePolicyOperations(ProviderParts):
    """Needs from the provider: ``db``, ``store``, ``_lock`` and the name helpers of ProviderParts."""

    db: Any
    store: FunctionStore
    _lock: threading.RLock

    def _policy_resource(self, arn: str) -> tuple[Fn, str]:
        """(function, qualifier or "") of a ResourceArn; the function (and version or alias) must exist."""
        match = RESOURCE_ARN.match(arn or "")
        if match is None or len(arn) > 512:
            raise validation(arn, "resourceArn", RESOURCE_ARN_CONSTRAINT)
        if match["name"] is None:
            raise ResourceNotFoundException("The resource you requested does not exist.")
        fn: Fn = (match["account"], match["region"], match["name"])
        qualifier = match["qualifier"]
        self.store.resolve(*fn, qualifier)  # Function not found: ... for a missing function, version or alias
        return fn, qualifier or ""

    def get_resource_policy(self, ctx: CallContext, ResourceArn: str) -> dict[str, Any]:
        fn, qualifier = self._policy_resource(ResourceArn)
        current = self.store.require_meta(*fn).policy.get(qualifier)
        return {"Policy": policy.document(current), "RevisionId": (current or {}).get("revision", "")}

    def put_resource_policy(self, ctx: CallContext, ResourceArn: str, Policy: str,
                            RevisionId: str | None = None) -> dict[str, Any]:
        statements = parse_statements(Policy)
        with self._lock:
            fn, qualifier = self._policy_resource(ResourceArn)
            meta = self.store.require_meta(*fn)
            current = meta.policy.get(qualifier) or {}
            _revision_check(RevisionId, current.get("revision", "") if current.get("statements") else "")
            replaced = {"revision": new_revision(), "statements": statements}
            meta.policy[qualifier] = replaced
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {"Policy": policy.document(replaced), "RevisionId": replaced["revision"]}

    def delete_resource_policy(self, ctx: CallContext, ResourceArn: str, RevisionId: str | None = None) -> dict[str, Any]:
        with self._lock:
            fn, qualifier = self._policy_resource(ResourceArn)
            meta = self.store.require_meta(*fn)
            current = meta.policy.get(qualifier)
            if not current or not current.get("statements"):
                raise ResourceNotFoundException("No policy is associated with the given resource.")
            _revision_check(RevisionId, current.get("revision", ""))
            del meta.policy[qualifier]
            self.db.put(fx.meta_key(*fn), meta.to_bytes())
            self._invalidate(fn)
        return {}
