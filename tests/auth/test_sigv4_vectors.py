"""SigV4/SigV2 verification against AWS's documented examples, plus tampering cases.

Vectors (each names the AWS page it comes from):
- S3 API Reference, "Signature Calculations for the Authorization Header: Transferring Payload in a
  Single Chunk" — examples GET Object (Range), PUT Object, GET Bucket Lifecycle, GET Bucket (List
  Objects), with AKIAIOSFODNN7EXAMPLE at 20130524T000000Z.
- S3 API Reference, "Authenticating Requests: Using Query Parameters" — the presigned GET example.
- IAM User Guide, "Create a signed AWS API request" — IAM ListUsers at 20150830T123600Z.
- The SigV4 test suite's get-vanilla / post-vanilla / get-vanilla-query-order-key-case cases.
- S3 "Signing and authenticating REST requests" (SigV2) — the johnsmith puppy.jpg GET example and
  its query-string authentication example.
"""

from __future__ import annotations

import hashlib

import pytest

from awsemu.auth import errors as E
from awsemu.auth.credentials import CredentialStore, root_record
from awsemu.auth.sigv4 import (
    AuthFailure,
    SignatureVerifier,
    canonical_query,
    canonical_uri,
    parse_amz_date,
)
from awsemu.protocol.http import Headers

S3_KEY = "AKIAIOSFODNN7EXAMPLE"
S3_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SUITE_KEY = "AKIDEXAMPLE"
SUITE_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
EMPTY = hashlib.sha256(b"").hexdigest()
T2013 = parse_amz_date("20130524T000000Z")
T2015 = parse_amz_date("20150830T123600Z")


def verifier() -> SignatureVerifier:
    return SignatureVerifier(CredentialStore({
        S3_KEY: root_record(S3_KEY, S3_SECRET, "111122223333"),
        SUITE_KEY: root_record(SUITE_KEY, SUITE_SECRET, "444455556666"),
    }))


def auth(key: str, scope: str, signed: str, sig: str) -> str:
    return f"AWS4-HMAC-SHA256 Credential={key}/{scope},SignedHeaders={signed},Signature={sig}"


def check(method, path, query, headers, body, service, now, **kw):
    return verifier().verify(method=method, raw_path=path, query_string=query, headers=Headers(headers),
                             body=body, service=service, now=now, **kw)


S3_SCOPE = "20130524/us-east-1/s3/aws4_request"

S3_CASES = {
    "get-object-range": ("GET", "/test.txt", "", [
        ("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
        ("x-amz-content-sha256", EMPTY), ("x-amz-date", "20130524T000000Z"),
        ("Authorization", auth(S3_KEY, S3_SCOPE, "host;range;x-amz-content-sha256;x-amz-date",
                               "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))], b""),
    "put-object": ("PUT", "/test%24file.text", "", [
        ("Host", "examplebucket.s3.amazonaws.com"), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
        ("Authorization", auth(S3_KEY, S3_SCOPE, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                               "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))],
        b"Welcome to Amazon S3."),
    "get-bucket-lifecycle": ("GET", "/", "lifecycle", [
        ("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
        ("x-amz-content-sha256", EMPTY),
        ("Authorization", auth(S3_KEY, S3_SCOPE, "host;x-amz-content-sha256;x-amz-date",
                               "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))], b""),
    "list-objects": ("GET", "/", "max-keys=2&prefix=J", [
        ("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
        ("x-amz-content-sha256", EMPTY),
        ("Authorization", auth(S3_KEY, S3_SCOPE, "host;x-amz-content-sha256;x-amz-date",
                               "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))], b""),
}


@pytest.mark.parametrize("name", sorted(S3_CASES))
def test_s3_documented_header_examples(name):
    method, path, query, headers, body = S3_CASES[name]
    v = check(method, path, query, headers, body, "s3", T2013)
    assert v.record.account_id == "111122223333" and v.region == "us-east-1" and v.version == 4


PRESIGNED = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
             "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
             "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")


def test_s3_documented_presigned_example():
    v = check("GET", "/test.txt", PRESIGNED, [("Host", "examplebucket.s3.amazonaws.com")], None, "s3", T2013 + 3600)
    assert v.record.access_key_id == S3_KEY


def test_presigned_expired_after_its_expiry():
    with pytest.raises(AuthFailure) as exc:
        check("GET", "/test.txt", PRESIGNED, [("Host", "examplebucket.s3.amazonaws.com")], None, "s3", T2013 + 86401)
    assert exc.value.kind == E.PRESIGN_EXPIRED
    err = E.auth_error("s3", exc.value.kind, fields=exc.value.fields)
    assert (err.code, err.status, err.message) == ("AccessDenied", 403, "Request has expired")


def test_presigned_longer_than_a_week_refused():
    query = PRESIGNED.replace("X-Amz-Expires=86400", "X-Amz-Expires=604801")
    with pytest.raises(AuthFailure) as exc:
        check("GET", "/test.txt", query, [("Host", "examplebucket.s3.amazonaws.com")], None, "s3", T2013)
    assert exc.value.kind == E.MALFORMED


def test_iam_list_users_documented_example():
    headers = [("Host", "iam.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
               ("X-Amz-Date", "20150830T123600Z"),
               ("Authorization", auth(SUITE_KEY, "20150830/us-east-1/iam/aws4_request", "content-type;host;x-amz-date",
                                      "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"))]
    v = check("GET", "/", "Action=ListUsers&Version=2010-05-08", headers, b"", "iam", T2015)
    assert v.signing_service == "iam"


SUITE = {
    "get-vanilla": ("GET", "/", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
    "post-vanilla": ("POST", "/", "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    "get-vanilla-query-order-key-case": ("GET", "/", "Param2=value2&Param1=value1",
                                         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
}


@pytest.mark.parametrize("name", sorted(SUITE))
def test_sigv4_suite_cases(name):
    method, path, query, sig = SUITE[name]
    headers = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z"),
               ("Authorization", auth(SUITE_KEY, "20150830/us-east-1/service/aws4_request", "host;x-amz-date", sig))]
    check(method, path, query, headers, b"", "service", T2015)


def test_canonical_pieces():
    assert canonical_query("Param2=value2&Param1=value1") == "Param1=value1&Param2=value2"
    assert canonical_query("b=2&a=z%20z&a=y") == "a=y&a=z%20z&b=2"
    assert canonical_query("prefix=a+b") == "prefix=a%2Bb"
    assert canonical_uri("/test%24file.text", s3=True) == "/test%24file.text"
    assert canonical_uri("/a//b/../c", s3=False) == "/a/c"
    assert canonical_uri("/a%20b", s3=False) == "/a%2520b"
    assert canonical_uri("/a//b/", s3=True) == "/a//b/"


# -- SigV2 (S3) ---------------------------------------------------------------------------
def test_sigv2_documented_header_example():
    headers = [("Host", "johnsmith.s3.amazonaws.com"), ("Date", "Tue, 27 Mar 2007 19:36:42 +0000"),
               ("Authorization", "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=")]
    from email.utils import parsedate_to_datetime
    now = parsedate_to_datetime("Tue, 27 Mar 2007 19:36:42 +0000").timestamp()
    v = check("GET", "/photos/puppy.jpg", "", headers, None, "s3", now, host_bucket="johnsmith")
    assert v.version == 2


def test_sigv2_documented_query_example():
    query = "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"
    v = check("GET", "/photos/puppy.jpg", query, [("Host", "johnsmith.s3.amazonaws.com")], None, "s3",
              1175139620 - 10, host_bucket="johnsmith")
    assert v.version == 2
    with pytest.raises(AuthFailure) as exc:
        check("GET", "/photos/puppy.jpg", query, [("Host", "johnsmith.s3.amazonaws.com")], None, "s3",
              1175139621, host_bucket="johnsmith")
    assert exc.value.kind == E.PRESIGN_EXPIRED


# -- tampering ----------------------------------------------------------------------------
def _tamper(headers, name, value):
    return [(k, value if k.lower() == name else v) for k, v in headers]


@pytest.mark.parametrize("how", ["method", "path", "query", "range", "host", "host-port", "body", "secret", "date"])
def test_every_tampering_of_a_documented_request_is_rejected(how):
    method, path, query, headers, body = S3_CASES["put-object"] if how == "body" else S3_CASES["get-object-range"]
    now = T2013
    if how == "method":
        method = "DELETE"
    elif how == "path":
        path = "/test.tx"
    elif how == "query":
        query = "versionId=1"
    elif how == "range":
        headers = _tamper(headers, "range", "bytes=0-10")
    elif how == "host":
        headers = _tamper(headers, "host", "otherbucket.s3.amazonaws.com")
    elif how == "host-port":
        headers = _tamper(headers, "host", "examplebucket.s3.amazonaws.com:443")
    elif how == "body":
        body = b"Welcome to Amazon S4."
    elif how == "date":
        headers = _tamper(headers, "x-amz-date", "20130524T000001Z")
    store = CredentialStore({S3_KEY: root_record(S3_KEY, S3_SECRET if how != "secret" else "x" + S3_SECRET, "111122223333")})
    with pytest.raises(AuthFailure) as exc:
        SignatureVerifier(store).verify(method=method, raw_path=path, query_string=query, headers=Headers(headers),
                                        body=body, service="s3", now=now)
    expected = E.CONTENT_SHA_MISMATCH if how == "body" else E.BAD_SIGNATURE
    assert exc.value.kind == expected
    if expected == E.BAD_SIGNATURE:
        err = E.auth_error("s3", exc.value.kind, fields=exc.value.fields)
        assert err.code == "SignatureDoesNotMatch" and err.status == 403
        assert err.fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
        assert "CanonicalRequest" in err.fields


def test_unknown_key_and_skew():
    method, path, query, headers, body = S3_CASES["get-object-range"]
    with pytest.raises(AuthFailure) as exc:
        SignatureVerifier(CredentialStore({})).verify(method=method, raw_path=path, query_string=query,
                                                      headers=Headers(headers), body=body, service="s3", now=T2013)
    assert exc.value.kind == E.UNKNOWN_KEY
    assert E.auth_error("dynamodb", exc.value.kind).code == "UnrecognizedClientException"
    assert E.auth_error("sts", exc.value.kind).code == "InvalidClientTokenId"
    with pytest.raises(AuthFailure) as exc:
        check(method, path, query, headers, body, "s3", T2013 + 901)
    assert exc.value.kind == E.SKEWED
    assert E.auth_error("s3", E.SKEWED).code == "RequestTimeTooSkewed"
    check(method, path, query, headers, body, "s3", T2013 + 899)


def test_session_token_required_and_expiry():
    from dataclasses import replace
    rec = replace(root_record(S3_KEY, S3_SECRET, "111122223333"), kind="assumed-role", session_token="tok",
                  expires_at=T2013 + 100)
    method, path, query, headers, body = S3_CASES["get-object-range"]
    v = SignatureVerifier(CredentialStore({S3_KEY: rec}))
    kw = dict(method=method, raw_path=path, query_string=query, body=body, service="s3")
    with pytest.raises(AuthFailure) as exc:
        v.verify(headers=Headers(headers), now=T2013, **kw)
    assert exc.value.kind == E.INVALID_TOKEN
    # the token header is not among the signed headers of the documented example, so the signature still holds
    v.verify(headers=Headers(headers + [("x-amz-security-token", "tok")]), now=T2013, **kw)
    with pytest.raises(AuthFailure) as exc:
        v.verify(headers=Headers(headers + [("x-amz-security-token", "tok")]), now=T2013 + 100, **kw)
    assert exc.value.kind == E.EXPIRED_TOKEN
