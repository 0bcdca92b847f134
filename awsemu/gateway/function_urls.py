"""Requests on Lambda function URLs: plain HTTP for the function, with AuthType AWS_IAM enforced here.

The Lambda provider turns the request into the function's event and its answer back into HTTP
(``serve_function_url``, plain data in and out); this module adds what needs the auth layer, which
services may not import:

1. ``provider.function_url_auth(host, method, headers)`` says whether the request must be signed
   (an AWS_IAM URL, not a CORS preflight) and for which function ARN;
2. the SigV4 signature is verified with the gateway's verifier (the auth guard's, the same as every
   AWS API request; in every auth mode, since the URL itself demands it): a missing or bad
   signature, an unknown key or a skewed clock is ``403 {"Message":"Forbidden"}``, AWS's answer;
3. in the ``iam`` auth mode, ``lambda:InvokeFunctionUrl`` on the function ARN is evaluated like any
   other action: identity policies of the caller, the function's resource policy (AddPermission
   with ``FunctionUrlAuthType=AWS_IAM``: the request context carries
   ``lambda:FunctionUrlAuthType``), the root of the owning account always allowed. A denial is the
   same 403. The ``off`` and ``sigv4`` modes authorize nothing, as for the rest of awsemu;
4. the verified caller goes to the provider as ``authorizer`` (the event's
   ``requestContext.authorizer.iam``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable

from awsemu.auth.credentials import CredentialStore, KeyRecord
from awsemu.auth.enforcement import AuthGuard
from awsemu.auth.sigv4 import AuthFailure, SignatureVerifier
from awsemu.protocol.http import Headers, WireResponse
from awsemu.services.iam.policy import AuthzRequest, Policy, PrincipalInfo, evaluate, parse_policy
from awsemu.services.iam.policy.parse import RESOURCE, MalformedPolicy

log = logging.getLogger("awsemu.request")

JSON = [("content-type", "application/json")]
FORBIDDEN = WireResponse(status=403, headers=JSON, body=b'{"Message":"Forbidden"}')
ACTION = "lambda:InvokeFunctionUrl"
_KINDS = {"session": "user"}

_fallback_verifier: SignatureVerifier | None = None


def _verifier(guard: AuthGuard | None) -> SignatureVerifier:
    """The guard's verifier; a gateway built without one (tests) gets one over the root keys."""
    global _fallback_verifier
    if guard is not None:
        return guard.verifier
    if _fallback_verifier is None:
        _fallback_verifier = SignatureVerifier(CredentialStore.from_env())
    return _fallback_verifier


def _principal(record: KeyRecord) -> PrincipalInfo:
    role_arn = ""
    if record.kind == "assumed-role":  # arn:aws:sts::1:assumed-role/Role/session -> the role's ARN
        role_name = record.principal_arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        role_arn = record.extra.get("role_arn") or f"arn:aws:iam::{record.account_id}:role/{role_name}"
    return PrincipalInfo(record.principal_arn, record.account_id, _KINDS.get(record.kind, record.kind),
                         role_arn=role_arn)


_PRINCIPAL_TYPES = {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
                    "federated-user": "FederatedUser"}


def _context(record: KeyRecord, source_ip: str, secure: bool, region: str, found: Any) -> dict[str, Any]:
    """The condition keys of the request: AWS's global ones and ``lambda:FunctionUrlAuthType``.
    (Built here because the auth layer's builder is private to it; a public one should replace it.)"""
    now = time.time()
    context: dict[str, Any] = {
        "aws:SourceIp": source_ip, "aws:SecureTransport": "true" if secure else "false",
        "aws:CurrentTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)), "aws:EpochTime": str(int(now)),
        "aws:RequestedRegion": region, "aws:PrincipalType": _PRINCIPAL_TYPES.get(record.kind, "User"),
        "aws:userid": record.user_id, "lambda:FunctionUrlAuthType": "AWS_IAM",
    }
    if record.kind == "user":
        context["aws:username"] = record.principal_arn.rsplit("/", 1)[1]
    for key, value in (getattr(found, "tags", None) or {}).items():
        context[f"aws:PrincipalTag/{key}"] = value
    return context


def _function_policy(guard: AuthGuard, arn: str) -> tuple[Policy | None, str]:
    found = guard.resource_policy("lambda", arn) if guard.resource_policy is not None else None
    if found is None:
        return None, arn.split(":")[4]
    text, owner = found
    if not text:
        return None, owner
    try:
        return parse_policy(text, RESOURCE, source_id="resource", source_type="resource"), owner
    except MalformedPolicy:
        return None, owner


def may_invoke(guard: AuthGuard, record: KeyRecord, arn: str, source_ip: str, secure: bool) -> bool:
    """Whether the caller may ``lambda:InvokeFunctionUrl`` the function (blocking: reads policies)."""
    found = guard.policies_for(record) if record.kind != "root" and guard.policies_for is not None else None
    resource_policy, owner = _function_policy(guard, arn)
    context = _context(record, source_ip, secure, arn.split(":")[3], found)
    decision = evaluate(
        AuthzRequest(ACTION, arn, _principal(record), owner, context),
        identity_policies=found.identity if found is not None else (),
        resource_policy=resource_policy,
        permissions_boundary=found.boundary if found is not None else None,
        session_policies=found.session if found is not None else None,
        scope_policies=found.scopes if found is not None else (),
    )
    return decision.allowed


def _authorizer(record: KeyRecord) -> dict[str, Any]:
    return {"accessKey": record.access_key_id, "accountId": record.account_id, "callerId": record.user_id,
            "userArn": record.principal_arn, "userId": record.user_id}


async def serve(provider: Any, guard: AuthGuard | None, scope: Any, headers: Headers, raw_path: str,
                read: Callable[[], Awaitable[bytes]], endpoint: str) -> WireResponse:
    """The response to one request on a function URL."""
    serve_url = getattr(provider, "serve_function_url", None)
    if serve_url is None:
        return WireResponse(status=404, headers=JSON, body=b'{"Message":"Lambda is not enabled"}')
    method = scope["method"]
    query_string = scope.get("query_string", b"").decode("latin-1")
    client = scope.get("client") or ("127.0.0.1", 0)
    secure = scope.get("scheme") == "https"
    items = headers.items()
    body = await read()
    authorizer = None
    arn = await asyncio.to_thread(provider.function_url_auth, headers.get("host") or "", method, items)
    if arn is not None:
        try:
            verified = _verifier(guard).verify(method=method, raw_path=raw_path, query_string=query_string,
                                               headers=headers, body=body, service="lambda")
        except AuthFailure as failure:
            log.info("function URL %s refused: %s %s", arn, failure.kind, failure.detail)
            return FORBIDDEN
        record = verified.record
        if guard is not None and guard.mode == "iam":
            if not await asyncio.to_thread(may_invoke, guard, record, arn, client[0], secure):
                log.info("function URL %s refused: %s may not %s", arn, record.principal_arn, ACTION)
                return FORBIDDEN
        authorizer = _authorizer(record)
    status, out_headers, out_body = await serve_url(
        method=method, raw_path=raw_path, query_string=query_string, headers=items, body=body,
        source_ip=client[0], endpoint=endpoint, authorizer=authorizer)
    return WireResponse(status=status, headers=out_headers, body=out_body)
