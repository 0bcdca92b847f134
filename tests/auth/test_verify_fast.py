"""The verifier's fast path and the identify step that shares its parse.

``sigv4_fast.verify_fast`` handles the common request (an SDK's Authorization header with
``X-Amz-Date``) in one pass and answers None for anything else, leaving it to ``verify_full``.
Its contract, checked here on signed requests and on many ways of spoiling them: whenever it
returns a result, the full path returns the very same one; whenever it raises, the full path
raises the same kind of failure; and it does take the untouched common request. The gateway's
identify step in the verifying modes (``AuthGuard.identify_shared``) must give what
``identify()`` gives for any header.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from awsemu.auth.credentials import CredentialStore, root_record
from awsemu.auth.enforcement import AuthGuard
from awsemu.auth.identity import identify
from awsemu.auth.sigv4 import AuthFailure, SignatureVerifier, Verified
from awsemu.auth.sigv4_fast import verify_fast
from awsemu.protocol.http import Headers

HOST = "localhost:4566"
STORE = CredentialStore({"test": root_record("test", "test", "000000000000"),
                         "OTHERKEY": root_record("OTHERKEY", "other-secret", "111111111111")})
VERIFIER = SignatureVerifier(STORE)


def signed_request(service: str, method: str, path: str, query: str, body: bytes, extra: dict[str, str],
                   key: str = "test", secret: str = "test") -> tuple[list[tuple[str, str]], bytes]:
    url = f"http://{HOST}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method, url, data=body, headers=dict(extra))
    (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(key, secret), service, "us-east-1").add_auth(request)
    headers = [("host", HOST)]
    headers += [(k.lower(), v if isinstance(v, str) else v.decode()) for k, v in request.headers.items()]
    return headers, body


def outcome(call: Any) -> Any:
    try:
        return call()
    except AuthFailure as failure:
        return ("failure", failure.kind)


def both(method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes | None, service: str,
         now: float) -> tuple[Any, Any]:
    wire = Headers(headers)
    fast = outcome(lambda: verify_fast(VERIFIER, method, path, query, wire.by_name(), body, service == "s3", now))
    full = outcome(lambda: VERIFIER.verify_full(method, path, query, wire, body, service, None, now))
    return fast, full


def assert_agree(fast: Any, full: Any) -> None:
    if fast is None:
        return  # the full path decides alone
    assert fast == full


def test_the_common_request_takes_the_fast_path_and_agrees():
    for service, method, body in (("s3", "GET", b""), ("s3", "PUT", b"data"), ("dynamodb", "POST", b"{}"),
                                  ("sqs", "POST", b"Action=ListQueues")):
        headers, body = signed_request(service, method, "/bucket/key" if service == "s3" else "/", "", body, {})
        fast, full = both(method, "/bucket/key" if service == "s3" else "/", "", headers, body, service, time.time())
        assert isinstance(fast, Verified), (service, fast)
        assert fast == full


# How a signed request is spoiled after signing (None: left as signed).
SPOILS = [None, "signature", "signature-case", "signature-short", "skew", "future", "date-format", "drop-date",
          "drop-host", "drop-sha", "sha-other", "sha-unsigned", "body", "spaces-in-value", "tab-in-value",
          "unknown-key", "token", "head-extra-space", "no-comma", "lower-algorithm"]


def spoil(kind: str | None, headers: list[tuple[str, str]], body: bytes) -> tuple[list[tuple[str, str]], bytes, float]:
    now = time.time()
    out = dict(headers)
    auth = out["authorization"]
    if kind == "signature":
        out["authorization"] = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    elif kind == "signature-case":
        out["authorization"] = auth[:-64] + auth[-64:].upper()
    elif kind == "signature-short":
        out["authorization"] = auth[:-1]
    elif kind == "skew":
        now += 3600
    elif kind == "future":
        now -= 3600
    elif kind == "date-format":
        out["x-amz-date"] = out["x-amz-date"].replace("T", "t")
    elif kind == "drop-date":
        out.pop("x-amz-date")
    elif kind == "drop-host":
        out.pop("host")
    elif kind == "drop-sha":
        out.pop("x-amz-content-sha256", None)
    elif kind == "sha-other":
        out["x-amz-content-sha256"] = hashlib.sha256(b"other").hexdigest()
    elif kind == "sha-unsigned":
        out["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    elif kind == "body":
        body = body + b"!"
    elif kind == "spaces-in-value":
        out["host"] = f"  {out['host']}  "  # folds to the signed value: still valid
    elif kind == "tab-in-value":
        out["x-amz-date"] = out["x-amz-date"] + "\t"
    elif kind == "unknown-key":
        out["authorization"] = auth.replace("Credential=test/", "Credential=nobody/")
    elif kind == "token":
        out["x-amz-security-token"] = "token"
    elif kind == "head-extra-space":
        out["authorization"] = auth.replace(", Signature=", ",  Signature=")
    elif kind == "no-comma":
        out["authorization"] = auth.replace(", Signature=", " Signature=")
    elif kind == "lower-algorithm":
        out["authorization"] = auth.replace("AWS4-HMAC-SHA256", "aws4-hmac-sha256")
    return list(out.items()), body, now


@settings(max_examples=150, deadline=None)
@given(service=st.sampled_from(["s3", "dynamodb", "sqs"]), kind=st.sampled_from(SPOILS),
       query=st.sampled_from(["", "list-type=2&prefix=a%20b", "versionId=x"]),
       extra=st.sampled_from([{}, {"X-Amz-Meta-Note": "a  b"}, {"Content-Type": "text/plain"}]),
       body=st.sampled_from([b"", b"payload"]))
def test_fast_path_agrees_with_the_full_path(service, kind, query, extra, body):
    path = "/bucket/some%20key" if service == "s3" else "/"
    method = "PUT" if body else "GET"
    headers, body = signed_request(service, method, path, query, body, extra)
    headers, body, now = spoil(kind, headers, body)
    fast, full = both(method, path, query, headers, body, service, now)
    assert_agree(fast, full)
    if kind in (None, "spaces-in-value"):
        assert isinstance(fast, Verified)
    # A streamed body (None): the hash is checked as it streams, by the caller.
    assert_agree(*both(method, path, query, headers, None, service, now))


def test_one_head_serves_two_secrets_and_each_key_its_own():
    """The signing key kept per head is checked against the record's secret on every use."""
    for key, secret in (("test", "test"), ("OTHERKEY", "other-secret"), ("test", "test")):
        headers, body = signed_request("s3", "GET", "/b/k", "", b"", {}, key, secret)
        fast, full = both("GET", "/b/k", "", headers, body, "s3", time.time())
        assert isinstance(fast, Verified) and fast == full and fast.record.access_key_id == key
    # A store whose "test" key has another secret: the cached signing key must not be used.
    changed = SignatureVerifier(CredentialStore({"test": root_record("test", "changed", "000000000000")}))
    headers, _ = signed_request("s3", "GET", "/b/k", "", b"", {})
    wire = Headers(headers)
    assert verify_fast(changed, "GET", "/b/k", "", wire.by_name(), b"", True, time.time()) is None
    with pytest.raises(AuthFailure):
        changed.verify_full("GET", "/b/k", "", wire, b"", "s3", None, time.time())


HEADERS = [
    None, "", "AWS test:abc", "Bearer x",
    "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261127/eu-west-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, "
    "Signature=" + "a" * 64,
    "AWS4-HMAC-SHA256 Credential=123456789012/20261127//s3/aws4_request, SignedHeaders=host, Signature=" + "b" * 64,
    "AWS4-HMAC-SHA256 Credential=short/x, SignedHeaders=host, Signature=" + "c" * 64,
    "AWS4-HMAC-SHA256 SignedHeaders=host, Credential=k/20261127/us-east-1/s3/aws4_request, Signature=" + "d" * 64,
    "AWS4-HMAC-SHA256 Credential=k/20261127/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=" + "e" * 10,
]


@pytest.mark.parametrize("header", HEADERS)
def test_shared_identify_gives_what_identify_gives(header):
    guard = AuthGuard("iam", STORE)
    for query in ("", "X-Amz-Credential=q%2F20261127%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Signature=1"):
        for _ in range(2):  # the second time from the verifier's parse of the head
            assert guard.identify(header, query) == identify(header, query)
            if header:
                copy = (header + " ")[:-1]  # an equal header in another str object
                assert copy is not header and guard.identify(copy, query) == identify(header, query)
    assert AuthGuard("off", STORE).identify is identify
