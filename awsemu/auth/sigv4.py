"""Signature verification: SigV4 (Authorization header and presigned query) and S3's SigV2.

The server rebuilds what the client signed and compares HMACs in constant time (AWS "Create a
signed AWS API request", "Authenticating Requests: Using Query Parameters", S3 "Signing and
authenticating REST requests" for SigV2):

canonical request::

    METHOD \\n canonical URI \\n canonical query \\n canonical headers \\n\\n signed headers \\n payload hash

- canonical URI: S3 signs the path exactly as sent (no normalisation, encoded once); every other
  service signs the normalised path (dot segments and empty segments removed) encoded once more,
  which is what the SDKs do (botocore ``SigV4Auth._normalize_url_path``).
- canonical query: every name and value percent-decoded then re-encoded with the unreserved set
  ``A-Za-z0-9-_.~``, sorted by name then value; ``X-Amz-Signature`` left out of presigned URLs.
- canonical headers: the signed headers only, lower-cased names, values with runs of spaces folded,
  repeated headers joined with ``,``; the Host exactly as the client sent it (port included).
- payload hash: ``X-Amz-Content-SHA256`` when sent (S3 requires it: a hex hash,
  ``UNSIGNED-PAYLOAD`` or a ``STREAMING-...`` marker), else the SHA-256 of the body; presigned
  URLs sign ``UNSIGNED-PAYLOAD``.

string to sign: ``AWS4-HMAC-SHA256 \\n X-Amz-Date \\n scope \\n hex(sha256(canonical request))``
with scope ``yyyymmdd/region/service/aws4_request`` and the key derived by the HMAC chain
date -> region -> service -> "aws4_request" from ``"AWS4" + secret`` (cached per day and scope).

Checks besides the HMAC: the request time within 15 minutes of the server's (header form), the
presigned URL not expired and ``X-Amz-Expires`` at most 7 days, the session token of temporary
credentials present and equal, the temporary credentials not expired, and a hex
``X-Amz-Content-SHA256`` equal to the body's hash when the body is at hand (S3 streaming bodies
are checked by the gateway while they stream, see :mod:`awsemu.auth.chunked`).

The request every SDK sends (Authorization header, ``X-Amz-Date``) has a leaner path in
:mod:`awsemu.auth.sigv4_fast`, which falls back to this one for anything else and every failure.
"""

from __future__ import annotations

import base64
import calendar
import functools
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Mapping, NamedTuple
from urllib.parse import quote, unquote


from awsemu.auth import errors as E
from awsemu.auth.credentials import CredentialStore, KeyRecord
from awsemu.protocol.http import Headers

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_MARKERS = frozenset({STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER})
MAX_SKEW_SECONDS = 15 * 60
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_UNRESERVED = "-_.~"
_HEX64 = re.compile(r"[0-9a-f]{64}")


@functools.lru_cache(maxsize=1)
def _sigv2_subresources() -> frozenset[str]:
    """S3 SigV2 sub-resources that belong to the canonical resource (botocore's list; the
    response-* overrides are added by the caller)."""
    # botocore.auth is imported on first SigV2 use only: it costs ~80 ms of start-up otherwise.
    from botocore.auth import HmacV1Auth

    return frozenset(HmacV1Auth.QSAOfInterest)


class AuthFailure(Exception):
    """A request that fails authentication; ``kind`` is one of the kinds in :mod:`errors`."""

    def __init__(self, kind: str, detail: str = "", fields: dict[str, Any] | None = None) -> None:
        super().__init__(detail or kind)
        self.kind = kind
        self.detail = detail
        self.fields = fields or {}


@dataclass(slots=True)
class SignatureParams:
    """What the client says it signed: the pieces of the Authorization header or presigned query.
    Treated as immutable (the parsed head of an Authorization header is cached and shared); not
    ``frozen`` only because a frozen dataclass costs a microsecond more to build, per request."""

    access_key_id: str
    date: str  # yyyymmdd of the scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    presigned: bool = False
    amz_date: str = ""
    expires: int | None = None
    security_token: str = ""
    # ``date/region/service/aws4_request``; filled in from the other fields when not given.
    scope: str = ""

    # ``a;b;c``: the signed headers as the canonical request lists them.
    signed_line: str = ""

    def __post_init__(self) -> None:
        if not self.scope:
            self.scope = f"{self.date}/{self.region}/{self.service}/aws4_request"
        if not self.signed_line:
            self.signed_line = ";".join(self.signed_headers)


class Verified(NamedTuple):
    """A request whose signature checked out. A named tuple: one is built per request, and the
    fast path (:mod:`sigv4_fast`) builds it with ``tuple.__new__`` (one C call, no ``__init__``
    frame)."""

    record: KeyRecord
    region: str
    signing_service: str
    version: int = 4  # 4 or 2 (S3 SigV2)
    payload_hash: str = ""
    signing_key: bytes = b""
    signature: str = ""
    amz_date: str = ""
    scope: str = ""



# -- the pieces of the canonical request -------------------------------------------------------

def uri_encode(text: str, safe: str = _UNRESERVED) -> str:
    return quote(text, safe=safe)


@functools.lru_cache(maxsize=4096)
def canonical_uri(raw_path: str, s3: bool) -> str:
    path = raw_path or "/"
    if s3:
        # S3 signs the path as sent; re-encode each segment from its decoded form so clients that
        # leave some characters unencoded (e.g. '$', '@') still match the SDKs' encoding.
        return "/".join(uri_encode(unquote(seg)) for seg in path.split("/"))
    from botocore.utils import normalize_url_path  # imported on first use: start-up time

    return quote(normalize_url_path(path), safe="/~")


@functools.lru_cache(maxsize=4096)
def canonical_query(query_string: str, presigned: bool = False) -> str:
    if not query_string:
        return ""
    pairs: list[tuple[str, str]] = []
    for part in query_string.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = uri_encode(unquote(name))
        if presigned and name == "X-Amz-Signature":
            continue
        pairs.append((name, uri_encode(unquote(value))))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_headers(headers: Mapping[str, str], signed: tuple[str, ...]) -> str:
    """The signed headers' lines; ``headers`` maps lower-case names to values (repeats folded)."""
    get = headers.get
    block = ""
    for name in signed:  # a plain loop: cheaper than a comprehension for the usual 3 to 6 headers
        block = f"{block}{name}:{' '.join((get(name.lower()) or '').split())}\n"
    return block


def canonical_request(method: str, uri: str, query: str, headers_block: str, signed: tuple[str, ...], payload_hash: str) -> str:
    return f"{method}\n{uri}\n{query}\n{headers_block}\n{';'.join(signed)}\n{payload_hash}"


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"


@functools.lru_cache(maxsize=1024)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(("AWS4" + secret).encode("utf-8"), date.encode("utf-8"), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
    return key


@functools.lru_cache(maxsize=1024)
def _hmac_pads(key: bytes) -> tuple[Any, Any]:
    """SHA-256 states after the HMAC inner and outer pads of ``key`` (RFC 2104). A signing key
    signs many requests; copying these states is cheaper than ``hmac.new`` keying OpenSSL afresh
    (0.6 vs 1.4 us, measured)."""
    block = key.ljust(64, b"\0")  # signing keys are 32-byte digests, shorter than the block
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    return inner, outer


@functools.lru_cache(maxsize=1024)
def _signer(secret: str, date: str, region: str, service: str) -> tuple[bytes, Any, Any]:
    """(signing key, its HMAC pad states) for one secret and scope: one cache lookup per request."""
    key = signing_key(secret, date, region, service)
    return (key, *_hmac_pads(key))


def sign(key: bytes, text: str) -> str:
    """Hex HMAC-SHA256 of ``text`` under ``key`` (equal to ``hmac.new(key, text, sha256)``)."""
    if len(key) > 64:
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
    inner_pad, outer_pad = _hmac_pads(key)
    inner = inner_pad.copy()
    inner.update(text.encode("utf-8"))
    outer = outer_pad.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


# -- parsing what the client sent --------------------------------------------------------------

def _split_credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise AuthFailure(E.MALFORMED, f"Credential should be scoped to a valid region. Credential={credential}")
    return parts[0], parts[1], parts[2], parts[3]


def parse_authorization(header: str) -> SignatureParams:
    """``AWS4-HMAC-SHA256 Credential=.../aws4_request, SignedHeaders=a;b, Signature=hex``.

    Fast path: when the header ends in ``Signature=<64 hex>`` (what every SDK sends), what comes
    before it (algorithm, credential, signed headers) repeats across a client's requests and is
    parsed once (:func:`_parse_authorization_head`); only the signature is new each time.
    """
    params, signature = _authorization_parts(header)
    if params.signature == signature:
        return params
    return SignatureParams(params.access_key_id, params.date, params.region, params.service, params.signed_headers,
                           signature, scope=params.scope)


def _authorization_parts(header: str) -> tuple[SignatureParams, str]:
    """(the parsed header, its signature); on the fast path the parsed part is the cached head,
    whose ``signature`` field is empty — the second element is the one to check."""
    head, found, signature = header.rpartition("Signature=")
    # "Signature=" must open the last comma-separated field, as the full parser reads fields, and
    # the value be 64 letters and digits: no separator or space, so the full parser would read
    # the same value.
    if found and len(signature) == 64 and signature.isalnum() and len(head) > 1 and head.endswith((",", ", ")):
        try:
            return _parse_authorization_head(head), signature
        except AuthFailure:
            pass  # parsed again below, for the error message naming the whole header
    params = _parse_authorization_full(header)
    return params, params.signature


@functools.lru_cache(maxsize=1024)
def _parse_authorization_head(head: str) -> SignatureParams:
    """The Authorization header up to its final ``Signature=``: credential and signed headers."""
    params = _parse_authorization_full(head + "Signature=")
    return SignatureParams(params.access_key_id, params.date, params.region, params.service,
                           params.signed_headers, "", scope=params.scope)


def _parse_authorization_full(header: str) -> SignatureParams:
    algorithm, _, rest = header.partition(" ")
    if algorithm != ALGORITHM:
        raise AuthFailure(E.MALFORMED, f"Unsupported AWS 'algorithm': '{algorithm}'")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, eq, value = item.strip().partition("=")
        if eq:
            fields[name] = value.strip()
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if n not in fields]
    if missing:
        raise AuthFailure(
            E.MALFORMED,
            f"Authorization header requires '{missing[0]}' parameter. Authorization={header}",
        )
    akid, date, region, service = _split_credential(fields["Credential"])
    return SignatureParams(akid, date, region, service, tuple(fields["SignedHeaders"].split(";")), fields["Signature"])


def parse_presigned(query: dict[str, str]) -> SignatureParams:
    if query.get("X-Amz-Algorithm") != ALGORITHM:
        raise AuthFailure(E.MALFORMED, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
    for name in ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"):
        if name not in query:
            raise AuthFailure(
                E.MALFORMED,
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
                "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            )
    akid, date, region, service = _split_credential(query["X-Amz-Credential"])
    try:
        expires = int(query["X-Amz-Expires"])
    except ValueError:
        raise AuthFailure(E.MALFORMED, "X-Amz-Expires should be a number") from None
    return SignatureParams(
        akid, date, region, service, tuple(query["X-Amz-SignedHeaders"].split(";")), query["X-Amz-Signature"],
        presigned=True, amz_date=query["X-Amz-Date"], expires=expires,
        security_token=query.get("X-Amz-Security-Token", ""),
    )


@functools.lru_cache(maxsize=256)
def parse_amz_date(text: str) -> float:
    """``20130524T000000Z`` -> epoch seconds (ValueError when malformed). Sliced by hand: strptime
    costs more than the whole HMAC chain; cached, as requests signed in the same second share it."""
    if len(text) != 16 or text[8] != "T" or text[15] != "Z" or not (text[:8] + text[9:15]).isdigit():
        raise ValueError(text)
    fields = (int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]), int(text[13:15]))
    if not (1 <= fields[1] <= 12 and 1 <= fields[2] <= 31 and fields[3] < 24 and fields[4] < 60 and fields[5] < 61):
        raise ValueError(text)
    return float(calendar.timegm(fields + (0, 0, 0)))


def format_amz_date(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def _request_time(headers: Mapping[str, str] | Headers) -> tuple[str, float]:
    """(x-amz-date, epoch) of a header-signed request; ``headers`` read by lower-case name."""
    amz_date = headers.get("x-amz-date")
    if amz_date:
        try:
            return amz_date, parse_amz_date(amz_date)
        except ValueError:
            raise AuthFailure(E.MALFORMED, f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.") from None
    date = headers.get("date")
    if date:
        try:
            epoch = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            raise AuthFailure(E.MALFORMED, f"Invalid date: {date}") from None
        return format_amz_date(epoch), epoch
    raise AuthFailure(E.MALFORMED, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")


def _query_dict(query_string: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in query_string.split("&"):
        if part:
            name, _, value = part.partition("=")
            out.setdefault(unquote(name), unquote(value))
    return out


def _sha256_hex(body: bytes) -> str:
    return EMPTY_SHA256 if not body else hashlib.sha256(body).hexdigest()


def _bytes_hex(text: str) -> str:
    return " ".join(f"{b:02x}" for b in text.encode("utf-8"))


# -- verification ------------------------------------------------------------------------------

class SignatureVerifier:
    """Verifies a request's signature against a :class:`CredentialStore`.

    ``service`` is the routed service (``s3`` switches the S3 rules on); ``now`` is injectable so
    the documented vectors (dated 2013/2015) can be checked.
    """

    def __init__(self, store: CredentialStore) -> None:
        self.store = store

    def verify(
        self,
        *,
        method: str,
        raw_path: str,
        query_string: str,
        headers: Headers,
        body: bytes | None,
        service: str,
        host_bucket: str | None = None,
        now: float | None = None,
    ) -> Verified:
        now = time.time() if now is None else now
        return self.verify_full(method, raw_path, query_string, headers, body, service, host_bucket, now)

    def verify_full(self, method: str, raw_path: str, query_string: str, headers: Headers, body: bytes | None,
                    service: str, host_bucket: str | None, now: float) -> Verified:
        """:meth:`verify` with positional arguments: every form, every error (the auth step
        tries :func:`awsemu.auth.sigv4_fast.verify_fast` first)."""
        fields = headers.by_name()  # plain lookups by lower-case name: several per request
        authorization = fields.get("authorization")
        s3 = service == "s3"
        if authorization:
            if authorization.startswith("AWS ") and s3:
                return self._verify_v2_header(method, raw_path, query_string, headers, authorization, host_bucket, now)
            params, signature = _authorization_parts(authorization)
            amz_date, request_time = _request_time(fields)
            if abs(now - request_time) > MAX_SKEW_SECONDS:
                server = format_amz_date(now)
                raise AuthFailure(
                    E.SKEWED,
                    f"Signature expired: {amz_date} is now earlier than {format_amz_date(now - MAX_SKEW_SECONDS)} "
                    f"({server} - 15 min.)" if request_time < now else
                    f"Signature not yet current: {amz_date} is still later than "
                    f"{format_amz_date(now + MAX_SKEW_SECONDS)} ({server} + 15 min.)",
                    {"RequestTime": amz_date, "ServerTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                     "MaxAllowedSkewMilliseconds": "900000"},
                )
            token = fields.get("x-amz-security-token", "")
        elif query_string and "X-Amz-Signature=" in query_string:
            query = _query_dict(query_string)
            params = parse_presigned(query)
            amz_date = params.amz_date
            try:
                request_time = parse_amz_date(amz_date)
            except ValueError:
                raise AuthFailure(E.MALFORMED, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"") from None
            assert params.expires is not None
            if params.expires > MAX_PRESIGN_SECONDS:
                raise AuthFailure(
                    E.MALFORMED,
                    "X-Amz-Expires must be less than a week (in seconds) that is 7 days",
                )
            if params.expires < 0:
                raise AuthFailure(E.MALFORMED, "X-Amz-Expires must be non-negative")
            if now > request_time + params.expires:
                raise AuthFailure(
                    E.PRESIGN_EXPIRED, "Request has expired",
                    {"X-Amz-Expires": str(params.expires),
                     "Expires": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(request_time + params.expires)),
                     "ServerTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))},
                )
            token = params.security_token
            signature = params.signature
        elif s3 and query_string and "Signature=" in query_string and "AWSAccessKeyId=" in query_string:
            return self._verify_v2_query(method, raw_path, query_string, headers, host_bucket, now)
        else:
            raise AuthFailure(E.MISSING_AUTH)

        record = self._record(params.access_key_id, token, now)
        if "host" not in params.signed_headers:
            raise AuthFailure(E.BAD_SIGNATURE, "'Host' must be a 'SignedHeader' in the AWS Authorization.")

        if params.presigned:
            # S3 presigned URLs sign UNSIGNED-PAYLOAD (or a hash given as a query parameter); other
            # services' presigned requests (rare: STS GetCallerIdentity URLs) sign the body's hash.
            if s3:
                payload_hash = _query_dict(query_string).get("X-Amz-Content-Sha256", UNSIGNED_PAYLOAD)
            else:
                payload_hash = hashlib.sha256(body or b"").hexdigest()
        else:
            sent_hash = fields.get("x-amz-content-sha256")
            if sent_hash is None and s3:
                raise AuthFailure(E.MALFORMED, "Missing required header for this request: x-amz-content-sha256")
            if sent_hash is not None:
                payload_hash = sent_hash
                if sent_hash != UNSIGNED_PAYLOAD and sent_hash not in STREAMING_MARKERS:
                    body_hash = None if body is None else EMPTY_SHA256 if not body else hashlib.sha256(body).hexdigest()
                    # Equal to the body's hash: a valid hex hash by construction, nothing else to check.
                    if body_hash != sent_hash and _HEX64.fullmatch(sent_hash) is None:
                        raise AuthFailure(E.CONTENT_SHA_MISMATCH, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a valid sha256 value.")
                    if body_hash is not None and body_hash != sent_hash:
                        raise AuthFailure(
                            E.CONTENT_SHA_MISMATCH, "",
                            {"ClientComputedContentSHA256": sent_hash, "S3ComputedContentSHA256": body_hash},
                        )
            else:
                payload_hash = _sha256_hex(body or b"")

        # canonical_request(), string_to_sign() and sign() written out: this runs on every request.
        canonical = "\n".join((
            method, canonical_uri(raw_path, s3), canonical_query(query_string, params.presigned) if query_string else "",
            canonical_headers(fields, params.signed_headers), params.signed_line, payload_hash,
        ))
        to_sign = f"{ALGORITHM}\n{amz_date}\n{params.scope}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
        key, inner_pad, outer_pad = _signer(record.secret_access_key, params.date, params.region, params.service)
        inner = inner_pad.copy()
        inner.update(to_sign.encode("utf-8"))
        outer = outer_pad.copy()
        outer.update(inner.digest())
        if not hmac.compare_digest(outer.hexdigest(), signature):
            raise AuthFailure(
                E.BAD_SIGNATURE, "",
                {"AWSAccessKeyId": params.access_key_id, "StringToSign": to_sign,
                 "SignatureProvided": signature, "StringToSignBytes": _bytes_hex(to_sign),
                 "CanonicalRequest": canonical, "CanonicalRequestBytes": _bytes_hex(canonical)} if s3 else {},
            )
        return Verified(record, params.region, params.service, 4, payload_hash, key, signature, amz_date, params.scope)

    def _record(self, access_key_id: str, token: str, now: float) -> KeyRecord:
        record = self.store.find(access_key_id)
        if record is None or not record.active:
            raise AuthFailure(E.UNKNOWN_KEY, "", {"AWSAccessKeyId": access_key_id})
        if record.session_token:
            if not token or not hmac.compare_digest(token, record.session_token):
                raise AuthFailure(E.INVALID_TOKEN)
        elif token:
            # A token with a long-term key: AWS rejects it as an invalid token.
            raise AuthFailure(E.INVALID_TOKEN)
        if record.expires_at is not None and now >= record.expires_at:
            raise AuthFailure(E.EXPIRED_TOKEN)
        return record

    # -- S3 browser forms (POST Object) -------------------------------------------------------
    def verify_post_policy(self, access_key_id: str, signature: str, policy: str, token: str, now: float,
                           scope: tuple[str, str, str] | None) -> Verified:
        """A form's signature: what it signs is its base64 ``policy`` field exactly as sent (S3
        "Authenticating Requests: Browser-Based Uploads Using POST"). SigV4 (``scope`` = date,
        region and service of ``x-amz-credential``): hex HMAC-SHA256 under the scope's signing
        key; SigV2 (``scope`` None): base64 HMAC-SHA1 under the secret."""
        record = self._record(access_key_id, token, now)
        if scope is None:
            key, expected = b"", self.v2_sign(record.secret_access_key, policy)
        else:
            key = signing_key(record.secret_access_key, *scope)
            expected = sign(key, policy)
        # As bytes: compare_digest refuses str with non-ASCII characters, which a form may carry.
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8")):
            raise AuthFailure(E.BAD_SIGNATURE, "", {"AWSAccessKeyId": access_key_id, "StringToSign": policy,
                                                    "SignatureProvided": signature,
                                                    "StringToSignBytes": _bytes_hex(policy)})
        if scope is None:
            return Verified(record, "us-east-1", "s3", 2, UNSIGNED_PAYLOAD)
        return Verified(record, scope[1], scope[2], 4, UNSIGNED_PAYLOAD, key, signature, "",
                        f"{scope[0]}/{scope[1]}/{scope[2]}/aws4_request")

    # -- S3 SigV2 ----------------------------------------------------------------------------
    @staticmethod
    def v2_string_to_sign(method: str, raw_path: str, query_string: str, headers: Any,
                          host_bucket: str | None, date_or_expires: str) -> str:
        amz = {}
        for name in headers.keys():
            if name.startswith("x-amz-"):
                amz[name] = ",".join(v.strip() for k, v in headers.items() if k == name)
        amz_block = "".join(f"{k}:{amz[k]}\n" for k in sorted(amz))
        resource = (f"/{host_bucket}" if host_bucket else "") + (raw_path or "/")
        subs = []
        for part in query_string.split("&") if query_string else ():
            name, eq, value = part.partition("=")
            if name in _sigv2_subresources() or name.startswith("response-"):
                subs.append((name, f"{name}={unquote(value)}" if eq else name))
        if subs:
            subs.sort(key=lambda s: s[0])
            resource += "?" + "&".join(s for _, s in subs)
        return "\n".join([
            method,
            (headers.get("content-md5") or "").strip(),
            (headers.get("content-type") or "").strip(),
            date_or_expires,
        ]) + "\n" + amz_block + resource

    @staticmethod
    def v2_sign(secret: str, text: str) -> str:
        return base64.b64encode(hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()).decode()

    def _v2_check(self, access_key_id: str, signature: str, to_sign: str, token: str, now: float) -> Verified:
        record = self._record(access_key_id, token, now)
        expected = self.v2_sign(record.secret_access_key, to_sign)
        if not hmac.compare_digest(expected, signature):
            raise AuthFailure(
                E.BAD_SIGNATURE, "",
                {"AWSAccessKeyId": access_key_id, "StringToSign": to_sign, "SignatureProvided": signature,
                 "StringToSignBytes": _bytes_hex(to_sign)},
            )
        return Verified(record, "us-east-1", "s3", 2, UNSIGNED_PAYLOAD)

    def _verify_v2_header(self, method: str, raw_path: str, query_string: str, headers: Any,
                          authorization: str, host_bucket: str | None, now: float) -> Verified:
        access_key_id, _, signature = authorization[4:].strip().rpartition(":")
        if not access_key_id:
            raise AuthFailure(E.MALFORMED)
        _, request_time = _request_time(headers)
        if abs(now - request_time) > MAX_SKEW_SECONDS:
            raise AuthFailure(E.SKEWED, "", {"RequestTime": headers.get("x-amz-date") or headers.get("date"),
                                             "ServerTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                                             "MaxAllowedSkewMilliseconds": "900000"})
        # With x-amz-date the Date line is empty (the x-amz-date header is in the amz block).
        date_line = "" if "x-amz-date" in headers else (headers.get("date") or "")
        to_sign = self.v2_string_to_sign(method, raw_path, query_string, headers, host_bucket, date_line)
        return self._v2_check(access_key_id, signature, to_sign, headers.get("x-amz-security-token", ""), now)

    def _verify_v2_query(self, method: str, raw_path: str, query_string: str, headers: Any,
                         host_bucket: str | None, now: float) -> Verified:
        query = _query_dict(query_string)
        try:
            expires = int(query.get("Expires", ""))
        except ValueError:
            raise AuthFailure(E.MISSING_AUTH) from None
        if now > expires:
            raise AuthFailure(E.PRESIGN_EXPIRED, "Request has expired",
                              {"Expires": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
                               "ServerTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})
        to_sign = self.v2_string_to_sign(method, raw_path, query_string, headers, host_bucket, str(expires))
        return self._v2_check(query["AWSAccessKeyId"], query.get("Signature", ""), to_sign,
                              query.get("x-amz-security-token", ""), now)
