"""Presigned URL expiry, checked in every auth mode (even ``off``), as S3 does.

A SigV4 presigned URL carries ``X-Amz-Date`` (``YYYYMMDDTHHMMSSZ``) and ``X-Amz-Expires``
(seconds, 1..604800); a SigV2 one carries ``Expires`` (epoch seconds). Past that instant S3 answers
403 ``AccessDenied`` "Request has expired" with the ``X-Amz-Expires``, ``Expires`` and
``ServerTime`` members. The gateway calls :func:`check_presigned_expiry` with the raw query
before dispatching an S3 request (the signature itself is the auth layer's business).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Iterable

from awsemu.services.s3.errors import AccessDenied, S3Error

MAX_EXPIRES = 604800  # seven days


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_presigned_expiry(query: Iterable[tuple[str, str]], now: float | None = None) -> None:
    """Raise the S3 error for an expired or ill-formed presigned URL; no-op for other requests."""
    params = dict(query)
    now = time.time() if now is None else now
    if "X-Amz-Expires" in params or ("X-Amz-Signature" in params and "X-Amz-Date" in params):
        raw_expires = params.get("X-Amz-Expires", "")
        try:
            expires = int(raw_expires)
            signed = datetime.strptime(params.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            raise AccessDenied("X-Amz-Expires must be a number" if raw_expires and not raw_expires.isdigit()
                               else "Invalid date format header, expected to be in ISO8601, RFC1123 or RFC1123Z "
                               "time format.") from None
        if expires < 1:
            raise AccessDenied("X-Amz-Expires must be non-negative" if expires < 0
                               else "X-Amz-Expires must be greater than 0")
        if expires > MAX_EXPIRES:
            raise S3Error("X-Amz-Expires must be less than a week (in seconds) that is 604800",
                          code="AuthorizationQueryParametersError", status=400)
        deadline = signed.timestamp() + expires
        if now > deadline:
            raise AccessDenied("Request has expired", fields={
                "X-Amz-Expires": str(expires), "Expires": _iso(deadline), "ServerTime": _iso(now)})
        return
    if "Signature" in params and "Expires" in params and "AWSAccessKeyId" in params:
        try:
            deadline = float(int(params["Expires"]))
        except ValueError:
            raise AccessDenied() from None
        if now > deadline:
            raise AccessDenied("Request has expired", fields={"Expires": _iso(deadline), "ServerTime": _iso(now)})
