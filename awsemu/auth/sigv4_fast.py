"""The verifier's fast path: the request every SDK sends, checked in one pass.

An SDK's request carries a SigV4 Authorization header whose head (algorithm, credential, signed
headers: everything before the final ``Signature=``) repeats across a client's requests, and an
``X-Amz-Date`` header. :func:`verify_fast` reads the head from a cache of parsed heads
(:class:`_Head`, which also keeps the signing key and the caller's Identity), then makes every
check of :meth:`SignatureVerifier.verify_full` in the same order on the same values: request time,
key and session token, payload hash, and the signature recomputed from the request (canonical
request, SHA-256, HMAC) and compared. It returns None for anything else and every failure, and
the full path then makes the same checks and reports the error.

The gateway's identify step in the sigv4 and iam modes reads the same cache
(:func:`known_identity`), so a header is parsed once for both steps.
"""

from __future__ import annotations

import hashlib
import hmac
import operator
from typing import Any, Callable, Mapping

from awsemu.auth.identity import Identity, identify
from awsemu.auth.sigv4 import (
    ALGORITHM,
    EMPTY_SHA256,
    MAX_SKEW_SECONDS,
    STREAMING_MARKERS,
    UNSIGNED_PAYLOAD,
    AuthFailure,
    SignatureParams,
    SignatureVerifier,
    Verified,
    _HEX64,
    _parse_authorization_head,
    _signer,
    canonical_query,
    canonical_uri,
    parse_amz_date,
)

_new_tuple = tuple.__new__


class _Head:
    """An Authorization head (everything before the final ``Signature=``) as the fast path uses
    it: parsed once, with each signed header's ``name:`` prefix and lower-case name, and the
    signing key with its HMAC pad states for the last secret it was used with. A head names one
    access key and one scope, so that key is the same for every request using it, unless the
    key's secret itself changed (checked on each use)."""

    __slots__ = ("params", "headers", "values", "template", "signer", "identity")

    def __init__(self, params: SignatureParams, head: str) -> None:
        self.params = params
        self.headers = tuple((f"{name}:", name.lower()) for name in params.signed_headers)
        # The signed headers' values in one call (a KeyError when one is missing), and the
        # canonical request with method, path, query, those values and the payload hash to fill.
        names = [name for _, name in self.headers]
        self.values: Callable[[Mapping[str, str]], tuple[str, ...]] = (
            operator.itemgetter(*names) if len(names) > 1 else lambda fields, name=names[0]: (fields[name],))

        def literal(text: str) -> str:
            return text.replace("{", "{{").replace("}", "}}")

        self.template = ("{}\n{}\n{}\n" + "".join(literal(prefix) + "{}\n" for prefix, _ in self.headers)
                         + "\n" + literal(params.signed_line) + "\n{}")
        self.signer: tuple[str, bytes, Any, Any] | None = None
        # What identify() reads from any header with this head: it reads the first "Credential="
        # up to the next comma, both inside a head that ends with a comma.
        self.identity = identify(head, "")


# head text -> _Head, for well-formed heads that sign the Host header (the others never take the
# fast path). Bounded; a head is a client's key and scope, so a handful per day in practice.
_HEADS: dict[str, _Head] = {}
_HEADS_MAX = 1024


def _head(head: str) -> _Head | None:
    """The cached :class:`_Head` of a head text; None when the full path must read it."""
    entry = _HEADS.get(head)
    if entry is None:
        # As _authorization_parts: "Signature=" must open the last comma-separated field.
        if len(head) <= 1 or not head.endswith((",", ", ")):
            return None
        try:
            params = _parse_authorization_head(head)
        except AuthFailure:
            return None
        if "host" not in params.signed_headers:
            return None
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.clear()
        entry = _HEADS[head] = _Head(params, head)
    return entry


# (Authorization header, its _Head, its signature) of the header split last: the gateway's
# identify step (known_identity) and the verifier split the same header string one after the
# other. One tuple, replaced whole, and matched by identity of the header string it holds.
_last_split: tuple[str | None, _Head | None, str] = (None, None, "")


def _split(authorization: str) -> tuple[_Head | None, str]:
    """(the cached head of an Authorization header or None, its signature)."""
    global _last_split
    last = _last_split
    if last[0] is authorization:
        return last[1], last[2]
    head, _, signature = authorization.rpartition("Signature=")
    entry = _HEADS.get(head) or _head(head)
    _last_split = (authorization, entry, signature)
    return entry, signature


def known_identity(authorization: str) -> Identity | None:
    """``identify(authorization, ...)`` when the verifier has parsed this header's head before
    (a client's key and scope), else None. In the sigv4 and iam modes the gateway identifies the
    caller with this first, so a header is parsed once for both steps."""
    entry = _split(authorization)[0]
    return entry.identity if entry is not None else None


def verify_fast(verifier: SignatureVerifier, method: str, raw_path: str, query_string: str,
                fields: Mapping[str, str], body: bytes | None, s3: bool, now: float) -> Verified | None:
    """:meth:`SignatureVerifier.verify` of the common request in one pass, or None to say "take
    the full path" (:meth:`SignatureVerifier.verify_full`).

    The common request: a SigV4 Authorization header in the form every SDK writes, an
    ``X-Amz-Date`` header, ``host`` among the signed headers. Every check of the full path is
    made, in the same order, on the same values, and the signature is recomputed from the
    request and compared as there; only the parsing and the reading of the header are leaner.
    Anything unusual or failing (a presigned URL, SigV2, a ``Date`` header, a skewed clock, a
    wrong signature, ...) returns None and the full path, which makes the same checks, raises
    its error. A key the store does not know, or a wrong session token, raises here as there
    (nothing before that check differs). ``fields`` maps lower-case header names to values
    (``Headers.by_name()``).
    """
    authorization = fields.get("authorization")
    if not authorization:
        return None
    entry, signature = _split(authorization)
    # A signature equal to the recomputed hex HMAC is 64 ASCII letters and digits, so the full
    # parser would have read the same header the same way (see _authorization_parts).
    if entry is None or len(signature) != 64 or not signature.isascii():
        return None
    amz_date = fields.get("x-amz-date")
    if not amz_date:
        return None
    try:
        request_time = parse_amz_date(amz_date)
    except ValueError:
        return None
    if abs(now - request_time) > MAX_SKEW_SECONDS:
        return None
    params = entry.params
    record = verifier._record(params.access_key_id, fields.get("x-amz-security-token", ""), now)
    sent_hash = fields.get("x-amz-content-sha256")
    if sent_hash is None:
        if s3:
            return None
        payload_hash = EMPTY_SHA256 if not body else hashlib.sha256(body).hexdigest()
    else:
        payload_hash = sent_hash
        if sent_hash != UNSIGNED_PAYLOAD and sent_hash not in STREAMING_MARKERS:
            if body is None:
                if _HEX64.fullmatch(sent_hash) is None:
                    return None
            elif sent_hash != (EMPTY_SHA256 if not body else hashlib.sha256(body).hexdigest()):
                return None
    try:
        values = entry.values(fields)
    except KeyError:
        return None  # a signed header not sent: the full path signs it as empty
    joined = "".join(values)
    if " " in joined or not joined.isprintable():
        # Some value has a space or another blank (all of them but " " are unprintable): fold
        # runs of blanks as the canonical form wants; otherwise folding changes nothing.
        values = tuple(" ".join(value.split()) for value in values)
    canonical = entry.template.format(method, canonical_uri(raw_path, s3),
                                      canonical_query(query_string, False) if query_string else "",
                                      *values, payload_hash)
    to_sign = f"{ALGORITHM}\n{amz_date}\n{params.scope}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    secret = record.secret_access_key
    signer = entry.signer
    if signer is None or signer[0] != secret:
        signer = entry.signer = (secret, *_signer(secret, params.date, params.region, params.service))
    inner = signer[2].copy()
    inner.update(to_sign.encode("utf-8"))
    outer = signer[3].copy()
    outer.update(inner.digest())
    if not hmac.compare_digest(outer.hexdigest(), signature):
        return None
    return _new_tuple(Verified, (record, params.region, params.service, 4, payload_hash, signer[1], signature,
                                 amz_date, params.scope))
