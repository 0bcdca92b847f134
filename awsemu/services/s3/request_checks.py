"""Checks S3 makes on a request before any operation runs: the bucket owner condition and
Requester Pays. One wrapper around every provider method (:func:`checked`), not one call per
operation.

Bucket owner condition (user guide "Verifying bucket ownership with bucket owner condition"):
``ExpectedBucketOwner`` (``x-amz-expected-bucket-owner``) names the account that must own the
request's bucket; ``ExpectedSourceBucketOwner`` (``x-amz-source-expected-bucket-owner``) the one
that must own CopyObject's or UploadPartCopy's source bucket. A value that is not an account id
(12 digits) answers 400 ``InvalidBucketOwnerAWSAccountID``; another owner 403 ``AccessDenied``
"Access Denied". A bucket that does not exist is left to the operation (NoSuchBucket).

Requester Pays (user guide "Using Requester Pays buckets"): on a bucket whose payer is the
requester, a request from another account must carry ``x-amz-request-payer: requester``
(``RequestPayer``), else 403 ``AccessDenied``; with it, the answer carries
``x-amz-request-charged: requester`` (``RequestCharged``). The bucket owner pays for its own
requests and needs no header. This applies to the operations whose input has ``RequestPayer``
(object reads and writes, listings, multipart, copies, for which the source bucket counts too).

Browser form uploads (POST Object) are no model operation and do not pass through :func:`checked`;
the provider calls :func:`check_form_upload` once the form's fields are read. The values come from
the headers (the user guides name ``x-amz-expected-bucket-owner`` for every object operation and
``x-amz-request-payer`` for POST requests) or from form fields of the same names (POST Object's rule
that what PUT takes as a header POST takes as a field).
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any, Callable, Iterable
from urllib.parse import unquote

from awsemu.services.base import CallContext
from awsemu.services.s3.errors import AccessDenied, S3Error
from awsemu.services.s3.store import S3Store

ACCOUNT_ID = re.compile(r"\d{12}")
InvalidBucketOwnerAWSAccountID = type("InvalidBucketOwnerAWSAccountID", (S3Error,), {
    "code": "InvalidBucketOwnerAWSAccountID", "status": 400, "sender_fault": True,
    "default_message": "The value of the expected bucket owner parameter must be an AWS Account ID"})


@functools.lru_cache(maxsize=1)
def requester_pays_operations() -> frozenset[str]:
    """S3 operations whose input has a ``RequestPayer`` member, from botocore's model."""
    import botocore.loaders

    model = botocore.loaders.create_loader().load_service_model("s3", "service-2")
    shapes = model["shapes"]
    found = set()
    for name, op in model["operations"].items():
        members = shapes.get((op.get("input") or {}).get("shape", ""), {}).get("members", {})
        if "RequestPayer" in members:
            found.add(name)
    return frozenset(found)


def _source_bucket(params: dict[str, Any]) -> str | None:
    source = params.get("CopySource")
    if not isinstance(source, str):
        return None
    return unquote(source.partition("?")[0]).lstrip("/").partition("/")[0] or None


def _check_owner(expected: str, owner: str) -> None:
    if expected != owner:
        raise AccessDenied()


def _validate_owner_value(value: Any) -> None:
    if value is not None and not (isinstance(value, str) and ACCOUNT_ID.fullmatch(value)):
        raise InvalidBucketOwnerAWSAccountID(
            f"The value of the expected bucket owner parameter must be an AWS Account ID... [{value}]")


def _pays(store: S3Store, bucket: str, ctx: CallContext, params: dict[str, Any]) -> bool:
    """Whether the requester is charged for this request to ``bucket``; AccessDenied if it must
    be and did not agree to."""
    rec = store.bucket(bucket)
    if rec is None or rec.config.get("request_payment") != "Requester" or ctx.account_id == rec.owner:
        return False
    if params.get("RequestPayer") != "requester":
        raise AccessDenied()
    return True


def check(store: S3Store, ctx: CallContext, params: dict[str, Any], requester_pays: bool) -> bool:
    """Run the checks of one request; True when the answer must say the requester was charged."""
    expected = params.get("ExpectedBucketOwner")
    expected_source = params.get("ExpectedSourceBucketOwner")
    bucket = params.get("Bucket")
    if expected is not None or expected_source is not None:
        _validate_owner_value(expected)
        _validate_owner_value(expected_source)
        if expected is not None and isinstance(bucket, str):
            rec = store.bucket(bucket)
            if rec is not None:
                _check_owner(expected, rec.owner)
        source = _source_bucket(params) if expected_source is not None else None
        if source is not None:
            rec = store.bucket(source)
            if rec is not None:
                _check_owner(expected_source, rec.owner)
    if not requester_pays or not isinstance(bucket, str):
        return False
    charged = _pays(store, bucket, ctx, params)
    source = _source_bucket(params)
    if source is not None and source != bucket:
        charged = _pays(store, source, ctx, params) or charged
    return charged


def check_form_upload(store: S3Store, ctx: CallContext, bucket: str, expected_owners: Iterable[str | None],
                      request_payers: Iterable[str | None]) -> bool:
    """The checks of a POST Object upload to ``bucket`` by ``ctx``'s account; True when charged.

    Every expected owner given (header, form field) must own the bucket; one ``requester`` among
    the payer values (header or form field) is the requester's agreement to pay.
    """
    for expected in expected_owners:
        if expected is not None:
            check(store, ctx, {"Bucket": bucket, "ExpectedBucketOwner": expected}, False)
    payer = "requester" if "requester" in request_payers else None
    return check(store, ctx, {"Bucket": bucket, "RequestPayer": payer}, True)


def checked(store: S3Store, operation: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler`` behind the checks, run the same way as it (coroutine, inline, or in a thread)."""
    pays = operation in requester_pays_operations()

    if inspect.iscoroutinefunction(handler):
        async def run_async(ctx: CallContext, **params: Any) -> Any:
            charged = check(store, ctx, params, pays)
            out = await handler(ctx, **params)
            if charged and isinstance(out, dict):
                out["RequestCharged"] = "requester"
            return out

        return functools.update_wrapper(run_async, handler)

    def run(ctx: CallContext, **params: Any) -> Any:
        charged = check(store, ctx, params, pays)
        out = handler(ctx, **params)
        if charged and isinstance(out, dict):
            out["RequestCharged"] = "requester"
        return out

    return functools.update_wrapper(run, handler)  # keeps ``runs_inline``
