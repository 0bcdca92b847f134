"""What S3 does at the HTTP edge that is not an operation of its model:

- CORS preflight: ``OPTIONS /bucket[/key]`` answered from the bucket's CORS rules;
- CORS headers on every answer to a request that carries ``Origin``;
- browser form uploads (``POST /bucket`` with ``multipart/form-data``, "POST Object"), which
  botocore's model does not describe;
- presigned-URL expiry, which S3 enforces in every auth mode ("Request has expired").

A form upload has no Authorization header to verify before the provider runs: in the sigv4 and
iam modes the provider gets a callable (:func:`form_context`) that verifies the form's own
signature and authorizes the upload (awsemu/auth/post_form.py) once the fields and the key are
read, and returns the context of the caller it found.

The S3 provider holds the rules (``cors_preflight``, ``cors_headers``, ``post_object``); this module
only decides when they apply and turns their plain answers into responses.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping
from urllib.parse import unquote

from awsemu.auth.enforcement import AuthGuard
from awsemu.auth.post_form import form_verifier
from awsemu.protocol.http import WireRequest, WireResponse
from awsemu.services.base import CallContext
from awsemu.services.s3.presign import check_presigned_expiry


def request_bucket(request: WireRequest) -> str | None:
    """The bucket a request addresses: from the Host (virtual-hosted) or the first path segment."""
    if request.host_bucket:
        return request.host_bucket
    first = request.raw_path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
    return unquote(first) or None


def addresses_object(request: WireRequest) -> bool:
    """Whether a request names a key inside its bucket (``/bucket/key``, or ``/key`` on a bucket host)."""
    path = request.raw_path.split("?", 1)[0].lstrip("/")
    if request.host_bucket:
        return bool(path)
    return bool(path.split("/", 1)[1]) if "/" in path else False


FormContext = Callable[[Mapping[str, str], str, str], CallContext]


def form_context(guard: AuthGuard | None, ctx: CallContext) -> FormContext | None:
    """``(fields, bucket, key) -> the uploader's context`` in the sigv4 and iam modes (raising the
    S3 error of a form refused); None in off mode, where the form only names the requester."""
    if guard is None or guard.mode == "off":
        return None
    verify = form_verifier(guard, ctx.region, ctx.source_ip, ctx.secure_transport)

    def context_of(fields: Mapping[str, str], bucket: str, key: str) -> CallContext:
        who = verify(fields, bucket, key)
        return dataclasses.replace(ctx, account_id=who.account_id, region=who.region,
                                   access_key_id=who.access_key_id, principal_arn=who.principal_arn,
                                   user_id=who.user_id)

    return context_of


async def before_operation(
    request: WireRequest, provider: Any, make_context: Callable[[str], CallContext], ids: list[tuple[str, str]],
    guard: AuthGuard | None = None,
) -> WireResponse | None:
    """Answer the requests that are not model operations; raise the S3 error for expired URLs."""
    if "X-Amz-" in request.query_string or "Signature=" in request.query_string:
        check_presigned_expiry(request.query())
    if provider is None:
        return None
    bucket = request_bucket(request)
    if request.method == "OPTIONS" and bucket:
        headers = provider.cors_preflight(
            bucket,
            request.headers.get("origin"),
            request.headers.get("access-control-request-method"),
            request.headers.get("access-control-request-headers"),
            on_object=addresses_object(request),
        )
        return WireResponse(200, [*headers.items(), *ids, ("Content-Length", "0")], b"")
    content_type = request.headers.get("content-type") or ""
    is_bucket_path = request.host_bucket is not None or request.raw_path.rstrip("/").count("/") <= 1
    if request.method == "POST" and bucket and is_bucket_path and content_type.startswith("multipart/form-data"):
        assert request.stream is not None
        ctx = make_context("PostObject")
        status, headers, body = await provider.post_object(
            ctx, bucket, content_type, request.stream(),
            request.headers.get("x-amz-expected-bucket-owner"), request.headers.get("x-amz-request-payer"),
            verify_form=form_context(guard, ctx))
        return WireResponse(status, [*headers.items(), *ids], body)
    return None


def add_cors_headers(request: WireRequest, response: WireResponse, provider: Any) -> None:
    origin = request.headers.get("origin")
    if not origin or provider is None or request.method == "OPTIONS":
        return
    extra = provider.cors_headers(request_bucket(request), origin, request.method)
    response.headers.extend(extra.items())

